package chart_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestNetworkPolicies renders networkPolicy.* and checks, for every case,
// what any policy of the chart must do (checkPolicyInvariants), then the
// case's policies and the ports each admits and allows.
func TestNetworkPolicies(t *testing.T) {
	npFile := filepath.Join("testdata", "values-networkpolicy.yaml")
	cases := []struct {
		name      string
		set       []string
		setString []string
		files     []string
		// policies are the NetworkPolicies rendered, as namespace/name.
		policies []string
		// ingress and egress are the ports each policy admits from and
		// allows to any of its peers.
		ingress map[string][]int32
		egress  map[string][]int32
		// egressTo are the peers allowed on a port ("namespace/name port"),
		// as peerString writes them; "any" when the rule has none.
		egressTo map[string]string
	}{
		{
			name: "off by default",
			set:  []string{"audit.enablePubsub=true", "subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations"},
		},
		{
			name:     "defaults: audit exporting to disk and subscriber",
			set:      []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "subscriber.enabled=true", "networkPolicy.enabled=true"},
			policies: []string{"fake-subscriber/sub", "gatekeeper-system/gatekeeper-audit"},
			ingress:  map[string][]int32{"fake-subscriber/sub": nil, "gatekeeper-system/gatekeeper-audit": nil},
			egress: map[string][]int32{
				"gatekeeper-system/gatekeeper-audit": {53, 443, 6379, 6443, 6500, 50001},
				// No API server: the subscriber has no token.
				"fake-subscriber/sub": {53, 6379, 6500, 50001},
			},
			egressTo: map[string]string{
				"gatekeeper-system/gatekeeper-audit 53":    "ns{kubernetes.io/metadata.name=kube-system} pods{k8s-app=kube-dns}",
				"gatekeeper-system/gatekeeper-audit 443":   "any",
				"gatekeeper-system/gatekeeper-audit 6379":  "any",
				"gatekeeper-system/gatekeeper-audit 50001": "ns{kubernetes.io/metadata.name=dapr-system} pods{app=dapr-sentry}",
				"gatekeeper-system/gatekeeper-audit 6500":  "ns{kubernetes.io/metadata.name=dapr-system} pods{app=dapr-operator}",
				"fake-subscriber/sub 50001":                "ns{kubernetes.io/metadata.name=dapr-system} pods{app=dapr-sentry}",
			},
		},
		{
			name:     "every value: audit and consumer",
			set:      []string{"audit.enablePubsub=true", "consumer.enabled=true"},
			files:    []string{npFile},
			policies: []string{"gatekeeper-system/gatekeeper-audit", "gatekeeper-violations/violations"},
			ingress: map[string][]int32{
				// The manager's and daprd's metrics (dapr.io/metrics-port 9999).
				"gatekeeper-system/gatekeeper-audit": {8888, 9999},
				// The API (and /metrics) and daprd's metrics; not the app port 6002.
				"gatekeeper-violations/violations": {8080, 9090},
			},
			egress: map[string][]int32{
				"gatekeeper-system/gatekeeper-audit": {53, 6379, 6443, 6500, 8090, 50001, 50006},
				"gatekeeper-violations/violations":   {53, 5432, 6379, 6443, 6500, 50001, 50006},
			},
			egressTo: map[string]string{
				"gatekeeper-system/gatekeeper-audit 53":   "ipBlock 169.254.20.10/32; ns{kubernetes.io/metadata.name=kube-system} pods{k8s-app=kube-dns}",
				"gatekeeper-system/gatekeeper-audit 6443": "ipBlock 172.18.0.2/32",
				"gatekeeper-system/gatekeeper-audit 6379": "ns{kubernetes.io/metadata.name=redis} pods{app.kubernetes.io/name=redis}",
				"gatekeeper-violations/violations 6443":   "ipBlock 172.18.0.2/32",
				"gatekeeper-violations/violations 5432":   "ipBlock 10.30.0.5/32",
			},
		},
		{
			name:     "audit without pubsub: no Dapr, no broker",
			set:      []string{"networkPolicy.enabled=true"},
			policies: []string{"gatekeeper-system/gatekeeper-audit"},
			ingress:  map[string][]int32{"gatekeeper-system/gatekeeper-audit": nil},
			egress:   map[string][]int32{"gatekeeper-system/gatekeeper-audit": {53, 443, 6443}},
		},
		{
			name:     "audit from Gatekeeper's chart: the consumer's policy only",
			set:      []string{"audit.enablePubsub=true", "audit.deploy=false", "consumer.enabled=true", "networkPolicy.enabled=true", "networkPolicy.consumer.apiFrom[0].podSelector.matchLabels.app=cli"},
			policies: []string{"gatekeeper-violations/violations"},
			ingress:  map[string][]int32{"gatekeeper-violations/violations": {8080}},
			egress:   map[string][]int32{"gatekeeper-violations/violations": {53, 443, 6379, 6443, 6500, 50001}},
		},
		{
			name: "kafka: the type's ports",
			set: []string{"audit.enablePubsub=true", "networkPolicy.enabled=true", "component.type=pubsub.kafka", "component.metadata[0].name=brokers",
				"component.metadata[0].value=kafka:9092", "component.metadata[1].name=authType", "component.metadata[1].value=none"},
			policies: []string{"gatekeeper-system/gatekeeper-audit"},
			egress:   map[string][]int32{"gatekeeper-system/gatekeeper-audit": {53, 443, 6443, 6500, 9092, 9093, 50001}},
		},
		{
			name: "Redis on another port",
			set: []string{"audit.enablePubsub=true", "networkPolicy.enabled=true", "networkPolicy.broker.ports={6380}",
				"component.metadata[0].name=redisHost", "component.metadata[0].value=redis.redis:6380"},
			policies: []string{"gatekeeper-system/gatekeeper-audit"},
			egress:   map[string][]int32{"gatekeeper-system/gatekeeper-audit": {53, 443, 6380, 6443, 6500, 50001}},
		},
		{
			name:      "daprd metrics ports from the annotations",
			set:       []string{"audit.enablePubsub=true", "subscriber.enabled=true", "networkPolicy.enabled=true", "networkPolicy.metricsFrom[0].ipBlock.cidr=10.9.0.0/16"},
			setString: []string{`auditPodAnnotations.dapr\.io/metrics-port=9191`, `subscriber.podAnnotations.dapr\.io/metrics-port=9292`},
			policies:  []string{"fake-subscriber/sub", "gatekeeper-system/gatekeeper-audit"},
			ingress:   map[string][]int32{"gatekeeper-system/gatekeeper-audit": {8888, 9191}, "fake-subscriber/sub": {9292}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vs := valueSet{name: tc.name, set: tc.set, setString: tc.setString, files: tc.files}
			objs := renderSet(t, vs, true).Objects
			pols := map[string]networkingv1.NetworkPolicy{}
			var names []string
			for _, o := range find(objs, "NetworkPolicy") {
				if o.APIVersion() != "networking.k8s.io/v1" {
					t.Errorf("%s: apiVersion %s, want networking.k8s.io/v1", o, o.APIVersion())
				}
				key := o.Namespace() + "/" + o.Name()
				pols[key] = decode[networkingv1.NetworkPolicy](t, o.Obj)
				names = append(names, key)
			}
			sort.Strings(names)
			if !slices.Equal(names, tc.policies) {
				t.Fatalf("NetworkPolicies %v, want %v", names, tc.policies)
			}
			if len(pols) > 0 {
				checkPolicyInvariants(t, objs, pols)
			}
			for key, want := range tc.ingress {
				if got := policyPorts(pols[key].Spec.Ingress, nil); !slices.Equal(got, want) {
					t.Errorf("NetworkPolicy %s: spec.ingress admits ports %v, want %v", key, got, want)
				}
			}
			for key, want := range tc.egress {
				if got := policyPorts(nil, pols[key].Spec.Egress); !slices.Equal(got, want) {
					t.Errorf("NetworkPolicy %s: spec.egress allows ports %v, want %v", key, got, want)
				}
			}
			for k, want := range tc.egressTo {
				key, port, _ := strings.Cut(k, " ")
				if got := egressPeers(pols[key], port); got != want {
					t.Errorf("NetworkPolicy %s: spec.egress to port %s: peers %q, want %q", key, port, got, want)
				}
			}
		})
	}
}

