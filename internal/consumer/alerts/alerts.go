package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// Options configure an Alerter.
type Options struct {
	Config  Config
	Cluster string
	Store   store.Store
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// UserAgent is sent with every request.
	UserAgent string
	// Poll is how often the outbox and the runs are looked at (default 1s).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before an alert is tried
	// again (default 1s and 5m); it doubles at each failure.
	MinBackoff, MaxBackoff time.Duration
	// Getenv reads urlEnv (default os.Getenv).
	Getenv func(string) string
	// Client sends the requests (default one without redirects).
	Client *http.Client
}

// Alerter plans the alerts of complete runs and sends them.
type Alerter struct {
	opts    Options
	targets map[string]target
	wake    chan struct{}
}

// New reads each route's URL and token (from their files or environment)
// and makes the alerter; its errors name the route.
func New(opts Options) (*Alerter, error) {
	if opts.Store == nil {
		return nil, errors.New("alerts: no store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New(nil, nil)
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Minute, opts.MinBackoff)
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Client == nil {
		// A webhook that redirects is not followed: the body would go
		// where the configuration did not say.
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	a := &Alerter{opts: opts, targets: map[string]target{}, wake: make(chan struct{}, 1)}
	var errs []error
	for _, r := range opts.Config.Routes {
		ep := r.Webhook
		if ep == nil {
			ep = r.Slack
		}
		t, err := ep.resolve(opts.Getenv)
		if err != nil {
			errs = append(errs, fmt.Errorf("alert route %q: %w", r.Name, err))
			continue
		}
		a.targets[r.Name] = t
	}
	return a, errors.Join(errs...)
}

// Run plans and sends until ctx ends.
func (a *Alerter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range a.opts.Config.Routes {
		wg.Add(1)
		go func() { defer wg.Done(); a.send(ctx, r) }()
	}
	a.warnOrphans(ctx)
	t := time.NewTicker(a.opts.Poll)
	defer t.Stop()
	for {
		if err := a.Plan(ctx); err != nil && ctx.Err() == nil {
			a.opts.Logger.Error("alerts: planning", "error", err)
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		}
	}
}

// warnOrphans logs the pending alerts of routes no longer configured:
// they stay in the outbox (and in violations_alerts_pending) until the
// route comes back or the store is pruned of them by hand.
func (a *Alerter) warnOrphans(ctx context.Context) {
	pending, err := a.opts.Store.PendingAlerts(ctx)
	if err != nil {
		return
	}
	for route, n := range pending {
		if _, ok := a.targets[route]; !ok {
			a.opts.Logger.Warn("alerts: pending alerts of a route not configured", "route", route, "pending", n)
		}
	}
}

// Plan puts the alerts of every complete run not alerted yet in the
// outbox, oldest run first.
func (a *Alerter) Plan(ctx context.Context) error {
	for ctx.Err() == nil {
		ar, ok, err := a.opts.Store.NextAlertRun(ctx, a.opts.Cluster)
		if err != nil || !ok {
			return err
		}
		builders := make([]*builder, len(a.opts.Config.Routes))
		for i, r := range a.opts.Config.Routes {
			builders[i] = newBuilder(r, ar)
		}
		if err := a.opts.Store.ForEachChange(ctx, ar, func(c store.Change) error {
			for _, b := range builders {
				b.add(c)
			}
			return nil
		}); err != nil {
			return err
		}
		var out []store.OutboxAlert
		for _, b := range builders {
			if b.empty() {
				continue
			}
			body, err := json.Marshal(b.a)
			if err != nil {
				return fmt.Errorf("alert of route %q: %w", b.route.Name, err)
			}
			out = append(out, store.OutboxAlert{Route: b.route.Name, Key: b.a.ID, Body: body})
		}
		if err := a.opts.Store.EnqueueAlerts(ctx, ar, out); err != nil {
			return err
		}
		a.opts.Logger.Info("alerts: planned", "cluster", ar.Cluster, "run", ar.Run.Format(time.RFC3339), "alerts", len(out))
		if len(out) > 0 {
			select {
			case a.wake <- struct{}{}:
			default:
			}
		}
	}
	return ctx.Err()
}

// send drains one route's alerts in order. A receiver that fails or hangs
// holds up only its own route.
func (a *Alerter) send(ctx context.Context, r Route) {
	log := a.opts.Logger.With("route", r.Name)
	t, ok := a.targets[r.Name]
	if !ok {
		return
	}
	timeout := time.Duration(r.Timeout)
	for ctx.Err() == nil {
		al, ok, err := a.opts.Store.ClaimAlert(ctx, r.Name, time.Now(), timeout+5*time.Second)
		if err != nil {
			log.Error("alerts: reading the outbox", "error", err)
		}
		if !ok {
			select {
			case <-ctx.Done():
			case <-time.After(a.opts.Poll):
			}
			continue
		}
		wait, reason, err := a.deliver(ctx, r, t, al)
		if err == nil {
			if err := a.opts.Store.AlertSent(context.WithoutCancel(ctx), al.ID, time.Now()); err != nil {
				log.Error("alerts: marking sent (it will be sent again)", "error", err)
			}
			a.opts.Metrics.AlertsSent.WithLabelValues(r.Name).Inc()
			log.Info("alerts: sent", "run", al.Run.Format(time.RFC3339), "id", al.Key, "attempts", al.Attempts)
			continue
		}
		if ctx.Err() != nil {
			// Shutting down: let it go back at once, for the next start.
			_ = a.opts.Store.AlertFailed(context.WithoutCancel(ctx), al.ID, time.Now(), "interrupted by shutdown")
			return
		}
		a.opts.Metrics.AlertsFailed.WithLabelValues(r.Name, reason).Inc()
		if wait <= 0 {
			wait = a.backoff(al.Attempts)
		}
		log.Warn("alerts: sending failed, will try again", "run", al.Run.Format(time.RFC3339), "attempt", al.Attempts, "retryIn", wait.String(), "error", err)
		if err := a.opts.Store.AlertFailed(context.WithoutCancel(ctx), al.ID, time.Now().Add(wait), err.Error()); err != nil {
			log.Error("alerts: releasing a failed alert", "error", err)
		}
	}
}

// backoff is the wait after the attempt-th failure: doubling from
// MinBackoff up to MaxBackoff, with up to a fifth of jitter.
func (a *Alerter) backoff(attempt int) time.Duration {
	d := a.opts.MinBackoff
	for i := 1; i < attempt && d < a.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, a.opts.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// deliver makes one attempt. It returns the wait the receiver asked for
// (Retry-After), the reason for the metric, and the error.
func (a *Alerter) deliver(ctx context.Context, r Route, t target, al store.OutboxAlert) (time.Duration, string, error) {
	body := al.Body
	if r.Slack != nil {
		var alert Alert
		if err := json.Unmarshal(al.Body, &alert); err != nil {
			return 0, "error", fmt.Errorf("the stored alert does not decode: %w", err)
		}
		b, err := Slack(alert)
		if err != nil {
			return 0, "error", err
		}
		body = b
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(r.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, "error", errors.New("the URL does not make a request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", al.Key)
	if a.opts.UserAgent != "" {
		req.Header.Set("User-Agent", a.opts.UserAgent)
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := a.opts.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "timeout", fmt.Errorf("no answer within %s", time.Duration(r.Timeout))
		}
		// The error names the URL, which may hold a credential: keep
		// only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, "error", fmt.Errorf("sending: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, "", nil
	}
	var wait time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = min(time.Duration(s)*time.Second, a.opts.MaxBackoff)
	}
	return wait, strconv.Itoa(resp.StatusCode), fmt.Errorf("answered %s: %q", resp.Status, strings.TrimSpace(string(snippet)))
}
