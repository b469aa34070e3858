package reports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// Lease makes one writer of several write: the holder of a
// coordination.k8s.io Lease (client-go's leader election). The holder
// renews it every RetryPeriod; one that cannot renew for RenewDeadline
// stops writing; the others take it once it is LeaseDuration old, or at
// once when the holder released it on shutdown.
type Lease struct {
	Client coordinationv1client.LeasesGetter
	// Namespace and Name of the Lease.
	Namespace, Name string
	// Identity of this writer (its pod's name); unique among the writers.
	Identity string
	// LeaseDuration (default 15s), RenewDeadline (10s) and RetryPeriod
	// (2s), as client-go's leader election takes them.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// LeaseName is the default Lease of a cluster's reports.
func LeaseName(cluster string) string { return "violations-reports-" + cluster }

func (l Lease) withDefaults() Lease {
	if l.LeaseDuration == 0 {
		l.LeaseDuration = 15 * time.Second
	}
	if l.RenewDeadline == 0 {
		l.RenewDeadline = 10 * time.Second
	}
	if l.RetryPeriod == 0 {
		l.RetryPeriod = 2 * time.Second
	}
	return l
}

// elector makes the leader elector of one campaign.
func (l Lease) elector(cb leaderelection.LeaderCallbacks) (*leaderelection.LeaderElector, error) {
	l = l.withDefaults()
	if l.Client == nil {
		return nil, errors.New("reports lease: no client")
	}
	if l.Namespace == "" || l.Name == "" {
		return nil, fmt.Errorf("reports lease %q in namespace %q: both are needed (--report-lease-name, --report-lease-namespace)", l.Name, l.Namespace)
	}
	if l.Identity == "" {
		return nil, errors.New("reports lease: the writer's identity is empty")
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: l.Namespace, Name: l.Name},
			Client:     l.Client,
			LockConfig: resourcelock.ResourceLockConfig{Identity: l.Identity},
		},
		LeaseDuration:   l.LeaseDuration,
		RenewDeadline:   l.RenewDeadline,
		RetryPeriod:     l.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            l.Namespace + "/" + l.Name,
		Callbacks:       cb,
	})
	if err != nil {
		return nil, fmt.Errorf("reports lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return le, nil
}

// Validate checks the lease's settings.
func (l Lease) Validate() error {
	_, err := l.elector(leaderelection.LeaderCallbacks{OnStartedLeading: func(context.Context) {}, OnStoppedLeading: func() {}})
	return err
}

// RunElected writes the reports (Run) while this writer holds the lease,
// until ctx ends. It campaigns for the lease; once it holds it, it writes;
// when it loses it (not renewed for RenewDeadline), writing stops (the
// requests in flight are cancelled) and it campaigns again. When ctx ends
// writing stops and the lease is released, so another writer takes over
// without waiting for it to expire. It returns when the lease's settings
// are wrong, or after ctx ended and the lease was released.
func (w *Writer) RunElected(ctx context.Context, interval time.Duration, l Lease) error {
	if err := l.Validate(); err != nil {
		return err
	}
	log := w.logger().With("lease", l.Namespace+"/"+l.Name, "identity", l.Identity)
	// client-go's leader election logs through the context's logger.
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(log.Handler()))
	for ctx.Err() == nil {
		// The elector calls OnStartedLeading in a goroutine of its own and
		// does not wait for it; the writing is done here instead, so that
		// it has stopped before the next campaign (and before returning).
		leading := make(chan context.Context, 1)
		le, err := l.elector(leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { leading <- lctx },
			OnStoppedLeading: func() {},
		})
		if err != nil {
			return err
		}
		ended := make(chan struct{})
		go func() { defer close(ended); le.Run(ctx) }()
		select {
		case lctx := <-leading:
			if lctx.Err() == nil {
				log.Info("holding the reports lease: writing OpenReports")
				w.Run(lctx, interval)
				if ctx.Err() == nil {
					log.Warn("lost the reports lease: stopped writing OpenReports")
				}
			}
			<-ended
		case <-ended:
		}
	}
	log.Info("stopped campaigning for the reports lease (released if held)")
	return nil
}
