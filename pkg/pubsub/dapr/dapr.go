// Package dapr is the "dapr" driver of pkg/pubsub: it publishes through
// the Dapr sidecar's gRPC API with github.com/dapr/go-sdk.
package dapr

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	daprclient "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
)

// Name is the driver's name in a connection ConfigMap.
const Name = "dapr"

// ContentType is the content type of every published message, so that
// subscribers receive a violation as a JSON object, not as a JSON string.
const ContentType = "application/json"

// GatekeeperContentType is what Gatekeeper's Dapr driver publishes with:
// the Go SDK's PublishEvent of []byte sets none, and daprd takes
// text/plain, so subscribers receive each message as a JSON string.
const GatekeeperContentType = "text/plain"

// Message is a payload published as it is, with its content type
// (ContentType when empty). pubsub-forward sends the disk driver's lines
// as Message{Data: line, ContentType: GatekeeperContentType}, so that a
// subscriber receives them exactly as through Gatekeeper's Dapr driver.
type Message struct {
	Data        []byte
	ContentType string
}

// Environment variables the Dapr SDKs read to find the sidecar.
const (
	EnvGRPCEndpoint = "DAPR_GRPC_ENDPOINT"
	EnvGRPCPort     = "DAPR_GRPC_PORT"
	EnvAPIToken     = "DAPR_API_TOKEN"
	defaultGRPCPort = "50001"
	apiTokenHeader  = "dapr-api-token"
)

