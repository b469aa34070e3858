// Package dapr is the "dapr" provider of pkg/pubsub: it publishes through
// the Dapr sidecar's gRPC API with github.com/dapr/go-sdk.
package dapr

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	daprclient "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
)

// Name is the provider's name in a connection ConfigMap.
const Name = "dapr"

// ContentType is the content type of every published message, so that
// subscribers receive a violation as a JSON object, not as a JSON string.
const ContentType = "application/json"

// Environment variables the Dapr SDKs read to find the sidecar.
const (
	EnvGRPCEndpoint = "DAPR_GRPC_ENDPOINT"
	EnvGRPCPort     = "DAPR_GRPC_PORT"
	EnvAPIToken     = "DAPR_API_TOKEN"
	defaultGRPCPort = "50001"
	apiTokenHeader  = "dapr-api-token"
)

// Options tune the provider. The zero value finds the sidecar from the
// environment as the Dapr SDK does.
type Options struct {
	// Address of the sidecar's gRPC API ("host:port", optionally with an
	// http:// or https:// scheme). Default: DAPR_GRPC_ENDPOINT, else
	// 127.0.0.1:DAPR_GRPC_PORT, else 127.0.0.1:50001.
	Address string
	// APIToken for the sidecar. Default: DAPR_API_TOKEN.
	APIToken string
	// PublishTimeout bounds one Publish when the caller's context has no
	// deadline, so a sidecar that never comes up cannot hang the audit.
	// Default 30s.
	PublishTimeout time.Duration
	// MaxBackoff caps the wait between attempts to reach the sidecar or to
	// retry a transient error. Default 2s.
	MaxBackoff time.Duration
	// Logger receives retry messages. Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Address == "" {
		o.Address = AddressFromEnv()
	}
	if o.APIToken == "" {
		o.APIToken = os.Getenv(EnvAPIToken)
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// AddressFromEnv returns the sidecar address as the Dapr SDK finds it.
func AddressFromEnv() string {
	if ep := os.Getenv(EnvGRPCEndpoint); ep != "" {
		return ep
	}
	port := os.Getenv(EnvGRPCPort)
	if port == "" {
		port = defaultGRPCPort
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// Provider returns the dapr provider for pubsub.NewSystem.
func Provider(opts Options) pubsub.Provider {
	return pubsub.Provider{
		Name: Name,
		New: func(ctx context.Context, config map[string]any) (pubsub.Connection, error) {
			return New(ctx, config, opts)
		},
	}
}

// Config is the dapr provider's connection config (data.config).
type Config struct {
	// Component is the Dapr pubsub component to publish through.
	Component string `json:"component"`
}

func decodeConfig(config any) (Config, error) {
	var c Config
	b, err := json.Marshal(config)
	if err != nil {
		return c, fmt.Errorf("encoding config: %w", err)
	}
	if err := pubsub.ValidateConfig(Name, mustAny(b)); err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decoding config: %w", err)
	}
	return c, nil
}

func mustAny(b []byte) any {
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// Connection publishes through one Dapr pubsub component.
type Connection struct {
	opts   Options
	conn   *grpc.ClientConn
	client daprclient.Client

	mu        sync.RWMutex
	component string
}

// New dials the sidecar lazily: it does not fail when the sidecar is not up
// yet. Publish waits for it, retrying with a bounded backoff.
func New(_ context.Context, config any, opts Options) (*Connection, error) {
	cfg, err := decodeConfig(config)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	conn, err := dial(opts)
	if err != nil {
		return nil, err
	}
	return &Connection{
		opts:      opts,
		conn:      conn,
		client:    daprclient.NewClientWithConnection(conn),
		component: cfg.Component,
	}, nil
}

func dial(opts Options) (*grpc.ClientConn, error) {
	target, useTLS, err := parseAddress(opts.Address)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if useTLS {
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  50 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   opts.MaxBackoff,
			},
			MinConnectTimeout: time.Second,
		}),
		// Wait for the sidecar instead of failing while it starts.
		grpc.WithDefaultCallOptions(grpc.WaitForReady(true)),
		grpc.WithUserAgent("gatekeeper-pubsub"),
	}
	if opts.APIToken != "" {
		token := opts.APIToken
		dialOpts = append(dialOpts,
			grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, o ...grpc.CallOption) error {
				return invoker(metadata.AppendToOutgoingContext(ctx, apiTokenHeader, token), method, req, reply, cc, o...)
			}))
	}
	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("dapr sidecar address %q: %w", opts.Address, err)
	}
	return conn, nil
}

