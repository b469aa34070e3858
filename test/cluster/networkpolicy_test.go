package cluster_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestNetworkPoliciesAccepted: the NetworkPolicies the chart renders with
// networkPolicy.enabled, for every workload and with every networkPolicy
// value, are accepted by a real kube-apiserver: created with dryRun=All
// and strict field validation (an unknown or misplaced field is an error)
// in the namespaces the chart creates. A policy broken on purpose is
// rejected, so the server's validation is really consulted. Only etcd and
// kube-apiserver run: nothing enforces the policies here.
func TestNetworkPoliciesAccepted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kube, err := procs.StartKube(ctx, procs.KubeOptions{NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("control plane logs:\n%s", tailLines(kube.Logs(), 40))
		}
		kube.Stop()
	})
	dyn, err := dynamic.NewForConfig(kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	policies := dyn.Resource(schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"})
	chart, err := cluster.ChartDir()
	if err != nil {
		t.Fatal(err)
	}
	// create creates a policy with dryRun=All, strictly validated.
	create := func(o map[string]any) error {
		u := &unstructured.Unstructured{Object: o}
		_, err := policies.Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{
			DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict, FieldManager: "gatekeeper-pubsub-test"})
		return err
	}
	namespaces := map[string]bool{}
	ensureNamespace := func(ns string) {
		if namespaces[ns] {
			return
		}
		_, err := kube.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating Namespace %s: %v", ns, err)
		}
		namespaces[ns] = true
	}
	cases := []struct {
		name  string
		set   []string
		files []string
		want  []string // the policies, namespace/name
	}{
		{
			name: "every workload, defaults",
			set:  []string{"audit.deploy=true", "audit.enablePubsub=true", "subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations", "networkPolicy.enabled=true"},
			want: []string{"fake-subscriber/sub", "gatekeeper-system/gatekeeper-audit", "gatekeeper-violations/violations"},
		},
		{
			name:  "every value (test/chart's networkpolicy value set)",
			set:   []string{"audit.deploy=true", "audit.enablePubsub=true", "subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations"},
			files: []string{repoPath(t, "test", "chart", "testdata", "values-networkpolicy.yaml")},
			want:  []string{"fake-subscriber/sub", "gatekeeper-system/gatekeeper-audit", "gatekeeper-violations/violations"},
		},
		{
			name: "disk export with pubsub-forward's metrics, Kafka",
			set: []string{"audit.deploy=true", "audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "networkPolicy.enabled=true",
				"networkPolicy.metricsFrom[0].namespaceSelector.matchExpressions[0].key=kubernetes.io/metadata.name",
				"networkPolicy.metricsFrom[0].namespaceSelector.matchExpressions[0].operator=In",
				"networkPolicy.metricsFrom[0].namespaceSelector.matchExpressions[0].values={monitoring,observability}",
				"component.type=pubsub.kafka", "component.metadata[0].name=brokers", "component.metadata[0].value=kafka:9093",
				"component.metadata[1].name=authType", "component.metadata[1].value=none"},
			want: []string{"gatekeeper-system/gatekeeper-audit"},
		},
	}
	var accepted []map[string]any
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := render.RenderChart(ctx, chart, render.ChartOptions{ReleaseName: "gatekeeper-pubsub", Namespace: cluster.GatekeeperNS, Set: tc.set, ValueFiles: tc.files})
			if err != nil {
				t.Fatal(err)
			}
			ensureNamespace(cluster.GatekeeperNS)
			var got []string
			for _, o := range r.Objects {
				switch o.Kind() {
				case "Namespace":
					ensureNamespace(o.Name())
				case "NetworkPolicy":
					got = append(got, o.Namespace()+"/"+o.Name())
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("rendered NetworkPolicies %v, want %v", got, tc.want)
			}
			for _, o := range r.Objects {
				if o.Kind() != "NetworkPolicy" {
					continue
				}
				if err := create(o.Obj); err != nil {
					t.Errorf("the API server refuses %s (%s:%d): %v", o, o.Source, o.Line, err)
					continue
				}
				accepted = append(accepted, o.Obj)
			}
		})
	}
	if len(accepted) == 0 {
		t.Fatal("no policy accepted to break")
	}
	// The same policy broken, each in one way the API server's validation
	// (not the client) refuses.
	breaks := []struct {
		name, want string
		edit       func(spec map[string]any)
	}{
		{"port out of range", "spec.egress[0].ports[0].port", func(spec map[string]any) {
			egressPort(spec)["port"] = int64(70000)
		}},
		{"unknown protocol", "spec.egress[0].ports[0].protocol", func(spec map[string]any) {
			egressPort(spec)["protocol"] = "ICMP"
		}},
		{"unknown field", "unknown field", func(spec map[string]any) {
			spec["egress"].([]any)[0].(map[string]any)["toPorts"] = []any{}
		}},
	}
	for _, b := range breaks {
		t.Run("refused: "+b.name, func(t *testing.T) {
			o := runtimeCopy(accepted[0])
			b.edit(o["spec"].(map[string]any))
			err := create(o)
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("creating a policy with %s: %v, want an error naming %q", b.name, err, b.want)
			}
		})
	}
}

// egressPort is the first port of the first egress rule of a policy spec.
func egressPort(spec map[string]any) map[string]any {
	return spec["egress"].([]any)[0].(map[string]any)["ports"].([]any)[0].(map[string]any)
}

// runtimeCopy deep-copies a decoded object.
func runtimeCopy(o map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: o}).DeepCopy().Object
}
