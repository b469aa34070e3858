// Package serve runs `violations serve`: the Dapr app that receives the
// audit's messages, the reconciler that judges runs, and the API, over one
// store.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/receive"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reconcile"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reports"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/status"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/web"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/secretfile"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

// DefaultStore is where the SQLite store lives without --store.
const DefaultStore = "sqlite:///var/lib/violations/violations.db"

// Config is what `violations serve` runs with.
type Config struct {
	// AppListen is where daprd delivers (only the sidecar reaches it).
	AppListen string
	// Listen is where the page, the API, health and metrics are served.
	Listen string
	// Store is the store's URL.
	Store string
	// Pubsub, Topic and DeadLetterTopic of the subscription.
	Pubsub, Topic, DeadLetterTopic string
	// Cluster names the cluster the messages come from.
	Cluster         string
	ResolveAfter    int
	RunGrace        time.Duration
	MaxResolveShare float64
	// Kubeconfig for reading the constraints' status; empty means the
	// in-cluster account, or none outside a cluster.
	Kubeconfig string
	// NoStatus never reads the API server.
	NoStatus bool
	// Reports writes OpenReports (Report, ClusterReport) of the open
	// violations after each complete run; it needs the API server.
	Reports bool
	// ReportMaxResults splits a namespace's report past this many results.
	ReportMaxResults int
	// ReportSeverity is a result's severity when its constraint has no
	// valid one under ReportSeverityKey.
	ReportSeverity string
	// ReportSeverityKey is the constraint label (else annotation) a
	// result's severity is read from; empty reads none.
	ReportSeverityKey string
	// ReportResourceUIDs looks up each violating resource's UID for its
	// result's subject.
	ReportResourceUIDs bool
	// ReportLeaseNamespace and ReportLeaseName name the Lease that elects
	// the one replica writing reports (default $POD_NAMESPACE, else the
	// kubeconfig's or the pod's namespace; violations-reports-<cluster>).
	ReportLeaseNamespace, ReportLeaseName string

	ReconcileInterval time.Duration
	Retention         time.Duration
	MaxMessageBytes   int64
	// BulkMaxMessages is the most messages daprd delivers in one request
	// (Dapr's bulk subscribe); 0 has daprd deliver them one by one.
	BulkMaxMessages int
	// BulkMaxAwait is how long daprd collects a bulk request that is not
	// full.
	BulkMaxAwait time.Duration
	// Alerts, when set, are the alert routes told what each complete run
	// changed.
	Alerts *alerts.Config
	// AppToken is Dapr's app API token (APP_API_TOKEN).
	AppToken string
	// APIToken, if set, is the bearer token the page, the API and /metrics
	// require (--api-token-file).
	APIToken string
	Logger   *slog.Logger
	// Ready, if set, receives the two listeners' addresses once serving.
	Ready func(app, api net.Addr)
}

// DefaultConfig is the configuration without flags.
func DefaultConfig() Config {
	return Config{
		AppListen: "127.0.0.1:6002", Listen: ":8080", Store: DefaultStore,
		Pubsub: "pubsub", Topic: "audit-channel", Cluster: "default",
		ResolveAfter: 1, RunGrace: 90 * time.Second, MaxResolveShare: 0.5,
		ReconcileInterval: 5 * time.Second, Retention: 90 * 24 * time.Hour, MaxMessageBytes: 256 << 10,
		BulkMaxMessages: 100, BulkMaxAwait: 5 * time.Millisecond,
		ReportMaxResults: 500, ReportSeverity: "medium", ReportSeverityKey: reports.DefaultSeverityKey,
	}
}

// Validate checks the configuration; its errors name the flag.
func (c Config) Validate() error {
	var errs []error
	if c.Reports && c.NoStatus {
		errs = append(errs, errors.New("--reports writes OpenReports to the API server, which --no-status keeps away from; drop one"))
	}
	if c.ReportMaxResults < 1 || c.ReportMaxResults > 5000 {
		errs = append(errs, fmt.Errorf("--report-max-results is %d, want 1 to 5000 (a report must stay under etcd's 1.5 MB)", c.ReportMaxResults))
	}
	errs = append(errs, c.validateReports()...)
	if c.ResolveAfter < 1 {
		errs = append(errs, fmt.Errorf("--resolve-after is %d, want 1 or more", c.ResolveAfter))
	}
	if c.MaxResolveShare <= 0 || c.MaxResolveShare > 1 {
		errs = append(errs, fmt.Errorf("--max-resolve-share is %v, want more than 0 and at most 1", c.MaxResolveShare))
	}
	if c.RunGrace < 0 {
		errs = append(errs, fmt.Errorf("--run-grace is %s, want 0 or more", c.RunGrace))
	}
	if c.ReconcileInterval <= 0 {
		errs = append(errs, fmt.Errorf("--reconcile-interval is %s, want more than 0", c.ReconcileInterval))
	}
	if c.MaxMessageBytes < 1024 {
		errs = append(errs, fmt.Errorf("--max-message-bytes is %d, want 1024 or more", c.MaxMessageBytes))
	}
	if c.BulkMaxMessages < 0 || c.BulkMaxMessages > 10000 {
		errs = append(errs, fmt.Errorf("--bulk-max-messages is %d, want 0 (one by one) to 10000", c.BulkMaxMessages))
	}
	if c.BulkMaxMessages > 0 && (c.BulkMaxAwait < time.Millisecond || c.BulkMaxAwait > time.Minute) {
		errs = append(errs, fmt.Errorf("--bulk-max-await is %s, want 1ms to 1m (daprd counts whole milliseconds)", c.BulkMaxAwait))
	}
	for flag, v := range map[string]string{"--pubsub": c.Pubsub, "--topic": c.Topic, "--cluster": c.Cluster, "--store": c.Store, "--app-listen": c.AppListen, "--listen": c.Listen} {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("%s is empty", flag))
		}
	}
	if c.DeadLetterTopic != "" && c.DeadLetterTopic == c.Topic {
		errs = append(errs, fmt.Errorf("--dead-letter-topic is the subscribed topic %q: dropped messages would come back", c.Topic))
	}
	return errors.Join(errs...)
}

