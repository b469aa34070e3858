package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

const hostile = `<script>alert(1)</script><b>bold</b>`

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func runAt(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// fixture is one violation of the test data.
type fixture struct {
	name, kind, ns, cKind, cName, action, msg string
}

var (
	web   = fixture{"web", "Deployment", "team-a", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
	db    = fixture{"db", "StatefulSet", "team-b", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
	cache = fixture{"cache", "Deployment", "team-b", "K8sContainerLimits", "cpu-limits", "warn", "container has no CPU limit"}
	evil  = fixture{"evil", "Pod", "team-a", "K8sAllowedRepos", "allowed-repos", "dryrun", hostile}
	node  = fixture{"n1", "Node", "", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
	apiV  = fixture{"api", "Deployment", "team-c", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
	stage = fixture{"stage-web", "Deployment", "team-a", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
)

func (f fixture) violation(run time.Time) violation.Violation {
	return violation.Violation{
		ID: run.Format(time.RFC3339), EventType: violation.EventType, Group: "constraints.gatekeeper.sh", Version: "v1beta1",
		Kind: f.cKind, Name: f.cName, Message: f.msg, EnforcementAction: f.action, ResourceAPIVersion: "v1",
		ResourceKind: f.kind, ResourceNamespace: f.ns, ResourceName: f.name, ResourceLabels: map[string]string{"app": f.name},
	}
}

func auditRun(run time.Time, complete bool, fs ...fixture) []store.Message {
	msgs := []store.Message{{Kind: store.KindStarted, Run: run}}
	for _, f := range fs {
		msgs = append(msgs, store.Message{Kind: store.KindViolation, Run: run, Violation: f.violation(run)})
	}
	if complete {
		msgs = append(msgs, store.Message{Kind: store.KindCompleted, Run: run})
	}
	return msgs
}

// newStore fills a SQLite store: cluster prod has a complete run 1, an
// incomplete run 2 and a complete run 3 (db resolved, api new); cluster
// staging one complete run.
func newStore(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	steps := []struct {
		cluster  string
		run      time.Time
		complete bool
		fs       []fixture
	}{
		{"prod", runAt(1), true, []fixture{web, db, cache, evil, node}},
		{"staging", runAt(0), true, []fixture{stage}},
		{"prod", runAt(2), false, []fixture{web}},
		{"prod", runAt(3), true, []fixture{web, cache, evil, node, apiV}},
	}
	for _, s := range steps {
		if _, err := st.Record(ctx, s.cluster, auditRun(s.run, s.complete, s.fs...)); err != nil {
			t.Fatal(err)
		}
		if s.complete {
			if _, err := st.Finalize(ctx, s.cluster, s.run, store.FinalizeOptions{ResolveAfter: 1, MaxResolveShare: 1, Now: s.run.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return st
}

func keyOf(cluster string, f fixture, run time.Time) string {
	return store.Key(cluster, f.violation(run))
}

type answer struct {
	code   int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, method, target string, header http.Header) answer {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return answer{code: w.Code, header: w.Result().Header, body: string(b)}
}

var rowName = regexp.MustCompile(`<th scope="row" class="name"><a href="([^"]*)">([^<]*)</a></th>`)

// rows returns the resource names of the violations table, in order.
func rows(body string) []string {
	var out []string
	for _, m := range rowName.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[2]))
	}
	return out
}

func newHandler(st store.Store, pageSize int) http.Handler {
	return Handler(Options{Store: st, PageSize: pageSize, Now: func() time.Time { return runAt(10) }})
}

func TestOverviewFilters(t *testing.T) {
	h := newHandler(newStore(t), 0)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"web", "cache", "evil", "n1", "stage-web", "api"}},
		{"?state=open", []string{"web", "cache", "evil", "n1", "stage-web", "api"}},
		{"?state=resolved", []string{"db"}},
		{"?state=all&namespace=team-b", []string{"db", "cache"}},
		{"?namespace=team-b", []string{"cache"}},
		{"?cluster=staging", []string{"stage-web"}},
		{"?cluster=prod&namespace=team-a", []string{"web", "evil"}},
		{"?constraint=K8sContainerLimits/cpu-limits", []string{"cache"}},
		{"?constraint=must-have-owner", []string{"web", "n1", "stage-web", "api"}},
		{"?constraint=K8sOther/must-have-owner", nil},
		{"?resourceKind=Node", []string{"n1"}},
		{"?enforcementAction=dryrun", []string{"evil"}},
		{"?search=ALERT(1)", []string{"evil"}},
		{"?search=team-c", []string{"api"}},
		{"?search=cpu-LIMITS", []string{"cache"}},
		{"?search=%25", nil}, // % is literal
		{"?search=owner&cluster=staging", []string{"stage-web"}},
		{"?state=all&search=owner&namespace=team-b", []string{"db"}},
		{"?unknown=1", []string{"web", "cache", "evil", "n1", "stage-web", "api"}}, // ignored
		{"?namespace=nowhere", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			a := get(t, h, "GET", "/"+tc.query, nil)
			if a.code != http.StatusOK {
				t.Fatalf("%d: %s", a.code, a.body)
			}
			if got := rows(a.body); !slices.Equal(got, tc.want) {
				t.Fatalf("rows %q, want %q", got, tc.want)
			}
			if len(tc.want) == 0 && !strings.Contains(a.body, "No violation matches.") {
				t.Fatal("an empty table does not say so")
			}
			// The form shows the filter back.
			q, _ := url.ParseQuery(strings.TrimPrefix(tc.query, "?"))
			if s := q.Get("search"); s != "" && !strings.Contains(a.body, `name="search" type="search" value="`+html.EscapeString(s)+`"`) {
				t.Errorf("the search field does not show %q", s)
			}
			if ns := q.Get("namespace"); ns != "" && !strings.Contains(a.body, `<option value="`+ns+`" selected>`) {
				t.Errorf("the namespace select does not show %q selected", ns)
			}
		})
	}
}

// TestPaging follows the next-page links: every open violation once, in
// the store's order.
func TestPaging(t *testing.T) {
	st := newStore(t)
	all, err := st.Violations(context.Background(), store.Filter{State: store.StateOpen})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, v := range all {
		want = append(want, v.Resource.Name)
	}
	next := regexp.MustCompile(`<a href="([^"]*)" rel="next">`)
	for _, size := range []int{1, 2, 4, len(want), len(want) + 1} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			h := newHandler(st, size)
			var got []string
			target := "/"
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatal("paging does not end")
				}
				a := get(t, h, "GET", target, nil)
				r := rows(a.body)
				if len(r) > size {
					t.Fatalf("page of %d rows, want at most %d", len(r), size)
				}
				got = append(got, r...)
				m := next.FindStringSubmatch(a.body)
				if m == nil {
					break
				}
				if !strings.Contains(a.body, "more on the next page") {
					t.Error("the caption does not say there is a next page")
				}
				target = "/" + html.UnescapeString(m[1])
				if pages > 0 && !strings.Contains(a.body, ">First page</a>") {
					t.Error("no link back to the first page")
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged %q, want %q", got, want)
			}
		})
	}
}

