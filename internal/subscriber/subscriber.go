// Package subscriber is the fake subscriber app: a Dapr app (go-sdk HTTP
// service) that subscribes to the audit channel and writes each violation it
// receives as one line of JSON.
package subscriber

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/dapr/go-sdk/service/common"
	daprhttp "github.com/dapr/go-sdk/service/http"

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
	// Addr to listen on, default ":6002" (the dapr.io/app-port of Gatekeeper's pubsub documentation).
	Addr string
	// Pubsub is the Dapr pubsub component, default "pubsub".
	Pubsub string
	// Topic is the audit channel, default "audit-channel".
	Topic string
	// Out receives one JSON line per violation (required).
	Out io.Writer
	// OnViolation, if set, is called for each violation received.
	OnViolation func(violation.Violation, Format)
	// Logger for everything else; default discard.
	Logger *slog.Logger
}

// Subscriber is the running app.
type Subscriber struct {
	opts Options
	svc  common.Service
	mu   sync.Mutex
}

// New prepares the subscriber and registers its subscription.
func New(opts Options) (*Subscriber, error) {
	if opts.Addr == "" {
		opts.Addr = ":6002"
	}
	if opts.Pubsub == "" {
		opts.Pubsub = "pubsub"
	}
	if opts.Topic == "" {
		opts.Topic = connection.DefaultChannel
	}
	if opts.Out == nil {
		return nil, errors.New("subscriber: Out is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Subscriber{opts: opts}
	s.svc = daprhttp.NewService(opts.Addr)
	sub := &common.Subscription{PubsubName: opts.Pubsub, Topic: opts.Topic, Route: "/violations"}
	if err := s.svc.AddTopicEventHandler(sub, s.handle); err != nil {
		return nil, fmt.Errorf("subscribing to %s/%s: %w", opts.Pubsub, opts.Topic, err)
	}
	return s, nil
}

// Start serves until Stop; it returns nil after a Stop.
func (s *Subscriber) Start() error {
	s.opts.Logger.Info("listening", "addr", s.opts.Addr, "pubsub", s.opts.Pubsub, "topic", s.opts.Topic)
	err := s.svc.Start()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Stop shuts the server down.
func (s *Subscriber) Stop() error { return s.svc.GracefulStop() }

func (s *Subscriber) handle(_ context.Context, e *common.TopicEvent) (retry bool, err error) {
	v, format, err := Decode(e.RawData)
	if err != nil {
		if ae, ok := DecodeAuditEvent(e.RawData); ok {
			// An audit run's start or end (Gatekeeper v3.20+): shown as
			// such, one JSON line like the violations.
			line, _ := json.Marshal(ae)
			s.mu.Lock()
			_, werr := s.opts.Out.Write(append(line, '\n'))
			s.mu.Unlock()
			s.opts.Logger.Info(ae.Message, "audit_id", ae.ID)
			return werr != nil, werr
		}
		s.opts.Logger.Error("dropping event that is not a violation", "id", e.ID, "topic", e.Topic, "error", err)
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
