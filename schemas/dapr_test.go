package schemas_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// TestDaprFacts: the facts copied into dapr.go are those of the dapr/dapr
// module of schemas.DaprRelease, the version go.mod requires.
func TestDaprFacts(t *testing.T) {
	m, err := gomod.Download(context.Background(), "github.com/dapr/dapr", schemas.DaprRelease)
	if err != nil {
		t.Fatal(err)
	}
	// Annotation keys: every Key* constant of the injector's annotations.
	src, err := os.ReadFile(filepath.Join(m.Dir, "pkg", "injector", "annotations", "annotations.go"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, g := range regexp.MustCompile(`(?m)^\s*Key\w+\s*=\s*"(dapr\.io/[^"]+)"`).FindAllSubmatch(src, -1) {
		keys = append(keys, string(g[1]))
	}
	sort.Strings(keys)
	if len(keys) < 40 || !slices.Equal(keys, schemas.DaprAnnotations()) {
		t.Errorf("annotation keys of dapr %s:\n%q\ndapr.go has:\n%q", schemas.DaprRelease, keys, schemas.DaprAnnotations())
	}
	for k := range schemas.DaprDeprecatedAnnotations {
		if !slices.Contains(keys, k) {
			t.Errorf("deprecated annotation %s is no key of dapr %s", k, schemas.DaprRelease)
		}
	}
	// Pubsub types: every name registered in cmd/daprd/components.
	files, err := filepath.Glob(filepath.Join(m.Dir, "cmd", "daprd", "components", "pubsub_*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pubsub registrations in %s: %v", m.Dir, err)
	}
	reg := regexp.MustCompile(`pubsubLoader\.DefaultRegistry\.RegisterComponent\([^,]+((?:,\s*"[^"]+")+)\)`)
	str := regexp.MustCompile(`"([^"]+)"`)
	var types []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range reg.FindAllSubmatch(b, -1) {
			for _, s := range str.FindAllSubmatch(g[1], -1) {
				types = append(types, "pubsub."+string(s[1]))
			}
		}
	}
	sort.Strings(types)
	if !slices.Equal(types, schemas.DaprPubsubTypes()) {
		t.Errorf("pubsub types of dapr %s:\n%q\ndapr.go has:\n%q", schemas.DaprRelease, types, schemas.DaprPubsubTypes())
	}
	// Every type with a metadata schema is one daprd loads.
	for _, typ := range schemas.PubsubTypes() {
		if !schemas.IsDaprPubsubType(typ) {
			t.Errorf("schema pubsub/%s: daprd %s has no such type", typ, schemas.DaprRelease)
		}
	}
}
