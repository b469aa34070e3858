package procstest

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

// ConsumerOptions describe a consumer (`violations serve`) and the daprd in
// front of it.
type ConsumerOptions struct {
	// Bin is the violations binary (MainWithBuild builds it).
	Bin string
	// Store is serve's --store; default a SQLite file in t.TempDir().
	Store string
	// Args are added to serve's flags (--run-grace, --pubsub, ...). The
	// helper sets --app-listen, --listen, --store, --no-status and
	// --reconcile-interval 200ms.
	Args []string
	// Daprd is the daprd binary; empty: bin/daprd.
	Daprd string
	// Component is the daprd's pubsub Component (YAML); the daprd also
	// gets Resiliency.
	Component string
}

// Resiliency retries deliveries the app did not take (it is restarting, or
// answered RETRY) until they are delivered. Without it, daprd v1.14 sends
// every failed delivery to the dead-letter topic at once when the
// subscription names one (pkg/runtime/subscription/subscription.go: "If no
// DLQ is configured, return error for backwards compatibility"), so a
// consumer restart would send a run's messages there. DROP skips the
// retries and goes to the dead-letter topic.
const Resiliency = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: consumer
spec:
  policies:
    retries:
      untilDelivered:
        policy: constant
        duration: 500ms
        maxRetries: -1
  targets:
    components:
      pubsub:
        inbound:
          retry: untilDelivered
`

// Consumer is a running consumer and its daprd (app-id subscriber, so
// every consumer of a test is in the same consumer group).
type Consumer struct {
	// App is the consumer's process, Daprd its sidecar.
	App   *procs.App
	Daprd *procs.Daprd
	// AppPort takes daprd's deliveries; APIPort serves the API.
	AppPort int
	APIPort int

	t    testing.TB
	opts ConsumerOptions
	args []string
}

// StartConsumer starts a consumer for t and waits for its API, then starts
// its daprd and waits until daprd is ready. Both are stopped when t ends
// and their logs printed when t failed.
func StartConsumer(t testing.TB, opts ConsumerOptions) *Consumer {
	t.Helper()
	c := &Consumer{t: t, opts: opts}
	var err error
	if c.AppPort, err = procs.FreePort(); err != nil {
		t.Fatal(err)
	}
	if c.APIPort, err = procs.FreePort(); err != nil {
		t.Fatal(err)
	}
	if opts.Store == "" {
		opts.Store = "sqlite://" + filepath.Join(t.TempDir(), "violations.db")
	}
	c.args = append([]string{"serve",
		"--app-listen", fmt.Sprintf("127.0.0.1:%d", c.AppPort), "--listen", fmt.Sprintf("127.0.0.1:%d", c.APIPort),
		"--store", opts.Store, "--no-status", "--reconcile-interval", "200ms"}, opts.Args...)
	t.Cleanup(func() {
		if c.App == nil {
			return
		}
		if t.Failed() {
			t.Logf("violations serve (API %d) output:\n%s", c.APIPort, c.App.Logs())
		}
		c.App.Stop()
	})
	c.Start()
	c.StartDaprd()
	return c
}

// Start starts the consumer (again, after a Stop or Kill of App) with the
// same flags and waits until its API answers /healthz.
func (c *Consumer) Start() {
	c.t.Helper()
	app, err := procs.StartAppWith(procs.AppOptions{Name: "violations", Path: c.opts.Bin, Args: c.args})
	if err != nil {
		c.t.Fatal(err)
	}
	c.App = app
	hc := http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := hc.Get(c.URL("/healthz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the consumer's API did not answer /healthz within 60s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StartDaprd starts a new daprd for the consumer (after a Stop or Kill of
// Daprd) and waits until it is ready.
func (c *Consumer) StartDaprd() {
	c.t.Helper()
	c.Daprd = StartDaprd(c.t, procs.DaprdOptions{AppID: "subscriber", AppPort: c.AppPort, Bin: c.opts.Daprd,
		Resources: map[string]string{"pubsub.yaml": c.opts.Component, "resiliency.yaml": Resiliency}})
}

// URL is the consumer's API address followed by path.
func (c *Consumer) URL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.APIPort, path)
}