func TestPages(t *testing.T) {
	st := newStore(t)
	h := newHandler(st, 0)
	evilKey, dbKey := keyOf("prod", evil, runAt(1)), keyOf("prod", db, runAt(1))
	escaped := html.EscapeString(hostile)
	for _, tc := range []struct {
		method, path string
		code         int
		want, not    []string
	}{
		{"GET", "/", 200, []string{escaped, `<td class="message">` + escaped + `</td>`}, []string{hostile, "<b>bold"}},
		{"GET", "/violations/" + evilKey, 200, []string{escaped, "evil", "K8sAllowedRepos/allowed-repos", "app=evil", "opened"}, []string{hostile, "<b>"}},
		{"GET", "/violations/" + dbKey, 200, []string{"StatefulSet team-b/db", `class="event event-opened">opened`, `class="event event-resolved">resolved`, "absent"}, nil},
		{"GET", "/violations/0123456789abcdef0123456789abcdef", 404, []string{"404 Not Found", "No violation has the key 0123456789abcdef0123456789abcdef"}, nil},
		{"GET", "/violations/not-a-key", 400, []string{"400 Bad Request", "is not a violation key"}, nil},
		{"GET", "/violations/" + url.PathEscape("<b>x</b>"), 400, []string{"&lt;b&gt;x&lt;/b&gt;"}, []string{"<b>x"}},
		{"GET", "/runs", 200, []string{"incomplete", "a newer run was complete first", "staging", "no end"}, nil},
		{"GET", "/runs?cluster=staging", 200, []string{"of cluster staging"}, []string{"a newer run was complete first"}},
		{"GET", "/?state=closed", 400, []string{"The state &#34;closed&#34; is not open, resolved or all."}, nil},
		{"GET", "/?after=abc", 400, []string{"The page position"}, nil},
		{"GET", "/?search=" + strings.Repeat("x", api.MaxSearch+1), 400, []string{"The search is 257 bytes long"}, nil},
		{"GET", "/nowhere", 404, []string{"There is no page at /nowhere."}, nil},
		{"GET", "/nowhere/" + url.PathEscape("<i>"), 404, []string{"&lt;i&gt;", `href="../"`}, []string{"<i>"}},
		{"POST", "/", 405, []string{"read-only"}, nil},
		{"GET", "/static/page.css", 200, []string{".table-scroll"}, nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			a := get(t, h, tc.method, tc.path, nil)
			if a.code != tc.code {
				t.Fatalf("%d, want %d: %s", a.code, tc.code, a.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(a.body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(a.body, n) {
					t.Errorf("has %q", n)
				}
			}
			for h, want := range map[string]string{
				"Content-Security-Policy": ContentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := a.header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			if strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
				if strings.Contains(a.body, "<script") || strings.Contains(a.body, " style=") || strings.Contains(a.body, "<style") {
					t.Error("a script or inline style (the CSP allows neither)")
				}
				if strings.Contains(a.body, "http://") || strings.Contains(a.body, "https://") {
					t.Error("an absolute URL: the page loads nothing from elsewhere and links relatively")
				}
			}
		})
	}
	if css := get(t, h, "GET", "/static/page.css", nil); css.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("style sheet served as %q", css.header.Get("Content-Type"))
	}
}

