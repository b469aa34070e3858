package chart_test

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// checkConsumerReports checks what consumer.reports adds to the consumer:
// its flags, the pod's namespace and name for the Lease, and the Role that
// allows exactly that Lease (get, update by name; create, which RBAC
// cannot limit by name); and that none of it is there without reports.
func checkConsumerReports(t *testing.T, reportsOn, uids bool, objs []render.Object, c corev1.Container) {
	t.Helper()
	const ns, lease = "gatekeeper-violations", "violations-reports-default"
	flags := map[string]string{"report-severity-key": "gatekeeper-pubsub.io/severity", "report-lease-name": lease}
	for name, want := range flags {
		v, ok := flagValue(c.Args, name)
		if ok != reportsOn || (ok && v != want) {
			t.Errorf("consumer --%s = %q (present %v), want %q present %v", name, v, ok, want, reportsOn)
		}
	}
	if _, ok := flagValue(c.Args, "report-resource-uids"); ok != (reportsOn && uids) {
		t.Errorf("consumer --report-resource-uids present %v, want %v: %q", ok, reportsOn && uids, c.Args)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	wantEnv := map[string]string{}
	if reportsOn {
		wantEnv = map[string]string{"POD_NAMESPACE": "metadata.namespace", "POD_NAME": "metadata.name"}
	}
	if !reflect.DeepEqual(env, wantEnv) {
		t.Errorf("consumer env from fields %v, want %v", env, wantEnv)
	}

	var roles, bindings []render.Object
	for _, o := range find(objs, "Role") {
		if o.Namespace() == ns {
			roles = append(roles, o)
		}
	}
	for _, o := range find(objs, "RoleBinding") {
		if o.Namespace() == ns {
			bindings = append(bindings, o)
		}
	}
	if !reportsOn {
		if len(roles)+len(bindings) != 0 {
			t.Errorf("without reports: Roles %v, RoleBindings %v in %s, want none", roles, bindings, ns)
		}
		return
	}
	if len(roles) != 1 || len(bindings) != 1 || roles[0].Name() != "violations-reports-lease" || bindings[0].Name() != "violations-reports-lease" {
		t.Fatalf("Roles %v, RoleBindings %v in %s, want violations-reports-lease of each", roles, bindings, ns)
	}
	var want any
	if err := yaml.Unmarshal([]byte(`
- {apiGroups: [coordination.k8s.io], resources: [leases], resourceNames: [`+lease+`], verbs: [get, update]}
- {apiGroups: [coordination.k8s.io], resources: [leases], verbs: [create]}
`), &want); err != nil {
		t.Fatal(err)
	}
	if got := roles[0].Obj["rules"]; !reflect.DeepEqual(got, want) {
		t.Errorf("Role violations-reports-lease rules %v, want %v", got, want)
	}
	ref, _ := render.Lookup(bindings[0].Obj, "roleRef")
	subjects, _ := render.Lookup(bindings[0].Obj, "subjects")
	wantSubjects := []any{map[string]any{"kind": "ServiceAccount", "name": "violations", "namespace": ns}}
	if m, _ := ref.(map[string]any); m["kind"] != "Role" || m["name"] != "violations-reports-lease" || !reflect.DeepEqual(subjects, wantSubjects) {
		t.Errorf("RoleBinding roleRef %v subjects %v, want the Role and the ServiceAccount violations", ref, subjects)
	}
	if slices.Contains(c.Args, "--report-resource-uids=true") {
		t.Errorf("--report-resource-uids is a boolean flag, written bare: %q", c.Args)
	}
}
