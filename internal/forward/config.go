package forward

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	daprclient "github.com/dapr/go-sdk/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
)

// Config is pubsub-forward's command line.
type Config struct {
	// Path is the disk driver's connection path; the runs are under
	// Path/Topic.
	Path string
	// Topic is the audit's channel (--audit-channel).
	Topic string
	// Pubsub is the Dapr pubsub component to publish through.
	Pubsub string
	// Checkpoint file; default .pubsub-forward/Topic.json beside Path.
	Checkpoint string
	// Listen is the address of /healthz, /readyz and /metrics.
	Listen string
	// DaprAddress of the sidecar's gRPC API; default as the Dapr SDK
	// (DAPR_GRPC_ENDPOINT, else 127.0.0.1:DAPR_GRPC_PORT, else :50001).
	DaprAddress string
	// StartupTimeout bounds the wait for daprd at start.
	StartupTimeout time.Duration
	Poll           time.Duration
	Settle         time.Duration
	BatchLines     int
	MaxLineBytes   int
	Logger         *slog.Logger
}

// DefaultConfig is the flags' defaults.
func DefaultConfig() Config {
	return Config{Pubsub: "pubsub", Listen: ":9095", StartupTimeout: 60 * time.Second, Poll: 250 * time.Millisecond, Settle: time.Second, BatchLines: 1000, MaxLineBytes: 1 << 20}
}

// CheckpointPath is the checkpoint file: the flag's, or
// .pubsub-forward/TOPIC.json beside Path. Gatekeeper's chart mounts the
// shared volume at /tmp/violations and sets the path /tmp/violations/topics,
// so the default lands on the volume, in its root (writable by every
// container), and out of reach of the driver, which deletes files under
// Path/Topic and, when the connection is closed, all of Path.
func (c Config) CheckpointPath() string {
	if c.Checkpoint != "" {
		return c.Checkpoint
	}
	return filepath.Join(filepath.Dir(filepath.Clean(c.Path)), ".pubsub-forward", c.Topic+".json")
}

