package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// The chart's geometry, in the SVG's user units (it scales to its box).
const (
	chartW      = 480
	chartH      = 250
	chartLeft   = 52 // room for the y labels and half the first x label
	chartRight  = 46 // half the last x label
	chartTop    = 14
	chartBottom = 44 // room for the x labels
)

// series is one line of the chart.
type series struct {
	// Name is what a person reads ("Open"); Class styles it (colour and
	// dash, so colour is not the only difference).
	Name, Class string
	Points      []point
}

// Polyline is the points attribute of the series' line.
func (s series) Polyline() string {
	var b strings.Builder
	for i, p := range s.Points {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(p.X) + "," + num(p.Y))
	}
	return b.String()
}

// point is one figure of one run.
type point struct {
	X, Y  float64
	Value int
	Run   time.Time
}

// XNum and YNum are the coordinates as the SVG writes them.
func (p point) XNum() string { return num(p.X) }
func (p point) YNum() string { return num(p.Y) }

type tick struct {
	Pos   float64
	Label string
}

// PosNum is the tick's coordinate as the SVG writes it.
func (t tick) PosNum() string { return num(t.Pos) }

// chartRun is one run's figures, for the text equivalent.
type chartRun struct {
	Run                 time.Time
	Open, New, Resolved int
	State               string
}

// chart is the figure of open, new and resolved violations over the last
// complete runs of one cluster, drawn by the server as inline SVG.
type chart struct {
	Cluster string
	Runs    []chartRun
	Series  []series
	YTicks  []tick
	XTicks  []tick
	YMax    int
	// Geometry for the template.
	W, H, Left, Right, Top, Bottom float64
}

// Desc is the chart's description for screen readers: what it shows and
// where it ends.
func (c *chart) Desc() string {
	first, last := c.Runs[0], c.Runs[len(c.Runs)-1]
	if len(c.Runs) == 1 {
		return fmt.Sprintf("One complete run, %s: %d open, %d new, %d resolved. The table after the chart lists the figures.",
			stamp(first.Run), first.Open, first.New, first.Resolved)
	}
	return fmt.Sprintf("%d complete runs from %s to %s. Open went from %d to %d; the last run had %d new and %d resolved. The table after the chart lists every figure.",
		len(c.Runs), stamp(first.Run), stamp(last.Run), first.Open, last.Open, last.New, last.Resolved)
}

// complete reports whether a run's counts were applied.
func complete(r store.Run) bool { return r.State == store.RunFinalized || r.State == store.RunHeld }

// buildChart draws the complete runs among runs (newest first, as the store
// lists them), oldest on the left, at most limit of them. Open is the open
// violations the run saw (new ones included), as Run.StillOpen counts them.
// It returns nil when no run is complete.
func buildChart(cluster string, runs []store.Run, limit int) *chart {
	var picked []store.Run
	for _, r := range runs {
		if complete(r) && len(picked) < limit {
			picked = append(picked, r)
		}
	}
	if len(picked) == 0 {
		return nil
	}
	c := &chart{Cluster: cluster, W: chartW, H: chartH, Left: chartLeft, Right: chartW - chartRight, Top: chartTop, Bottom: chartH - chartBottom}
	peak := 0
	for i := len(picked) - 1; i >= 0; i-- {
		r := picked[i]
		c.Runs = append(c.Runs, chartRun{Run: r.ID, Open: r.StillOpen, New: r.New, Resolved: r.Resolved, State: r.State})
		peak = max(peak, r.StillOpen, r.New, r.Resolved)
	}
	step := niceStep(peak)
	c.YMax = step * int(math.Ceil(float64(max(peak, 1))/float64(step)))
	for v := 0; v <= c.YMax; v += step {
		c.YTicks = append(c.YTicks, tick{Pos: c.y(v), Label: strconv.Itoa(v)})
	}
	// At most about four labels under the x axis (they must fit a phone).
	every := (len(c.Runs) + 3) / 4
	for i, r := range c.Runs {
		if i%every == 0 || i == len(c.Runs)-1 {
			c.XTicks = append(c.XTicks, tick{Pos: c.x(i), Label: r.Run.UTC().Format("01-02 15:04")})
		}
	}
	for _, s := range []struct {
		name, class string
		value       func(chartRun) int
	}{
		{"Open", "s-open", func(r chartRun) int { return r.Open }},
		{"New", "s-new", func(r chartRun) int { return r.New }},
		{"Resolved", "s-resolved", func(r chartRun) int { return r.Resolved }},
	} {
		se := series{Name: s.name, Class: s.class}
		for i, r := range c.Runs {
			v := s.value(r)
			se.Points = append(se.Points, point{X: c.x(i), Y: c.y(v), Value: v, Run: r.Run})
		}
		c.Series = append(c.Series, se)
	}
	return c
}

// x is the horizontal position of the i-th run (one run: the middle).
func (c *chart) x(i int) float64 {
	if len(c.Runs) == 1 {
		return (c.Left + c.Right) / 2
	}
	return c.Left + (c.Right-c.Left)*float64(i)/float64(len(c.Runs)-1)
}

// y is the vertical position of a value (0 at the bottom).
func (c *chart) y(v int) float64 {
	return c.Bottom - (c.Bottom-c.Top)*float64(v)/float64(c.YMax)
}

// niceStep is a step of 1, 2 or 5 times a power of ten that divides
// 0..peak into at most five intervals.
func niceStep(peak int) int {
	for pow := 1; ; pow *= 10 {
		for _, m := range []int{1, 2, 5} {
			if s := m * pow; peak <= 5*s {
				return s
			}
		}
	}
}

// num writes a coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// stamp is how the page writes a time.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