func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Run serves until ctx ends, then shuts down: deliveries in flight are
// answered before the store is closed.
func Run(ctx context.Context, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(ctx, c.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	m := metrics.New(st, log)

	var src reconcile.StatusSource
	var writer *reports.Writer
	var lease reports.Lease
	if c.Reports {
		if writer, lease, err = reportWriter(c, st, log); err != nil {
			return err
		}
	}
	if !c.NoStatus {
		cfg, ok, err := status.Config(c.Kubeconfig)
		if err != nil {
			return err
		}
		if ok {
			s, err := status.New(cfg)
			if err != nil {
				return fmt.Errorf("API server client: %w", err)
			}
			src = s
			log.Info("reading the constraints' status from the API server", "host", cfg.Host)
		} else {
			log.Info("no kubeconfig and not in a cluster: runs complete on Gatekeeper's markers (v3.20+) and the grace alone")
		}
	}
	rec, err := reconcile.New(reconcile.Options{
		Cluster: c.Cluster, Store: st, Status: src, Grace: c.RunGrace, ResolveAfter: c.ResolveAfter,
		MaxResolveShare: c.MaxResolveShare, Retention: c.Retention, Metrics: m, Logger: log,
	})
	if err != nil {
		return err
	}
	recv, err := receive.New(receive.Options{
		Pubsub: c.Pubsub, Topic: c.Topic, DeadLetterTopic: c.DeadLetterTopic, Cluster: c.Cluster,
		MaxMessageBytes: c.MaxMessageBytes, Token: c.AppToken, Store: st, Metrics: m, Logger: log,
		Bulk: receive.Bulk{MaxMessages: c.BulkMaxMessages, MaxAwait: c.BulkMaxAwait},
	})
	if err != nil {
		return err
	}
	var alerter *alerts.Alerter
	if c.Alerts != nil {
		if alerter, err = alerts.New(alerts.Options{Config: *c.Alerts, Cluster: c.Cluster, Store: st, Metrics: m, Logger: log,
			UserAgent: "violations/" + version.ModuleVersion()}); err != nil {
			return err
		}
	}
	appLn, err := net.Listen("tcp", c.AppListen)
	if err != nil {
		return fmt.Errorf("--app-listen %s: %w", c.AppListen, err)
	}
	apiLn, err := net.Listen("tcp", c.Listen)
	if err != nil {
		_ = appLn.Close()
		return fmt.Errorf("--listen %s: %w", c.Listen, err)
	}
	appSrv := newServer(recv.Handler())
	apiSrv := newServer(routes(c.APIToken, web.Handler(web.Options{Store: st, Logger: log}), api.Handler(api.Options{Store: st, Registry: m.Registry, Logger: log, Ready: func() string {
		if !recv.Subscribed() {
			return "daprd has not read the subscription yet"
		}
		return ""
	}})))

	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); recv.Run(work) }()
	go func() { defer wg.Done(); rec.Run(work, c.ReconcileInterval) }()
	if alerter != nil {
		wg.Add(1)
		go func() { defer wg.Done(); alerter.Run(work) }()
	}
	if writer != nil {
		wg.Add(1)
		// Only the holder of the Lease writes; it is released on shutdown.
		go func() {
			defer wg.Done()
			if err := writer.RunElected(work, c.ReconcileInterval, lease); err != nil {
				log.Error("not writing OpenReports", "error", err)
			}
		}()
	}

	errc := make(chan error, 2)
	go func() { errc <- serveOn(appSrv, appLn) }()
	go func() { errc <- serveOn(apiSrv, apiLn) }()
	log.Info("serving", "app", appLn.Addr().String(), "api", apiLn.Addr().String(), "pubsub", c.Pubsub, "topic", c.Topic,
		"cluster", c.Cluster, "store", store.Redact(c.Store), "appToken", c.AppToken != "", "apiToken", c.APIToken != "")
	if c.Ready != nil {
		c.Ready(appLn.Addr(), apiLn.Addr())
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The app first: its handlers wait for their commits, which need the
	// committer still running.
	_ = appSrv.Shutdown(shutdownCtx)
	_ = apiSrv.Shutdown(shutdownCtx)
	stopWork()
	wg.Wait()
	return runErr
}

func serveOn(s *http.Server, ln net.Listener) error {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// StoreURL picks the store's URL: the flag, else the file the flag names
// (a mounted Secret), else the environment variable, else the default.
func StoreURL(flagURL, file, env string) (string, error) {
	if flagURL != "" && file != "" {
		return "", errors.New("--store and --store-file both given: use one")
	}
	if flagURL != "" {
		return flagURL, nil
	}
	if file != "" {
		u, err := secretfile.Read(file, 4096)
		if err != nil {
			return "", fmt.Errorf("--store-file: %w", err)
		}
		return u, nil
	}
	if env != "" {
		return env, nil
	}
	return DefaultStore, nil
}
