package subscriber

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

func TestDecode(t *testing.T) {
	v := violation.Example(time.Date(2023, 7, 18, 21, 21, 52, 0, time.UTC))
	obj, _ := json.Marshal(v)
	tests := []struct {
		name    string
		data    string
		format  Format
		wantErr string
	}{
		{name: "structured", data: string(obj), format: Structured},
		{name: "json in a string (Gatekeeper's driver)", data: strconv.Quote(string(obj)), format: JSONString},
		{name: "padded", data: "\n  " + string(obj) + "\n", format: Structured},
		{name: "not json", data: "hello", wantErr: "decoding violation"},
		{name: "broken string", data: `"{\"id\": `, wantErr: "decoding JSON string payload"},
		{name: "other event", data: `{"id":"x","eventType":"something_else"}`, wantErr: `eventType is "something_else"`},
		{name: "unknown field", data: `{"eventType":"violation_audited","surprise":1}`, wantErr: "unknown field"},
		{name: "empty", data: "", wantErr: "decoding violation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, format, err := Decode([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if format != tt.format {
				t.Errorf("format %s, want %s", format, tt.format)
			}
			if got.ResourceName != v.ResourceName || got.Message != v.Message || got.EventType != violation.EventType {
				t.Errorf("decoded %+v", got)
			}
		})
	}
}

func TestDecodeAuditEvent(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // "" means not an audit event
	}{
		{"started", `{"id":"2026-11-26T13:47:02Z","message":"audit is started"}`, violation.AuditStarted},
		{"completed as Gatekeeper sends it (JSON in a string)", strconv.Quote(`{"id":"2026-11-26T13:47:02Z","message":"audit is completed"}`), violation.AuditCompleted},
		{"other message", `{"id":"x","message":"hello"}`, ""},
		{"violation", `{"id":"x","eventType":"violation_audited"}`, ""},
		{"extra field", `{"id":"x","message":"audit is started","kind":"K"}`, ""},
		{"not json", `audit is started`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae, ok := DecodeAuditEvent([]byte(tt.data))
			if ok != (tt.want != "") || (ok && ae.Message != tt.want) {
				t.Fatalf("DecodeAuditEvent(%s) = %+v, %v; want message %q", tt.data, ae, ok, tt.want)
			}
		})
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsBoundAddress: "listening" is logged once the addresses are
// bound, with the ports they got (port 0 included), and the app answers
// there at once; an address in use is an error naming it.
func TestLogsBoundAddress(t *testing.T) {
	var logs syncBuffer
	s, err := New(Options{Addr: "127.0.0.1:0", HealthAddr: "127.0.0.1:0", Pubsub: "pubsub", Topic: "audit-channel", Out: io.Discard,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Start() }()
	re := regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:[1-9][0-9]*) healthAddr=(127\.0\.0\.1:[1-9][0-9]*)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; {
		if m = re.FindStringSubmatch(logs.String()); m == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no listening line with bound addresses:\n%s", logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, addr := range m[1:] {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("the logged address %s does not answer: %v", addr, err)
		}
		resp.Body.Close()
	}
	busy, err := New(Options{Addr: m[1], Pubsub: "pubsub", Topic: "audit-channel", Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := busy.Start(); err == nil || !strings.Contains(err.Error(), "listening on "+m[1]) {
		t.Errorf("Start on a busy address: %v, want an error naming %s", err, m[1])
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Start after Stop: %v", err)
	}
}

// TestRun: Run serves until its context ends and then returns nil; bad
// options are an *OptionsError, a busy address another error.
func TestRun(t *testing.T) {
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Addr: "127.0.0.1:0", Pubsub: "pubsub", Topic: "audit-channel", Out: io.Discard,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	re := regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:[1-9][0-9]*)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; time.Sleep(10 * time.Millisecond) {
		if m = re.FindStringSubmatch(logs.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no listening line:\n%s", logs.String())
		}
	}
	err := Run(context.Background(), Options{Addr: m[1], Pubsub: "pubsub", Topic: "audit-channel", Out: io.Discard})
	var bad *OptionsError
	if err == nil || errors.As(err, &bad) || !strings.Contains(err.Error(), "listening on "+m[1]) {
		t.Errorf("Run on a busy address: %v, want a listen error naming %s", err, m[1])
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after its context ended: %v", err)
	}
	if err := Run(context.Background(), Options{Addr: "127.0.0.1:0", Pubsub: "pubsub", Topic: "audit-channel"}); !errors.As(err, &bad) {
		t.Errorf("Run without Out: %v, want an *OptionsError", err)
	}
}
