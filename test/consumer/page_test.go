package consumer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/web"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

const hostileMessage = `<script>alert(1)</script><b>bold</b>`

// pageViolation is one violation the page test publishes.
type pageViolation struct{ name, kind, ns, cKind, cName, action, msg string }

var (
	pvWeb   = pageViolation{"web", "Deployment", "team-a", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
	pvDB    = pageViolation{"db", "StatefulSet", "team-b", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
	pvCache = pageViolation{"cache", "Deployment", "team-b", "K8sContainerLimits", "cpu-limits", "warn", "container cache has no CPU limit"}
	pvEvil  = pageViolation{"evil", "Pod", "team-a", "K8sAllowedRepos", "allowed-repos", "dryrun", hostileMessage}
	pvAPI   = pageViolation{"api", "Deployment", "team-c", "K8sRequiredLabels", "must-have-owner", "deny", `you must provide labels: {"owner"}`}
)

func (p pageViolation) json(run time.Time) []byte {
	b, _ := json.Marshal(violation.Violation{ID: run.Format(time.RFC3339), EventType: violation.EventType, Group: "constraints.gatekeeper.sh",
		Version: "v1beta1", Kind: p.cKind, Name: p.cName, Message: p.msg, EnforcementAction: p.action, ResourceAPIVersion: "v1",
		ResourceKind: p.kind, ResourceNamespace: p.ns, ResourceName: p.name})
	return b
}

// publishRun publishes a run as Gatekeeper v3.23 does (see auditRun), with
// these violations.
func (e *env) publishRun(run time.Time, complete bool, vs ...pageViolation) {
	msgs := [][]byte{marker(run, violation.AuditStarted)}
	for _, v := range vs {
		msgs = append(msgs, v.json(run))
	}
	if complete {
		msgs = append(msgs, marker(run, violation.AuditCompleted))
	}
	for _, m := range msgs {
		e.publish(m)
		e.publish(m)
	}
}

// authGet is e.get with the API token.
func (e *env) authGet(token, path string, into any) error {
	req, _ := http.NewRequest(http.MethodGet, e.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return json.Unmarshal(b, into)
}

func (e *env) waitRunState(token string, run time.Time, state string) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("run %s %s", run.Format(time.RFC3339), state), 60*time.Second, func() error {
		var l api.RunList
		if err := e.authGet(token, "/api/v1/runs", &l); err != nil {
			return err
		}
		for _, r := range l.Items {
			if r.ID.Equal(run) {
				if r.State != state {
					return fmt.Errorf("run is %s", r.State)
				}
				return nil
			}
		}
		return fmt.Errorf("run not listed")
	})
}

// stamp is how the page writes a time.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// browser drives headless Chromium.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// submit runs the action (a click, Enter) and waits for the page it loads.
func (b *browser) submit(what string, trigger chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, trigger)); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// rows is what a person reads in the violations table's first column.
func (b *browser) rows() []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll('#violations tbody th.name')].map(e => e.innerText)`)
}

func (b *browser) location() *url.URL {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func names(vs []store.Violation) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Resource.Name)
	}
	return out
}

// TestPage opens the consumer's page in a real, headless Chromium: the
// consumer (the real binary behind a real daprd and Redis, with an API
// token) has received two complete runs and an incomplete one between
// them, and the test checks what a person sees and can do: the rows and
// counts, the chart's points, filtering with the form, searching with the
// keyboard, following a row to its timeline, the runs page with the
// incomplete run's reason, a hostile message shown as text, and a phone's
// width. With PAGE_SCREENSHOTS=DIR it saves screenshots there.
func TestPage(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(chromium); err != nil {
		t.Fatalf("no Chromium at %s (%v): run `make chromium` (Debian's chromium), or set CHROMIUM to a Chrome or Chromium binary", chromium, err)
	}
	shots := os.Getenv("PAGE_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	const token = "page-test-t0ken"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite://"+filepath.Join(dir, "violations.db"), "--api-token-file", tokenFile)
	e.eventually("ready (no token needed)", 30*time.Second, func() error { return e.get("/readyz", nil) })

	// Run 1 complete; run 2 never ends (incomplete once run 3 completes);
	// run 3 complete: db resolved, api new, the others still open.
	e.publishRun(runID(1), true, pvWeb, pvDB, pvCache, pvEvil)
	e.waitRunState(token, runID(1), store.RunFinalized)
	e.publishRun(runID(2), false, pvWeb)
	e.waitRunState(token, runID(2), store.RunPending)
	e.publishRun(runID(3), true, pvWeb, pvCache, pvEvil, pvAPI)
	e.waitRunState(token, runID(3), store.RunFinalized)

	// What the page must show, from the JSON API.
	var open, all api.ViolationList
	var runs api.RunList
	for path, into := range map[string]any{"/api/v1/violations?state=open": &open, "/api/v1/violations?state=all": &all, "/api/v1/runs": &runs} {
		if err := e.authGet(token, path, into); err != nil {
			t.Fatal(err)
		}
	}
	byName := map[string]store.Violation{}
	for _, v := range all.Items {
		byName[v.Resource.Name] = v
	}
	runByID := map[time.Time]store.Run{}
	var complete []store.Run // oldest first, as the chart draws them
	for i := len(runs.Items) - 1; i >= 0; i-- {
		r := runs.Items[i]
		runByID[r.ID] = r
		if r.State == store.RunFinalized || r.State == store.RunHeld {
			complete = append(complete, r)
		}
	}
	last := runByID[runID(3)]
	if last.New != 1 || last.Resolved != 1 || last.StillOpen != 4 || byName["db"].State != store.StateResolved || runByID[runID(2)].State != store.RunIncomplete {
		t.Fatalf("the runs did not give one new, one resolved and some still open: run 3 %+v, db %s, run 2 %s", last, byName["db"].State, runByID[runID(2)].State)
	}

	// Without the token: 401 with a Bearer challenge, for the page and
	// the API; the CLI sends it with --token-file.
	for _, path := range []string{"/", "/api/v1/violations"} {
		resp, err := http.Get(e.url(path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("GET %s without the token: %s, WWW-Authenticate %q", path, resp.Status, resp.Header.Values("WWW-Authenticate"))
		}
	}
	var found []store.Violation
	if err := json.Unmarshal([]byte(e.cli("list", "--token-file", tokenFile, "--search", "ALERT(1)", "-o", "json")), &found); err != nil {
		t.Fatal(err)
	}
	if got := names(found); !slices.Equal(got, []string{"evil"}) {
		t.Fatalf("violations list --search ALERT(1): %q, want [evil]", got)
	}

	// The browser: headless, its own profile, no name resolution beyond
	// loopback, the token as a header on every request.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1280, 900),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("no-proxy-server", true),
	)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	b := &browser{t: t, ctx: bctx}
	b.do("starting Chromium")
	var (
		mu       sync.Mutex
		requests []string
	)
	reqCtx, stopRequests := context.WithCancel(bctx)
	requestEvents := chromedp.Events(reqCtx, network.RequestWillBeSent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range requestEvents {
			if err != nil {
				return
			}
			mu.Lock()
			requests = append(requests, ev.Request.URL)
			mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(bctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + token}}); err != nil {
		t.Fatal(err)
	}
	base := e.url("/")

	// The overview.
	resp, err := chromedp.Run(bctx, chromedp.NavigateResponse(base))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || resp.Headers["Content-Security-Policy"] != web.ContentSecurityPolicy ||
		resp.Headers["X-Content-Type-Options"] != "nosniff" || resp.Headers["Referrer-Policy"] != "no-referrer" {
		t.Fatalf("overview: %d, headers %v", resp.Status, resp.Headers)
	}
	if !eval[bool](b, `document.scripts.length === 0 && document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 20 &&
		getComputedStyle(document.querySelector('#chart-figures').parentElement).position === 'absolute'`) {
		t.Fatal("the page has a script, or its embedded style sheet was not applied")
	}
	if got, want := b.rows(), names(open.Items); !slices.Equal(got, want) {
		t.Fatalf("overview rows %q, want the open violations %q", got, want)
	}
	counts := eval[map[string]string](b, `Object.fromEntries(['count-open', 'count-new', 'count-still-open', 'count-resolved'].map(id => [id, document.getElementById(id).innerText]))`)
	for id, want := range map[string]int{"count-open": len(open.Items), "count-new": last.New, "count-still-open": last.StillOpen, "count-resolved": last.Resolved} {
		if counts[id] != fmt.Sprint(want) {
			t.Errorf("#%s reads %q, want %d", id, counts[id], want)
		}
	}
	// The chart: one point per complete run in each series, titled with
	// the run's figure; role img, a title and a description, and the
	// figures as a table for screen readers.
	type seriesView struct {
		Titles []string `json:"titles"`
		Points int      `json:"points"`
	}
	chart := eval[map[string]seriesView](b, `Object.fromEntries(['s-open', 's-new', 's-resolved'].map(c => {
		const g = document.querySelector('svg.chart g.' + c);
		return [c, {titles: [...g.querySelectorAll('circle > title')].map(t => t.textContent), points: g.querySelector('polyline').points.numberOfItems}];
	}))`)
	for class, s := range map[string]struct {
		name  string
		value func(store.Run) int
	}{
		"s-open": {"Open", func(r store.Run) int { return r.StillOpen }}, "s-new": {"New", func(r store.Run) int { return r.New }},
		"s-resolved": {"Resolved", func(r store.Run) int { return r.Resolved }},
	} {
		var want []string
		for _, r := range complete {
			want = append(want, fmt.Sprintf("%s: %d (run %s)", s.name, s.value(r), stamp(r.ID)))
		}
		if got := chart[class]; !slices.Equal(got.Titles, want) || got.Points != len(complete) {
			t.Errorf("chart series %s: %d points titled %q, want %d titled %q", class, got.Points, got.Titles, len(complete), want)
		}
	}
	if !eval[bool](b, `(() => { const s = document.querySelector('svg.chart');
		return s.getAttribute('role') === 'img' && s.querySelector('title').textContent !== '' && s.querySelector('desc').textContent !== '' &&
			document.querySelectorAll('#chart-figures tbody tr').length === `+fmt.Sprint(len(complete))+`; })()`) {
		t.Error("the chart lacks role=img, its title, its description or its table of figures")
	}
	// Every form field has a label; every table a caption.
	if !eval[bool](b, `[...document.querySelectorAll('form.filters select, form.filters input')].every(e => e.labels.length === 1 && e.labels[0].innerText.trim() !== '') &&
		[...document.querySelectorAll('table')].every(t => t.caption && t.caption.textContent.trim() !== '')`) {
		t.Error("a form field without its label, or a table without a caption")
	}
	// The hostile message is text: no <b> element, no script.
	msg := eval[string](b, `[...document.querySelectorAll('#violations tbody tr')].find(tr => tr.querySelector('th.name').innerText === 'evil').querySelector('td.message').innerText`)
	if msg != hostileMessage || eval[int](b, `document.querySelectorAll('b, script').length`) != 0 {
		t.Fatalf("the hostile message reads %q (want it as text), or made elements", msg)
	}
	b.screenshot(shots, "overview.png")

	// A filter through the form: choose the namespace, press Apply.
	b.do("choosing namespace team-b", chromedp.SetValue(chromedp.CSS("#f-namespace"), "team-b"))
	b.submit("applying the filter", chromedp.Click(chromedp.CSS("form.filters button[type=submit]")))
	var filtered api.ViolationList
	if err := e.authGet(token, "/api/v1/violations?state=open&namespace=team-b", &filtered); err != nil {
		t.Fatal(err)
	}
	if got, want := b.rows(), names(filtered.Items); b.location().Query().Get("namespace") != "team-b" || !slices.Equal(got, want) || len(got) >= len(open.Items) {
		t.Fatalf("filtered by namespace team-b (%s): rows %q, want %q", b.location(), got, want)
	}
	// Then every state, same namespace: the resolved one appears.
	b.do("choosing all states", chromedp.SetValue(chromedp.CSS("#f-state"), "all"))
	b.submit("applying the filter", chromedp.Click(chromedp.CSS("form.filters button[type=submit]")))
	if err := e.authGet(token, "/api/v1/violations?state=all&namespace=team-b", &filtered); err != nil {
		t.Fatal(err)
	}
	if got, want := b.rows(), names(filtered.Items); !slices.Equal(got, want) || !slices.Contains(got, "db") {
		t.Fatalf("all states in team-b: rows %q, want %q", got, want)
	}

	// The timeline, by following the resolved violation's link.
	db := byName["db"]
	b.submit("following db's link", chromedp.Click(chromedp.CSS(`#violations th.name a[href$="`+db.Key+`"]`)))
	var detail api.ViolationDetail
	if err := e.authGet(token, "/api/v1/violations/"+db.Key, &detail); err != nil {
		t.Fatal(err)
	}
	var wantEvents []string
	for _, ev := range detail.Timeline {
		wantEvents = append(wantEvents, ev.Kind)
	}
	if b.location().Path != "/violations/"+db.Key || !strings.Contains(eval[string](b, `document.querySelector('h1').innerText`), "db") {
		t.Fatalf("the link led to %s", b.location())
	}
	if got := eval[[]string](b, `[...document.querySelectorAll('#timeline td.event')].map(e => e.innerText)`); !slices.Equal(got, wantEvents) || !slices.Contains(got, store.EventResolved) {
		t.Fatalf("timeline %q, want %q", got, wantEvents)
	}
	b.screenshot(shots, "timeline.png")

	// The runs page, by the navigation link (relative, from a deeper path).
	b.submit("following the runs link", chromedp.Click(chromedp.CSS(`header nav a[href$="runs"]`)))
	type runRow struct {
		Run    string `json:"run"`
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	rows := eval[[]runRow](b, `[...document.querySelectorAll('#runs tbody tr.run')].map(tr => ({
		run: tr.querySelector('th time').getAttribute('datetime'), state: tr.querySelector('.state').innerText, reason: tr.querySelector('.reason').innerText}))`)
	if len(rows) != len(runs.Items) {
		t.Fatalf("runs page: %d rows, want %d", len(rows), len(runs.Items))
	}
	incomplete := runByID[runID(2)]
	i := slices.IndexFunc(rows, func(r runRow) bool { return r.Run == runID(2).Format(time.RFC3339) })
	if i < 0 || rows[i].State != "incomplete" || incomplete.Reason == "" || rows[i].Reason != incomplete.Reason {
		t.Fatalf("runs page rows %+v: want run 2 incomplete with the reason %q", rows, incomplete.Reason)
	}
	b.screenshot(shots, "runs.png")

	// Search with the keyboard: type into the search field, press Enter.
	b.do("opening the overview", chromedp.Navigate(base))
	b.do("focusing the search", chromedp.Focus(chromedp.CSS("#f-search")))
	b.submit("searching", chromedp.SendKeys(chromedp.CSS("#f-search"), "ALERT(1)\r"))
	if got := b.rows(); b.location().Query().Get("search") != "ALERT(1)" || !slices.Equal(got, []string{"evil"}) {
		t.Fatalf("search ALERT(1) (%s): rows %q, want [evil]", b.location(), got)
	}

	// A phone's width: the page does not scroll sideways, the table does,
	// inside its own region.
	b.do("a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(base))
	type widths struct {
		Page, Viewport, Region, RegionScroll int
		Overflow                             string
	}
	w := eval[widths](b, `(() => { const r = document.querySelector('#violations').parentElement;
		return {Page: document.documentElement.scrollWidth, Viewport: window.innerWidth, Region: r.clientWidth, RegionScroll: r.scrollWidth, Overflow: getComputedStyle(r).overflowX}; })()`)
	if w.Viewport != 390 || w.Page > w.Viewport || w.Overflow != "auto" || w.RegionScroll <= w.Region {
		t.Fatalf("at 390 px: %+v; want the page no wider than the viewport and the table scrolling in its region", w)
	}
	b.screenshot(shots, "overview-phone.png")

	// Nothing was loaded from elsewhere.
	stopRequests()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(requests) == 0 {
		t.Fatal("no request seen")
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, base) && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page loaded %s, not from the consumer", u)
		}
	}
}
