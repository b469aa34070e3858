package render

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
)

// TestUnknownValues renders Gatekeeper's own chart (v3.17.0, from its Go
// module; it has no values.schema.json) with a typo among the values.
func TestUnknownValues(t *testing.T) {
	mod, err := gomod.Download(context.Background(), "github.com/open-policy-agent/gatekeeper/v3", "v3.17.0")
	if err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(mod.Dir, "charts", "gatekeeper")
	tests := []struct {
		name string
		set  []string
		want []UnknownValue
	}{
		{"documented values", []string{"audit.enablePubsub=true", "audit.connection=c", `auditPodAnnotations.dapr\.io/enabled=true`, "audit.nodeSelector.zone=a"}, nil},
		{"case slip", []string{"audit.enablePubSub=true"}, []UnknownValue{{Key: "audit.enablePubSub", Suggestion: "enablePubsub"}}},
		{"typo at the top", []string{"replicass=1"}, []UnknownValue{{Key: "replicass", Suggestion: "replicas"}}},
		{"nothing close", []string{"audit.frobnicate=1"}, []UnknownValue{{Key: "audit.frobnicate"}}},
		{"global is free", []string{"global.x=1"}, nil},
		// The template renders audit.securityContext whole (toYaml).
		{"a map rendered whole", []string{"audit.securityContext.seLinuxOptions.level=s0"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := RenderChart(context.Background(), chart, ChartOptions{Namespace: "gatekeeper-system", Set: tc.set})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.UnknownValues, tc.want) {
				t.Errorf("UnknownValues = %+v, want %+v", r.UnknownValues, tc.want)
			}
		})
	}
}
