package model

import (
	"encoding/json"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"
	"unique"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// Component is a Dapr Component (dapr.io/v1alpha1).
type Component struct {
	Obj       *Object
	Name      string
	Namespace string
	Type      string
	// Version is spec.version as written ("" when absent).
	Version string
	// SecretStore is auth.secretStore as written ("" when absent: Dapr
	// then uses its built-in "kubernetes" store).
	SecretStore string
	Items       []MetaItem
	// Scopes are the app-ids the Component is scoped to; nil when it has
	// no scopes field (every app may use it).
	Scopes []string
	// LiveSecrets says, in live mode, what became of the Secrets its
	// secretKeyRefs name that are not among the inputs, by Secret name:
	// SecretMissing, or SecretUnreadable followed by the reason (from the
	// LiveSecretsAnnotation the live loader sets).
	LiveSecrets map[string]string
}

// LiveSecretsAnnotation is set by the live loader (internal/lint, --live) on the
// Components it read: a JSON object mapping the name of each Secret a
// secretKeyRef names that it could not add to the inputs to SecretMissing
// (the API server says it does not exist) or SecretUnreadable plus the
// reason (no RBAC to read it, for example).
const LiveSecretsAnnotation = "live.pubsub-lint.gatekeeper-pubsub.io/secrets"

// What the live loader found of a Secret (LiveSecretsAnnotation).
const (
	SecretMissing    = "missing"
	SecretUnreadable = "unreadable: "
)

// MetaItem is one entry of spec.metadata. It is kept small: a large
// repository holds hundreds of thousands.
type MetaItem struct {
	Name string
	// Value is the plain value as Dapr reads it (any JSON value as a string).
	Value string
	// Index is the entry's index in spec.metadata.
	Index    int32
	HasValue bool
	Secret   bool
	Env      bool
	// SecretName and SecretKey are the secretKeyRef's name and key;
	// HasSecretKey says whether it has a key field.
	SecretName, SecretKey string
	HasSecretKey          bool
}

func newComponent(o *Object) *Component {
	c := &Component{Obj: o, Name: o.Name(), Namespace: o.NS}
	spec, _ := o.Obj["spec"].(map[string]any)
	// Types and metadata keys repeat across Components: one copy of each
	// is kept.
	c.Type = intern(spec["type"])
	c.Version = scalar(spec["version"])
	if auth, ok := o.Obj["auth"].(map[string]any); ok {
		c.SecretStore = scalar(auth["secretStore"])
	}
	items, _ := spec["metadata"].([]any)
	c.Items = make([]MetaItem, 0, len(items))
	for i, it := range items {
		m, _ := it.(map[string]any)
		if m == nil {
			continue
		}
		mi := MetaItem{Index: int32(i), Name: intern(m["name"])}
		if v, ok := m["value"]; ok {
			mi.Value, mi.HasValue = metaString(v), true
		}
		if ref, ok := m["secretKeyRef"]; ok {
			mi.Secret = true
			rm, _ := ref.(map[string]any)
			mi.SecretName = intern(rm["name"])
			var key any
			key, mi.HasSecretKey = rm["key"]
			mi.SecretKey = intern(key)
		}
		_, mi.Env = m["envRef"]
		c.Items = append(c.Items, mi)
	}
	if v := o.Annotations()[LiveSecretsAnnotation]; v != "" {
		_ = json.Unmarshal([]byte(v), &c.LiveSecrets)
	}
	if sc, ok := o.Obj["scopes"].([]any); ok {
		c.Scopes = make([]string, 0, len(sc))
		for _, s := range sc {
			c.Scopes = append(c.Scopes, scalar(s))
		}
	}
	return c
}

// intern returns v when it is a string, as its canonical copy.
func intern(v any) string {
	s, _ := v.(string)
	return unique.Make(s).Value()
}

// metaString converts a metadata value to the string Dapr sees.
func metaString(v any) string {
	switch v.(type) {
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return scalar(v)
}

// HasScopes says whether the Component is scoped to some app-ids: Dapr
// lets every app load a Component whose scopes are absent or empty.
func (c *Component) HasScopes() bool { return len(c.Scopes) > 0 }

// SecretStoreName is the secret store Dapr reads the Component's
// secretKeyRefs from: auth.secretStore, or the built-in "kubernetes".
func (c *Component) SecretStoreName() string {
	if c.SecretStore == "" {
		return BuiltinSecretStore
	}
	return c.SecretStore
}

// BuiltinSecretStore is the secret store every daprd on Kubernetes has
// (unless dapr.io/disable-builtin-k8s-secret-store), reading the Secrets of
// the Component's namespace.
const BuiltinSecretStore = "kubernetes"

// IsPubsub says whether the type is pubsub.*.
func (c *Component) IsPubsub() bool { return strings.HasPrefix(c.Type, "pubsub.") }

// ItemPath is spec.metadata[i] (plus elems).
func (c *Component) ItemPath(i int32, elems ...any) Path {
	return P("spec", "metadata", int(i)).Add(elems...)
}

// Item finds a metadata item by name, case-insensitively as Dapr does.
func (c *Component) Item(name string) (MetaItem, bool) {
	for _, it := range c.Items {
		if strings.EqualFold(it.Name, name) {
			return it, true
		}
	}
	return MetaItem{}, false
}

// String names the component for messages.
func (c *Component) String() string { return c.Obj.String() }

// TypeFacts are what the rules need from a pubsub type's metadata schema.
type TypeFacts struct {
	Info     *schemas.PubsubInfo
	Required []string
	// Props maps lower-case keys to the schema's spelling.
	Props map[string]string
	// Expect describes each property's expected value.
	Expect map[string]string
	// Other says, for keys with allowed values, what Dapr does with another
	// value: "error" or "ignored" (empty when not known).
	Other map[string]string
	// Deprecated maps lower-case deprecated keys to the schema's spelling.
	Deprecated map[string]string
	// Closed: additionalProperties is false.
	Closed bool
}

var (
	factsMu    sync.Mutex
	factsCache = map[string]*TypeFacts{}
)

// KnownComponents yields each Component whose pubsub type has a metadata
// schema, with that type's facts: the Components the metadata rules check.
func (s *Setup) KnownComponents() iter.Seq2[*Component, *TypeFacts] {
	return func(yield func(*Component, *TypeFacts) bool) {
		for _, c := range s.Components {
			if f := FactsFor(c.Type); f != nil && !yield(c, f) {
				return
			}
		}
	}
}

// FactsFor returns the facts of a pubsub type; nil when no schema has it.
func FactsFor(typ string) *TypeFacts {
	factsMu.Lock()
	defer factsMu.Unlock()
	if f, ok := factsCache[typ]; ok {
		return f
	}
	f := loadFacts(typ)
	factsCache[typ] = f
	return f
}

func loadFacts(typ string) *TypeFacts {
	raw, err := schemas.Raw(schemas.PubsubMetadata(typ))
	if err != nil {
		return nil
	}
	info, err := schemas.Pubsub(typ)
	if err != nil {
		return nil
	}
	var doc struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
		Additional *bool                      `json:"additionalProperties"`
		Defs       map[string]struct {
			Description string `json:"description"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil
	}
	f := &TypeFacts{Info: info, Required: doc.Required, Props: map[string]string{}, Expect: map[string]string{},
		Other: map[string]string{}, Deprecated: map[string]string{}, Closed: doc.Additional != nil && !*doc.Additional}
	for _, k := range info.Deprecated {
		f.Deprecated[strings.ToLower(k)] = k
	}
	for k, p := range doc.Properties {
		f.Props[strings.ToLower(k)] = k
		var ps struct {
			Ref      string   `json:"$ref"`
			Enum     []string `json:"enum"`
			Allowed  []string `json:"x-allowedValues"`
			Caseless bool     `json:"x-caseInsensitive"`
			Other    string   `json:"x-otherValues"`
			Type     string   `json:"type"`
		}
		_ = json.Unmarshal(p, &ps)
		if len(ps.Allowed) == 0 {
			ps.Allowed = ps.Enum
		}
		f.Other[k] = ps.Other
		switch {
		case len(ps.Allowed) > 0:
			q := make([]string, len(ps.Allowed))
			for i, e := range ps.Allowed {
				q[i] = fmt.Sprintf("%q", e)
			}
			f.Expect[k] = "one of " + strings.Join(q, ", ")
			if ps.Caseless {
				f.Expect[k] += " (in any letter case)"
			}
		case strings.HasSuffix(ps.Ref, "/bool"):
			f.Expect[k] = "a boolean (true/false, yes/no, on/off, y/n, t/f or 1/0)"
		case strings.HasSuffix(ps.Ref, "/number"):
			f.Expect[k] = "a decimal number"
		case strings.HasSuffix(ps.Ref, "/duration"):
			f.Expect[k] = "a Go duration such as 500ms, 10s or 1h30m, or a whole number of seconds"
		default:
			f.Expect[k] = "a valid value"
		}
	}
	for _, k := range info.RuntimeKeys {
		if _, ok := f.Props[strings.ToLower(k)]; !ok {
			f.Props[strings.ToLower(k)] = k
		}
	}
	return f
}

// Keys lists the known keys in the schema's spelling, sorted.
func (f *TypeFacts) Keys() []string {
	out := make([]string, 0, len(f.Props))
	for _, k := range f.Props {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DeprecatedKeys lists the deprecated keys in the schema's spelling, sorted.
func (f *TypeFacts) DeprecatedKeys() []string {
	out := make([]string, 0, len(f.Deprecated))
	for _, k := range f.Deprecated {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SecretNeed is a Secret key a Component reads through the built-in
// kubernetes secret store.
type SecretNeed struct {
	Namespace, Name, Key string
}

// UnseenSecrets lists, sorted and once each, the Secret keys the
// Components read from Secrets that are not among the inputs: what
// pubsub-lint cannot check and the user must create.
func (s *Setup) UnseenSecrets() []SecretNeed {
	seen := map[SecretNeed]bool{}
	var out []SecretNeed
	for _, c := range s.Components {
		if c.SecretStoreName() != BuiltinSecretStore {
			continue
		}
		for _, it := range c.Items {
			if !it.Secret || it.SecretName == "" || s.Secret(c.Namespace, it.SecretName) != nil {
				continue
			}
			if _, live := c.LiveSecrets[it.SecretName]; live {
				// Read in the cluster: a finding says what became of it.
				continue
			}
			n := SecretNeed{Namespace: c.Namespace, Name: it.SecretName, Key: it.SecretKey}
			if n.Key == "" {
				n.Key = it.SecretName
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Key < b.Key
	})
	return out
}