// checkPolicyInvariants: one policy per Deployment, selecting its pods and
// no other pod of the render (the helm test pod included), denying by
// default both ways, admitting no source it does not name, never an app
// port (daprd calls the app on loopback), and allowing DNS, and with a
// daprd sidecar Dapr's sentry and operator, and the API server exactly to
// the pods that hold a service account token.
func checkPolicyInvariants(t *testing.T, objs []render.Object, pols map[string]networkingv1.NetworkPolicy) {
	t.Helper()
	type podT struct {
		what string
		ns   string
		tmpl corev1.PodTemplateSpec
	}
	var pods []podT
	for _, o := range find(objs, "Deployment") {
		d := decode[appsv1.Deployment](t, o.Obj)
		pods = append(pods, podT{o.String(), d.Namespace, d.Spec.Template})
	}
	for _, o := range find(objs, "Pod") {
		p := decode[corev1.Pod](t, o.Obj)
		pods = append(pods, podT{o.String(), p.Namespace, corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}})
	}
	selected := map[string]string{}
	for key, p := range pols {
		what := "NetworkPolicy " + key
		if want := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}; !reflect.DeepEqual(p.Spec.PolicyTypes, want) {
			t.Errorf("%s: spec.policyTypes %v, want %v", what, p.Spec.PolicyTypes, want)
		}
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil || sel.Empty() {
			t.Fatalf("%s: spec.podSelector %v selects every pod of its namespace (%v)", what, p.Spec.PodSelector, err)
		}
		var mine []podT
		for _, pod := range pods {
			if pod.ns == p.Namespace && sel.Matches(labels.Set(pod.tmpl.Labels)) {
				mine = append(mine, pod)
				if prev, ok := selected[pod.what]; ok {
					t.Errorf("%s selected by %s and %s", pod.what, prev, what)
				}
				selected[pod.what] = what
			}
		}
		if len(mine) != 1 || !strings.Contains(mine[0].what, "Deployment") {
			t.Fatalf("%s: spec.podSelector selects %v, want one Deployment's pods", what, mine)
		}
		pod := mine[0].tmpl
		for i, r := range p.Spec.Ingress {
			if len(r.From) == 0 {
				t.Errorf("%s: spec.ingress[%d] has no from: it admits any source", what, i)
			}
			for _, port := range r.Ports {
				if app := pod.Annotations["dapr.io/app-port"]; port.Port != nil && port.Port.String() == app {
					t.Errorf("%s: spec.ingress[%d] admits the app port %s, which daprd reaches on loopback", what, i, app)
				}
			}
		}
		egress := policyPorts(nil, p.Spec.Egress)
		if got := egressPeers(p, "53"); !strings.Contains(got, "kube-dns") || !hasProtocols(p.Spec.Egress, 53) {
			t.Errorf("%s: spec.egress: DNS on 53 to %q over %v, want the cluster DNS over UDP and TCP", what, got, egress)
		}
		dapr := pod.Annotations["dapr.io/enabled"] == "true"
		for _, port := range []int32{50001, 6500} {
			if slices.Contains(egress, port) != dapr {
				t.Errorf("%s: spec.egress allows Dapr's port %d: %v, but the pod's daprd sidecar: %v", what, port, !dapr, dapr)
			}
		}
		for _, port := range []int32{50002, 50005, 50006} {
			if slices.Contains(egress, port) && !strings.Contains(egressPeers(p, fmt.Sprint(port)), "scheduler") {
				t.Errorf("%s: spec.egress allows %d, which pubsub does not need", what, port)
			}
		}
		token := pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken
		if slices.Contains(egress, 443) || slices.Contains(egress, 6443) {
			if !token {
				t.Errorf("%s: spec.egress allows the API server to pods without a service account token", what)
			}
		} else if token {
			t.Errorf("%s: spec.egress does not allow the API server (443, 6443 or networkPolicy.apiServer.ports) to pods that call it", what)
		}
	}
	for _, pod := range pods {
		if _, ok := selected[pod.what]; !ok && strings.Contains(pod.what, "Deployment") {
			t.Errorf("%s is selected by no NetworkPolicy", pod.what)
		}
	}
}

