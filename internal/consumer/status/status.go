// Package status reads Gatekeeper's constraints and their audit status from
// the API server (read-only: discovery of constraints.gatekeeper.sh and a
// List of each constraint kind), for the reconciler.
package status

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reconcile"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// ConstraintsGroupVersion is where Gatekeeper serves every constraint kind.
const ConstraintsGroupVersion = "constraints.gatekeeper.sh/v1beta1"

// Source lists constraints through the API server.
type Source struct {
	disc discovery.DiscoveryInterface
	dyn  dynamic.Interface
}

// Config returns the client configuration: the kubeconfig file when one is
// named (flag or $KUBECONFIG), else the in-cluster service account. ok is
// false when neither is there: the consumer then runs without status.
func Config(kubeconfig string) (cfg *rest.Config, ok bool, err error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, false, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, true, nil
	}
	cfg, err = rest.InClusterConfig()
	if errors.Is(err, rest.ErrNotInCluster) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("in-cluster configuration: %w", err)
	}
	return cfg, true, nil
}

// New makes a source from a client configuration.
func New(cfg *rest.Config) (*Source, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "violations"
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Source{disc: disc, dyn: dyn}, nil
}

// Constraints implements reconcile.StatusSource.
func (s *Source) Constraints(ctx context.Context) ([]reconcile.ConstraintStatus, error) {
	list, err := s.disc.ServerResourcesForGroupVersion(ConstraintsGroupVersion)
	if apierrors.IsNotFound(err) {
		return nil, nil // no constraint kind exists (yet)
	}
	if err != nil {
		return nil, fmt.Errorf("discovering %s: %w", ConstraintsGroupVersion, err)
	}
	gv, _ := schema.ParseGroupVersion(ConstraintsGroupVersion)
	var out []reconcile.ConstraintStatus
	for _, r := range list.APIResources {
		if strings.Contains(r.Name, "/") {
			continue // a subresource (status)
		}
		items, err := s.dyn.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue // the kind went away between discovery and list
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", r.Name, err)
		}
		for _, it := range items.Items {
			out = append(out, statusOf(gv.Group, r.Kind, it))
		}
	}
	return out, nil
}

func statusOf(group, kind string, u unstructured.Unstructured) reconcile.ConstraintStatus {
	cs := reconcile.ConstraintStatus{Constraint: store.Constraint{Group: group, Kind: kind, Name: u.GetName()}, TotalViolations: -1}
	if ts, ok, _ := unstructured.NestedString(u.Object, "status", "auditTimestamp"); ok {
		if t, err := time.Parse(time.RFC3339, ts); err == nil {
			cs.AuditTimestamp = t.UTC()
		}
	}
	if n, ok, _ := unstructured.NestedInt64(u.Object, "status", "totalViolations"); ok {
		cs.TotalViolations = int(n)
	}
	return cs
}
