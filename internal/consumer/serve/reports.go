package serve

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reports"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/status"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// inClusterNamespace is where a pod's service account tells its namespace.
const inClusterNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// reportLeaseName is the Lease's name: the flag, else
// violations-reports-<cluster>.
func (c Config) reportLeaseName() string {
	if c.ReportLeaseName != "" {
		return c.ReportLeaseName
	}
	return reports.LeaseName(c.Cluster)
}

// validateReports checks the report flags; the errors name them.
func (c Config) validateReports() []error {
	var errs []error
	if !reports.ValidSeverity(c.ReportSeverity) {
		errs = append(errs, fmt.Errorf("--report-severity %q: want critical, high, medium, low or info", c.ReportSeverity))
	}
	if k := c.ReportSeverityKey; k != "" {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--report-severity-key %q is not a label key: %s", k, strings.Join(msgs, "; ")))
		}
	}
	if c.ReportLeaseName != "" || c.Reports {
		if msgs := validation.IsDNS1123Subdomain(c.reportLeaseName()); len(msgs) > 0 {
			from := "--report-lease-name"
			if c.ReportLeaseName == "" {
				from = "--report-lease-name (violations-reports-<--cluster>)"
			}
			errs = append(errs, fmt.Errorf("%s %q is not a Lease name: %s; set --report-lease-name", from, c.reportLeaseName(), strings.Join(msgs, "; ")))
		}
	}
	if ns := c.ReportLeaseNamespace; ns != "" {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--report-lease-namespace %q is not a namespace name: %s", ns, strings.Join(msgs, "; ")))
		}
	}
	return errs
}

// reportWriter makes the OpenReports writer and the Lease that elects the
// one replica writing.
func reportWriter(c Config, st store.Store, log *slog.Logger) (*reports.Writer, reports.Lease, error) {
	var lease reports.Lease
	cfg, ok, err := status.Config(c.Kubeconfig)
	if err != nil {
		return nil, lease, err
	}
	if !ok {
		return nil, lease, fmt.Errorf("--reports writes to the API server: give --kubeconfig or run in a cluster")
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "violations-reports"
	// UID look-ups are a GET or a List each; client-go's default (5 per
	// second) would spread a large sync over minutes.
	cfg.QPS, cfg.Burst = 20, 40
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, lease, fmt.Errorf("API server client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, lease, fmt.Errorf("API server client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, lease, fmt.Errorf("API server client: %w", err)
	}
	w := &reports.Writer{Store: st, Client: dyn, Metadata: md, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)), Logger: log,
		Options: reports.Options{Cluster: c.Cluster, MaxResults: c.ReportMaxResults, Severity: c.ReportSeverity,
			SeverityKey: c.ReportSeverityKey, ResourceUIDs: c.ReportResourceUIDs}}

	ns, err := leaseNamespace(c)
	if err != nil {
		return nil, lease, err
	}
	id, err := identity()
	if err != nil {
		return nil, lease, err
	}
	lease = reports.Lease{Namespace: ns, Name: c.reportLeaseName(), Identity: id}
	// A request that hangs must not use up the renew deadline (as
	// client-go's resourcelock.NewFromKubeconfig does).
	lcfg := rest.CopyConfig(cfg)
	lcfg.UserAgent = "violations-reports-lease"
	lcfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(lcfg)
	if err != nil {
		return nil, lease, fmt.Errorf("API server client: %w", err)
	}
	lease.Client = cs.CoordinationV1()
	if err := lease.Validate(); err != nil {
		return nil, lease, err
	}
	return w, lease, nil
}

// leaseNamespace is --report-lease-namespace (default $POD_NAMESPACE),
// else the kubeconfig's namespace, else the pod's service account's.
func leaseNamespace(c Config) (string, error) {
	if c.ReportLeaseNamespace != "" {
		return c.ReportLeaseNamespace, nil
	}
	if c.Kubeconfig != "" {
		ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig}, &clientcmd.ConfigOverrides{}).Namespace()
		if err != nil {
			return "", fmt.Errorf("--report-lease-namespace not set and kubeconfig %s has no namespace: %w", c.Kubeconfig, err)
		}
		return ns, nil
	}
	b, err := os.ReadFile(inClusterNamespace)
	if err != nil {
		return "", fmt.Errorf("--report-lease-namespace not set (nor $POD_NAMESPACE) and the pod's namespace is unknown: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// identity names this replica in the Lease: $POD_NAME, else the host name
// (a pod's name), with a random suffix so that two processes on one host
// differ.
func identity() (string, error) {
	name := os.Getenv("POD_NAME")
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("naming this replica for the reports lease: %w", err)
		}
		name = h
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("naming this replica for the reports lease: %w", err)
	}
	return name + "_" + hex.EncodeToString(b), nil
}
