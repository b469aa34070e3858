package model

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// What `violations serve` (cmd/violations, internal/consumer/serve) does
// without flags. test/lint checks them against the consumer's own
// defaults.
const (
	// DefaultConsumerTopic is the topic `violations serve` subscribes to
	// without --topic.
	DefaultConsumerTopic = "audit-channel"
	// DefaultConsumerPubsub is the Dapr pubsub Component `violations serve`
	// subscribes through without --pubsub (and the fake-subscriber
	// without PUBSUB_COMPONENT).
	DefaultConsumerPubsub = "pubsub"
	// DefaultConsumerStore is the store `violations serve` opens without
	// --store, --store-file and VIOLATIONS_STORE: an SQLite file.
	DefaultConsumerStore = "sqlite:///var/lib/violations/violations.db"
	// ConsumerStoreEnv is the variable `violations serve` reads the store
	// URL from without --store and --store-file.
	ConsumerStoreEnv = "VIOLATIONS_STORE"
)

// consumerBoolFlags are serve's flags that take no separate value.
var consumerBoolFlags = map[string]bool{"no-status": true, "reports": true, "report-resource-uids": true, "h": true, "help": true}

// Consumer is a container running the violations consumer, `violations
// serve` (image .../violations): its flags as Go's flag package reads them.
type Consumer struct {
	Container Container
	// Flags holds the last occurrence of each flag (the one that wins),
	// by name without dashes.
	Flags map[string]ConsumerFlag
	// ArgsField is the container's last argument, where an absent flag is
	// reported.
	ArgsField Path
}

// ConsumerFlag is one flag of `violations serve`.
type ConsumerFlag struct {
	Value string
	// Field is the argument holding the value (the flag's own with
	// --flag=value, the next one with --flag value).
	Field Path
}

// ParseConsumer reads a container as the violations consumer: an image
// named violations whose arguments (the command after the program, then
// args) have "serve", followed by its flags. Flags are read as Go's flag
// package reads them: up to the first argument that is not a flag, or
// "--"; a flag other than a boolean one takes the next argument as its
// value unless written --flag=value.
func ParseConsumer(c Container) (*Consumer, bool) {
	if imageName(c.Image) != "violations" {
		return nil, false
	}
	args := c.Arguments()
	serve := -1
	for i, a := range args {
		if a.Value == "serve" {
			serve = i
			break
		}
	}
	if serve < 0 {
		return nil, false
	}
	k := &Consumer{Container: c, Flags: parseGoFlags(args[serve+1:], consumerBoolFlags), ArgsField: args[len(args)-1].Field}
	return k, true
}

// parseGoFlags reads flags as Go's flag package reads them: up to the
// first argument that is not a flag, or "--"; a flag not in bools takes the
// next argument as its value unless written --flag=value. It returns the
// last occurrence of each flag (the one that wins), by name without
// dashes.
func parseGoFlags(rest []Arg, bools map[string]bool) map[string]ConsumerFlag {
	flags := map[string]ConsumerFlag{}
	for i := 0; i < len(rest); i++ {
		a := rest[i].Value
		if len(a) < 2 || a[0] != '-' || a == "--" {
			break
		}
		name := strings.TrimPrefix(a[1:], "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			break
		}
		f := ConsumerFlag{Field: rest[i].Field}
		if n, v, ok := strings.Cut(name, "="); ok {
			name, f.Value = n, v
		} else if !bools[name] {
			if i+1 >= len(rest) {
				break
			}
			i++
			f.Value, f.Field = rest[i].Value, rest[i].Field
		}
		flags[name] = f
	}
	return flags
}

// Arguments are the program's arguments: the command after the program,
// then args (all of them without a command: the image's entrypoint runs
// them).
func (c Container) Arguments() []Arg {
	if c.Command > 0 {
		return c.Args[1:]
	}
	return c.Args
}

// imageName is the last path element of an image reference, without tag
// or digest.
func imageName(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref[strings.LastIndexByte(ref, '/')+1:]
}

