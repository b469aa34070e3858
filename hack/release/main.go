// Command release builds and publishes a release without a Docker engine
// (`make release`): the base image, the multi-arch images of pubsub-send,
// fake-subscriber and pubsub-lint built with ko, and the Helm chart with
// those images pinned by digest, pushed as an OCI artifact. It prints what
// it pushed.
//
//	release [-registry HOST[:PORT][/PATH]] [-gatekeeper-image REPOSITORY:TAG] [-out DIR]
//
// The packaged chart pins every image by digest: the project's, pushed
// here, and the Gatekeeper image the audit runs, whose digest is read from
// -gatekeeper-image's registry (its tag is the chart's gatekeeperVersion;
// required unless the registry is on loopback).
//
// Without -registry (make release REGISTRY=) it starts the local registry
// (bin/registry, CNCF distribution) on -local-addr with its storage in
// -local-dir, pushes there and stops it again; `make registry` serves the
// same storage on the same address, so the pushed references resolve. A
// registry already answering on -local-addr is used as it is.
//
// With -signing-key (make release SIGNING_KEY=path; a PEM ECDSA P-256
// private key) it signs every image, platform image and the chart as
// `cosign sign --key` does and attaches SLSA provenance as `cosign attest
// --key` does; without it nothing is signed, and the summary says so.
//
//	release verify --key PUB.pem IMAGE...
//
// pulls each IMAGE's signature (.sig) and provenance (.att) from its
// registry and checks them with the public key (exit 1 when one fails).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/release"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reg := fs.String("registry", os.Getenv("REGISTRY"), "registry HOST[:PORT][/PATH] to push to (default $REGISTRY; empty: the local registry on -local-addr)")
	gatekeeper := fs.String("gatekeeper-image", os.Getenv("GATEKEEPER_IMAGE"), "the Gatekeeper image REPOSITORY:TAG (TAG the chart's gatekeeperVersion) whose digest the packaged chart pins (default $GATEKEEPER_IMAGE; required unless the registry is on loopback)")
	localAddr := fs.String("local-addr", "127.0.0.1:5001", "address of the local registry used when -registry is empty")
	localDir := fs.String("local-dir", ".tmp/registry", "storage of the local registry")
	out := fs.String("out", ".tmp/release", "directory for the packaged chart and release.json")
	ko := fs.String("ko", "", "ko binary (default $KO, else bin/ko from make tools)")
	license := fs.String("license", release.DefaultLicense, "org.opencontainers.image.licenses of the images (SPDX)")
	jsonOut := fs.Bool("json", false, "print release.json instead of the summary")
	verbose := fs.Bool("v", false, "print ko's and the registry's output")
	serve := fs.Bool("serve", false, "only serve the local registry (-local-dir on -local-addr) until interrupted")
	signingKey := fs.String("signing-key", os.Getenv("SIGNING_KEY"), "PEM ECDSA P-256 private key to sign the images and chart and their SLSA provenance with, as cosign does (default $SIGNING_KEY; empty: not signed; an encrypted cosign key takes $COSIGN_PASSWORD)")
	if len(args) > 0 && args[0] == "verify" {
		return runVerify(ctx, args[1:], stdout, stderr)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := procs.RepoRoot()
	if err != nil {
		return err
	}
	if *ko == "" {
		if *ko, err = procs.ToolPath("ko", "KO"); err != nil {
			return err
		}
	}
	created, err := release.CreatedFromEnv()
	if err != nil {
		return err
	}
	logw := io.Discard
	if *verbose {
		logw = stderr
	}
	progress := stderr
	if *serve {
		return serveLocal(ctx, root, *localAddr, *localDir, stderr)
	}

	if *reg == "" {
		*reg = *localAddr
		if answers(ctx, *localAddr) {
			fmt.Fprintf(stderr, ">> using the registry already answering on %s\n", *localAddr)
		} else {
			dir := *localDir
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(root, dir)
			}
			r, err := procs.StartRegistry(ctx, procs.RegistryOptions{Addr: *localAddr, Dir: dir, Tee: teeTo(logw)})
			if err != nil {
				return fmt.Errorf("starting the local registry on %s: %w", *localAddr, err)
			}
			defer func() {
				r.Stop()
				fmt.Fprintf(stderr, ">> stopped the local registry %s (storage %s; `make registry` serves it again)\n", r.Addr, dir)
			}()
			fmt.Fprintf(stderr, ">> started the local registry (CNCF distribution) on %s, storage %s\n", r.Addr, dir)
		}
	}
	outDir := *out
	if !filepath.IsAbs(outDir) {
		outDir = filepath.Join(root, outDir)
	}
	start := time.Now()
	res, err := release.Run(ctx, release.Options{
		Registry: *reg, Version: version.Version, Root: root, Ko: *ko, OutDir: outDir,
		License: *license, Revision: revision(ctx, root), Created: created, GatekeeperImage: *gatekeeper,
		SigningKey: *signingKey,
		Log:        &prefixed{progress: progress, all: logw},
	})
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	release.Print(stdout, res)
	fmt.Fprintf(stderr, ">> done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// serveLocal serves the local registry's storage until ctx ends.
func serveLocal(ctx context.Context, root, addr, dir string, stderr io.Writer) error {
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	r, err := procs.StartRegistry(ctx, procs.RegistryOptions{Addr: addr, Dir: dir, Tee: func(b []byte) { _, _ = stderr.Write(b) }})
	if err != nil {
		return fmt.Errorf("starting the local registry on %s: %w", addr, err)
	}
	defer r.Stop()
	fmt.Fprintf(stderr, ">> serving %s on %s until Ctrl-C\n", dir, r.Addr)
	<-ctx.Done()
	return nil
}

// answers reports whether a registry serves /v2/ on addr.
func answers(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && resp.Header.Get("Docker-Distribution-API-Version") != ""
}

// revision is the checkout's commit, for org.opencontainers.image.revision
// (empty outside a git checkout).
func revision(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "HEAD")
	cmd.Dir = root
	b, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func teeTo(w io.Writer) func([]byte) {
	if w == io.Discard {
		return nil
	}
	return func(b []byte) { _, _ = w.Write(b) }
}

// prefixed shows the release's own ">>" steps always and everything else
// (ko's log) only with -v.
type prefixed struct {
	progress io.Writer
	all      io.Writer
}

func (p *prefixed) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(line, ">> ") {
			_, _ = io.WriteString(p.progress, line)
		} else if line != "" {
			_, _ = io.WriteString(p.all, line)
		}
	}
	return len(b), nil
}