// Validate reports every problem of the configuration, naming the flag.
func (c Config) Validate() error {
	var errs []error
	// The audit makes the path when its connection starts, maybe after
	// this container: a missing path is waited for, but the directory it
	// goes in (the shared volume) must be there.
	switch info, err := os.Stat(c.Path); {
	case c.Path == "":
		errs = append(errs, errors.New("--path is required: the disk driver's path (the connection config's \"path\")"))
	case errors.Is(err, fs.ErrNotExist):
		if pinfo, perr := os.Stat(filepath.Dir(filepath.Clean(c.Path))); perr != nil || !pinfo.IsDir() {
			errs = append(errs, fmt.Errorf("--path %s: neither it nor the directory it goes in exists (the disk driver's path must be on a volume the audit shares with this container)", c.Path))
		}
	case err != nil:
		errs = append(errs, fmt.Errorf("--path %s: %w", c.Path, err))
	case !info.IsDir():
		errs = append(errs, fmt.Errorf("--path %s is not a directory", c.Path))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("--topic is required: the audit's channel (--audit-channel)"))
	} else if strings.ContainsAny(c.Topic, `/\`) || c.Topic == "." || c.Topic == ".." {
		errs = append(errs, fmt.Errorf("--topic %q: the disk driver makes a directory of it; want a name without / or \\", c.Topic))
	}
	if c.Pubsub == "" {
		errs = append(errs, errors.New("--pubsub is required: the Dapr pubsub component's name"))
	}
	if c.Path != "" && c.Topic != "" {
		cp, _ := filepath.Abs(c.CheckpointPath())
		dir, _ := filepath.Abs(filepath.Join(c.Path, c.Topic))
		if cp == dir || strings.HasPrefix(cp, dir+string(filepath.Separator)) {
			errs = append(errs, fmt.Errorf("--checkpoint %s is inside %s, where the disk driver deletes the oldest files; put it beside that directory", cp, dir))
		}
	}
	if c.StartupTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--startup-timeout is %s, want more than 0", c.StartupTimeout))
	}
	if c.Poll <= 0 {
		errs = append(errs, fmt.Errorf("--poll is %s, want more than 0", c.Poll))
	}
	if c.Settle < 0 {
		errs = append(errs, fmt.Errorf("--settle is %s, want 0 or more", c.Settle))
	}
	if c.BatchLines <= 0 || c.BatchLines > 10000 {
		errs = append(errs, fmt.Errorf("--batch-lines is %d, want 1 to 10000", c.BatchLines))
	}
	if c.MaxLineBytes < 1024 || c.MaxLineBytes > 16<<20 {
		errs = append(errs, fmt.Errorf("--max-line-bytes is %d, want 1024 to %d", c.MaxLineBytes, 16<<20))
	}
	return errors.Join(errs...)
}

// Run checks daprd, then forwards and serves health and metrics until ctx
// ends.
func Run(ctx context.Context, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cpPath := c.CheckpointPath()
	if err := os.MkdirAll(filepath.Dir(cpPath), 0o750); err != nil {
		return fmt.Errorf("--checkpoint %s: %w (the checkpoint belongs on the volume shared with the audit, outside --path/--topic)", cpPath, err)
	}
	addr := c.DaprAddress
	if addr == "" {
		addr = dapr.AddressFromEnv()
	}
	if err := waitForDaprd(ctx, addr, c.Pubsub, c.StartupTimeout); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// At most one batch is queued at a time (the forwarder waits for it
	// before the next); transient failures are retried until accepted.
	conn, err := dapr.New(ctx, map[string]any{"component": c.Pubsub}, dapr.Options{Address: addr, Logger: log,
		Queue: queue.Options{MaxItems: 2 * c.BatchLines, Metrics: queue.NewMetrics(reg), Logger: log}})
	if err != nil {
		return fmt.Errorf("connecting to daprd at %s: %w", addr, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	f, err := New(Options{Dir: filepath.Join(c.Path, c.Topic), Topic: c.Topic, Checkpoint: cpPath, Publisher: conn,
		Poll: c.Poll, Settle: c.Settle, BatchLines: c.BatchLines, MaxLineBytes: c.MaxLineBytes, Metrics: NewMetrics(reg), Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", c.Listen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !f.Healthy() {
			http.Error(w, "the broker refused the last batch; sending again", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("pubsub-forward started", "path", c.Path, "topic", c.Topic, "pubsub", c.Pubsub, "daprd", addr, "listen", ln.Addr().String())
	runErr := make(chan error, 1)
	go func() { runErr <- f.Run(ctx) }()
	select {
	case err := <-runErr:
		return err
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", c.Listen, err)
	}
}

// waitForDaprd waits until daprd answers at addr and has the pubsub
// component, for at most timeout.
func waitForDaprd(ctx context.Context, addr, pubsub string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		last = daprdHas(ctx, addr, pubsub)
		var missing *missingComponentError
		if last == nil || errors.As(last, &missing) {
			return last
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("daprd not reachable at %s (DAPR_GRPC_ENDPOINT, DAPR_GRPC_PORT or --dapr-address) within --startup-timeout %s: %w", addr, timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

type missingComponentError struct {
	addr, pubsub string
	have         []string
}

func (e *missingComponentError) Error() string {
	return fmt.Sprintf("daprd at %s has no pubsub component %q (--pubsub); it has: %s", e.addr, e.pubsub, strings.Join(e.have, ", "))
}

func daprdHas(ctx context.Context, addr, pubsub string) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	client, err := daprclient.NewClientWithAddressContext(cctx, addr)
	if err != nil {
		return err
	}
	defer client.Close()
	if token := os.Getenv(dapr.EnvAPIToken); token != "" {
		client.WithAuthToken(token)
	}
	md, err := client.GetMetadata(cctx)
	if err != nil {
		return err
	}
	have := []string{}
	for _, comp := range md.RegisteredComponents {
		if strings.HasPrefix(comp.Type, "pubsub.") {
			if comp.Name == pubsub {
				return nil
			}
			have = append(have, comp.Name)
		}
	}
	slices.Sort(have)
	if len(have) == 0 {
		have = []string{"none"}
	}
	return &missingComponentError{addr: addr, pubsub: pubsub, have: have}
}
