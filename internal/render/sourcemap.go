package render

import (
	"path"
	"regexp"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
)

// templateLineMap maps each line of a rendered template (1-based index i
// into the result; [0] is unused) to the line of the template source that
// produced it, 0 when unknown.
//
// The two texts are aligned line by line as a diff would: a template line
// is a pattern, its literal text with each {{ action }} matching anything,
// and the longest order-preserving matching of rendered lines to template
// lines wins (a template line may match several in a row, as in a range). A rendered line no template line matches (the output of
// toYaml, include, range bodies written by an action) is given to the
// first action-only line between its neighbours' template lines, or else
// to the template line before it.
func templateLineMap(template, rendered string) []int {
	tl := strings.Split(template, "\n")
	rl := strings.Split(rendered, "\n")
	pats := make([]*regexp.Regexp, len(tl))
	action := make([]bool, len(tl))
	weight := make([]int32, len(tl))
	for j, l := range tl {
		pats[j], action[j] = linePattern(l)
		// A more specific pattern (more literal text) wins a tie.
		//nolint:gosec // G115: a template line is far shorter than 2^31 bytes.
		weight[j] = int32(len(strings.Join(strings.Fields(actionRE.ReplaceAllString(l, "")), ""))) + 1
	}
	// A weighted LCS over (rendered, template) with "matches" as equality,
	// where one template line may match several rendered lines in a row (a
	// range).
	R, T := len(rl), len(tl)
	dp := make([][]int32, R+1)
	for i := range dp {
		dp[i] = make([]int32, T+1)
	}
	match := func(i, j int) bool {
		return pats[j] != nil && strings.TrimSpace(rl[i]) != "" && pats[j].MatchString(strings.TrimRight(rl[i], " "))
	}
	for i := R - 1; i >= 0; i-- {
		for j := T - 1; j >= 0; j-- {
			switch {
			case match(i, j):
				dp[i][j] = max(dp[i+1][j]+weight[j], dp[i][j+1])
			case dp[i+1][j] >= dp[i][j+1]:
				dp[i][j] = dp[i+1][j]
			default:
				dp[i][j] = dp[i][j+1]
			}
		}
	}
	out := make([]int, R+1)
	matched := make([]int, R) // template index+1 or 0
	for i, j := 0, 0; i < R && j < T; {
		switch {
		case match(i, j) && dp[i][j] == dp[i+1][j]+weight[j]:
			matched[i] = j + 1
			i++
		case dp[i+1][j] >= dp[i][j+1]:
			i++
		default:
			j++
		}
	}
	prev := 0 // template line (1-based) of the last matched rendered line
	for i := 0; i < R; i++ {
		if matched[i] > 0 {
			prev = matched[i]
			out[i+1] = prev
			continue
		}
		next := T + 1
		for k := i + 1; k < R; k++ {
			if matched[k] > 0 {
				next = matched[k]
				break
			}
		}
		out[i+1] = prev
		for j := prev + 1; j < next && j <= T; j++ {
			if action[j-1] {
				out[i+1] = j
				break
			}
		}
	}
	return out
}

var actionRE = regexp.MustCompile(`\{\{.*?\}\}`)

// linePattern turns a template line into a pattern for the rendered lines
// it can produce (nil for a line that produces none on its own: blank,
// comment-only actions, or only actions), and says whether the line holds
// only actions (which may write other lines: toYaml, include).
func linePattern(l string) (*regexp.Regexp, bool) {
	t := strings.TrimSpace(l)
	if t == "" {
		return nil, false
	}
	locs := actionRE.FindAllStringIndex(t, -1)
	literal := actionRE.ReplaceAllString(t, "")
	if strings.TrimSpace(literal) == "" {
		return nil, len(locs) > 0
	}
	var b strings.Builder
	b.WriteString(`^\s*`)
	last := 0
	for _, loc := range locs {
		b.WriteString(regexp.QuoteMeta(t[last:loc[0]]))
		b.WriteString(`.*?`)
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(t[last:]))
	b.WriteString(`\s*$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, false
	}
	return re, false
}

// templateSources returns every template of the chart and its
// dependencies by the name Helm renders it under ("chart/templates/x",
// "chart/charts/sub/templates/x"), with its text.
func templateSources(c *chart.Chart) map[string]string {
	out := map[string]string{}
	var walk func(c *chart.Chart, prefix string)
	walk = func(c *chart.Chart, prefix string) {
		for _, t := range c.Templates {
			out[path.Join(prefix, t.Name)] = string(t.Data)
		}
		for _, d := range c.Dependencies() {
			walk(d, path.Join(prefix, "charts", d.Name()))
		}
	}
	walk(c, c.Name())
	return out
}
