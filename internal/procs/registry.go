package procs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// RegistryPath returns the OCI registry (CNCF distribution's cmd/registry)
// that `make tools` builds: $REGISTRY_BIN, else bin/registry.
func RegistryPath() (string, error) { return ToolPath("registry", "REGISTRY_BIN") }

// RegistryOptions configure an OCI registry.
type RegistryOptions struct {
	// Addr to listen on; empty means 127.0.0.1 on a free port.
	Addr string
	// Dir holds the registry's storage (filesystem driver) and its config
	// file; empty means a new temporary directory, removed by Stop. A
	// given Dir is kept, so what was pushed survives a restart.
	Dir string
	// Tee receives the registry's output as it is written.
	Tee func([]byte)
}

// Registry is a running distribution registry serving the OCI distribution
// API over plain HTTP on loopback.
type Registry struct {
	// Addr is host:port, what image and chart references start with
	// (127.0.0.1:PORT/repo/name:tag).
	Addr   string
	dir    string
	ownDir bool
	proc   *process
}

// registryConfig is distribution's configuration: filesystem storage under
// the given directory, deletes allowed, no upload purging and no storage
// health check (nothing here runs long), plain HTTP on addr.
const registryConfig = `version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %q
  secret: %q
  headers:
    X-Content-Type-Options: [nosniff]
`

// StartRegistry writes a config file and starts the registry, waiting until
// GET /v2/ answers.
func StartRegistry(ctx context.Context, opts RegistryOptions) (*Registry, error) {
	bin, err := RegistryPath()
	if err != nil {
		return nil, err
	}
	r := &Registry{Addr: opts.Addr, dir: opts.Dir}
	if r.Addr == "" {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	if r.dir == "" {
		if r.dir, err = os.MkdirTemp("", "procs-registry-"); err != nil {
			return nil, fmt.Errorf("registry directory: %w", err)
		}
		r.ownDir = true
	}
	storage := filepath.Join(r.dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		r.Stop()
		return nil, fmt.Errorf("registry storage: %w", err)
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		r.Stop()
		return nil, err
	}
	cfg := filepath.Join(r.dir, "config.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, registryConfig, storage, r.Addr, hex.EncodeToString(secret)), 0o600); err != nil {
		r.Stop()
		return nil, fmt.Errorf("registry config: %w", err)
	}
	r.proc = &process{
		name: "registry", path: bin, args: []string{"serve", cfg}, dir: r.dir,
		// No tracing exporter: nothing here collects traces.
		env: []string{"OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"},
		out: &syncBuffer{tee: opts.Tee},
	}
	if err := r.proc.start(); err != nil {
		r.Stop()
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.proc.waitFor(wctx, "answering GET /v2/ on "+r.Addr, r.ping); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// ping is the readiness check: the registry answers /v2/ with 200 and its
// API version header.
func (r *Registry) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Addr+"/v2/", nil)
	if err != nil {
		return err
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Distribution-API-Version") == "" {
		return fmt.Errorf("GET /v2/: %s", resp.Status)
	}
	return nil
}

// Dir is the directory of the registry's storage and config.
func (r *Registry) Dir() string { return r.dir }

// Logs returns the registry's output.
func (r *Registry) Logs() string {
	if r.proc == nil {
		return ""
	}
	return r.proc.logs()
}

// Stop ends the registry and removes its directory when it made it.
func (r *Registry) Stop() {
	if r.proc != nil {
		r.proc.stop(syscall.SIGTERM, 5*time.Second)
	}
	if r.ownDir {
		_ = os.RemoveAll(r.dir)
	}
}
