package kustomize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestApplyOverGatekeepersAudit: the audit Deployment of an overlay and of
// the chart (audit.deploy=true), applied (server-side, as kubectl apply
// --server-side) over the gatekeeper-audit that Gatekeeper's own manifest
// created, in a real kube-apiserver. A Deployment's selector is immutable:
// with any selector but Gatekeeper's the API server refuses the apply.
func TestApplyOverGatekeepersAudit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kube, err := procs.StartKube(ctx, procs.KubeOptions{NoControllerManager: true})
	if err != nil {
		t.Fatalf("starting kube-apiserver (make tools-kube): %v", err)
	}
	t.Cleanup(kube.Stop)
	manifest, err := cluster.GatekeeperFile(ctx, "v3.23.1", "deploy/gatekeeper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var gatekeepers *appsv1.Deployment
	for _, doc := range bytes.Split(manifest, []byte("\n---")) {
		var d appsv1.Deployment
		if yaml.Unmarshal(doc, &d) == nil && d.Kind == "Deployment" && d.Name == "gatekeeper-audit" {
			gatekeepers = &d
		}
	}
	if gatekeepers == nil {
		t.Fatal("Gatekeeper v3.23.1's deploy/gatekeeper.yaml has no Deployment gatekeeper-audit")
	}
	if _, err := kube.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cluster.GatekeeperNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	chart, err := render.Chart(ctx, chartDir, render.ChartOptions{ReleaseName: releaseName, Namespace: cluster.GatekeeperNS,
		Set: []string{"audit.enablePubsub=true", "audit.deploy=true"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		objs []render.Object
	}{
		{"kustomize overlay quickstart", buildOverlay(t, "quickstart")},
		{"chart with audit.deploy=true", chart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deployments := kube.Client.AppsV1().Deployments(cluster.GatekeeperNS)
			_ = deployments.Delete(ctx, "gatekeeper-audit", metav1.DeleteOptions{})
			gk := gatekeepers.DeepCopy()
			gk.ResourceVersion = ""
			if _, err := deployments.Create(ctx, gk, metav1.CreateOptions{}); err != nil {
				t.Fatalf("creating Gatekeeper's audit: %v", err)
			}
			var ours map[string]any
			for _, o := range tc.objs {
				if o.Kind() == "Deployment" && o.Name() == "gatekeeper-audit" {
					ours = o.Obj
				}
			}
			if ours == nil {
				t.Fatal("no Deployment gatekeeper-audit rendered")
			}
			body, err := json.Marshal(ours)
			if err != nil {
				t.Fatal(err)
			}
			got, err := deployments.Patch(ctx, "gatekeeper-audit", types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "kubectl", Force: ptr.To(true)})
			if err != nil {
				t.Fatalf("applying over Gatekeeper's audit: %v", err)
			}
			if got.Spec.Template.Annotations["dapr.io/enabled"] != "true" {
				t.Fatalf("applied, but the pod template has no dapr.io/enabled: %v", got.Spec.Template.Annotations)
			}
		})
	}
}
