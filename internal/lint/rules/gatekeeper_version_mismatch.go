package rules

import (
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

func init() {
	register(&Rule{
		ID:       "gatekeeper-version-mismatch",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit's flags or the connection config's form do not fit the Gatekeeper version of the audit's image.",
		Doc: "Gatekeeper changed how publishing is configured: up to v3.18 the audit takes " +
			"`--enable-pub-sub` and a ConfigMap with `data.provider`; v3.19 takes " +
			"`--enable-violation-export` and a ConfigMap with `data.driver`; v3.20 and later take " +
			"`--enable-violation-export` and a `Connection` resource " +
			"(`connection.gatekeeper.sh/v1alpha1`). Publishing exists from v3.13. The version is " +
			"read from the manager container's image tag; tags that are not versions are not checked.",
		Remediation:     "Use the form of the version you run, or change the image tag.",
		Check:           checkGatekeeperVersion,
		InputAuditsOnly: true,
	})
}

func checkGatekeeperVersion(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if a.Version == nil {
			continue
		}
		v := *a.Version
		_, pubsub := a.Last(model.FlagEnablePubsub)
		_, export := a.Last(model.FlagEnableExport)
		switch {
		case !v.AtLeast(3, 13):
			for _, n := range []string{model.FlagEnablePubsub, model.FlagEnableExport} {
				if _, ok := a.Last(n); ok {
					r.Report(a.Obj, a.FlagPath(n), "Gatekeeper %s has no --%s: publishing violations needs v3.13 or later", v, n)
				}
			}
			continue
		case !v.AtLeast(3, 19) && export:
			r.Report(a.Obj, a.FlagPath(model.FlagEnableExport), "--%s is a flag of Gatekeeper v3.19 and later; %s takes --%s", model.FlagEnableExport, v, model.FlagEnablePubsub)
		case v.AtLeast(3, 19) && pubsub:
			r.Report(a.Obj, a.FlagPath(model.FlagEnablePubsub), "--%s was replaced by --%s in Gatekeeper v3.19; the image is %s", model.FlagEnablePubsub, model.FlagEnableExport, v)
		}
		c := s.ConnectionOf(a)
		if c == nil {
			continue
		}
		want := connection.ConfigMapProvider
		switch {
		case v.AtLeast(3, 20):
			want = connection.Resource
		case v.AtLeast(3, 19):
			want = connection.ConfigMapDriver
		}
		if c.Form == want {
			continue
		}
		field := model.P("kind")
		if !c.IsResource() && c.HasDriver {
			field = c.DriverPath()
		}
		wants := want.String()
		if want == connection.Resource {
			wants += " (" + connection.APIVersion + ")"
		}
		r.Report(c.Obj, field, "connection config %q is %s, but Gatekeeper %s (the audit's image) reads %s", c.Name, c.Form, v, wants)
	}
}
