package model

import (
	"testing"
)

func TestParseForwarder(t *testing.T) {
	arg := func(vs ...string) []Arg {
		var out []Arg
		for i, v := range vs {
			out = append(out, Arg{Value: v, Field: P("args", i)})
		}
		return out
	}
	tests := []struct {
		name      string
		c         Container
		ok        bool
		path      string
		topic     string
		pubsub    string
		hasTopic  bool
		argsField string
	}{
		{"by image", Container{Image: "ghcr.io/x/pubsub-forward:1.0@sha256:aa", Args: arg("--path=/p", "--topic", "t")}, true, "/p", "t", "pubsub", true, "args[2]"},
		{"by command", Container{Image: "other:1", Args: arg("/ko-app/pubsub-forward", "-path", "/p", "--pubsub=b", "--topic=t"), Command: 1}, true, "/p", "t", "b", true, "args[4]"},
		{"flags stop at a non-flag", Container{Image: "pubsub-forward", Args: arg("--path=/p", "extra", "--topic=t")}, true, "/p", "", "pubsub", false, "args[2]"},
		{"--version takes no value", Container{Image: "pubsub-forward", Args: arg("--version", "--topic=t")}, true, "", "t", "pubsub", true, "args[1]"},
		{"a flag value naming it is no command", Container{Image: "other", Args: arg("--path=/x/pubsub-forward")}, false, "", "", "", false, ""},
		{"another program", Container{Image: "violations:latest", Args: arg("serve", "--topic=t")}, false, "", "", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := ParseForwarder(tt.c, P("c"))
			if ok != tt.ok {
				t.Fatalf("recognised %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			p, _ := f.Flag("path")
			tp, has := f.Flag("topic")
			if p.Value != tt.path || tp.Value != tt.topic || has != tt.hasTopic || f.Pubsub().Value != tt.pubsub {
				t.Errorf("path %q topic %q (%v) pubsub %q", p.Value, tp.Value, has, f.Pubsub().Value)
			}
			if f.ArgsField.String() != tt.argsField {
				t.Errorf("ArgsField %s, want %s", f.ArgsField, tt.argsField)
			}
		})
	}
}

func TestMountHolding(t *testing.T) {
	mounts := []VolumeMount{
		{Name: "cert", MountPath: "/certs"},
		{Name: "tmp", MountPath: "/tmp/violations/"},
		{Name: "sub", MountPath: "/data", SubPath: "exports"},
		{Name: "deep", MountPath: "/tmp/violations/topics/x"},
	}
	tests := []struct {
		path, name, in string
	}{
		{"/tmp/violations/topics", "tmp", "topics"},
		{"/tmp/violations", "tmp", "."},
		{"/tmp/violations/topics/x/y", "deep", "y"},
		{"/tmp/violationsX", "", ""},
		{"/data/topics", "sub", "exports/topics"},
		{"/", "", ""},
	}
	for _, tt := range tests {
		m := MountHolding(mounts, tt.path)
		switch {
		case tt.name == "" && m != nil:
			t.Errorf("%s: held by %s, want no mount", tt.path, m.Name)
		case tt.name != "" && (m == nil || m.Name != tt.name):
			t.Errorf("%s: held by %v, want %s", tt.path, m, tt.name)
		case m != nil && m.InVolume(tt.path) != tt.in:
			t.Errorf("%s: %q in volume %s, want %q", tt.path, m.InVolume(tt.path), m.Name, tt.in)
		}
	}
}
