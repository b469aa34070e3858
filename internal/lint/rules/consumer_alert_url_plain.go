package rules

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "consumer-alert-url-plain",
		Severity: Error,
		Category: CatSubscriber,
		Summary:  "An alert route of the violations consumer writes a credential-bearing URL (Slack's, or a webhook's with user info or a query) in a ConfigMap or the manifest.",
		Doc: "`violations serve --alerts-config FILE` reads alert routes, each with one sink, `webhook` " +
			"or `slack`, whose URL is written as `url`, read from a file (`urlFile`, a mounted Secret) " +
			"or from a variable (`urlEnv`). A Slack incoming webhook's URL is its credential: whoever " +
			"has it posts to the channel. A webhook URL with user info (`https://user:password@host`) " +
			"or a query (`?token=…`) carries one too. Written as `url` in a ConfigMap, it is in plain " +
			"text in Git and for anyone who can read the ConfigMap, and `violations serve` refuses " +
			"the file at start. The rule reads the ConfigMap key a consumer's `--alerts-config` " +
			"names through its volume mounts (a `configMap` volume, or a `projected` volume's " +
			"`configMap` source), and any other ConfigMap key named `alerts.yaml` that holds a " +
			"`routes` list. For a consumer among the inputs it also reports a route's `urlEnv` whose " +
			"variable the container sets with a plain `value` holding such a URL. The finding shows " +
			"the URL as `scheme://host/…` only.",
		Remediation: "Put the URL in a Secret in the consumer's namespace, mount its key as a file and give " +
			"`urlFile` (the chart: `urlSecret: {name, key}`), or set the variable with " +
			"`valueFrom.secretKeyRef`; then regenerate the webhook URL (or token), which the manifest has exposed.",
		Check: checkConsumerAlertURLPlain,
	})
}

func checkConsumerAlertURLPlain(s *model.Setup, r *Reporter) {
	for _, f := range s.AlertsFiles() {
		routes, ok := model.ParseAlertRoutes(f.Text)
		if !ok {
			continue
		}
		usedBy := ""
		if f.Consumer != nil {
			usedBy = fmt.Sprintf(" (the --alerts-config of %s of %s %s/%s)", f.Consumer.Describe(), f.Consumer.Workload.Obj.Kind(), f.Consumer.Workload.Obj.NS, f.Consumer.Workload.Obj.Name())
		}
		for _, rt := range routes {
			field := fmt.Sprintf("routes[%d]", rt.Index)
			if rt.Name != "" {
				field += " (" + rt.Name + ")"
			}
			if u := rt.URL; u != nil {
				if why, bad := credentialURL(rt.Sink, u.Value); bad {
					at := f.DataPath().Add(model.Inner{Line: u.Line, Column: u.Column}, "routes", rt.Index, rt.Sink, "url")
					r.Report(f.Obj, at, "%s.%s.url in key %s writes %s %q in the ConfigMap%s: %s, readable by anyone who can read the ConfigMap, and violations serve refuses the file; %s",
						field, rt.Sink, f.Key, Prose(sinkURL(rt.Sink)), RedactAlertURL(u.Value), Prose(usedBy), Prose(why), Prose(alertURLFix))
				}
			}
			if rt.URLEnv == "" || f.Consumer == nil {
				continue
			}
			e, ok := f.Consumer.Container.Env[rt.URLEnv]
			if !ok || strings.Contains(e.Value, "$(") {
				continue
			}
			if why, bad := credentialURL(rt.Sink, e.Value); bad {
				r.Report(f.Consumer.Workload.Obj, e.Field, "%s has env %s with a plain value, %s %q, which %s.%s.urlEnv of key %s in ConfigMap %s/%s reads: %s, readable by anyone who can read the %s; set %s with valueFrom.secretKeyRef",
					Prose(f.Consumer.Describe()), rt.URLEnv, Prose(sinkURL(rt.Sink)), RedactAlertURL(e.Value), field, rt.Sink, f.Key, f.Obj.NS, f.Obj.Name(), Prose(why), f.Consumer.Workload.Obj.Kind(), rt.URLEnv)
			}
		}
	}
}

const alertURLFix = "keep it in a Secret and give urlFile (a mounted Secret key; the chart's urlSecret) or urlEnv (a variable set from a Secret)"

// credentialURL says whether a sink's URL carries a credential, as the
// consumer judges it (internal/consumer/alerts): every Slack URL; a
// webhook URL with user info or a query.
func credentialURL(sink, s string) (string, bool) {
	if sink == "slack" {
		return "a Slack webhook URL is a credential", true
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false
	}
	switch {
	case u.User != nil:
		return "its user info is a credential", true
	case u.RawQuery != "":
		return "its query carries a credential (a token)", true
	}
	return "", false
}

func sinkURL(sink string) string {
	if sink == "slack" {
		return "the Slack webhook URL"
	}
	return "the webhook URL"
}

// RedactAlertURL shows an alert URL as scheme://host/… only: no user
// info, path or query, where the credentials are.
func RedactAlertURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(not shown)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
