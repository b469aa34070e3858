// Package web serves the violations consumer's page, read-only: an
// overview (counts, a chart of the last runs, the violations with filters,
// a search and paging), one violation's timeline, and the audit runs.
//
// The server renders everything with html/template (so every value is
// escaped) and draws the chart as inline SVG; the only asset, the style
// sheet, is embedded. There is no JavaScript: filters are a plain GET form,
// paging and the timeline are links. Links are relative, so the page also
// works under a path prefix (kubectl proxy, an ingress path).
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

//go:embed templates/*.html static/page.css
var files embed.FS

// ContentSecurityPolicy is sent with every answer: nothing but the page's
// own style sheet and data: images (the icon) load, no script runs, forms
// go only to the page itself, and no other site may frame it.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Options configure the page.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	// PageSize is the number of violations per page (default 50).
	PageSize int
	// ChartRuns is the number of complete runs the chart shows (default 20).
	ChartRuns int
	// TopCounts is the number of rows of the per-constraint and
	// per-namespace counts (default 15).
	TopCounts int
	// Now is the clock of the ages shown (default time.Now).
	Now func() time.Time
}

// maxParam bounds the other filter values (names, kinds), in bytes.
const maxParam = 512

type pages struct {
	opts Options
	tmpl map[string]*template.Template
	css  []byte
}

// Handler returns the page's routes: /, /violations/{key}, /runs and
// /static/page.css.
func Handler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PageSize <= 0 || opts.PageSize > 999 {
		opts.PageSize = 50
	}
	if opts.ChartRuns <= 0 {
		opts.ChartRuns = 20
	}
	if opts.TopCounts <= 0 {
		opts.TopCounts = 15
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &pages{opts: opts, tmpl: parseTemplates()}
	var err error
	if p.css, err = fs.ReadFile(files, "static/page.css"); err != nil {
		panic(err) // embedded: cannot fail
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.overview)
	mux.HandleFunc("GET /violations/{key}", p.violation)
	mux.HandleFunc("GET /runs", p.runs)
	mux.HandleFunc("GET /static/page.css", p.stylesheet)
	mux.HandleFunc("/", p.notFound)
	return secure(mux)
}

// secure adds the security headers to every answer.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"stamp": stamp,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"resource": func(r store.Resource) string {
			if r.Namespace == "" {
				return r.Kind + " " + r.Name
			}
			return r.Kind + " " + r.Namespace + "/" + r.Name
		},
		"runState": runState,
		"judged":   func(state string) bool { return complete(store.Run{State: state}) },
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"overview.html", "violation.html", "runs.html", "error.html"} {
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(files, "templates/"+name))
	}
	return out
}

// frame is what every page's layout needs.
type frame struct {
	Title string
	// Base is the relative way back to the page's root ("./" or "../").
	Base string
	// Nav is the current navigation entry: overview, runs or "".
	Nav string
	Now time.Time
}

func (p *pages) frame(r *http.Request, title, nav string) frame {
	return frame{Title: title, Base: base(r.URL.Path), Nav: nav, Now: p.opts.Now()}
}

// base is the relative path from a request's path to the root.
func base(path string) string {
	if n := strings.Count(strings.TrimPrefix(path, "/"), "/"); n > 0 {
		return strings.Repeat("../", n)
	}
	return "./"
}

// Ago writes how long ago t was.
func (f frame) Ago(t time.Time) string {
	if f.Now.Before(t) {
		return "just now"
	}
	return duration.HumanDuration(f.Now.Sub(t)) + " ago"
}

// render executes a page into a buffer first, so a template error is a
// clean 500.
func (p *pages) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		p.opts.Logger.Error("page", "template", name, "error", err)
		http.Error(w, "the page could not be rendered; see the consumer's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

type errorData struct {
	frame
	Code    int
	Message string
}

func (p *pages) fail(w http.ResponseWriter, r *http.Request, code int, message string) {
	p.render(w, r, code, "error.html", errorData{frame: p.frame(r, http.StatusText(code), ""), Code: code, Message: message})
}

func (p *pages) internal(w http.ResponseWriter, r *http.Request, err error) {
	p.opts.Logger.Error("page", "path", r.URL.Path, "error", err)
	p.fail(w, r, http.StatusInternalServerError, "The store did not answer; see the consumer's log.")
}

func (p *pages) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		p.fail(w, r, http.StatusMethodNotAllowed, "This page is read-only: only GET and HEAD.")
		return
	}
	p.fail(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
}

func (p *pages) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=300")
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.css)
	}
}

// filterForm is the overview's form as submitted (and shown again).
type filterForm struct {
	State, Cluster, Namespace, Constraint, ResourceKind, Action, Search string
	After                                                               int64
}