// TestCounts: the summary and the per-constraint and per-namespace counts
// are the store's.
func TestCounts(t *testing.T) {
	st := newStore(t)
	h := newHandler(st, 0)
	groups, err := st.OpenCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(context.Background(), "prod", 10)
	if err != nil {
		t.Fatal(err)
	}
	last := runs[0] // prod's run 3, complete and newest
	for _, tc := range []struct {
		query   string
		cluster func(string) bool
	}{
		{"", func(string) bool { return true }},
		{"?cluster=prod", func(c string) bool { return c == "prod" }},
		{"?cluster=staging", func(c string) bool { return c == "staging" }},
	} {
		t.Run(tc.query, func(t *testing.T) {
			body := get(t, h, "GET", "/"+tc.query, nil).body
			open, byNS, byC := 0, map[string]int{}, map[string]int{}
			for _, g := range groups {
				if tc.cluster(g.Cluster) {
					open += g.Count
					ns := g.Namespace
					if ns == "" {
						ns = "(cluster-scoped)"
					}
					byNS[ns] += g.Count
					byC[g.ConstraintKind+"/"+g.ConstraintName] += g.Count
				}
			}
			if want := fmt.Sprintf(`<dd id="count-open">%d</dd>`, open); !strings.Contains(body, want) {
				t.Errorf("lacks %s", want)
			}
			for label, n := range byNS {
				if !regexp.MustCompile(`>` + regexp.QuoteMeta(label) + `(</a>)?</th><td class="num">` + strconv.Itoa(n) + `<`).MatchString(body) {
					t.Errorf("namespace %s: count %d not shown", label, n)
				}
			}
			for label, n := range byC {
				if !strings.Contains(body, `">`+label+`</a></th><td class="num">`+strconv.Itoa(n)+`<`) {
					t.Errorf("constraint %s: count %d not shown", label, n)
				}
			}
		})
	}
	body := get(t, h, "GET", "/", nil).body
	for id, n := range map[string]int{"count-new": last.New, "count-still-open": last.StillOpen, "count-resolved": last.Resolved} {
		if want := fmt.Sprintf(`<dd id="%s">%d</dd>`, id, n); !strings.Contains(body, want) {
			t.Errorf("lacks %s", want)
		}
	}
	if last.New != 1 || last.Resolved != 1 {
		t.Fatalf("the fixture's last run: %+v, want one new (api) and one resolved (db)", last)
	}
}

