package reports

import (
	"context"
	"errors"
	"fmt"

	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// The resources written.
var (
	ReportGVR        = schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}
	ClusterReportGVR = schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "clusterreports"}
)

// SyncResult counts what Sync did.
type SyncResult struct {
	Created, Updated, Unchanged, Deleted int
}

func (r SyncResult) String() string {
	return fmt.Sprintf("%d created, %d updated, %d unchanged, %d deleted", r.Created, r.Updated, r.Unchanged, r.Deleted)
}

// Sync makes the reports of opts.Cluster in the API server those of
// desired: it creates the missing, updates those whose results differ,
// leaves the others untouched (their resourceVersion stays), and deletes
// the reports it wrote earlier that have no results left.
func Sync(ctx context.Context, dyn dynamic.Interface, desired []Object, opts Options) (SyncResult, error) {
	var res SyncResult
	sel := labels.Set{LabelManagedBy: ManagedBy, LabelCluster: opts.Cluster}.AsSelector().String()
	existing := map[string]*unstructured.Unstructured{}
	for _, gvr := range []schema.GroupVersionResource{ReportGVR, ClusterReportGVR} {
		l, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return res, fmt.Errorf("listing %s: %w", gvr.Resource, err)
		}
		for i := range l.Items {
			u := &l.Items[i]
			existing[key(gvr, u.GetNamespace(), u.GetName())] = u
		}
	}
	var errs []error
	for _, o := range desired {
		gvr := ReportGVR
		if o.Namespace == "" {
			gvr = ClusterReportGVR
		}
		k := key(gvr, o.Namespace, o.Name)
		cur := existing[k]
		delete(existing, k)
		want, err := toUnstructured(o, opts)
		if err != nil {
			return res, err
		}
		client := dyn.Resource(gvr).Namespace(o.Namespace)
		if cur == nil {
			if _, err := client.Create(ctx, want, metav1.CreateOptions{}); err != nil {
				errs = append(errs, fmt.Errorf("creating %s %s: %w", o.Kind(), k, err))
				continue
			}
			res.Created++
			continue
		}
		var have openreports.Report
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(cur.Object, &have); err != nil {
			return res, fmt.Errorf("reading %s %s: %w", o.Kind(), k, err)
		}
		if have.Source == o.Report.Source && equality.Semantic.DeepEqual(have.Summary, o.Report.Summary) && equality.Semantic.DeepEqual(have.Results, o.Report.Results) {
			res.Unchanged++
			continue
		}
		want.SetResourceVersion(cur.GetResourceVersion())
		if _, err := client.Update(ctx, want, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("updating %s %s: %w", o.Kind(), k, err))
			continue
		}
		res.Updated++
	}
	for k, u := range existing {
		gvr := ReportGVR
		if u.GetNamespace() == "" {
			gvr = ClusterReportGVR
		}
		err := dyn.Resource(gvr).Namespace(u.GetNamespace()).Delete(ctx, u.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", k, err))
			continue
		}
		res.Deleted++
	}
	return res, errors.Join(errs...)
}

func key(gvr schema.GroupVersionResource, ns, name string) string {
	return gvr.Resource + ":" + ns + "/" + name
}

func toUnstructured(o Object, opts Options) (*unstructured.Unstructured, error) {
	r := o.Report
	r.APIVersion, r.Kind = "openreports.io/v1alpha1", o.Kind()
	r.Name, r.Namespace = o.Name, o.Namespace
	r.Labels = map[string]string{LabelManagedBy: ManagedBy, LabelCluster: opts.Cluster}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&r)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s/%s: %w", o.Kind(), o.Namespace, o.Name, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}
