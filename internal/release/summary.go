package release

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// epochTime parses SOURCE_DATE_EPOCH (seconds since the Unix epoch).
func epochTime(s string) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

// CreatedFromEnv is SOURCE_DATE_EPOCH as a time, or the zero time when it
// is not set.
func CreatedFromEnv() (time.Time, error) {
	s := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH"))
	if s == "" {
		return time.Time{}, nil
	}
	return epochTime(s)
}

// HumanSize is n bytes in SI units, as registries and `docker images` show
// them: 512 B, 98.3 kB, 12.4 MB.
func HumanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n), 0
	units := []string{"kB", "MB", "GB", "TB"}
	for f /= unit; f >= unit && u < len(units)-1; f /= unit {
		u++
	}
	return fmt.Sprintf("%.1f %s", f, units[u])
}

// printSigned writes the first signature and attestation tag (the index's)
// and how many more there are (the platforms').
func printSigned(w io.Writer, sigs, atts []string) {
	more := func(n int) string {
		switch n {
		case 0, 1:
			return ""
		case 2:
			return " (and 1 platform's)"
		}
		return fmt.Sprintf(" (and %d platforms')", n-1)
	}
	if len(sigs) > 0 {
		fmt.Fprintf(w, "          %-15s %s%s\n", "signature", sigs[0], more(len(sigs)))
	}
	if len(atts) > 0 && atts[0] != "" {
		fmt.Fprintf(w, "          %-15s %s%s\n", "provenance", atts[0], more(len(atts)))
	}
}

// Print writes what a release pushed: each image pinned by digest with its
// platforms' digests and pull sizes and its SBOMs, the chart's OCI
// reference with its digest and size, and how to install it.
func Print(w io.Writer, r *Result) {
	fmt.Fprintf(w, "released %s to %s\n", r.Version, r.Registry)
	for _, img := range append([]Image{r.Base}, r.Images...) {
		kind := "image"
		if img.Name == "base" {
			kind = "base"
		}
		fmt.Fprintf(w, "  %-5s %s\n", kind, img.Ref())
		for _, p := range img.Platforms {
			fmt.Fprintf(w, "          %-15s %s  %9s\n", p.Platform, p.Digest, HumanSize(p.Size))
		}
		for _, s := range img.SBOMs {
			fmt.Fprintf(w, "          %-15s %s\n", "sbom (spdx)", s)
		}
		printSigned(w, img.Signatures, img.Attestations)
		if kind == "base" && r.CACertificates.Version != "" {
			fmt.Fprintf(w, "          %-15s %s %s (Debian), sha256:%s\n", "ca bundle", r.CACertificates.Package, r.CACertificates.Version, r.CACertificates.SHA256)
		}
	}
	if r.Gatekeeper != nil {
		fmt.Fprintf(w, "  %-5s %s\n", "gatekeeper", r.Gatekeeper.Ref())
	} else {
		fmt.Fprintf(w, "  gatekeeper image not pinned (a local release without -gatekeeper-image)\n")
	}
	fmt.Fprintf(w, "  chart %s:%s@%s  %s (%s)\n", r.Chart.Ref, r.Chart.Tag, r.Chart.Digest, HumanSize(r.Chart.Size), r.Chart.File)
	for _, k := range sortedKeys(r.Chart.Values) {
		fmt.Fprintf(w, "          %s=%s\n", k, r.Chart.Values[k])
	}
	if r.Chart.Signature != "" {
		printSigned(w, []string{r.Chart.Signature}, []string{r.Chart.Attestation})
	}
	if r.Signing != nil {
		fmt.Fprintf(w, "signed with key %s (cosign's format: .sig signatures, .att SLSA provenance v1); verify with its public key:\n", r.Signing.KeyID)
		ref := r.Chart.Ref + "@" + r.Chart.Digest
		if len(r.Images) > 0 {
			ref = r.Images[0].Ref()
		}
		fmt.Fprintf(w, "  go run ./hack/release verify --key %s %s\n", filepath.Join(filepath.Dir(r.Chart.File), PublicKeyFile), strings.TrimPrefix(ref, "oci://"))
	} else {
		fmt.Fprintf(w, "not signed: no signing key (make release SIGNING_KEY=path to a PEM ECDSA P-256 private key)\n")
	}
	plain := ""
	if IsLoopback(strings.SplitN(r.Registry, "/", 2)[0]) {
		plain = " --plain-http"
	}
	fmt.Fprintf(w, "install:\n  helm install gatekeeper-pubsub %s --version %s -n gatekeeper-system%s --set audit.enablePubsub=true\n", r.Chart.Ref, r.Chart.Tag, plain)
}
