package rules

import (
	"fmt"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

// Labels the project's chart (templates/_helpers.tpl) and kustomize base put
// on every object: the Gatekeeper version the setup was made for is the
// chart's gatekeeperVersion.
const (
	labelVersion  = "app.kubernetes.io/version"
	labelName     = "app.kubernetes.io/name"
	labelInstance = "app.kubernetes.io/instance"
	labelChart    = "helm.sh/chart"
	projectName   = "gatekeeper-pubsub"
)

func init() {
	register(&Rule{
		ID:       "setup-gatekeeper-version-mismatch",
		Severity: Warning,
		Category: CatAudit,
		Summary:  "The setup was made for another Gatekeeper version (its gatekeeperVersion) than the audit runs (the audit image's tag).",
		Doc: "The project's chart renders for the Gatekeeper version in its `gatekeeperVersion` value: the " +
			"audit's flags (`--enable-pub-sub` or `--enable-violation-export`), the connection config's form " +
			"(a ConfigMap with `provider` or `driver`, or a `Connection`), `--operation=generate` and the NOTES " +
			"with the values for Gatekeeper's own chart. It labels every object it renders with that version " +
			"(`app.kubernetes.io/version`, as the kustomize base does). When the audit runs another version " +
			"(the tag of its manager image), what was rendered may not be what that audit reads. With " +
			"`--live` this compares what is installed: the chart's objects in the cluster against the " +
			"audit Deployment there.\n\n" +
			"Objects are the project's when labelled `helm.sh/chart: gatekeeper-pubsub-*` or " +
			"`app.kubernetes.io/name: gatekeeper-pubsub`. A form that the audit cannot read at all is " +
			"`gatekeeper-version-mismatch`'s error; this warning names both versions.",
		Remediation: "Set `gatekeeperVersion` to the version the audit runs (`helm upgrade ... --set " +
			"gatekeeperVersion=v3.17.0`; kustomize: the `app.kubernetes.io/version` label with the image's " +
			"`newTag`), or upgrade Gatekeeper to the version the setup was made for.",
		Check:           checkSetupGatekeeperVersion,
		InputAuditsOnly: true,
	})
}

// projectObject says whether the object was rendered by the project's chart
// or kustomize base.
func projectObject(o *model.Object) bool {
	l := o.Labels()
	return strings.HasPrefix(l[labelChart], projectName+"-") || l[labelName] == projectName
}

func checkSetupGatekeeperVersion(s *model.Setup, r *Reporter) {
	var audits []*model.Audit
	for _, a := range s.Audits {
		if a.Version != nil {
			audits = append(audits, a)
		}
	}
	if len(audits) == 0 {
		return
	}
	runs := func(v model.Version) bool {
		for _, a := range audits {
			if *a.Version == v {
				return true
			}
		}
		return false
	}
	type group struct {
		instance, label string
		first           *model.Object
		n               int
	}
	var groups []*group
	index := map[[2]string]*group{}
	for _, o := range s.Objects {
		if !projectObject(o) {
			continue
		}
		label := o.Labels()[labelVersion]
		v := model.ParseVersion(label)
		if v == nil || runs(*v) {
			continue
		}
		k := [2]string{o.Labels()[labelInstance], label}
		g := index[k]
		if g == nil {
			g = &group{instance: k[0], label: label, first: o}
			index[k] = g
			groups = append(groups, g)
		}
		g.n++
		// Point at the object the version matters most to.
		if isConnectionObject(o) && !isConnectionObject(g.first) {
			g.first = o
		}
	}
	var running []string
	for _, a := range audits {
		running = append(running, fmt.Sprintf("%s runs %s (Gatekeeper %s)", a.Obj.String(), a.Image, a.Version))
	}
	for _, g := range groups {
		what, verb := g.first.String(), "was"
		if g.n > 1 {
			what += fmt.Sprintf(" and %d other objects", g.n-1)
			verb = "were"
		}
		if g.instance != "" {
			what += fmt.Sprintf(" of release %q", g.instance)
		}
		want := audits[0].Version.String()
		r.Report(g.first, model.P("metadata", "labels", labelVersion),
			"%s %s made for Gatekeeper %s (label %s, the chart's gatekeeperVersion), but %s: the audit's flags and connection config form are rendered for %s; set gatekeeperVersion=%s",
			Prose(what), Prose(verb), g.label, labelVersion, Prose(strings.Join(running, "; ")), g.label, want)
	}
}

func isConnectionObject(o *model.Object) bool {
	return o.Kind() == "Connection" || o.Kind() == "ConfigMap"
}