// policyPorts lists the numbered ports of the rules, sorted, once each.
func policyPorts(in []networkingv1.NetworkPolicyIngressRule, out []networkingv1.NetworkPolicyEgressRule) []int32 {
	var ports []networkingv1.NetworkPolicyPort
	for _, r := range in {
		ports = append(ports, r.Ports...)
	}
	for _, r := range out {
		ports = append(ports, r.Ports...)
	}
	var got []int32
	for _, p := range ports {
		if p.Port != nil && !slices.Contains(got, p.Port.IntVal) {
			got = append(got, p.Port.IntVal)
		}
	}
	slices.Sort(got)
	return got
}

// hasProtocols says whether an egress rule allows port over UDP and TCP.
func hasProtocols(rules []networkingv1.NetworkPolicyEgressRule, port int32) bool {
	seen := map[corev1.Protocol]bool{}
	for _, r := range rules {
		for _, p := range r.Ports {
			if p.Port != nil && p.Port.IntVal == port && p.Protocol != nil {
				seen[*p.Protocol] = true
			}
		}
	}
	return seen[corev1.ProtocolUDP] && seen[corev1.ProtocolTCP]
}

// egressPeers describes the peers of the egress rules that allow port:
// "ipBlock CIDR" or "ns{k=v} pods{k=v}", joined by "; ", or "any".
func egressPeers(p networkingv1.NetworkPolicy, port string) string {
	var out []string
	for _, r := range p.Spec.Egress {
		if !slices.ContainsFunc(r.Ports, func(pp networkingv1.NetworkPolicyPort) bool { return pp.Port != nil && pp.Port.String() == port }) {
			continue
		}
		if len(r.To) == 0 {
			out = append(out, "any")
		}
		for _, peer := range r.To {
			out = append(out, peerString(peer))
		}
	}
	return strings.Join(out, "; ")
}

