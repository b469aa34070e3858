package chart_test

import (
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint"
)

// TestLintRBACMatchesLiveMode: the chart's read-only ClusterRole for
// `pubsub-lint --live` grants exactly what live mode reads (lint.LiveRBAC),
// and is rendered only when asked for.
func TestLintRBACMatchesLiveMode(t *testing.T) {
	if n := len(find(renderSet(t, valueSet{set: []string{"audit.enablePubsub=true"}}, false).Objects, "ClusterRole")); n != 0 {
		t.Fatalf("%d ClusterRoles rendered by default, want 0", n)
	}
	objs := renderSet(t, valueSet{set: []string{"lint.rbac.create=true", "lint.rbac.serviceAccount.name=ci"}}, false).Objects
	roles := find(objs, "ClusterRole")
	if len(roles) != 1 || len(find(objs, "ClusterRoleBinding")) != 1 {
		t.Fatalf("ClusterRoles %d, bindings %d, want 1 and 1", len(roles), len(find(objs, "ClusterRoleBinding")))
	}
	var want []any
	if err := yaml.Unmarshal([]byte(lint.LiveRBAC), &want); err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := yaml.Marshal(want)
	gotJSON, _ := yaml.Marshal(roles[0].Obj["rules"])
	var a, b any
	_ = yaml.Unmarshal(wantJSON, &a)
	_ = yaml.Unmarshal(gotJSON, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("ClusterRole rules:\n%s\nwant (lint.LiveRBAC):\n%s", gotJSON, wantJSON)
	}
}