// ConsumerTopic returns the topic a violations consumer container
// (`violations serve`, image .../violations) subscribes to: its --topic, or
// the default with the path of the container's last argument.
func ConsumerTopic(c Container) (EnvVar, bool) {
	k, ok := ParseConsumer(c)
	if !ok {
		return EnvVar{}, false
	}
	return k.Topic(), true
}

// Topic is the topic the consumer subscribes to (--topic), with the path
// of its value, or the default with the path of the last argument.
func (k *Consumer) Topic() EnvVar {
	if f, ok := k.Flags["topic"]; ok {
		return EnvVar(f)
	}
	return EnvVar{Value: DefaultConsumerTopic, Field: k.ArgsField}
}

// Pubsub is the Dapr pubsub Component the consumer subscribes through
// (--pubsub).
func (k *Consumer) Pubsub() string {
	if f, ok := k.Flags["pubsub"]; ok {
		return f.Value
	}
	return DefaultConsumerPubsub
}

// StoreFrom says where `violations serve` takes its store URL from, as its
// serve.StoreURL does: --store, else --store-file, else VIOLATIONS_STORE,
// else the default.
type StoreFrom string

// Sources of the store URL.
const (
	StoreFromFlag    StoreFrom = "--store"
	StoreFromFile    StoreFrom = "--store-file"
	StoreFromEnv     StoreFrom = "env " + ConsumerStoreEnv
	StoreFromDefault StoreFrom = "default"
	// StoreFromBoth: --store and --store-file, which the consumer refuses.
	StoreFromBoth StoreFrom = "--store and --store-file"
)

// ConsumerStore is the store the consumer opens, as far as the manifest
// shows it.
type ConsumerStore struct {
	From StoreFrom
	// Value is the URL as written and expanded (nil for a file, both
	// flags, or a variable whose value is not in the manifest).
	Value *Value
	// Field is where the URL is set (the last argument for the default).
	Field Path
}

// Scheme returns the URL's scheme (sqlite, postgres, ...) when the
// manifest shows it.
func (s ConsumerStore) Scheme() (string, bool) {
	if s.From == StoreFromDefault {
		return "sqlite", true
	}
	if s.Value == nil {
		return "", false
	}
	v, _ := s.Value.Expanded()
	scheme, _, ok := strings.Cut(v, "://")
	if !ok || strings.IndexByte(scheme, RefMark) >= 0 {
		return "", false
	}
	return scheme, true
}

// Display is the URL for messages: references shown as $(NAME),
// passwords hidden.
func (s ConsumerStore) Display() string {
	if s.From == StoreFromDefault {
		return DefaultConsumerStore
	}
	if s.Value == nil {
		return ""
	}
	return RedactURL(s.Value.String())
}

// Store returns the store the consumer opens.
func (k *Consumer) Store() ConsumerStore {
	flag, hasFlag := k.Flags["store"]
	file, hasFile := k.Flags["store-file"]
	hasFlag = hasFlag && flag.Value != ""
	hasFile = hasFile && file.Value != ""
	switch {
	case hasFlag && hasFile:
		return ConsumerStore{From: StoreFromBoth, Field: file.Field}
	case hasFlag:
		v := k.Container.Expand(flag.Value, flag.Field)
		return ConsumerStore{From: StoreFromFlag, Value: &v, Field: flag.Field}
	case hasFile:
		return ConsumerStore{From: StoreFromFile, Field: file.Field}
	}
	if e, ok := k.Container.Env[ConsumerStoreEnv]; ok {
		v := k.Container.Expand(e.Value, e.Field)
		if s, _ := v.Expanded(); s != "" {
			return ConsumerStore{From: StoreFromEnv, Value: &v, Field: e.Field}
		}
		return ConsumerStore{From: StoreFromDefault, Field: k.ArgsField}
	}
	if e, ok := k.Container.EnvRefs[ConsumerStoreEnv]; ok {
		return ConsumerStore{From: StoreFromEnv, Field: e.Field}
	}
	if k.Container.EnvFrom {
		// envFrom may set VIOLATIONS_STORE.
		return ConsumerStore{From: StoreFromEnv, Field: k.ArgsField}
	}
	return ConsumerStore{From: StoreFromDefault, Field: k.ArgsField}
}

