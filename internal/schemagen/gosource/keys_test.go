package gosource

import (
	"reflect"
	"testing"
)

// TestKeysFake: each way ../testdata/contribsrc's fake component reads
// its metadata, and what must not count.
func TestKeysFake(t *testing.T) {
	tree, err := Open("../testdata/contribsrc", "../testdata/modcache")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := Keys(tree, "pubsub/fake")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Key{}
	for _, k := range keys {
		got[k.Name] = k
	}
	tests := []struct {
		name string
		want Key // From and ValuesFrom are not compared
	}{
		{"mapstructure tag", Key{Name: "host"}},
		{"Go type number", Key{Name: "retries", Type: "number"}},
		{"Go type duration, in a package the map is passed to", Key{Name: "timeout", Type: "duration"}},
		{"squashed struct, untagged field", Key{Name: "CACert"}},
		{"GetMetadataProperty with an alias", Key{Name: "ttlInSeconds"}},
		{"range over the map compared with a constant", Key{Name: "extraKey"}},
		{"if chain with an error else", Key{Name: "mode", AllowedValues: []string{"fast", "slow"}, OtherValues: "error"}},
		{"switch with an error default, in a called package", Key{Name: "concurrencyMode", AllowedValues: []string{"single", "parallel"}, OtherValues: "error"}},
		{"switch on strings.ToLower", Key{Name: "auth", AllowedValues: []string{"password", "none"}, CaseInsensitive: true, OtherValues: "error"}},
		{"predicate, constants of another module", Key{Name: "exchange", AllowedValues: []string{"fanout", "direct"}, OtherValues: "error"}},
		{"one comparison: the constant's siblings too", Key{Name: "kind", AllowedValues: []string{"cluster", "node"}, OtherValues: "ignored"}},
		{"deprecation notice and the key written", Key{Name: "server", Deprecated: true, ReplacedBy: "host"}},
		{"mapstructurealiases", Key{Name: "useAzureAD", Deprecated: true, ReplacedBy: "useEntraID"}},
		{"mddeprecated", Key{Name: "legacy", Deprecated: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, ok := got[tc.want.Name]
			if !ok {
				t.Fatalf("key %s not found in %v", tc.want.Name, keys)
			}
			if k.From == "" || len(k.AllowedValues) > 0 && k.ValuesFrom == "" {
				t.Errorf("%s: no position: %+v", k.Name, k)
			}
			k.From, k.ValuesFrom = "", ""
			if !reflect.DeepEqual(k, tc.want) {
				t.Errorf("got %+v, want %+v", k, tc.want)
			}
		})
	}
	for _, absent := range []string{
		"stateOnly",     // mdonly:"state"
		"stateOnlyKey",  // read only in the state store's case
		"perRequestKey", // per-request metadata
		"Ignored",       // mapstructure:"-"
		"internal",      // unexported
	} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s must not be a key", absent)
		}
	}
}

func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		msg, key string
		want     bool
	}{
		{"AuthRequired is deprecated, use AuthType instead.", "authType", true},
		{"The 'host' argument is deprecated.", "host", true},
		{"The 'host' argument is deprecated.", "hostname", false},
		{"please use 'publishInitialRetryIntervalInMs'", "publishInitialRetryIntervalInMs", true},
	} {
		if got := mentions(tc.msg, tc.key); got != tc.want {
			t.Errorf("mentions(%q, %q) = %v", tc.msg, tc.key, got)
		}
	}
}