func peerString(p networkingv1.NetworkPolicyPeer) string {
	if p.IPBlock != nil {
		return "ipBlock " + p.IPBlock.CIDR
	}
	var parts []string
	for _, s := range []struct {
		name string
		sel  *metav1.LabelSelector
	}{{"ns", p.NamespaceSelector}, {"pods", p.PodSelector}} {
		if s.sel != nil {
			parts = append(parts, s.name+"{"+metav1.FormatLabelSelector(s.sel)+"}")
		}
	}
	return strings.Join(parts, " ")
}

// TestComponentScopes: every Component is scoped to the app-ids that use
// it unless component.allowAllApps is set.
func TestComponentScopes(t *testing.T) {
	all := []string{"audit.enablePubsub=true", "subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations"}
	cases := []struct {
		name string
		set  []string
		// want maps each Component's namespace to its scopes (nil: none).
		want map[string][]any
	}{
		{"defaults", all, map[string][]any{"gatekeeper-system": {"audit"}, "fake-subscriber": {"subscriber"}, "gatekeeper-violations": {"violations"}}},
		{"audit's app-id from the annotations", append(slices.Clone(all), `auditPodAnnotations.dapr\.io/app-id=auditor`),
			map[string][]any{"gatekeeper-system": {"auditor"}, "fake-subscriber": {"subscriber"}, "gatekeeper-violations": {"violations"}}},
		{"component.scopes", append(slices.Clone(all), "component.scopes={audit,tester}"),
			map[string][]any{"gatekeeper-system": {"audit", "tester"}, "fake-subscriber": {"subscriber"}, "gatekeeper-violations": {"violations"}}},
		{"disk export: pubsub-forward publishes as the audit", []string{"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk"},
			map[string][]any{"gatekeeper-system": {"audit"}}},
		{"allowAllApps", append(slices.Clone(all), "component.allowAllApps=true"),
			map[string][]any{"gatekeeper-system": nil, "fake-subscriber": nil, "gatekeeper-violations": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := renderSet(t, valueSet{name: tc.name, set: tc.set}, true).Objects
			got := map[string][]any{}
			for _, c := range find(objs, "Component") {
				s, _ := render.Lookup(c.Obj, "scopes")
				l, _ := s.([]any)
				got[c.Namespace()] = l
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Component scopes by namespace %v, want %v", got, tc.want)
			}
			// The helm test pod publishes with the audit's app-id, which the
			// scopes must admit.
			for _, p := range find(objs, "Pod") {
				id := decode[corev1.Pod](t, p.Obj).Annotations["dapr.io/app-id"]
				if s := got[namespace]; s != nil && !slices.Contains(s, any(id)) {
					t.Errorf("%s publishes as %q, which the Component's scopes %v leave out", p, id, s)
				}
			}
		})
	}
}
