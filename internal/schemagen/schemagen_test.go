package schemagen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// schemasDir is the committed schemas directory.
const schemasDir = "../../schemas"

func committedFacts(t *testing.T) (*Facts, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(schemasDir, FactsFile))
	if err != nil {
		t.Fatal(err)
	}
	f, err := UnmarshalFacts(b)
	if err != nil {
		t.Fatal(err)
	}
	return f, b
}

func TestCommittedSchemasAreGenerated(t *testing.T) {
	f, factsBytes := committedFacts(t)
	again, err := MarshalFacts(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, factsBytes) {
		t.Errorf("%s is not in canonical form; run `make schemas`", FactsFile)
	}
	files, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Files(f) {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(schemasDir, name))
			if err != nil {
				t.Fatalf("%v; run `make schemas`", err)
			}
			if !bytes.Equal(got, files[name]) {
				t.Errorf("schemas/%s differs from what %s generates; run `make schemas`", name, FactsFile)
			}
		})
	}
	onDisk, _ := filepath.Glob(filepath.Join(schemasDir, "pubsub", "*.schema.json"))
	for _, p := range onDisk {
		if _, ok := files["pubsub/"+filepath.Base(p)]; !ok {
			t.Errorf("schemas/pubsub/%s is not generated from the facts; run `make schemas`", filepath.Base(p))
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	f, _ := committedFacts(t)
	a, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Generate(f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatal("two runs of Generate differ")
		}
	}
	for name, b := range a {
		if !bytes.HasSuffix(b, []byte("}\n")) || bytes.Contains(b, []byte("\t")) {
			t.Errorf("%s: want 2-space indented JSON ending in a newline", name)
		}
	}
}

func TestCommittedFactsCoverRequestedTypes(t *testing.T) {
	f, _ := committedFacts(t)
	var types []string
	for _, c := range f.Components {
		types = append(types, c.Type)
	}
	for _, want := range []string{
		"pubsub.redis", "pubsub.kafka", "pubsub.rabbitmq", "pubsub.mqtt3", "pubsub.pulsar", "pubsub.in-memory",
		"pubsub.aws.snssqs", "pubsub.azure.eventhubs", "pubsub.azure.servicebus.queues",
		"pubsub.azure.servicebus.topics", "pubsub.gcp.pubsub", "pubsub.solace.amqp", "pubsub.jetstream",
	} {
		if !slices.Contains(types, want) {
			t.Errorf("facts lack %s", want)
		}
	}
	if f.Source.Version != "v1.14.0" || f.Source.License != "Apache-2.0" {
		t.Errorf("source = %+v, want v1.14.0 and Apache-2.0", f.Source)
	}
}

func TestExtract(t *testing.T) {
	f, err := Extract("testdata/contrib", "v0.0.0", GoSource{})
	if err != nil {
		t.Fatal(err)
	}
	var fake *Component
	for i := range f.Components {
		if f.Components[i].Type == "pubsub.fake.queue" {
			fake = &f.Components[i]
		}
	}
	if fake == nil {
		t.Fatalf("pubsub.fake.queue not extracted: %+v", f.Components)
	}
	if fake.From != "pubsub/fake/metadata.yaml" || fake.Status != "alpha" {
		t.Errorf("component = %+v", fake)
	}
	wantKeys := []Key{
		{Name: "host", Required: true},
		{Name: "consumerID", Required: true},
		{Name: "useTLS", Type: "bool", Default: "false"},
		{Name: "retries", Type: "number", Default: "3"},
		{Name: "mode", AllowedValues: []string{"fast", "slow"}, Default: `"fast"`},
		{Name: "old", Deprecated: true},
		{Name: "<topic>.schema"},
	}
	if !reflect.DeepEqual(fake.Metadata, wantKeys) {
		t.Errorf("metadata =\n%+v\nwant\n%+v", fake.Metadata, wantKeys)
	}
	wantProfiles := []Profile{
		{Title: "Token", Metadata: []Key{{Name: "token", Required: true, Sensitive: true}, {Name: "useTLS", Required: true}}},
		{Title: "Cloud: key", Builtin: "cloud", Metadata: []Key{{Name: "cloudKey", Required: true, Sensitive: true}, {Name: "cloudRegion", Required: true}}},
		{Title: "Cloud: ambient", Builtin: "cloud", Metadata: []Key{{Name: "cloudRegion", Required: true}}},
	}
	if !reflect.DeepEqual(fake.AuthenticationProfiles, wantProfiles) {
		t.Errorf("profiles =\n%+v\nwant\n%+v", fake.AuthenticationProfiles, wantProfiles)
	}
	// The supplement is added when the data has no metadata.yaml for it.
	if !slices.ContainsFunc(f.Components, func(c Component) bool { return c.Type == "pubsub.jetstream" }) {
		t.Error("supplement pubsub.jetstream missing")
	}
}

