package receive

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// TestUnmarshalAsEncodingJSON: unmarshal accepts and refuses what
// encoding/json does, and decodes to the same values, for the shapes a
// delivery has: the bulk envelope, the CloudEvent, the string payload and
// the violation, with the edge cases a hostile or odd message brings.
func TestUnmarshalAsEncodingJSON(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, tc := range []struct {
		name string
		in   string
		into func() any
	}{
		{"violation", `{"id":"2026-12-01T10:00:00Z","eventType":"violation_audited","constraint_kind":"K8sRequiredLabels","resource_labels":{"a":"b"}}`, func() any { return new(violation.Violation) }},
		{"keys in another case", `{"ID":"x","Constraint_Kind":"K"}`, func() any { return new(violation.Violation) }},
		{"unknown fields", `{"id":"x","extra":{"deep":[1,2,{"x":null}]}}`, func() any { return new(violation.Violation) }},
		{"nulls", `{"id":null,"resource_labels":null}`, func() any { return new(violation.Violation) }},
		{"escapes", `{"message":"a\"b\\c\/d\u00e9\ud83d\ude00\n"}`, func() any { return new(violation.Violation) }},
		{"lone surrogate", `{"message":"\ud800x"}`, func() any { return new(violation.Violation) }},
		{"invalid UTF-8", "{\"message\":\"\xff\xfe\"}", func() any { return new(violation.Violation) }},
		{"long message", `{"message":"` + long + `"}`, func() any { return new(violation.Violation) }},
		{"number for a string", `{"id":7}`, func() any { return new(violation.Violation) }},
		{"labels not strings", `{"resource_labels":{"a":1}}`, func() any { return new(violation.Violation) }},
		{"array", `[]`, func() any { return new(violation.Violation) }},
		{"truncated", `{"id":"x"`, func() any { return new(violation.Violation) }},
		{"trailing garbage", `{"id":"x"} x`, func() any { return new(violation.Violation) }},
		{"two values", `{} {}`, func() any { return new(violation.Violation) }},
		{"duplicate keys", `{"id":"a","id":"b"}`, func() any { return new(violation.Violation) }},
		{"string payload", `"{\"id\":\"x\"}"`, func() any { return new(string) }},
		{"bad escape", `"\q"`, func() any { return new(string) }},
		{"cloud event", `{"specversion":"1.0","datacontenttype":"text/plain","data":"{\"id\":1}","data_base64":""}`, func() any { return new(cloudEvent) }},
		{"cloud event with object data", `{"specversion":"1.0","data":{"id":"x","n":[1,2.5e3,true]}}`, func() any { return new(cloudEvent) }},
		{"bulk", `{"entries":[{"entryId":"1","event":{"data":"x"}},{"entryId":"2","event":"s"}]}`, func() any { return new(bulkRequest) }},
		{"bulk with an invalid event", `{"entries":[{"entryId":"1","event":{"data":}}]}`, func() any { return new(bulkRequest) }},
		{"deep nesting", strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000), func() any { return new(cloudEvent) }},
		{"empty", ``, func() any { return new(cloudEvent) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, got := tc.into(), tc.into()
			wantErr := json.Unmarshal([]byte(tc.in), want)
			gotErr := unmarshal([]byte(tc.in), got)
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("error %v, encoding/json's %v", gotErr, wantErr)
			}
			if wantErr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %+v, encoding/json %+v", got, want)
			}
		})
	}
}
