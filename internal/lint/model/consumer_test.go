package model

import (
	"reflect"
	"testing"
)

// container builds a container from its manifest fields: image, command,
// args, env (name → value string, or a map for valueFrom) and envFrom.
func container(image string, command, args []string, env [][2]any, envFrom bool) Container {
	cm := map[string]any{"name": "c", "image": image}
	list := func(s []string) []any {
		out := make([]any, len(s))
		for i, v := range s {
			out[i] = v
		}
		return out
	}
	if command != nil {
		cm["command"] = list(command)
	}
	if args != nil {
		cm["args"] = list(args)
	}
	var envList []any
	for _, e := range env {
		entry := map[string]any{"name": e[0]}
		if m, ok := e[1].(map[string]any); ok {
			entry["valueFrom"] = m
		} else {
			entry["value"] = e[1]
		}
		envList = append(envList, entry)
	}
	if envList != nil {
		cm["env"] = envList
	}
	if envFrom {
		cm["envFrom"] = []any{map[string]any{"secretRef": map[string]any{"name": "s"}}}
	}
	return newContainer(P("spec", "containers", 0), 0, cm)
}

var secretRef = map[string]any{"secretKeyRef": map[string]any{"name": "s", "key": "k"}}

const image = "registry.example/violations:0.1.0"

func TestParseConsumer(t *testing.T) {
	tests := []struct {
		name    string
		image   string
		command []string
		args    []string
		want    map[string]string // flag values; nil: not a consumer
		topic   string
		topicAt string
	}{
		{"not the violations image", "fake-subscriber:latest", nil, []string{"serve"}, nil, "", ""},
		{"violations-like image", "registry.example/violations-ui:1", nil, []string{"serve"}, nil, "", ""},
		{"not serve", image, nil, []string{"list", "--topic=x"}, nil, "", ""},
		{"defaults", image, nil, []string{"serve"}, map[string]string{}, DefaultConsumerTopic, "spec.containers[0].args[0]"},
		{"digest image", "violations@sha256:abc", nil, []string{"serve", "--topic", "t"}, map[string]string{"topic": "t"}, "t", "spec.containers[0].args[2]"},
		{"program in command", image, []string{"/violations"}, []string{"serve", "-topic=t"}, map[string]string{"topic": "t"}, "t", "spec.containers[0].args[1]"},
		{"serve in command", image, []string{"/violations", "serve"}, []string{"--store=sqlite:///x.db"}, map[string]string{"store": "sqlite:///x.db"}, DefaultConsumerTopic, "spec.containers[0].args[0]"},
		{"the last occurrence wins", image, nil, []string{"serve", "--topic=a", "--topic", "b"}, map[string]string{"topic": "b"}, "b", "spec.containers[0].args[3]"},
		{"a boolean flag takes no value", image, nil, []string{"serve", "--no-status", "--pubsub", "p"}, map[string]string{"no-status": "", "pubsub": "p"}, DefaultConsumerTopic, "spec.containers[0].args[3]"},
		{"report-resource-uids takes no value", image, nil, []string{"serve", "--reports", "--report-resource-uids", "--topic", "t"}, map[string]string{"reports": "", "report-resource-uids": "", "topic": "t"}, "t", "spec.containers[0].args[4]"},
		{"a value that looks like a flag", image, nil, []string{"serve", "--cluster", "--topic=x"}, map[string]string{"cluster": "--topic=x"}, DefaultConsumerTopic, "spec.containers[0].args[2]"},
		{"stops at a non-flag", image, nil, []string{"serve", "--topic=a", "extra", "--topic=b"}, map[string]string{"topic": "a"}, "a", "spec.containers[0].args[1]"},
		{"stops at --", image, nil, []string{"serve", "--", "--topic=b"}, map[string]string{}, DefaultConsumerTopic, "spec.containers[0].args[2]"},
		{"stops at bad syntax", image, nil, []string{"serve", "---topic=b"}, map[string]string{}, DefaultConsumerTopic, "spec.containers[0].args[1]"},
		{"flag without its value", image, nil, []string{"serve", "--topic"}, map[string]string{}, DefaultConsumerTopic, "spec.containers[0].args[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := ParseConsumer(container(tt.image, tt.command, tt.args, nil, false))
			if ok != (tt.want != nil) {
				t.Fatalf("consumer %v, want %v", ok, tt.want != nil)
			}
			if !ok {
				return
			}
			got := map[string]string{}
			for n, f := range k.Flags {
				got[n] = f.Value
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("flags %v, want %v", got, tt.want)
			}
			if tp := k.Topic(); tp.Value != tt.topic || tp.Field.String() != tt.topicAt {
				t.Errorf("topic %q at %s, want %q at %s", tp.Value, tp.Field, tt.topic, tt.topicAt)
			}
		})
	}
}

