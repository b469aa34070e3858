package alerts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // part of the error; "" for none
	}{
		{"a webhook with a plain URL", "routes:\n- name: audit\n  webhook: {url: 'https://hooks.example/alerts'}\n", ""},
		{"slack from a file, all selectors", `routes:
- name: team-a
  slack: {urlFile: /etc/alerts/slack}
  match: {clusters: [prod], namespaces: ["team-a-*", ""], constraints: [K8sRequiredLabels, "K8sAllowedRepos/prod-*"], enforcementActions: [deny, warn]}
  maxItems: 5
  timeout: 3s
`, ""},
		{"empty", "", "alerts.yaml: empty"},
		{"no routes", "routes: []\n", "routes: none"},
		{"unknown field", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  mach: {}\n", `unknown field "mach"`},
		{"no sink", "routes:\n- name: a\n", "routes[0] (a).webhook: no sink"},
		{"two sinks", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  slack: {urlEnv: SLACK}\n", "routes[0] (a).slack: both webhook and slack"},
		{"slack URL written inline", "routes:\n- name: a\n  slack: {url: 'https://hooks.slack.example/services/T/B/secret'}\n", "routes[0] (a).slack: url: a Slack webhook URL is a credential"},
		{"webhook URL with a token in its query", "routes:\n- name: a\n  webhook: {url: 'https://x.example/hook?token=s3cret'}\n", "routes[0] (a).webhook: url: it carries a credential"},
		{"webhook URL with user info", "routes:\n- name: a\n  webhook: {url: 'https://u:p@x.example/hook'}\n", "it carries a credential"},
		{"webhook URL not http", "routes:\n- name: a\n  webhook: {url: 'ftp://x.example/hook'}\n", `want an http or https URL with a host, got scheme "ftp"`},
		{"url and urlFile", "routes:\n- name: a\n  webhook: {url: 'https://x.example/', urlFile: /f}\n", "exactly one of url, urlFile and urlEnv"},
		{"slack with a token", "routes:\n- name: a\n  slack: {urlEnv: S, tokenFile: /t}\n", "tokenFile: Slack's incoming webhooks take no token"},
		{"bad name", "routes:\n- name: Team_A\n  webhook: {url: 'https://x.example/'}\n", `routes[0] (Team_A).name: "Team_A": want lower-case`},
		{"same name twice", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n- name: a\n  webhook: {url: 'https://y.example/'}\n", `routes[1] (a).name: "a" names two routes`},
		{"maxItems too large", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  maxItems: 1000\n", "routes[0] (a).maxItems: 1000: want 1 to 100"},
		{"timeout not a duration", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  timeout: 10\n", `want a duration such as "10s"`},
		{"timeout too long", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  timeout: 1h\n", "routes[0] (a).timeout: 1h0m0s: want 100ms to 5m"},
		{"bad glob", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  match: {namespaces: ['team-[']}\n", `routes[0] (a).match.namespaces[0]: "team-[" is not a glob`},
		{"constraint without kind", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  match: {constraints: ['/x']}\n", `match.constraints[0]: "/x": want Kind or Kind/name`},
		{"unknown action", "routes:\n- name: a\n  webhook: {url: 'https://x.example/'}\n  match: {enforcementActions: [block]}\n", `match.enforcementActions[0]: "block": want deny, warn, dryrun or scoped`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("alerts.yaml", []byte(tc.yaml))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range c.Routes {
					if r.MaxItems < 1 || r.Timeout <= 0 {
						t.Errorf("route %s: defaults not applied: %+v", r.Name, r)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "alerts.yaml: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	url := write("url", "https://hooks.example/T/B/s3cret\n")
	token := write("token", " tok \n")
	empty := write("empty", "\n")
	notURL := write("noturl", "s3cret-not-a-url")
	env := map[string]string{"HOOK": "https://hooks.example/env"}
	for _, tc := range []struct {
		name       string
		ep         Endpoint
		wantURL    string
		wantToken  string
		wantErr    string
		notInError string
	}{
		{"from a file", Endpoint{URLFile: url, TokenFile: token}, "https://hooks.example/T/B/s3cret", "tok", "", ""},
		{"from the environment", Endpoint{URLEnv: "HOOK"}, "https://hooks.example/env", "", "", ""},
		{"unset variable", Endpoint{URLEnv: "NOPE"}, "", "", "urlEnv: $NOPE is empty or not set", ""},
		{"missing file", Endpoint{URLFile: filepath.Join(dir, "missing")}, "", "", "urlFile: open " + filepath.Join(dir, "missing"), ""},
		{"empty file", Endpoint{URLFile: empty}, "", "", "urlFile: " + empty + " is empty", ""},
		{"a file that is not a URL is not echoed", Endpoint{URLFile: notURL}, "", "", "the URL read: want an http or https URL", "s3cret"},
		{"empty token", Endpoint{URL: "https://x.example/", TokenFile: empty}, "", "", "tokenFile: " + empty + " is empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ep.resolve(func(k string) string { return env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if tc.notInError != "" && strings.Contains(err.Error(), tc.notInError) {
					t.Fatalf("error %q shows the secret", err)
				}
				return
			}
			if err != nil || got.url != tc.wantURL || got.token != tc.wantToken {
				t.Fatalf("%+v %v, want url %q token %q", got, err, tc.wantURL, tc.wantToken)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	v := store.Violation{Cluster: "prod", EnforcementAction: "deny",
		Constraint: store.Constraint{Kind: "K8sRequiredLabels", Name: "prod-owner"},
		Resource:   store.Resource{Kind: "Pod", Namespace: "team-a-web", Name: "web"}}
	clusterScoped := v
	clusterScoped.Resource.Namespace = ""
	for _, tc := range []struct {
		name  string
		m     Match
		v     store.Violation
		match bool
	}{
		{"empty selects all", Match{}, v, true},
		{"cluster", Match{Clusters: []string{"staging", "prod"}}, v, true},
		{"other cluster", Match{Clusters: []string{"staging"}}, v, false},
		{"namespace glob", Match{Namespaces: []string{"team-a-*"}}, v, true},
		{"namespace glob misses", Match{Namespaces: []string{"team-b-*"}}, v, false},
		{"cluster-scoped not selected by a glob", Match{Namespaces: []string{"*"}}, clusterScoped, false},
		{"cluster-scoped selected by the empty namespace", Match{Namespaces: []string{""}}, clusterScoped, true},
		{"constraint kind", Match{Constraints: []string{"K8sRequiredLabels"}}, v, true},
		{"constraint kind and name glob", Match{Constraints: []string{"K8sRequiredLabels/prod-*"}}, v, true},
		{"constraint name misses", Match{Constraints: []string{"K8sRequiredLabels/dev-*"}}, v, false},
		{"other kind", Match{Constraints: []string{"K8sAllowedRepos"}}, v, false},
		{"action", Match{EnforcementActions: []string{"warn", "deny"}}, v, true},
		{"other action", Match{EnforcementActions: []string{"dryrun"}}, v, false},
		{"all fields must match", Match{Clusters: []string{"prod"}, EnforcementActions: []string{"warn"}}, v, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.matches(tc.v); got != tc.match {
				t.Fatalf("matches = %v, want %v", got, tc.match)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	a := &Alerter{opts: Options{MinBackoff: time.Second, MaxBackoff: 10 * time.Second}}
	for _, tc := range []struct {
		attempt int
		max     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {50, 10 * time.Second}} {
		for range 20 {
			d := a.backoff(tc.attempt)
			if d > tc.max || d < tc.max*4/5 {
				t.Fatalf("attempt %d: backoff %s, want %s less at most a fifth", tc.attempt, d, tc.max)
			}
		}
	}
}

// TestLoadRelativePaths: urlFile and tokenFile written relative are read
// beside the routes file (the chart mounts both in one volume); absolute
// ones are kept.
func TestLoadRelativePaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "alerts.yaml")
	cfg := "routes:\n- name: a\n  webhook: {urlFile: a/url, tokenFile: /abs/token}\n- name: b\n  slack: {urlFile: b/url}\n"
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ got, want string }{
		{c.Routes[0].Webhook.URLFile, filepath.Join(dir, "a", "url")},
		{c.Routes[0].Webhook.TokenFile, "/abs/token"},
		{c.Routes[1].Slack.URLFile, filepath.Join(dir, "b", "url")},
	} {
		if tc.got != tc.want {
			t.Errorf("path %q, want %q", tc.got, tc.want)
		}
	}
}