// StoreValues returns every store URL written in the consumer's manifest:
// its --store and its VIOLATIONS_STORE (whichever the consumer uses; a
// value written there is in the manifest either way).
func (k *Consumer) StoreValues() []StoreValue {
	var out []StoreValue
	if f, ok := k.Flags["store"]; ok && f.Value != "" {
		out = append(out, StoreValue{From: StoreFromFlag, Value: k.Container.Expand(f.Value, f.Field)})
	}
	if e, ok := k.Container.Env[ConsumerStoreEnv]; ok && e.Value != "" {
		out = append(out, StoreValue{From: StoreFromEnv, Value: k.Container.Expand(e.Value, e.Field)})
	}
	return out
}

// StoreValue is a store URL written in the manifest, and where.
type StoreValue struct {
	From  StoreFrom
	Value Value
}

// Value is a string field as the container sees it: its $(VAR)
// references expanded as the kubelet expands them, each part with the
// field it comes from.
type Value []ValuePart

// ValuePart is a piece of a Value: text written in Field, or (Ref) a
// reference to a variable whose value the manifest does not hold (set
// with valueFrom, possibly by envFrom, or not at all).
type ValuePart struct {
	// Text is the literal text, or $(NAME) for a Ref.
	Text  string
	Field Path
	Ref   bool
	// Var names the variable whose value Text is ("" for text written in
	// the field being expanded).
	Var string
}

// RefMark stands for a Ref's unknown text in Value.Expanded.
const RefMark = '\x00'

// String is the value with the references written $(NAME).
func (v Value) String() string {
	var b strings.Builder
	for _, p := range v {
		b.WriteString(p.Text)
	}
	return b.String()
}

// Expanded returns the value with each reference as one RefMark, and the
// part each byte comes from.
func (v Value) Expanded() (string, []int) {
	var b strings.Builder
	var owner []int
	for i, p := range v {
		t := p.Text
		if p.Ref {
			t = string(RefMark)
		}
		b.WriteString(t)
		for range len(t) {
			owner = append(owner, i)
		}
	}
	return b.String(), owner
}

// Expand expands the $(VAR) references of s, a field of the container
// at field (command or args), as the kubelet does: $$ is a literal $, and
// a reference to a variable of env is replaced by its value, itself
// expanded with the variables before it; other references stay as
// written. References to variables whose value is not in the manifest
// (valueFrom, envFrom, or not set at all) are Refs.
func (c Container) Expand(s string, field Path) Value {
	return c.expand(s, field, "", -1)
}

// expand expands s, the value of variable name ("" for command or args);
// only the variables before index before are defined (all when before
// is negative).
func (c Container) expand(s string, field Path, name string, before int) Value {
	var out Value
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, ValuePart{Text: lit.String(), Field: field, Var: name})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			lit.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			lit.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				lit.WriteString("$(")
				i++
				continue
			}
			ref := s[i+2 : i+2+end]
			i += 2 + end
			flush()
			if e, ok := c.Env[ref]; ok && (before < 0 || c.envIndex[ref] < before) {
				out = append(out, c.expand(e.Value, e.Field, ref, c.envIndex[ref])...)
				continue
			}
			out = append(out, ValuePart{Text: "$(" + ref + ")", Field: field, Ref: true, Var: name})
		default:
			lit.WriteByte('$')
		}
	}
	flush()
	return out
}

// secretQueryKeys are the query parameters of a PostgreSQL URL that hold
// a password (pgx reads any libpq setting from the query).
var secretQueryKeys = map[string]bool{"password": true, "sslpassword": true}

