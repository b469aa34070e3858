package reports_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reports"
)

// TestLeaseOneWriter runs two writers over the same store, each with the
// permissions the chart gives (get and update on its Lease by name, create
// on Leases): only the holder of the Lease writes; stopped, it releases
// the Lease and the other takes over well within the lease duration; a
// writer whose Lease is taken from it stops writing within the renew
// deadline.
func TestLeaseOneWriter(t *testing.T) {
	ctx := context.Background()
	kube := apiServer(t)
	dyn := dynamicFor(t, kube)
	const cluster, ns = "lease", "lease"
	cleanup(t, dyn, cluster)
	namespaces(t, kube, ns)
	leaseName := reports.LeaseName(cluster)
	cfg := rbacUser(t, kube, "lease-writer", reportRules, ns, []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{leaseName}, Verbs: []string{"get", "update"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
	})
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seed(t, openStore(t, filepath.Join(dir, "v.db")), cluster, run0, gv("K8sRequiredLabels", "c1", "", "v1", "ConfigMap", ns, "cm"))

	const (
		leaseDuration = 4 * time.Second
		renewDeadline = 2 * time.Second
		retryPeriod   = 250 * time.Millisecond
	)
	type runner struct {
		id     string
		w      *reports.Writer
		cancel context.CancelFunc
		done   chan error
	}
	var logs syncBuffer
	start := func(id string) *runner {
		// Each writer opens the store itself, as replicas do.
		st := openStore(t, filepath.Join(dir, "v.db"))
		w := writerFor(t, cfg, st, reports.Options{Cluster: cluster}, slog.New(slog.NewJSONHandler(&logs, nil)).With("writer", id))
		w.Resync = 200 * time.Millisecond
		rctx, cancel := context.WithCancel(ctx)
		r := &runner{id: id, w: w, cancel: cancel, done: make(chan error, 1)}
		l := reports.Lease{Client: cs.CoordinationV1(), Namespace: ns, Name: leaseName, Identity: id,
			LeaseDuration: leaseDuration, RenewDeadline: renewDeadline, RetryPeriod: retryPeriod}
		go func() { r.done <- w.RunElected(rctx, 100*time.Millisecond, l) }()
		return r
	}
	stop := func(r *runner) {
		t.Helper()
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Fatalf("writer %s: %v", r.id, err)
			}
		case <-time.After(renewDeadline + 5*time.Second):
			t.Fatalf("writer %s did not stop", r.id)
		}
	}
	a, b := start("writer-a"), start("writer-b")
	t.Cleanup(func() { a.cancel(); b.cancel() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("writers' log:\n%s", logs.String())
		}
	})
	holder := func() string {
		t.Helper()
		l, err := kube.Client.CoordinationV1().Leases(ns).Get(ctx, leaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return ptr.Deref(l.Spec.HolderIdentity, "")
	}
	reportExists := func() error {
		_, err := dyn.Resource(reports.ReportGVR).Namespace(ns).Get(ctx, "gatekeeper", metav1.GetOptions{})
		return err
	}
	waitFor(t, 10*time.Second, "a writer holds the Lease and wrote the report", func() error {
		if h := holder(); h != a.id && h != b.id {
			return fmt.Errorf("lease holder %q", h)
		}
		return reportExists()
	})
	leader, other := a, b
	if holder() == b.id {
		leader, other = b, a
	}
	t.Logf("%s holds the Lease", leader.id)

	// Only the holder syncs (every 200 ms), the other never.
	time.Sleep(1500 * time.Millisecond)
	if n := leader.w.Syncs(); n < 3 {
		t.Errorf("the holder %s synced %d times in 1.5 s, want at least 3", leader.id, n)
	}
	if n := other.w.Syncs(); n != 0 {
		t.Fatalf("%s, not holding the Lease, synced %d times", other.id, n)
	}
	// A report deleted by hand is put back, by the holder.
	if err := dyn.Resource(reports.ReportGVR).Namespace(ns).Delete(ctx, "gatekeeper", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "the holder puts the report back", reportExists)
	if n := other.w.Syncs(); n != 0 {
		t.Fatalf("%s, not holding the Lease, synced %d times", other.id, n)
	}

	// The holder stops: it releases the Lease, the other takes over
	// without waiting for it to expire.
	stopped := time.Now()
	stop(leader)
	if h := holder(); h != "" && h != other.id {
		t.Fatalf("after %s stopped the Lease is held by %q, want released", leader.id, h)
	}
	leaderSyncs := leader.w.Syncs()
	waitFor(t, leaseDuration, other.id+" takes over and syncs", func() error {
		if h := holder(); h != other.id {
			return fmt.Errorf("lease holder %q", h)
		}
		if other.w.Syncs() == 0 {
			return errNotYet
		}
		return nil
	})
	took := time.Since(stopped)
	t.Logf("%s took over %s after %s stopped", other.id, took.Round(time.Millisecond), leader.id)
	if took > leaseDuration/2 {
		t.Errorf("%s took over after %s: the Lease was not released (it expires after %s)", other.id, took, leaseDuration)
	}
	if n := leader.w.Syncs(); n != leaderSyncs {
		t.Errorf("the stopped writer synced %d more times", n-leaderSyncs)
	}

	// The Lease is taken from the holder (another holder with a long
	// lease): it stops writing within the renew deadline.
	lease, err := kube.Client.CoordinationV1().Leases(ns).Get(ctx, leaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.NewMicroTime(time.Now())
	lease.Spec = coordinationv1.LeaseSpec{HolderIdentity: ptr.To("someone-else"), LeaseDurationSeconds: ptr.To[int32](3600), AcquireTime: &now, RenewTime: &now}
	if _, err := kube.Client.CoordinationV1().Leases(ns).Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(renewDeadline + 2*retryPeriod)
	syncs := other.w.Syncs()
	if err := dyn.Resource(reports.ReportGVR).Namespace(ns).Delete(ctx, "gatekeeper", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // several resyncs
	if n := other.w.Syncs(); n != syncs {
		t.Errorf("%s synced %d times after losing the Lease", other.id, n-syncs)
	}
	if err := reportExists(); !apierrors.IsNotFound(err) {
		t.Errorf("the report was written after the Lease was lost: %v", err)
	}
	stop(other)
	if h := holder(); h != "someone-else" {
		t.Errorf("the Lease is held by %q, want someone-else's still (a writer releases only its own)", h)
	}
}
