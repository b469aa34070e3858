// Package subscriber is the fake subscriber app: a Dapr app that subscribes
// to the audit channel and writes each violation it receives as one line of
// JSON. It serves with its own net/http server (loopback by default, the
// app API token checked when set, bodies capped, timeouts set) rather than
// the Go SDK's service, which has none of these.
package subscriber

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// Format says how a violation arrived.
type Format string

const (
	// Structured: the event's data is the violation as a JSON object (what
	// pkg/pubsub publishes, with content type application/json).
	Structured Format = "structured"
	// JSONString: the event's data is a JSON string holding the violation's
	// JSON (what Gatekeeper's own dapr driver publishes).
	JSONString Format = "json-string"
)

// Options configure the subscriber.
type Options struct {
	// Addr to listen on, default "127.0.0.1:6002": daprd calls its app on
	// loopback (6002 is the dapr.io/app-port of Gatekeeper's pubsub
	// documentation), so nothing else needs to reach it.
	Addr string
	// HealthAddr, when set, is a second address serving GET /healthz and
	// nothing else, for the kubelet's probes, which come to the pod's IP
	// and so cannot reach a loopback Addr.
	HealthAddr string
	// Pubsub is the Dapr pubsub component, default "pubsub".
	Pubsub string
	// Topic is the audit channel, default "audit-channel".
	Topic string
	// Token, if set, is Dapr's app API token (APP_API_TOKEN, the
	// dapr.io/app-token-secret annotation): a delivery without it in the
	// dapr-api-token header is refused (401).
	Token string
	// MaxBodyBytes caps a delivery (default 256 KiB); a larger one is
	// dropped unread beyond the cap.
	MaxBodyBytes int64
	// Out receives one JSON line per violation (required).
	Out io.Writer
	// OnViolation, if set, is called for each violation received.
	OnViolation func(violation.Violation, Format)
	// Logger for everything else; default discard.
	Logger *slog.Logger
}

// Subscriber is the running app.
type Subscriber struct {
	opts   Options
	srv    *http.Server
	health *http.Server // nil without HealthAddr
	mu     sync.Mutex
}

// Route is where daprd delivers.
const Route = "/violations"

// New prepares the subscriber and its subscription.
func New(opts Options) (*Subscriber, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:6002"
	}
	if opts.Pubsub == "" {
		opts.Pubsub = "pubsub"
	}
	if opts.Topic == "" {
		opts.Topic = connection.DefaultChannel
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 256 << 10
	}
	if opts.Out == nil {
		return nil, errors.New("subscriber: Out is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Subscriber{opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", s.subscribe)
	mux.HandleFunc("POST "+Route, s.deliver)
	healthz := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }
	mux.HandleFunc("GET /healthz", healthz)
	s.srv = newServer(opts.Addr, s.authorized(mux))
	if opts.HealthAddr != "" {
		hmux := http.NewServeMux()
		hmux.HandleFunc("GET /healthz", healthz)
		s.health = newServer(opts.HealthAddr, hmux)
	}
	return s, nil
}

// Run serves until ctx ends, then shuts down. Bad options are an
// *OptionsError; failing to listen or serve is another error.
func Run(ctx context.Context, opts Options) error {
	s, err := New(opts)
	if err != nil {
		return &OptionsError{Err: err}
	}
	// The watcher ends with ctx (stopping the server) or when Start
	// returns on its own (it could not listen).
	served, stopped := make(chan struct{}), make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
			stopped <- s.Stop()
		case <-served:
			stopped <- nil
		}
	}()
	err = s.Start()
	close(served)
	stopErr := <-stopped
	if err != nil {
		return err
	}
	return stopErr
}

// OptionsError is a mistake in Options, found before anything listens.
type OptionsError struct{ Err error }

func (e *OptionsError) Error() string { return e.Err.Error() }
func (e *OptionsError) Unwrap() error { return e.Err }

// newServer is an HTTP server with timeouts and a header cap.
func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

// Start serves until Stop; it returns nil after a Stop. It logs
// "listening" with the addresses once they are bound (a port 0 shows the
// port it got), so the line means the app can be called.
func (s *Subscriber) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.opts.Addr, err)
	}
	healthAddr := ""
	if s.health != nil {
		hln, err := net.Listen("tcp", s.opts.HealthAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("health listener on %s: %w", s.opts.HealthAddr, err)
		}
		healthAddr = hln.Addr().String()
		go func() {
			if err := s.health.Serve(hln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.opts.Logger.Error("health listener", "addr", healthAddr, "err", err)
			}
		}()
	}
	s.opts.Logger.Info("listening", "addr", ln.Addr().String(), "healthAddr", healthAddr, "pubsub", s.opts.Pubsub, "topic", s.opts.Topic, "appToken", s.opts.Token != "")
	err = s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Stop shuts the server down.