// parseAddress accepts host:port, http(s)://host:port and
// dns:///host:port?tls=true forms, as DAPR_GRPC_ENDPOINT may hold.
func parseAddress(addr string) (target string, useTLS bool, err error) {
	if addr == "" {
		return "", false, errors.New("empty dapr sidecar address")
	}
	if !strings.Contains(addr, "://") {
		return addr, false, nil
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", false, fmt.Errorf("dapr sidecar address %q: %w", addr, err)
	}
	useTLS = u.Query().Get("tls") == "true"
	switch u.Scheme {
	case "http":
	case "https":
		useTLS = true
	case "dns":
		return "dns:" + u.Path, useTLS, nil
	case "unix", "unix-abstract":
		return addr, false, nil
	default:
		return "", false, fmt.Errorf("dapr sidecar address %q: unsupported scheme %q", addr, u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if useTLS {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	return host, useTLS, nil
}

// Component returns the Dapr pubsub component the connection publishes to.
func (c *Connection) Component() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.component
}

// Publish sends data to topic as application/json. It waits for the sidecar
// and retries transient failures with exponential backoff and jitter until
// ctx ends (or PublishTimeout, when ctx has no deadline).
func (c *Connection) Publish(ctx context.Context, data any, topic string) error {
	payload, err := Encode(data)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.PublishTimeout)
		defer cancel()
	}
	component := c.Component()
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err = c.client.PublishEvent(ctx, component, topic, payload, daprclient.PublishEventWithContentType(ContentType))
		if err == nil {
			return nil
		}
		if !Retryable(err) || ctx.Err() != nil {
			return fmt.Errorf("dapr component %q, topic %q (attempt %d): %w", component, topic, attempt, err)
		}
		c.opts.Logger.Debug("publish failed, retrying", "component", component, "topic", topic, "attempt", attempt, "error", err)
		if sleep(ctx, jitter(delay)) != nil {
			return fmt.Errorf("dapr component %q, topic %q: gave up after %d attempts: %w", component, topic, attempt, err)
		}
		delay = min(delay*2, c.opts.MaxBackoff)
	}
}

// Encode turns a message into the bytes published: []byte and
// json.RawMessage are sent as they are, anything else as JSON.
func Encode(data any) ([]byte, error) {
	switch d := data.(type) {
	case []byte:
		return d, nil
	case json.RawMessage:
		return d, nil
	default:
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encoding message as JSON: %w", err)
		}
		return b, nil
	}
}

// Retryable reports whether a publish error is transient: the sidecar is
// unreachable, restarting, overloaded or the broker is briefly unavailable.
// A message the broker rejects for good (invalid, too large, not allowed)
// is not retried.
func Retryable(err error) bool {
	s, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch s.Code() {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted:
		return true
	case codes.Internal:
		// daprd reports broker errors (connection refused, timeouts) as
		// Internal; a message too large or malformed says so.
		msg := strings.ToLower(s.Message())
		for _, permanent := range []string{"too large", "exceeds", "invalid", "not allowed", "not found"} {
			if strings.Contains(msg, permanent) {
				return false
			}
		}
		return true
	case codes.FailedPrecondition:
		// "pubsub ... is not found / not configured" while components load.
		return strings.Contains(strings.ToLower(s.Message()), "not configured")
	default:
		return false
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// UpdateConnection switches to another pubsub component.
func (c *Connection) UpdateConnection(_ context.Context, config any) error {
	cfg, err := decodeConfig(config)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.component = cfg.Component
	c.mu.Unlock()
	return nil
}

// CloseConnection closes the gRPC connection to the sidecar.
func (c *Connection) CloseConnection() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("closing dapr client: %w", err)
	}
	return nil
}