var (
	polylineRe = regexp.MustCompile(`<g class="series (s-[a-z]+)" data-series="([A-Za-z]+)">\s*<polyline points="([^"]*)"`)
	circleRe   = regexp.MustCompile(`<circle cx="([0-9.]+)" cy="([0-9.]+)" r="4"><title>([A-Za-z]+): (\d+) \(run ([^)]*)\)</title></circle>`)
	yTickRe    = regexp.MustCompile(`<text class="ylabel"[^>]*>(\d+)</text>`)
	gridRe     = regexp.MustCompile(`<line class="axis" x1="([0-9.]+)" x2="([0-9.]+)" y1="([0-9.]+)"`)
)

// TestChartPoints reads the SVG back: each series has one point per
// complete run, oldest first, at the height of the run's figure.
func TestChartPoints(t *testing.T) {
	st := newStore(t)
	h := newHandler(st, 0)
	for _, cluster := range []string{"prod", "staging"} {
		t.Run(cluster, func(t *testing.T) {
			runs, err := st.Runs(context.Background(), cluster, 100)
			if err != nil {
				t.Fatal(err)
			}
			var done []store.Run
			for i := len(runs) - 1; i >= 0; i-- {
				if complete(runs[i]) {
					done = append(done, runs[i])
				}
			}
			body := get(t, h, "GET", "/?cluster="+cluster, nil).body
			start := strings.Index(body, `<svg class="chart"`)
			end := strings.Index(body, "</svg>")
			if start < 0 || end < start {
				t.Fatalf("no chart:\n%s", body)
			}
			svg := body[start:end]
			for _, want := range []string{`role="img"`, `aria-labelledby="chart-title chart-desc"`, `<title id="chart-title">`, `<desc id="chart-desc">`} {
				if !strings.Contains(svg, want) {
					t.Errorf("the SVG lacks %s", want)
				}
			}
			ticks := yTickRe.FindAllStringSubmatch(svg, -1)
			if len(ticks) < 2 {
				t.Fatalf("y ticks %v", ticks)
			}
			yMax, _ := strconv.ParseFloat(ticks[len(ticks)-1][1], 64)
			axis := gridRe.FindStringSubmatch(svg)
			bottom, _ := strconv.ParseFloat(axis[3], 64)
			series := polylineRe.FindAllStringSubmatch(svg, -1)
			if len(series) != 3 {
				t.Fatalf("%d series, want open, new and resolved", len(series))
			}
			values := map[string]func(store.Run) int{
				"Open": func(r store.Run) int { return r.StillOpen }, "New": func(r store.Run) int { return r.New },
				"Resolved": func(r store.Run) int { return r.Resolved },
			}
			groups := strings.Split(svg, `<g class="series `)[1:]
			for i, s := range series {
				name, points := s[2], strings.Fields(s[3])
				value := values[name]
				circles := circleRe.FindAllStringSubmatch(groups[i], -1)
				if len(points) != len(done) || len(circles) != len(done) {
					t.Fatalf("%s: %d points and %d circles, want %d (the complete runs)", name, len(points), len(circles), len(done))
				}
				prevX := -1.0
				for j, r := range done {
					x, _ := strconv.ParseFloat(strings.Split(points[j], ",")[0], 64)
					y, _ := strconv.ParseFloat(strings.Split(points[j], ",")[1], 64)
					c := circles[j]
					if c[1]+","+c[2] != points[j] {
						t.Errorf("%s run %d: circle at %s,%s, line at %s", name, j, c[1], c[2], points[j])
					}
					if c[3] != name || c[4] != strconv.Itoa(value(r)) || c[5] != stamp(r.ID) {
						t.Errorf("%s run %d: title %q, want %s: %d (run %s)", name, j, c[0], name, value(r), stamp(r.ID))
					}
					// The height is the figure: y = bottom - (bottom-top)*v/yMax.
					top := float64(chartTop)
					got := (bottom - y) / (bottom - top) * yMax
					if diff := got - float64(value(r)); diff > 0.05 || diff < -0.05 {
						t.Errorf("%s run %d: y %v reads as %.2f, want %d", name, j, y, got, value(r))
					}
					if x <= prevX {
						t.Errorf("%s: x not increasing (oldest first): %v after %v", name, x, prevX)
					}
					prevX = x
				}
			}
			// The text equivalent has the same figures.
			table := body[strings.Index(body, `<table id="chart-figures">`):]
			for _, r := range done {
				want := fmt.Sprintf("<tr><th scope=\"row\">%s</th><td>%d</td><td>%d</td><td>%d</td></tr>", stamp(r.ID), r.StillOpen, r.New, r.Resolved)
				if !strings.Contains(table, want) {
					t.Errorf("the figures table lacks %s", want)
				}
			}
		})
	}
}