func (s *Subscriber) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if s.health != nil {
		err = errors.Join(err, s.health.Shutdown(ctx))
	}
	return err
}

// authorized refuses requests without the app API token when one is set
// (the health check aside), comparing in constant time.
func (s *Subscriber) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Token != "" && r.URL.Path != "/healthz" &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get("dapr-api-token")), []byte(s.opts.Token)) != 1 {
			s.opts.Logger.Warn("refusing a request without the app API token", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "missing or wrong dapr-api-token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Subscriber) subscribe(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode([]map[string]string{{"pubsubname": s.opts.Pubsub, "topic": s.opts.Topic, "route": Route}})
}

func answer(w http.ResponseWriter, status string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":%q}`, status)
}

// deliver handles one CloudEvent: SUCCESS once written, DROP for what is
// not a violation or too large, RETRY when the output fails.
func (s *Subscriber) deliver(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.opts.Logger.Error("dropping a delivery over the size limit", "limit", s.opts.MaxBodyBytes)
		answer(w, "DROP")
		return
	}
	if err != nil {
		answer(w, "RETRY")
		return
	}
	var ce struct {
		ID         string          `json:"id"`
		Topic      string          `json:"topic"`
		Data       json.RawMessage `json:"data"`
		DataBase64 []byte          `json:"data_base64"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		s.opts.Logger.Error("dropping a delivery that is not a CloudEvent", "error", err)
		answer(w, "DROP")
		return
	}
	data := []byte(ce.Data)
	if len(ce.DataBase64) > 0 {
		data = ce.DataBase64
	}
	retry, err := s.handle(ce.ID, ce.Topic, data)
	switch {
	case err == nil:
		answer(w, "SUCCESS")
	case retry:
		answer(w, "RETRY")
	default:
		answer(w, "DROP")
	}
}

func (s *Subscriber) handle(id, topic string, data []byte) (retry bool, err error) {
	v, format, err := Decode(data)
	if err != nil {
		if ae, ok := DecodeAuditEvent(data); ok {
			// An audit run's start or end (Gatekeeper v3.20+): shown as
			// such, one JSON line like the violations.
			line, _ := json.Marshal(ae)
			s.mu.Lock()
			_, werr := s.opts.Out.Write(append(line, '\n'))
			s.mu.Unlock()
			s.opts.Logger.Info(ae.Message, "audit_id", ae.ID)
			return werr != nil, werr
		}
		s.opts.Logger.Error("dropping event that is not a violation", "id", id, "topic", topic, "error", err)
		return false, err
	}
	line, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("encoding violation: %w", err)
	}
	s.mu.Lock()
	_, err = s.opts.Out.Write(append(line, '\n'))
	s.mu.Unlock()
	if err != nil {
		return true, fmt.Errorf("writing violation: %w", err)
	}
	if s.opts.OnViolation != nil {
		s.opts.OnViolation(v, format)
	}
	return false, nil
}

// DecodeAuditEvent reads an audit run's start or end message ("audit is
// started", "audit is completed"), structured or as a JSON string.
func DecodeAuditEvent(data []byte) (violation.AuditEvent, bool) {
	var ae violation.AuditEvent
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var inner string
		if json.Unmarshal(data, &inner) != nil {
			return ae, false
		}
		data = []byte(inner)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if dec.Decode(&ae) != nil {
		return ae, false
	}
	return ae, ae.Message == violation.AuditStarted || ae.Message == violation.AuditCompleted
}

// Decode reads a violation from an event's data, structured or as a JSON
// string holding JSON.
func Decode(data []byte) (violation.Violation, Format, error) {
	var v violation.Violation
	data = bytes.TrimSpace(data)
	format := Structured
	if len(data) > 0 && data[0] == '"' {
		var inner string
		if err := json.Unmarshal(data, &inner); err != nil {
			return v, "", fmt.Errorf("decoding JSON string payload: %w", err)
		}
		data = []byte(inner)
		format = JSONString
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, "", fmt.Errorf("decoding violation: %w", err)
	}
	if v.EventType != violation.EventType {
		return v, "", fmt.Errorf("eventType is %q, want %q", v.EventType, violation.EventType)
	}
	return v, format, nil
}
