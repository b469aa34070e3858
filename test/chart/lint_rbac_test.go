package chart_test

import (
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// TestLintRBACMatchesLiveMode: the chart's read-only RBAC for
// `pubsub-lint --live` grants exactly what live mode reads, list only: a
// ClusterRole (lint.LiveRBAC) and, in each namespace where audits run, a
// Role for their ConfigMaps and Pods (lint.LiveNamespacedRBAC); and it is
// rendered only when asked for.
func TestLintRBACMatchesLiveMode(t *testing.T) {
	if n := len(find(renderSet(t, valueSet{set: []string{"audit.enablePubsub=true"}}, false).Objects, "ClusterRole")); n != 0 {
		t.Fatalf("%d ClusterRoles rendered by default, want 0", n)
	}
	same := func(what, want string, got any) {
		t.Helper()
		var w any
		if err := yaml.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		gj, _ := yaml.Marshal(got)
		var g any
		_ = yaml.Unmarshal(gj, &g)
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s rules:\n%s\nwant:\n%s", what, gj, want)
		}
	}
	for _, tc := range []struct {
		name       string
		set        []string
		namespaces []string
	}{
		{"release namespace", []string{"lint.rbac.create=true", "lint.rbac.serviceAccount.name=ci"}, []string{"gatekeeper-system"}},
		{"audits elsewhere", []string{"lint.rbac.create=true", "lint.rbac.serviceAccount.name=ci", "lint.rbac.namespaces={gatekeeper-system,team-gk}"}, []string{"gatekeeper-system", "team-gk"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := renderSet(t, valueSet{set: tc.set}, false).Objects
			roles := find(objs, "ClusterRole")
			if len(roles) != 1 || len(find(objs, "ClusterRoleBinding")) != 1 {
				t.Fatalf("ClusterRoles %d, bindings %d, want 1 and 1", len(roles), len(find(objs, "ClusterRoleBinding")))
			}
			same("ClusterRole", lint.LiveRBAC, roles[0].Obj["rules"])
			nsRoles, bindings := find(objs, "Role"), find(objs, "RoleBinding")
			if len(nsRoles) != len(tc.namespaces) || len(bindings) != len(tc.namespaces) {
				t.Fatalf("Roles %d, RoleBindings %d, want %d each", len(nsRoles), len(bindings), len(tc.namespaces))
			}
			for i, r := range nsRoles {
				if r.Namespace() != tc.namespaces[i] {
					t.Errorf("Role %d in %s, want %s", i, r.Namespace(), tc.namespaces[i])
				}
				same("Role "+r.Namespace(), lint.LiveNamespacedRBAC, r.Obj["rules"])
			}
		})
	}
}
