// Package alerts tells people what a complete audit run changed: for each
// route whose selection matches, one message per run with the violations
// that are new and those resolved (none when nothing changed), to a
// generic webhook or a Slack incoming webhook. Alerts go through an outbox
// in the store: planned in the transaction that moves the cluster's
// cursor past the run, sent with retries and backoff, kept across
// restarts, and identified by a key the receiver can use to drop repeats.
package alerts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/secretfile"
)

// Config is the file --alerts-config names.
type Config struct {
	Routes []Route `json:"routes"`
}

// Route is where the alerts of a selection of violations go.
type Route struct {
	// Name identifies the route in metrics, logs and the outbox; renaming
	// a route leaves its pending alerts behind.
	Name string `json:"name"`
	// Match selects the violations; an empty Match selects all.
	Match Match `json:"match,omitempty"`
	// Exactly one sink.
	Webhook *Endpoint `json:"webhook,omitempty"`
	Slack   *Endpoint `json:"slack,omitempty"`
	// MaxItems cuts each list (new, resolved) of a message, with a count
	// of the rest (default 20, at most 100).
	MaxItems int `json:"maxItems,omitempty"`
	// Timeout bounds one attempt (default 10s).
	Timeout Duration `json:"timeout,omitempty"`
}

// Match selects violations. Within a field any entry matches; all fields
// must match.
type Match struct {
	// Clusters are the consumer's --cluster names.
	Clusters []string `json:"clusters,omitempty"`
	// Namespaces are globs (path.Match); "" selects cluster-scoped
	// resources.
	Namespaces []string `json:"namespaces,omitempty"`
	// Constraints are "Kind" or "Kind/name", the name a glob.
	Constraints []string `json:"constraints,omitempty"`
	// EnforcementActions: deny, warn, dryrun, scoped.
	EnforcementActions []string `json:"enforcementActions,omitempty"`
}

// Endpoint is a sink's address. Its URL comes from a file (a mounted
// Secret) or an environment variable (set from a Secret); a webhook's URL
// may be written in the file only when it holds no credential. A relative
// urlFile or tokenFile is relative to the routes file's directory.
type Endpoint struct {
	URL     string `json:"url,omitempty"`
	URLFile string `json:"urlFile,omitempty"`
	URLEnv  string `json:"urlEnv,omitempty"`
	// TokenFile holds a bearer token sent in Authorization (webhook).
	TokenFile string `json:"tokenFile,omitempty"`
}

// Duration is a time.Duration written as "10s".
type Duration time.Duration

