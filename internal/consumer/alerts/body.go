package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// Version is the webhook body's version (schemas/alert-webhook.schema.json).
const Version = "gatekeeper-pubsub.io/alert/v1"

// Alert is the body POSTed to a webhook: what one complete run changed in
// one route's selection.
type Alert struct {
	Version string `json:"version"`
	// ID is the idempotency key, also sent as the Idempotency-Key header:
	// the same on every attempt, so a receiver can drop repeats.
	ID       string    `json:"id"`
	Route    string    `json:"route"`
	Cluster  string    `json:"cluster"`
	Run      time.Time `json:"run"`
	RunState string    `json:"runState"`
	JudgedAt time.Time `json:"judgedAt"`
	New      List      `json:"new"`
	Resolved List      `json:"resolved"`
}

// List is the violations of one kind of change, cut to the route's
// maxItems; Omitted counts the rest.
type List struct {
	Count   int    `json:"count"`
	Items   []Item `json:"items"`
	Omitted int    `json:"omitted"`
}

// Item is one violation that changed.
type Item struct {
	Key               string           `json:"key"`
	Change            string           `json:"change"`
	Reason            string           `json:"reason,omitempty"`
	At                time.Time        `json:"at"`
	Constraint        store.Constraint `json:"constraint"`
	Resource          store.Resource   `json:"resource"`
	Message           string           `json:"message"`
	EnforcementAction string           `json:"enforcementAction,omitempty"`
	FirstSeen         time.Time        `json:"firstSeen"`
}

// Key is the idempotency key of a route's alert for a run.
func Key(route, cluster string, run time.Time) string {
	h := sha256.Sum256([]byte(route + "\x00" + cluster + "\x00" + run.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:16])
}

// matches reports whether the route selects the violation.
func (m Match) matches(v store.Violation) bool {
	return anyOf(m.Clusters, func(c string) bool { return c == v.Cluster }) &&
		anyOf(m.Namespaces, func(g string) bool {
			if v.Resource.Namespace == "" {
				return g == "" // only "" selects cluster-scoped resources
			}
			ok, _ := path.Match(g, v.Resource.Namespace)
			return ok
		}) &&
		anyOf(m.Constraints, func(c string) bool {
			kind, name, hasName := strings.Cut(c, "/")
			if kind != v.Constraint.Kind {
				return false
			}
			ok, _ := path.Match(name, v.Constraint.Name)
			return !hasName || ok
		}) &&
		anyOf(m.EnforcementActions, func(a string) bool { return a == v.EnforcementAction })
}

func anyOf(list []string, f func(string) bool) bool {
	if len(list) == 0 {
		return true
	}
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}

// builder gathers one route's alert for a run, keeping at most maxItems of
// each list.
type builder struct {
	route Route
	a     Alert
}

func newBuilder(r Route, ar store.AlertRun) *builder {
	return &builder{route: r, a: Alert{
		Version: Version, ID: Key(r.Name, ar.Cluster, ar.Run), Route: r.Name, Cluster: ar.Cluster,
		Run: ar.Run.UTC(), RunState: ar.State, JudgedAt: ar.FinalizedAt.UTC(),
		New: List{Items: []Item{}}, Resolved: List{Items: []Item{}},
	}}
}

func (b *builder) add(c store.Change) {
	if !b.route.Match.matches(c.Violation) {
		return
	}
	l := &b.a.New
	if c.Kind == store.EventResolved {
		l = &b.a.Resolved
	}
	l.Count++
	if len(l.Items) >= b.route.MaxItems {
		l.Omitted++
		return
	}
	l.Items = append(l.Items, Item{
		Key: c.Key, Change: c.Kind, Reason: c.Reason, At: c.At.UTC(), Constraint: c.Constraint, Resource: c.Resource,
		Message: c.Message, EnforcementAction: c.EnforcementAction, FirstSeen: c.FirstSeen.UTC(),
	})
}

func (b *builder) empty() bool { return b.a.New.Count == 0 && b.a.Resolved.Count == 0 }

// Slack renders an alert as a Slack incoming-webhook message: a summary in
// text (for notifications) and blocks. Slack's mrkdwn treats &, < and > as
// markup; they are escaped, so a message cannot ping or link.
func Slack(a Alert) ([]byte, error) {
	summary := fmt.Sprintf("Gatekeeper audit of %s at %s: %d new, %d resolved", a.Cluster, a.Run.Format(time.RFC3339), a.New.Count, a.Resolved.Count)
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": cut(summary, 150)}},
	}
	for _, part := range []struct {
		title string
		l     List
	}{{"New", a.New}, {"Resolved", a.Resolved}} {
		if part.l.Count == 0 {
			continue
		}
		var lines []string
		for _, it := range part.l.Items {
			ns := it.Resource.Namespace
			if ns != "" {
				ns += "/"
			}
			lines = append(lines, fmt.Sprintf("• *%s* %s%s (%s %s%s): %s", slackEscape(it.Resource.Kind), slackEscape(ns), slackEscape(it.Resource.Name),
				slackEscape(it.Constraint.Kind), slackEscape(it.Constraint.Name), actionNote(it.EnforcementAction), slackEscape(it.Message)))
		}
		text := fmt.Sprintf("*%s: %d*\n%s", part.title, part.l.Count, strings.Join(lines, "\n"))
		// A section's text holds at most 3000 characters.
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": cut(text, 3000)}})
		if part.l.Omitted > 0 {
			blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{
				{"type": "mrkdwn", "text": fmt.Sprintf("and %d more %s", part.l.Omitted, strings.ToLower(part.title))},
			}})
		}
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{
		{"type": "mrkdwn", "text": fmt.Sprintf("run %s · %s · route %s · id %s", a.Run.Format(time.RFC3339), a.RunState, slackEscape(a.Route), a.ID)},
	}})
	return json.Marshal(map[string]any{"text": summary, "blocks": blocks})
}

func actionNote(a string) string {
	if a == "" {
		return ""
	}
	return ", " + a
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }

// cut shortens s to at most n runes, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
