package objref_test

import (
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/objref"
)

func TestString(t *testing.T) {
	for _, tt := range []struct {
		ref  objref.Ref
		want string
	}{
		{objref.Ref{Kind: "ConfigMap", Namespace: "ns", Name: "c"}, "ConfigMap ns/c"},
		{objref.Ref{Kind: "Namespace", Name: "ns"}, "Namespace ns"},
		{objref.Ref{Kind: "Component", Namespace: "ns"}, "Component without metadata.name in namespace ns"},
		{objref.Ref{Kind: "Component"}, "Component without metadata.name"},
		{objref.Ref{Name: "x"}, ""},
	} {
		if got := tt.ref.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.ref, got, tt.want)
		}
	}
}
