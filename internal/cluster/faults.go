package cluster

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// GatekeeperManagerRole is the ClusterRole of Gatekeeper's chart that lets
// its audit read every resource (apiGroups and resources "*").
const GatekeeperManagerRole = "gatekeeper-manager-role"

// RevokeGatekeeperRead takes from Gatekeeper's ClusterRole the right to
// read one resource (group "" is the core group): its rule for every
// resource is replaced by rules for every group and resource the API server
// serves but that one, so the audit's List of that kind is forbidden and
// everything else works. restore puts the ClusterRole's rules back.
func (e *Env) RevokeGatekeeperRead(ctx context.Context, group, resource string) (restore func(context.Context) error, err error) {
	cs, err := kubernetes.NewForConfig(e.Kube.Config)
	if err != nil {
		return nil, err
	}
	roles := cs.RbacV1().ClusterRoles()
	role, err := roles.Get(ctx, GatekeeperManagerRole, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading Gatekeeper's ClusterRole: %w", err)
	}
	original := slices.Clone(role.Rules)
	lists, err := cs.Discovery().ServerPreferredResources()
	if err != nil {
		return nil, fmt.Errorf("discovering the served resources: %w", err)
	}
	byGroup := map[string][]string{}
	var groups []string
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, err
		}
		if gv.Group != group {
			if !slices.Contains(groups, gv.Group) {
				groups = append(groups, gv.Group)
			}
			continue
		}
		for _, r := range l.APIResources {
			if r.Name != resource && !slices.Contains(byGroup[gv.Group], r.Name) {
				byGroup[gv.Group] = append(byGroup[gv.Group], r.Name)
			}
		}
	}
	var rules []rbacv1.PolicyRule
	replaced := false
	for _, r := range role.Rules {
		if !slices.Equal(r.APIGroups, []string{"*"}) || !slices.Equal(r.Resources, []string{"*"}) {
			rules = append(rules, r)
			continue
		}
		replaced = true
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: groups, Resources: []string{"*"}, Verbs: r.Verbs},
			rbacv1.PolicyRule{APIGroups: []string{group}, Resources: byGroup[group], Verbs: r.Verbs})
	}
	if !replaced {
		return nil, fmt.Errorf("ClusterRole %s has no rule for every resource to narrow", GatekeeperManagerRole)
	}
	role.Rules = rules
	if _, err := roles.Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("narrowing Gatekeeper's ClusterRole: %w", err)
	}
	return func(ctx context.Context) error {
		role, err := roles.Get(ctx, GatekeeperManagerRole, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading Gatekeeper's ClusterRole: %w", err)
		}
		role.Rules = original
		if _, err := roles.Update(ctx, role, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("restoring Gatekeeper's ClusterRole: %w", err)
		}
		return nil
	}, nil
}