// Options tune the driver. The zero value finds the sidecar from the
// environment as the Dapr SDK does.
type Options struct {
	// Address of the sidecar's gRPC API ("host:port", optionally with an
	// http:// or https:// scheme). Default: DAPR_GRPC_ENDPOINT, else
	// 127.0.0.1:DAPR_GRPC_PORT, else 127.0.0.1:50001.
	Address string
	// APIToken for the sidecar. Default: DAPR_API_TOKEN.
	APIToken string
	// PublishTimeout bounds how long Publish may wait for room in a full
	// queue (policy block) when the caller's context has no deadline.
	// Default 30s.
	PublishTimeout time.Duration
	// MaxBackoff caps the wait between attempts to reach the sidecar or to
	// retry a transient error. Default 2s.
	MaxBackoff time.Duration
	// CloseTimeout bounds how long CloseConnection drains the queue.
	// Default 30s.
	CloseTimeout time.Duration
	// Queue bounds and tunes the asynchronous send queue (batch size,
	// workers, bounds, full policy, retries, metrics).
	Queue queue.Options
	// Logger receives failures (rate limited). Default: discard.
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
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Queue.Logger == nil {
		o.Queue.Logger = o.Logger
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

// Driver returns the dapr driver for pubsub.NewSystem.
func Driver(opts Options) pubsub.Driver {
	return pubsub.Driver{
		Name: Name,
		New: func(ctx context.Context, config map[string]any) (pubsub.Connection, error) {
			return New(ctx, config, opts)
		},
	}
}

// Config is the dapr driver's connection config (data.config).
type Config struct {
	// Component is the Dapr pubsub component to publish through.
	Component string `json:"component"`
}

// configOf reads the config that a System (or the caller, with
// connection.ValidateConfig) already decoded and validated against the
// driver's schema: it is not validated again. Only the one field is
// taken, so a caller that skipped validation gets an error, not a
// connection to component "".
func configOf(config any) (Config, error) {
	m, ok := config.(map[string]any)
	if !ok {
		return Config{}, fmt.Errorf("config is a %T, want a decoded object such as {\"component\": \"pubsub\"}", config)
	}
	component, _ := m["component"].(string)
	if component == "" {
		return Config{}, errors.New(`config has no component (a string): want {"component": "pubsub"}`)
	}
	return Config{Component: component}, nil
}

// Connection publishes through one Dapr pubsub component. Publish queues;
// workers send batches with Dapr's bulk publish API.
type Connection struct {
	opts   Options
	conn   *grpc.ClientConn
	client daprclient.Client
	q      *queue.Queue

	mu        sync.RWMutex
	component string
}

// New dials the sidecar lazily: it does not fail when the sidecar is not up
// yet; the queue's workers wait for it, retrying with a bounded backoff.
func New(_ context.Context, config any, opts Options) (*Connection, error) {
	cfg, err := configOf(config)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	conn, err := dial(opts)
	if err != nil {
		return nil, err
	}
	c := &Connection{
		opts:      opts,
		conn:      conn,
		client:    daprclient.NewClientWithConnection(conn),
		component: cfg.Component,
	}
	c.q = queue.New(opts.Queue, c.sendBatch)
	return c, nil
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

// Publish queues data for topic, encoded as JSON and sent as
// application/json (a Message as it is, with its content type). It returns as soon as the message is queued; when the
// queue is full it follows the queue's policy (block with ctx, or drop).
// When ctx has no deadline, PublishTimeout bounds a blocking wait.
func (c *Connection) Publish(ctx context.Context, data any, topic string) error {
	var contentType string
	if m, ok := data.(Message); ok {
		data, contentType = m.Data, m.ContentType
	}
	payload, err := Encode(data)
	if err != nil {
		return err
	}
	if topic == "" {
		return errors.New("publishing: empty topic (channel)")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.PublishTimeout)
		defer cancel()
	}
	if err := c.q.Enqueue(ctx, queue.Item{Topic: topic, Data: payload, ContentType: contentType}); err != nil {
		return fmt.Errorf("dapr component %q, topic %q: %w", c.Component(), topic, err)
	}
	return nil
}

// Flush waits until every message queued so far is sent or has failed.
func (c *Connection) Flush(ctx context.Context) error { return c.q.Flush(ctx) }

// Stats returns the queue's counts: published, retried, failed, dropped.
func (c *Connection) Stats() queue.Stats { return c.q.Stats() }

// sendBatch publishes a batch with Dapr's bulk publish API and returns one
// result per message. It calls BulkPublishEventAlpha1 through the SDK's
// gRPC client rather than the SDK's PublishEvents helper because the helper
// drops the per-entry error texts that tell a transient failure from a
// permanent one. A batch the sidecar refuses as a whole for a permanent
// reason (too large) is split in halves so only the culprit fails.
func (c *Connection) sendBatch(ctx context.Context, topic string, batch []queue.Item) []error {
	errs := make([]error, len(batch))
	entries := make([]*runtimev1pb.BulkPublishRequestEntry, len(batch))
	index := make(map[string]int, len(batch))
	for i, it := range batch {
		ct := it.ContentType
		if ct == "" {
			ct = ContentType
		}
		entries[i] = &runtimev1pb.BulkPublishRequestEntry{EntryId: it.ID, Event: it.Data, ContentType: ct}
		index[it.ID] = i
	}
	res, err := c.client.GrpcClient().BulkPublishEventAlpha1(ctx, &runtimev1pb.BulkPublishRequest{
		PubsubName: c.Component(),
		Topic:      topic,
		Entries:    entries,
	})
	if err != nil {
		err = classify(err)
		var pe *queue.PermanentError
		if errors.As(err, &pe) && pe.Reason == "too_large" && len(batch) > 1 {
			half := len(batch) / 2
			copy(errs, c.sendBatch(ctx, topic, batch[:half]))
			copy(errs[half:], c.sendBatch(ctx, topic, batch[half:]))
			return errs
		}
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for _, fe := range res.GetFailedEntries() {
		i, ok := index[fe.GetEntryId()]
		if !ok {
			continue
		}
		errs[i] = classifyEntry(fe.GetError())
	}
	return errs
}

// classify turns an error of a whole call into a transient error or a
// queue.PermanentError with a reason.
func classify(err error) error {
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := strings.ToLower(s.Message())
	switch s.Code() {
	case codes.ResourceExhausted:
		if strings.Contains(msg, "larger than max") || strings.Contains(msg, "too large") {
			return queue.Permanent("too_large", err)
		}
		return err
	case codes.Unavailable, codes.Aborted, codes.DeadlineExceeded, codes.Canceled, codes.Internal, codes.Unknown:
		return err
	case codes.PermissionDenied:
		return queue.Permanent("not_allowed", err)
	case codes.Unauthenticated:
		return queue.Permanent("unauthenticated", err)
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition:
		return queue.Permanent("invalid", err)
	default:
		return queue.Permanent(strings.ToLower(s.Code().String()), err)
	}
}

// classifyEntry reads the error daprd reports for one entry of a bulk
// publish: broker outages are transient, a refused message is not.
func classifyEntry(msg string) error {
	err := errors.New(msg)
	low := strings.ToLower(msg)
	for _, p := range []string{"too large", "larger than", "exceeds", "max message size"} {
		if strings.Contains(low, p) {
			return queue.Permanent("too_large", err)
		}
	}
	if strings.Contains(low, "not allowed") || strings.Contains(low, "forbidden") {
		return queue.Permanent("not_allowed", err)
	}
	return err
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

// UpdateConnection switches to another pubsub component.
func (c *Connection) UpdateConnection(_ context.Context, config any) error {
	cfg, err := configOf(config)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.component = cfg.Component
	c.mu.Unlock()
	return nil
}

// Close drains the queue within ctx, then closes the gRPC connection. It
// reports what could not be sent.
func (c *Connection) Close(ctx context.Context) error {
	qerr := c.q.Close(ctx)
	if err := c.conn.Close(); err != nil {
		return errors.Join(qerr, fmt.Errorf("closing dapr client: %w", err))
	}
	if qerr != nil {
		return fmt.Errorf("%w (%s)", qerr, c.q.Stats())
	}
	return nil
}

// CloseConnection is Close bounded by CloseTimeout.
func (c *Connection) CloseConnection() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.CloseTimeout)
	defer cancel()
	return c.Close(ctx)
}

// ShutdownSidecar asks the Dapr sidecar to shut down (Dapr's shutdown API),
// so that a Job or a helm test pod can complete.
func ShutdownSidecar(ctx context.Context, opts Options) error {
	opts = opts.withDefaults()
	conn, err := dial(opts)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := daprclient.NewClientWithConnection(conn).Shutdown(ctx); err != nil {
		return fmt.Errorf("dapr shutdown: %w", err)
	}
	return nil
}