// urlSecrets returns the byte ranges of the passwords in s, a URL or a
// list of URLs: each userinfo's password (scheme://user:password@host) and
// each password or sslpassword query parameter.
func urlSecrets(s string) [][2]int {
	var out [][2]int
	for off := 0; ; {
		i := strings.Index(s[off:], "://")
		if i < 0 {
			break
		}
		start := off + i + 3
		end := len(s)
		if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
			end = start + j
		}
		auth := s[start:end]
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if c := strings.IndexByte(auth[:at], ':'); c >= 0 && c+1 < at {
				out = append(out, [2]int{start + c + 1, start + at})
			}
		}
		// The next URL of a list may start inside this authority
		// (amqp://h1,amqp://h2).
		off = start
	}
	inPassword := func(i int) bool {
		for _, r := range out {
			if i >= r[0] && i < r[1] {
				return true
			}
		}
		return false
	}
	query := false
	var params [][2]int
	for i := 0; i < len(s); i++ {
		if !(s[i] == '?' || query && s[i] == '&') || inPassword(i) {
			continue
		}
		query = true
		eq := strings.IndexByte(s[i+1:], '=')
		if eq < 0 {
			break
		}
		key := s[i+1 : i+1+eq]
		if strings.ContainsAny(key, "&#?") {
			continue
		}
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if !secretQueryKeys[strings.ToLower(key)] {
			continue
		}
		start := i + 1 + eq + 1
		end := len(s)
		if j := strings.IndexAny(s[start:], "&#"); j >= 0 {
			end = start + j
		}
		if end > start {
			params = append(params, [2]int{start, end})
		}
	}
	return append(out, params...)
}