func TestPubsubSchemaRules(t *testing.T) {
	f, err := Extract("testdata/contrib", "v0.0.0", GoSource{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Required          []string                  `json:"required"`
		Properties        map[string]map[string]any `json:"properties"`
		PatternProperties map[string]map[string]any `json:"patternProperties"`
		Additional        *bool                     `json:"additionalProperties"`
		XDapr             struct {
			Sensitive  []string `json:"sensitive"`
			Deprecated []string `json:"deprecated"`
			Profiles   []struct {
				Title    string   `json:"title"`
				Required []string `json:"required"`
				Keys     []string `json:"keys"`
			} `json:"authenticationProfiles"`
		} `json:"x-dapr"`
	}
	if err := json.Unmarshal(files["pubsub/pubsub.fake.queue.schema.json"], &s); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"required: base only, consumerID exempt", s.Required, []string{"host"}},
		{"bool by $ref", s.Properties["useTLS"]["$ref"], "#/$defs/bool"},
		{"typed default kept", s.Properties["retries"]["default"], "3"},
		{"enum", s.Properties["mode"]["enum"], []any{"fast", "slow"}},
		{"quoted default unquoted", s.Properties["mode"]["default"], "fast"},
		{"deprecated flagged", s.Properties["old"]["deprecated"], true},
		{"templated key", s.PatternProperties[`^.+\.schema$`]["type"], "string"},
		{"profile key allowed", s.Properties["cloudKey"]["type"], "string"},
		{"runtime key allowed", s.Properties["protectedTopics"]["type"], "string"},
		{"unknown keys rejected", *s.Additional, false},
		{"sensitive", s.XDapr.Sensitive, []string{"token", "cloudKey"}},
		{"deprecated list", s.XDapr.Deprecated, []string{"old"}},
		{"profile required", s.XDapr.Profiles[0].Required, []string{"token", "useTLS"}},
		{"builtin profile merged", s.XDapr.Profiles[1].Keys, []string{"cloudKey", "cloudRegion"}},
	}
	for _, tc := range tests {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

func TestValuePatterns(t *testing.T) {
	tests := []struct {
		pattern string
		value   string
		ok      bool
	}{
		{boolPattern, "true", true},
		{boolPattern, "FALSE", true},
		{boolPattern, " Yes ", true},
		{boolPattern, "1", true},
		{boolPattern, "off", true},
		{boolPattern, "maybe", false},
		{boolPattern, "", false},
		{boolPattern, "truee", false},
		{numberPattern, "10", true},
		{numberPattern, "-1", true},
		{numberPattern, "1.5", true},
		{numberPattern, "ten", false},
		{numberPattern, "1e3", false},
		{durationPattern, "10s", true},
		{durationPattern, "1h30m", true},
		{durationPattern, "500ms", true},
		{durationPattern, "2µs", true},
		{durationPattern, "-1", true},
		{durationPattern, "30", true},
		{durationPattern, "10 s", false},
		{durationPattern, "10sec", false},
		{goDurationPattern, "0", true},
		{goDurationPattern, "30", false},
		{bytesizePattern, "512Ki", true},
		{bytesizePattern, "1M", true},
		{bytesizePattern, "1MB", false},
	}
	for _, tc := range tests {
		if got := regexp.MustCompile(tc.pattern).MatchString(tc.value); got != tc.ok {
			t.Errorf("%q against %s: got %v, want %v", tc.value, tc.pattern, got, tc.ok)
		}
	}
}

func TestNamePattern(t *testing.T) {
	for in, want := range map[string]string{
		"<topic-name>.avroschema": `^.+\.avroschema$`,
		"a<x>b<y>":                `^a.+b.+$`,
		"plain":                   `^plain$`,
	} {
		if got := namePattern(in); got != want {
			t.Errorf("namePattern(%q) = %q, want %q", in, got, want)
		}
	}
}
