package lint

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestAssumptionsAreNoted: what pubsub-lint assumes about something not
// among the inputs is said once, as a note, until a flag or the config
// states it.
func TestAssumptionsAreNoted(t *testing.T) {
	audit := `apiVersion: apps/v1
kind: Deployment
metadata: {name: gatekeeper-audit, namespace: gatekeeper-system}
spec:
  template:
    metadata:
      annotations: {dapr.io/enabled: "true", dapr.io/app-id: audit}
    spec:
      containers:
        - name: manager
          image: openpolicyagent/gatekeeper:v3.17.0
          args: [--operation=audit, --enable-pub-sub=true]
`
	injector := `apiVersion: apps/v1
kind: Deployment
metadata: {name: dapr-sidecar-injector, namespace: dapr-system}
spec:
  template:
    spec:
      containers:
        - name: dapr-sidecar-injector
          image: daprio/dapr:1.14.0
          env: [{name: SIDECAR_DROP_ALL_CAPABILITIES, value: "true"}]
`
	cfg, err := ParseConfig([]byte("assume:\n  daprDropAllCapabilities: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		docs  []string
		opts  Options
		noted bool
	}{
		{"injector not among the inputs", []string{audit}, Options{}, true},
		{"stated by the flag", []string{audit}, Options{Assume: Assumptions{DaprDropAllCapabilities: ptr.To(true)}}, false},
		{"stated in the config", []string{audit}, Options{Config: cfg}, false},
		{"injector among the inputs", []string{audit, injector}, Options{}, false},
		{"no sidecar asked for", nil, Options{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []render.Object
			for _, d := range tc.docs {
				o, err := render.SplitYAML("in.yaml", []byte(d))
				if err != nil {
					t.Fatal(err)
				}
				objs = append(objs, o...)
			}
			res, err := Check(context.Background(), tc.opts, objs)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, note := range res.Notes {
				if strings.Contains(note, "SIDECAR_DROP_ALL_CAPABILITIES") {
					n++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tc.noted]; n != want {
				t.Errorf("notes about the injector: %d, want %d: %q", n, want, res.Notes)
			}
		})
	}
}

// TestAssumptionsFromConfig: the config file's assume section states the
// assumed audit's namespace, connection and channel; a flag (Options.Assume)
// wins over it.
func TestAssumptionsFromConfig(t *testing.T) {
	objs, err := render.SplitYAML("cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: gk}\ndata: {provider: dapr, config: '{\"component\": \"p\"}'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := ParseConfig([]byte("assume:\n  gatekeeperNamespace: gk\n  auditConnection: c\n  auditChannel: ch\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		flag Assumptions
		want string
	}{
		{"config", Assumptions{}, "runs in gk with --audit-connection=c --audit-channel=ch"},
		{"flag wins", Assumptions{GatekeeperNamespace: "other"}, "runs in other with --audit-connection=c --audit-channel=ch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check(context.Background(), Options{Config: conf, Assume: tt.flag}, objs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, tt.want) }) {
				t.Errorf("notes %q, want one saying %q", res.Notes, tt.want)
			}
		})
	}
}