func TestConsumerStore(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     [][2]any
		envFrom bool
		from    StoreFrom
		scheme  string // "" when unknown
		display string
	}{
		{"default", []string{"serve"}, nil, false, StoreFromDefault, "sqlite", DefaultConsumerStore},
		{"sqlite flag", []string{"serve", "--store=sqlite:///data/v.db"}, nil, false, StoreFromFlag, "sqlite", "sqlite:///data/v.db"},
		{"postgres flag, two arguments", []string{"serve", "--store", "postgres://u:pw@db/v"}, nil, false, StoreFromFlag, "postgres", "postgres://u:xxxxx@db/v"},
		{"empty flag is no flag", []string{"serve", "--store="}, nil, false, StoreFromDefault, "sqlite", DefaultConsumerStore},
		{"file", []string{"serve", "--store-file=/etc/v/url"}, nil, false, StoreFromFile, "", ""},
		{"flag and file", []string{"serve", "--store=sqlite:///x", "--store-file=/f"}, nil, false, StoreFromBoth, "", ""},
		{"flag over env", []string{"serve", "--store=postgres://db/v"}, [][2]any{{ConsumerStoreEnv, "sqlite:///x"}}, false, StoreFromFlag, "postgres", "postgres://db/v"},
		{"file over env", []string{"serve", "--store-file=/f"}, [][2]any{{ConsumerStoreEnv, "sqlite:///x"}}, false, StoreFromFile, "", ""},
		{"env", []string{"serve"}, [][2]any{{ConsumerStoreEnv, "sqlite:///env.db"}}, false, StoreFromEnv, "sqlite", "sqlite:///env.db"},
		{"empty env is the default", []string{"serve"}, [][2]any{{ConsumerStoreEnv, ""}}, false, StoreFromDefault, "sqlite", DefaultConsumerStore},
		{"env from a Secret", []string{"serve"}, [][2]any{{ConsumerStoreEnv, secretRef}}, false, StoreFromEnv, "", ""},
		{"a later valueFrom replaces a value", []string{"serve"}, [][2]any{{ConsumerStoreEnv, "sqlite:///x"}, {ConsumerStoreEnv, secretRef}}, false, StoreFromEnv, "", ""},
		{"envFrom may set it", []string{"serve"}, nil, true, StoreFromEnv, "", ""},
		{"flag referencing a plain variable", []string{"serve", "--store=$(URL)"}, [][2]any{{"URL", "sqlite:///var.db"}}, false, StoreFromFlag, "sqlite", "sqlite:///var.db"},
		{"flag referencing a Secret", []string{"serve", "--store=$(URL)"}, [][2]any{{"URL", secretRef}}, false, StoreFromFlag, "", "$(URL)"},
		{"scheme written, path from a Secret", []string{"serve", "--store=sqlite:///$(DIR)/v.db"}, [][2]any{{"DIR", secretRef}}, false, StoreFromFlag, "sqlite", "sqlite:///$(DIR)/v.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := ParseConsumer(container(image, nil, tt.args, tt.env, tt.envFrom))
			if !ok {
				t.Fatal("not a consumer")
			}
			st := k.Store()
			scheme, known := st.Scheme()
			if st.From != tt.from || scheme != tt.scheme || known != (tt.scheme != "") || st.Display() != tt.display {
				t.Errorf("from %q, scheme %q (%v), display %q; want %q, %q, %q", st.From, scheme, known, st.Display(), tt.from, tt.scheme, tt.display)
			}
			if len(st.Field) == 0 && st.From != StoreFromBoth {
				t.Errorf("no field")
			}
		})
	}
}

