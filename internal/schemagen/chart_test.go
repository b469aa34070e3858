package schemagen

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// chartDir is the chart that holds ChartSensitiveFile.
const chartDir = "../../charts/gatekeeper-pubsub"

// TestCommittedChartSensitiveIsGenerated: the chart's list of sensitive
// metadata names is what the committed schemas mark.
func TestCommittedChartSensitiveIsGenerated(t *testing.T) {
	f, _ := committedFacts(t)
	files, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := SensitiveTemplate(files)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(chartDir, ChartSensitiveFile))
	if err != nil {
		t.Fatalf("%v; run `make schemas`", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("charts/gatekeeper-pubsub/%s is stale: it differs from the sensitive marks of schemas/pubsub/*.schema.json; run `make schemas`", ChartSensitiveFile)
	}
}

func TestSensitive(t *testing.T) {
	schema := func(typ string, sensitive ...string) []byte {
		var b strings.Builder
		b.WriteString(`{"x-dapr": {"type": "` + typ + `"`)
		if sensitive != nil {
			b.WriteString(`, "sensitive": ["` + strings.Join(sensitive, `", "`) + `"]`)
		}
		b.WriteString("}}")
		return []byte(b.String())
	}
	tests := []struct {
		name    string
		files   map[string][]byte
		want    map[string][]string
		wantErr string
	}{
		{
			name: "lower case, sorted, union",
			files: map[string][]byte{
				"pubsub/pubsub.a.schema.json": schema("pubsub.a", "redisPassword", "azureClientSecret"),
				"pubsub/pubsub.b.schema.json": schema("pubsub.b", "jwt", "AzureClientSecret", "azureclientsecret"),
				"component.schema.json":       []byte(`{"title": "Component"}`),
				"pubsub/pubsub.c.schema.json": schema("pubsub.c"),
			},
			want: map[string][]string{
				"pubsub.a": {"azureclientsecret", "redispassword"},
				"pubsub.b": {"azureclientsecret", "jwt"},
				AnyType:    {"azureclientsecret", "jwt", "redispassword"},
			},
		},
		{
			name:  "an empty list is kept",
			files: map[string][]byte{"pubsub/pubsub.m.schema.json": []byte(`{"x-dapr": {"type": "pubsub.m", "sensitive": []}}`)},
			want:  map[string][]string{"pubsub.m": {}, AnyType: nil},
		},
		{
			name:    "sensitive without a type",
			files:   map[string][]byte{"pubsub/x.schema.json": []byte(`{"x-dapr": {"sensitive": ["a"]}}`)},
			wantErr: "schemas/pubsub/x.schema.json: x-dapr.sensitive without x-dapr.type",
		},
		{
			name:    "not JSON",
			files:   map[string][]byte{"pubsub/y.schema.json": []byte(`{`)},
			wantErr: "schemas/pubsub/y.schema.json",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sensitive(tc.files)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Sensitive = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSensitiveCoversDapr: the committed schemas' marks hold the keys the
// chart's hand-written list missed (issue 22) and every pubsub type.
func TestSensitiveCoversDapr(t *testing.T) {
	f, _ := committedFacts(t)
	files, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Sensitive(files)
	if err != nil {
		t.Fatal(err)
	}
	for typ, key := range map[string]string{
		"pubsub.jetstream": "jwt", "pubsub.redis": "azureclientsecret", "pubsub.azure.eventhubs": "azureclientsecret",
		"pubsub.rabbitmq": "connectionstring", "pubsub.kafka": "saslpassword", "pubsub.mqtt3": "url",
	} {
		if !slices.Contains(s[typ], key) {
			t.Errorf("%s: %s is not marked sensitive (%v)", typ, key, s[typ])
		}
		if !slices.Contains(s[AnyType], key) {
			t.Errorf("%q lacks %s", AnyType, key)
		}
	}
	for _, c := range f.Components {
		if _, ok := s[c.Type]; !ok {
			t.Errorf("no sensitive list for %s", c.Type)
		}
	}
}
