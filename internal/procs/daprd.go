package procs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// DaprdOptions configure a daprd sidecar in standalone mode.
type DaprdOptions struct {
	// AppID is the Dapr app-id (required).
	AppID string
	// AppPort is the app's HTTP port; 0 for a sidecar without an app.
	AppPort int
	// Resources are written, one file each, into the resources directory
	// (file name -> YAML).
	Resources map[string]string
	// GRPCPort and HTTPPort of the Dapr API; 0 picks free ones.
	GRPCPort, HTTPPort int
	// APIToken, if set, is required from clients (DAPR_API_TOKEN).
	APIToken string
	// EnableAPILogging logs each API call (as dapr.io/enable-api-logging).
	EnableAPILogging bool
	// LogLevel: debug, info (default), warn, error.
	LogLevel string
	// ExtraArgs are appended to daprd's flags (e.g. --max-body-size).
	ExtraArgs []string
	// Tee receives daprd's output as it is written (for the demo).
	Tee func([]byte)
	// Bin is the daprd binary; default DaprdPath() (DaprdJetStreamPath()
	// for a daprd that has pubsub.jetstream).
	Bin string
}

// Daprd is a running daprd.
type Daprd struct {
	AppID       string
	GRPCPort    int
	HTTPPort    int
	MetricsPort int
	// GRPCAddr is host:port of the Dapr gRPC API, as DAPR_GRPC_ENDPOINT.
	GRPCAddr string
	waitApp  bool
	proc     *process
	dir      string
}

// StartDaprd starts daprd and waits until its components are loaded (and,
// with an app, until the app channel is up).
func StartDaprd(ctx context.Context, opts DaprdOptions) (*Daprd, error) {
	d, err := NewDaprd(opts)
	if err != nil {
		return nil, err
	}
	if err := d.Start(ctx); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// NewDaprd prepares daprd (ports, resources directory) without starting it,
// so a test can hand its address to a client before the sidecar is up.
func NewDaprd(opts DaprdOptions) (*Daprd, error) {
	if opts.AppID == "" {
		return nil, fmt.Errorf("daprd: empty app-id")
	}
	bin, err := opts.Bin, error(nil)
	if bin == "" {
		bin, err = DaprdPath()
	}
	if err != nil {
		return nil, err
	}
	d := &Daprd{AppID: opts.AppID, GRPCPort: opts.GRPCPort, HTTPPort: opts.HTTPPort, waitApp: opts.AppPort != 0}
	for _, p := range []*int{&d.GRPCPort, &d.HTTPPort, &d.MetricsPort} {
		if *p == 0 {
			if *p, err = FreePort(); err != nil {
				return nil, err
			}
		}
	}
	internalPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	d.GRPCAddr = fmt.Sprintf("127.0.0.1:%d", d.GRPCPort)
	if d.dir, err = os.MkdirTemp("", "procs-daprd-"+opts.AppID+"-"); err != nil {
		return nil, err
	}
	resources := filepath.Join(d.dir, "resources")
	if err := os.Mkdir(resources, 0o700); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(opts.Resources))
	for n := range opts.Resources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(resources, n), []byte(opts.Resources[n]), 0o600); err != nil {
			return nil, err
		}
	}
	logLevel := opts.LogLevel
	if logLevel == "" {
		logLevel = "info"
	}
	args := []string{
		"--mode", "standalone",
		"--app-id", opts.AppID,
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-grpc-port", itoa(d.GRPCPort),
		"--dapr-http-port", itoa(d.HTTPPort),
		"--dapr-internal-grpc-port", itoa(internalPort),
		"--metrics-port", itoa(d.MetricsPort),
		"--resources-path", resources,
		"--log-level", logLevel,
		"--dapr-graceful-shutdown-seconds", "2",
	}
	if opts.AppPort != 0 {
		args = append(args, "--app-port", itoa(opts.AppPort), "--app-protocol", "http", "--app-channel-address", "127.0.0.1")
	}
	if opts.EnableAPILogging {
		args = append(args, "--enable-api-logging")
	}
	args = append(args, opts.ExtraArgs...)
	var env []string
	if opts.APIToken != "" {
		env = append(env, "DAPR_API_TOKEN="+opts.APIToken)
	}
	// Standalone daprd looks for its config under $HOME/.dapr; keep it in
	// the temporary directory.
	env = append(env, "HOME="+d.dir)
	d.proc = &process{name: "daprd " + opts.AppID, path: bin, args: args, env: env, dir: d.dir, out: &syncBuffer{tee: opts.Tee}}
	return d, nil
}

// Start starts (or restarts, on the same ports) daprd and waits for it.
func (d *Daprd) Start(ctx context.Context) error {
	if err := d.StartNoWait(); err != nil {
		return err
	}
	return d.Wait(ctx)
}

// StartNoWait starts daprd and returns at once.
func (d *Daprd) StartNoWait() error { return d.proc.start() }

// Wait waits until daprd is ready: components loaded (healthz/outbound)
// and, with an app, the app channel up (healthz).
func (d *Daprd) Wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	path := "/v1.0/healthz/outbound"
	if d.waitApp {
		path = "/v1.0/healthz"
	}
	return d.proc.waitFor(ctx, "ready ("+path+")", httpOK(d.HTTPPort, path))
}

// Kill ends daprd at once (SIGKILL), as a crash would.
func (d *Daprd) Kill() { d.proc.stop(syscall.SIGKILL, 5*time.Second) }

// Shutdown ends daprd gracefully and keeps its files for a restart.
func (d *Daprd) Shutdown() { d.proc.stop(syscall.SIGTERM, 10*time.Second) }

// Stop ends daprd and removes its files.
func (d *Daprd) Stop() {
	if d.proc != nil {
		d.proc.stop(syscall.SIGTERM, 10*time.Second)
	}
	_ = os.RemoveAll(d.dir)
}

// Logs returns daprd's output.
func (d *Daprd) Logs() string { return d.proc.logs() }

// Exited reports whether daprd has ended.
func (d *Daprd) Exited() bool {
	gone, _ := d.proc.exited()
	return gone
}