// TestExpand: $(VAR) references as the kubelet expands them.
func TestExpand(t *testing.T) {
	env := [][2]any{{"A", "a"}, {"S", secretRef}, {"NESTED", "x$(A)y"}, {"DEEP", "$(NESTED)"}, {"EARLY", "<$(LATE)>"}, {"LATE", "z"}}
	c := container(image, nil, []string{"serve"}, env, false)
	tests := []struct {
		in       string
		display  string
		expanded string
	}{
		{"plain", "plain", "plain"},
		{"$(A)", "a", "a"},
		{"<$(A)$(A)>", "<aa>", "<aa>"},
		{"$(S)", "$(S)", "\x00"},
		{"$(UNDEFINED)", "$(UNDEFINED)", "\x00"},
		{"$$(A)", "$(A)", "$(A)"},
		{"$$", "$", "$"},
		{"a$b", "a$b", "a$b"},
		{"end$", "end$", "end$"},
		{"$(open", "$(open", "$(open"},
		{"$(NESTED)", "xay", "xay"},
		{"$(DEEP)", "xay", "xay"},
		// A variable sees only the variables before it.
		{"$(EARLY)", "<$(LATE)>", "<\x00>"},
		{"$(LATE)", "z", "z"},
	}
	for _, tt := range tests {
		v := c.Expand(tt.in, P("args", 0))
		got, owner := v.Expanded()
		if v.String() != tt.display || got != tt.expanded || len(owner) != len(got) {
			t.Errorf("Expand(%q) = %q, %q (%d owners), want %q, %q", tt.in, v.String(), got, len(owner), tt.display, tt.expanded)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://user:secret@host:5432/db?sslmode=verify-full", "postgres://user:xxxxx@host:5432/db?sslmode=verify-full"},
		{"postgres://user@host/db", "postgres://user@host/db"},
		{"postgres://user:@host/db", "postgres://user:@host/db"},
		{"postgres://host/db", "postgres://host/db"},
		{"postgres://user:p@ss:w@host/db", "postgres://user:xxxxx@host/db"},
		{"postgres://host/db?user=u&password=secret&sslmode=require", "postgres://host/db?user=u&password=xxxxx&sslmode=require"},
		{"postgres://host/db?PassWord=secret", "postgres://host/db?PassWord=xxxxx"},
		{"postgres://host/db?pass%77ord=secret#frag", "postgres://host/db?pass%77ord=xxxxx#frag"},
		{"postgres://u:one@host/db?sslpassword=two", "postgres://u:xxxxx@host/db?sslpassword=xxxxx"},
		{"postgres://u:a&password=b@host/db", "postgres://u:xxxxx@host/db"},
		{"amqp://u:p1@h1:5672,amqp://u:p2@h2:5672", "amqp://u:xxxxx@h1:5672,amqp://u:xxxxx@h2:5672"},
		{"redis-master.default:6379", "redis-master.default:6379"},
		{"sqlite:///var/lib/violations/violations.db", "sqlite:///var/lib/violations/violations.db"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLiteralPassword: a password written in the field or in a plain
// variable is literal; one from a Secret is not.
func TestLiteralPassword(t *testing.T) {
	env := [][2]any{{"PW", "plain"}, {"SPW", secretRef}, {"URL", "postgres://u:inurl@h/db"}}
	c := container(image, nil, []string{"serve"}, env, false)
	tests := []struct {
		in    string
		field string // "" when none is literal
		v     string
	}{
		{"postgres://u:pw@h/db", "args[1]", ""},
		{"postgres://u@h/db", "", ""},
		{"postgres://u:$(SPW)@h/db", "", ""},
		{"postgres://u:$(UNSET)@h/db", "", ""},
		{"postgres://u:$(PW)@h/db", "spec.containers[0].env[0].value", "PW"},
		{"postgres://u:x$(SPW)@h/db", "args[1]", ""},
		{"$(URL)", "spec.containers[0].env[2].value", "URL"},
		{"postgres://u@h/db?password=$(SPW)", "", ""},
		{"postgres://u@h/db?password=$(PW)", "spec.containers[0].env[0].value", "PW"},
	}
	for _, tt := range tests {
		part, ok := c.Expand(tt.in, P("args", 1)).LiteralPassword()
		if ok != (tt.field != "") || part.Field.String() != tt.field || part.Var != tt.v {
			t.Errorf("LiteralPassword(%q) = %s (var %q), %v; want %q (var %q)", tt.in, part.Field, part.Var, ok, tt.field, tt.v)
		}
	}
}

func TestSubscriberPubsub(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     [][2]any
		envFrom bool
		want    string
	}{
		{"default", nil, nil, false, DefaultConsumerPubsub},
		{"env", nil, [][2]any{{"PUBSUB_COMPONENT", "broker"}}, false, "broker"},
		{"empty env", nil, [][2]any{{"PUBSUB_COMPONENT", ""}}, true, DefaultConsumerPubsub},
		{"env from a Secret", nil, [][2]any{{"PUBSUB_COMPONENT", secretRef}}, false, ""},
		{"envFrom", nil, nil, true, ""},
		{"flag", []string{"--pubsub=broker"}, [][2]any{{"PUBSUB_COMPONENT", "pubsub"}}, false, ""},
		{"other flag", []string{"--pubsubx=1"}, nil, false, DefaultConsumerPubsub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subscriberPubsub(container("fake-subscriber:latest", nil, tt.args, tt.env, tt.envFrom)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