// RedactURL replaces the passwords of a URL (or list of URLs) by xxxxx:
// postgres://user:xxxxx@host/db.
func RedactURL(s string) string {
	secrets := urlSecrets(s)
	if len(secrets) == 0 {
		return s
	}
	slices.SortFunc(secrets, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	var b strings.Builder
	last := 0
	for _, r := range secrets {
		if r[0] < last {
			// Overlapping ranges: hide their union.
			last = max(last, r[1])
			continue
		}
		b.WriteString(s[last:r[0]])
		b.WriteString("xxxxx")
		last = r[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// LiteralPassword returns the part of the URL v that holds (the start
// of) a password written in the manifest, rather than coming from a
// variable set with valueFrom, and whether there is one.
func (v Value) LiteralPassword() (ValuePart, bool) {
	s, owner := v.Expanded()
	for _, r := range urlSecrets(s) {
		for i := r[0]; i < r[1]; i++ {
			if s[i] != RefMark {
				return v[owner[i]], true
			}
		}
	}
	return ValuePart{}, false
}

// Subscriber is a container that subscribes to the audit's messages
// through Dapr: the violations consumer, or a container with AUDIT_CHANNEL
// (like the project's fake-subscriber).
type Subscriber struct {
	Workload  *Workload
	Container Container
	// Consumer is the violations consumer (nil for an AUDIT_CHANNEL
	// subscriber).
	Consumer *Consumer
	// Topic is what it subscribes to.
	Topic EnvVar
	// Pubsub is the name of the Dapr pubsub Component it subscribes
	// through, "" when the manifest does not show it.
	Pubsub string
	// PubsubField is where Pubsub is written (the --pubsub flag's value,
	// the PUBSUB_COMPONENT entry), or, for the default, the container's
	// last argument or the container itself.
	PubsubField Path
	// PubsubFrom says where Pubsub comes from, for messages: "--pubsub",
	// "PUBSUB_COMPONENT" or "the default".
	PubsubFrom string
}

// Describe names the subscriber for messages: violations consumer
// container "x" or subscriber container "x".
func (s Subscriber) Describe() string {
	if s.Consumer != nil {
		return `violations consumer container "` + s.Container.Name + `"`
	}
	return `subscriber container "` + s.Container.Name + `"`
}

// Subscribers returns the subscribers of the workloads that are not
// audits, in input order (a container that is both is a consumer).
func (s *Setup) Subscribers() []Subscriber {
	audits := map[*Workload]bool{}
	for _, a := range s.Audits {
		audits[a.Workload] = true
	}
	var out []Subscriber
	for _, w := range s.Workloads {
		if audits[w] {
			continue
		}
		for _, c := range w.Containers {
			if k, ok := ParseConsumer(c); ok {
				sub := Subscriber{Workload: w, Container: c, Consumer: k, Topic: k.Topic(), Pubsub: k.Pubsub(),
					PubsubField: k.ArgsField, PubsubFrom: "the default"}
				if f, ok := k.Flags["pubsub"]; ok {
					sub.PubsubField, sub.PubsubFrom = f.Field, "--pubsub"
				}
				out = append(out, sub)
				continue
			}
			e, ok := c.Env["AUDIT_CHANNEL"]
			if !ok {
				continue
			}
			sub := Subscriber{Workload: w, Container: c, Topic: e, Pubsub: subscriberPubsub(c),
				PubsubField: w.TemplatePath("spec", "containers", c.Index), PubsubFrom: "the default"}
			if p, ok := c.Env["PUBSUB_COMPONENT"]; ok && p.Value != "" {
				sub.PubsubField, sub.PubsubFrom = p.Field, "PUBSUB_COMPONENT"
			}
			out = append(out, sub)
		}
	}
	return out
}

// subscriberPubsub is the Component an AUDIT_CHANNEL subscriber (the
// fake-subscriber) subscribes through: its PUBSUB_COMPONENT, else pubsub;
// "" when a --pubsub flag, valueFrom or envFrom decides it.
func subscriberPubsub(c Container) string {
	for _, a := range c.Arguments() {
		if name, ok := strings.CutPrefix(strings.TrimLeft(a.Value, "-"), "pubsub"); ok && strings.HasPrefix(a.Value, "-") && (name == "" || name[0] == '=') {
			return ""
		}
	}
	if p, ok := c.Env["PUBSUB_COMPONENT"]; ok {
		if p.Value != "" {
			return p.Value
		}
		return DefaultConsumerPubsub
	}
	if _, ok := c.EnvRefs["PUBSUB_COMPONENT"]; ok || c.EnvFrom {
		return ""
	}
	return DefaultConsumerPubsub
}

// DefaultAppPort is the port `violations serve` (--app-listen
// 127.0.0.1:6002) and the fake-subscriber (--port, APP_PORT) listen on for
// daprd's deliveries by default.
const DefaultAppPort = "6002"

// AppPort is the port a subscriber listens on for daprd's deliveries (the
// one its dapr.io/app-port must name), as far as the manifest shows it:
// the violations consumer's --app-listen, the fake-subscriber's --port or
// APP_PORT, else their default. From says where it comes from, for
// messages; ok is false when the manifest does not show it (another
// program, or a variable set with valueFrom or envFrom).
func (s Subscriber) AppPort() (port, from string, ok bool) {
	c := s.Container
	if s.Consumer != nil {
		f, set := s.Consumer.Flags["app-listen"]
		if !set {
			return DefaultAppPort, "the default --app-listen 127.0.0.1:" + DefaultAppPort, true
		}
		i := strings.LastIndexByte(f.Value, ':')
		if i < 0 {
			return "", "", false
		}
		return f.Value[i+1:], "--app-listen " + f.Value, true
	}
	if !s.FakeSubscriber() {
		return "", "", false
	}
	if f, set := parseGoFlags(c.Arguments(), map[string]bool{"h": true, "help": true})["port"]; set {
		return f.Value, "--port " + f.Value, true
	}
	if e, set := c.Env["APP_PORT"]; set && e.Value != "" {
		return e.Value, "APP_PORT " + e.Value, true
	}
	if _, set := c.EnvRefs["APP_PORT"]; set || c.EnvFrom {
		return "", "", false
	}
	return DefaultAppPort, "the default port " + DefaultAppPort, true
}

// FakeSubscriber says whether the subscriber runs the project's
// fake-subscriber (image .../fake-subscriber).
func (s Subscriber) FakeSubscriber() bool {
	return s.Consumer == nil && imageName(s.Container.Image) == "fake-subscriber"
}