func TestBuildChart(t *testing.T) {
	run := func(i int, state string, open, nw, res int) store.Run {
		return store.Run{Cluster: "c", ID: runAt(i), State: state, StillOpen: open, New: nw, Resolved: res}
	}
	for _, tc := range []struct {
		name   string
		runs   []store.Run // newest first
		limit  int
		points int
		yMax   int
	}{
		{"none", nil, 20, 0, 0},
		{"only pending and incomplete", []store.Run{run(2, store.RunPending, 0, 0, 0), run(1, store.RunIncomplete, 0, 0, 0)}, 20, 0, 0},
		{"one complete run, all zero", []store.Run{run(1, store.RunFinalized, 0, 0, 0)}, 20, 1, 1},
		{"held counts as complete", []store.Run{run(2, store.RunHeld, 7, 0, 0), run(1, store.RunFinalized, 3, 3, 0)}, 20, 2, 8},
		{"limit keeps the newest", []store.Run{run(3, store.RunFinalized, 26, 1, 0), run(2, store.RunFinalized, 25, 0, 2), run(1, store.RunFinalized, 27, 27, 0)}, 2, 2, 30},
		{"large", []store.Run{run(1, store.RunFinalized, 1234, 5, 6)}, 20, 1, 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := buildChart("c", tc.runs, tc.limit)
			if tc.points == 0 {
				if c != nil {
					t.Fatalf("a chart of %d runs, want none", len(c.Runs))
				}
				return
			}
			if c.YMax != tc.yMax {
				t.Errorf("y max %d, want %d", c.YMax, tc.yMax)
			}
			for _, s := range c.Series {
				if len(s.Points) != tc.points {
					t.Fatalf("%s: %d points, want %d", s.Name, len(s.Points), tc.points)
				}
				for _, p := range s.Points {
					if p.Y < c.Top-0.01 || p.Y > c.Bottom+0.01 || p.X < c.Left || p.X > c.Right {
						t.Errorf("%s: point %+v outside the plot", s.Name, p)
					}
				}
			}
			if !c.Runs[len(c.Runs)-1].Run.Equal(tc.runs[0].ID) {
				t.Errorf("the last point is run %s, want the newest %s", c.Runs[len(c.Runs)-1].Run, tc.runs[0].ID)
			}
			if c.Desc() == "" {
				t.Error("no description")
			}
		})
	}
}

// TestToken: behind api.RequireToken (as serve wires it) the page answers
// 401 with a Bearer challenge without the token, and 200 with it.
func TestToken(t *testing.T) {
	h := api.RequireToken("s3cret-token", newHandler(newStore(t), 0))
	for _, tc := range []struct {
		name   string
		header http.Header
		code   int
	}{
		{"none", nil, 401},
		{"wrong", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"prefix", http.Header{"Authorization": {"Bearer s3cret"}}, 401},
		{"right", http.Header{"Authorization": {"Bearer s3cret-token"}}, 200},
		{"basic, token as password", http.Header{"Authorization": {"Basic " + basic("anyone", "s3cret-token")}}, 200},
		{"basic, wrong password", http.Header{"Authorization": {"Basic " + basic("anyone", "s3cret")}}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/", "/runs", "/static/page.css", "/violations/0123456789abcdef0123456789abcdef"} {
				a := get(t, h, "GET", path, tc.header)
				want := tc.code
				if want == 200 && strings.HasPrefix(path, "/violations/") {
					want = 404
				}
				if a.code != want {
					t.Fatalf("%s: %d, want %d", path, a.code, want)
				}
				if want == 401 {
					if !slices.ContainsFunc(a.header.Values("WWW-Authenticate"), func(v string) bool { return strings.HasPrefix(v, "Bearer") }) {
						t.Errorf("%s: 401 without WWW-Authenticate: Bearer (%q)", path, a.header.Values("WWW-Authenticate"))
					}
					if strings.Contains(a.body, "<table") {
						t.Errorf("%s: 401 shows the page", path)
					}
				}
			}
		})
	}
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