// parseFilter reads the overview's query. Unknown parameters are ignored
// (a browser may add some); bad values are errors naming the field.
func parseFilter(q url.Values) (filterForm, store.Filter, error) {
	ff := filterForm{
		State: q.Get("state"), Cluster: q.Get("cluster"), Namespace: q.Get("namespace"), Constraint: q.Get("constraint"),
		ResourceKind: q.Get("resourceKind"), Action: q.Get("enforcementAction"), Search: q.Get("search"),
	}
	f := store.Filter{Cluster: ff.Cluster, Namespace: ff.Namespace, ResourceKind: ff.ResourceKind, EnforcementAction: ff.Action, Search: ff.Search}
	switch ff.State {
	case "":
		ff.State = store.StateOpen
		f.State = store.StateOpen
	case store.StateOpen, store.StateResolved:
		f.State = ff.State
	case "all":
	default:
		return ff, f, fmt.Errorf("The state %q is not open, resolved or all.", ff.State)
	}
	if len(ff.Search) > api.MaxSearch {
		return ff, f, fmt.Errorf("The search is %d bytes long; at most %d are taken.", len(ff.Search), api.MaxSearch)
	}
	for name, v := range map[string]string{"cluster": ff.Cluster, "namespace": ff.Namespace, "constraint": ff.Constraint, "resource kind": ff.ResourceKind, "enforcement action": ff.Action} {
		if len(v) > maxParam {
			return ff, f, fmt.Errorf("The %s is %d bytes long; at most %d are taken.", name, len(v), maxParam)
		}
	}
	if kind, name, ok := strings.Cut(ff.Constraint, "/"); ok {
		f.ConstraintKind, f.ConstraintName = kind, name
	} else {
		f.ConstraintName = ff.Constraint
	}
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			return ff, f, fmt.Errorf("The page position %q is not one this page wrote; start again from the first page.", a)
		}
		ff.After, f.After = n, n
	}
	return ff, f, nil
}