// UnmarshalJSON reads "10s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("want a duration such as \"10s\", got %s", b)
	}
	s = strings.Trim(string(b), `"`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"10s\": %w", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes "10s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// Sink kinds.
const (
	SinkWebhook = "webhook"
	SinkSlack   = "slack"
)

// Default and largest MaxItems; default Timeout.
const (
	DefaultMaxItems = 20
	MaxMaxItems     = 100
	DefaultTimeout  = 10 * time.Second
	maxConfigBytes  = 1 << 20
	maxSecretBytes  = 8 << 10
)

var routeName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Load reads and checks the file; its errors name the file, the route and
// the field.
func Load(file string) (Config, error) {
	f, err := os.Open(file)
	if err != nil {
		return Config{}, fmt.Errorf("--alerts-config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("--alerts-config %s: %w", file, err)
	}
	if len(b) > maxConfigBytes {
		return Config{}, fmt.Errorf("--alerts-config %s: over %d bytes", file, maxConfigBytes)
	}
	c, err := Parse(file, b)
	if err != nil {
		return c, err
	}
	c.relativeTo(filepath.Dir(file))
	return c, nil
}

// relativeTo makes the relative urlFile and tokenFile paths relative to
// dir, the routes file's directory: the chart writes them so, beside the
// file in one mounted volume.
func (c *Config) relativeTo(dir string) {
	for _, r := range c.Routes {
		for _, ep := range []*Endpoint{r.Webhook, r.Slack} {
			if ep == nil {
				continue
			}
			for _, f := range []*string{&ep.URLFile, &ep.TokenFile} {
				if *f != "" && !filepath.IsAbs(*f) {
					*f = filepath.Join(dir, *f)
				}
			}
		}
	}
}

// Parse reads a configuration; name is the file it came from, for errors.
func Parse(name string, b []byte) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(b)) == 0 {
		return c, fmt.Errorf("%s: empty; want a routes list", name)
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func (c *Config) validate() error {
	var errs []error
	if len(c.Routes) == 0 {
		errs = append(errs, errors.New("routes: none; give at least one"))
	}
	seen := map[string]bool{}
	for i := range c.Routes {
		r := &c.Routes[i]
		where := fmt.Sprintf("routes[%d]", i)
		if r.Name != "" {
			where = fmt.Sprintf("routes[%d] (%s)", i, r.Name)
		}
		bad := func(field, format string, a ...any) {
			errs = append(errs, fmt.Errorf("%s.%s: %s", where, field, fmt.Sprintf(format, a...)))
		}
		switch {
		case !routeName.MatchString(r.Name):
			bad("name", "%q: want lower-case letters, digits and '-', at most 63", r.Name)
		case seen[r.Name]:
			bad("name", "%q names two routes", r.Name)
		}
		seen[r.Name] = true
		switch {
		case r.Webhook == nil && r.Slack == nil:
			bad("webhook", "no sink: give webhook or slack")
		case r.Webhook != nil && r.Slack != nil:
			bad("slack", "both webhook and slack: a route has one sink")
		case r.Webhook != nil:
			if err := r.Webhook.check(SinkWebhook); err != nil {
				bad("webhook", "%v", err)
			}
		default:
			if err := r.Slack.check(SinkSlack); err != nil {
				bad("slack", "%v", err)
			}
		}
		if r.MaxItems == 0 {
			r.MaxItems = DefaultMaxItems
		}
		if r.MaxItems < 1 || r.MaxItems > MaxMaxItems {
			bad("maxItems", "%d: want 1 to %d", r.MaxItems, MaxMaxItems)
		}
		if r.Timeout == 0 {
			r.Timeout = Duration(DefaultTimeout)
		}
		if time.Duration(r.Timeout) < 100*time.Millisecond || time.Duration(r.Timeout) > 5*time.Minute {
			bad("timeout", "%s: want 100ms to 5m", time.Duration(r.Timeout))
		}
		for j, ns := range r.Match.Namespaces {
			if _, err := path.Match(ns, ""); err != nil {
				bad(fmt.Sprintf("match.namespaces[%d]", j), "%q is not a glob: %v", ns, err)
			}
		}
		for j, c := range r.Match.Constraints {
			kind, name, _ := strings.Cut(c, "/")
			if kind == "" {
				bad(fmt.Sprintf("match.constraints[%d]", j), "%q: want Kind or Kind/name", c)
			} else if _, err := path.Match(name, ""); err != nil {
				bad(fmt.Sprintf("match.constraints[%d]", j), "%q: the name is not a glob: %v", c, err)
			}
		}
		for j, a := range r.Match.EnforcementActions {
			switch a {
			case "deny", "warn", "dryrun", "scoped":
			default:
				bad(fmt.Sprintf("match.enforcementActions[%d]", j), "%q: want deny, warn, dryrun or scoped", a)
			}
		}
	}
	return errors.Join(errs...)
}

// check tells what is wrong with an endpoint as written (not yet read).
func (e *Endpoint) check(kind string) error {
	n := 0
	for _, s := range []string{e.URL, e.URLFile, e.URLEnv} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("give exactly one of url, urlFile and urlEnv")
	}
	if e.URL != "" {
		if kind == SinkSlack {
			return errors.New("url: a Slack webhook URL is a credential; give urlFile (a mounted Secret) or urlEnv (set from a Secret)")
		}
		if err := plainURL(e.URL); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	}
	if kind == SinkSlack && e.TokenFile != "" {
		return errors.New("tokenFile: Slack's incoming webhooks take no token; the URL is the credential")
	}
	return nil
}

// plainURL refuses a URL written in the configuration that carries a
// credential: user info or a query (tokens travel there).
func plainURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if u.User != nil || u.RawQuery != "" {
		return errors.New("it carries a credential (user info or a query); give urlFile or urlEnv and keep it in a Secret")
	}
	return checkURL(u)
}

func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("want an http or https URL with a host, got scheme %q host %q", u.Scheme, u.Host)
	}
	return nil
}

// target is an endpoint read: its URL and token.
type target struct {
	url   string
	token string
}

// resolve reads the endpoint's URL and token from where they are kept.
func (e *Endpoint) resolve(getenv func(string) string) (target, error) {
	var t target
	switch {
	case e.URL != "":
		t.url = e.URL
	case e.URLFile != "":
		s, err := readSecret(e.URLFile)
		if err != nil {
			return t, fmt.Errorf("urlFile: %w", err)
		}
		t.url = s
	default:
		t.url = strings.TrimSpace(getenv(e.URLEnv))
		if t.url == "" {
			return t, fmt.Errorf("urlEnv: $%s is empty or not set", e.URLEnv)
		}
	}
	u, err := url.Parse(t.url)
	if err != nil {
		return t, errors.New("the URL read does not parse (not shown: it may hold a credential)")
	}
	if err := checkURL(u); err != nil {
		return t, fmt.Errorf("the URL read: %w", err)
	}
	if e.TokenFile != "" {
		if t.token, err = readSecret(e.TokenFile); err != nil {
			return t, fmt.Errorf("tokenFile: %w", err)
		}
	}
	return t, nil
}

func readSecret(file string) (string, error) { return secretfile.Read(file, maxSecretBytes) }
