package subscriber

import (
	"encoding/json"
	"strconv"
	"strings"
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