// query writes the form back as a query, with after as the cursor.
func (ff filterForm) query(after int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"state": ff.State, "cluster": ff.Cluster, "namespace": ff.Namespace, "constraint": ff.Constraint,
		"resourceKind": ff.ResourceKind, "enforcementAction": ff.Action, "search": ff.Search} {
		if v != "" && !(k == "state" && v == store.StateOpen) {
			q.Set(k, v)
		}
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// describe lists the active filters in words.
func (ff filterForm) describe() []string {
	var out []string
	for _, f := range []struct{ name, v string }{
		{"cluster", ff.Cluster}, {"namespace", ff.Namespace}, {"constraint", ff.Constraint},
		{"resource kind", ff.ResourceKind}, {"enforcement action", ff.Action},
	} {
		if f.v != "" {
			out = append(out, f.name+" "+f.v)
		}
	}
	if ff.Search != "" {
		out = append(out, "search “"+ff.Search+"”")
	}
	return out
}

type option struct {
	Value, Label string
	Selected     bool
}

// options builds a select's options: "" (any), the values, and the
// current value even if no longer among them.
func options(anyLabel, current string, values []string) []option {
	set := map[string]bool{}
	for _, v := range values {
		if v != "" {
			set[v] = true
		}
	}
	if current != "" {
		set[current] = true
	}
	out := []option{{Value: "", Label: anyLabel, Selected: current == ""}}
	for _, v := range slices.Sorted(maps.Keys(set)) {
		out = append(out, option{Value: v, Label: v, Selected: v == current})
	}
	return out
}

// countRow is one row of the per-constraint or per-namespace counts.
type countRow struct {
	Label string
	Count int
	// Link filters the overview to it.
	Link string
}

type counts struct {
	Rows []countRow
	// More is how many groups were left out.
	More int
}

func topCounts(m map[string]int, limit int, label func(string) string, link func(string) string) counts {
	var c counts
	for k, n := range m {
		c.Rows = append(c.Rows, countRow{Label: label(k), Count: n, Link: link(k)})
	}
	sort.Slice(c.Rows, func(i, j int) bool {
		if c.Rows[i].Count != c.Rows[j].Count {
			return c.Rows[i].Count > c.Rows[j].Count
		}
		return c.Rows[i].Label < c.Rows[j].Label
	})
	if len(c.Rows) > limit {
		c.More, c.Rows = len(c.Rows)-limit, c.Rows[:limit]
	}
	return c
}

type overviewData struct {
	frame
	Form                                       filterForm
	States                                     []option
	Clusters, Namespaces, Constraints, Actions []option
	Filters                                    []string
	Violations                                 []store.Violation
	NextPage, FirstPage                        string
	Open                                       int
	ByConstraint, ByNamespace                  counts
	Chart                                      *chart
	ChartCluster                               string
	// MultiCluster shows the cluster column: the store holds several.
	MultiCluster bool
	LastRun      *store.Run
}

// StateLabel is the table's caption's first word.
func (d overviewData) StateLabel() string {
	switch d.Form.State {
	case store.StateOpen:
		return "Open violations"
	case store.StateResolved:
		return "Resolved violations"
	}
	return "Violations (open and resolved)"
}

func (p *pages) overview(w http.ResponseWriter, r *http.Request) {
	ff, f, err := parseFilter(r.URL.Query())
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	f.Limit = p.opts.PageSize + 1
	vs, err := p.opts.Store.Violations(ctx, f)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	d := overviewData{frame: p.frame(r, "Overview", "overview"), Form: ff, Filters: ff.describe()}
	if len(vs) > p.opts.PageSize {
		vs = vs[:p.opts.PageSize]
		d.NextPage = ff.query(vs[len(vs)-1].ID) // IDs start at 1: never ""
	}
	d.Violations = vs
	if ff.After > 0 {
		if d.FirstPage = ff.query(0); d.FirstPage == "" {
			d.FirstPage = d.Base
		}
	}

	groups, err := p.opts.Store.OpenCounts(ctx)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	var clusters, namespaces, constraints []string
	actions := []string{"deny", "dryrun", "warn"}
	byConstraint, byNamespace := map[string]int{}, map[string]int{}
	for _, g := range groups {
		clusters = append(clusters, g.Cluster)
		namespaces = append(namespaces, g.Namespace)
		constraints = append(constraints, g.ConstraintKind+"/"+g.ConstraintName)
		actions = append(actions, g.EnforcementAction)
		if ff.Cluster != "" && g.Cluster != ff.Cluster {
			continue
		}
		d.Open += g.Count
		byConstraint[g.ConstraintKind+"/"+g.ConstraintName] += g.Count
		byNamespace[g.Namespace] += g.Count
	}
	scoped := filterForm{State: store.StateOpen, Cluster: ff.Cluster}
	d.ByConstraint = topCounts(byConstraint, p.opts.TopCounts, func(k string) string { return k }, func(k string) string {
		s := scoped
		s.Constraint = k
		return s.query(0)
	})
	d.ByNamespace = topCounts(byNamespace, p.opts.TopCounts, func(k string) string {
		if k == "" {
			return "(cluster-scoped)"
		}
		return k
	}, func(k string) string {
		if k == "" {
			return ""
		}
		s := scoped
		s.Namespace = k
		return s.query(0)
	})

	// The chart shows one cluster: the one filtered on, else the one of
	// the newest run.
	d.ChartCluster = ff.Cluster
	if d.ChartCluster == "" {
		newest, err := p.opts.Store.Runs(ctx, "", 1)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		if len(newest) > 0 {
			d.ChartCluster = newest[0].Cluster
		}
	}
	if d.ChartCluster != "" {
		// Incomplete and pending runs are skipped: read a few times more.
		runs, err := p.opts.Store.Runs(ctx, d.ChartCluster, 4*p.opts.ChartRuns)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		for _, run := range runs {
			clusters = append(clusters, run.Cluster)
			if d.LastRun == nil && complete(run) {
				d.LastRun = &run
			}
		}
		d.Chart = buildChart(d.ChartCluster, runs, p.opts.ChartRuns)
	}
	d.States = []option{
		{Value: store.StateOpen, Label: "Open", Selected: ff.State == store.StateOpen},
		{Value: store.StateResolved, Label: "Resolved", Selected: ff.State == store.StateResolved},
		{Value: "all", Label: "All", Selected: ff.State == "all"},
	}
	d.Clusters = options("Any cluster", ff.Cluster, clusters)
	d.MultiCluster = len(d.Clusters) > 2
	d.Namespaces = options("Any namespace", ff.Namespace, namespaces)
	d.Constraints = options("Any constraint", ff.Constraint, constraints)
	d.Actions = options("Any action", ff.Action, actions)
	p.render(w, r, http.StatusOK, "overview.html", d)
}

type violationData struct {
	frame
	V        store.Violation
	Timeline []store.Event
	Labels   []string
}

func (p *pages) violation(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !store.ValidKey(key) {
		p.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a violation key: a key is 32 hexadecimal characters (the KEY column of `violations list`).", key))
		return
	}
	v, events, err := p.opts.Store.Violation(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, http.StatusNotFound, "No violation has the key "+key+". It may have been resolved and pruned (--retention).")
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	d := violationData{frame: p.frame(r, v.Resource.Kind+" "+v.Resource.Name, ""), V: v, Timeline: events}
	for k, val := range v.Labels {
		d.Labels = append(d.Labels, k+"="+val)
	}
	sort.Strings(d.Labels)
	p.render(w, r, http.StatusOK, "violation.html", d)
}

type runsData struct {
	frame
	Runs    []store.Run
	Cluster string
	Limit   int
}

// runsShown is how many runs /runs lists.
const runsShown = 100

func (p *pages) runs(w http.ResponseWriter, r *http.Request) {
	cluster := r.URL.Query().Get("cluster")
	if len(cluster) > maxParam {
		p.fail(w, r, http.StatusBadRequest, fmt.Sprintf("The cluster is %d bytes long; at most %d are taken.", len(cluster), maxParam))
		return
	}
	runs, err := p.opts.Store.Runs(r.Context(), cluster, runsShown)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "runs.html", runsData{frame: p.frame(r, "Audit runs", "runs"), Runs: runs, Cluster: cluster, Limit: runsShown})
}

// runState says in words whether a run is complete, and what that did.
func runState(state string) string {
	switch state {
	case store.RunFinalized:
		return "complete"
	case store.RunHeld:
		return "complete, held"
	case store.RunIncomplete:
		return "incomplete"
	case store.RunPending:
		return "pending"
	}
	return state
}
