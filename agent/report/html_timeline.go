package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// The timeline is an SVG drawn here, in viewBox units, so that the report
// needs no script and prints as it shows. Layout, top to bottom: three
// marker rows (kernel, php-fpm, web server), the plot (stacked bars per
// interval, incident bands with their labels), the time axis.
const (
	svgW       = 1000
	plotLeft   = 58.0
	plotRight  = 992.0
	rowKernel  = 12.0
	rowFPM     = 28.0
	rowServer  = 44.0
	plotTop    = 58.0
	plotBottom = 218.0
	svgH       = 238
	maxBars    = 240 // display bars: buckets are summed into at most this many
	markerCol  = 4.0 // markers of one kind closer than this merge into one
	titleChars = 160 // cited text in a marker's hover title
	listRows   = 100 // rows of the signal table under the timeline
)

type timelineView struct {
	Empty      bool
	W, H       int
	PlotLeft   string
	PlotRight  string
	PlotTop    string
	PlotBottom string
	Rows       []rowView
	Bars       []barView
	Bands      []bandView
	Markers    []markerView
	XTicks     []tickView
	YTicks     []tickView
	Interval   string
	Classes    []Tag       // legend: status classes present
	Kinds      []kindView  // legend: marker kinds present
	List       []markerRow // first markers, as a table
	ListTotal  int         // markers seen, listed or not
	Label      string      // aria-label
}

type rowView struct{ Y, Label string }

type barView struct {
	Title string
	Rects []rectView
}

type rectView struct{ X, Y, W, H, Class string }

type bandView struct {
	X, W, Y, H     string
	LabelX, LabelY string
	Label          string // "" when there is no room
	Title          string
	Href           string
	Cause          string
}

type markerView struct {
	Kind  string
	D     string // SVG path of the symbol
	X     string // the guide line
	Y1    string
	Title string
}

type tickView struct {
	Pos    string
	Label  string
	Anchor string // text-anchor: labels at the plot's ends stay inside the picture
}

type kindView struct {
	Kind  string
	D     string
	Label string
	Count int
}

type markerRow struct {
	Time, Kind, Label, Where, Text string
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// buildTimeline lays out the SVG for one case. It returns a view with Empty
// set when the case has no time-stamped line.
func buildTimeline(tl *analyze.Timeline, incs []correlate.Incident, caseID string) *timelineView {
	v := &timelineView{W: svgW, H: svgH, PlotLeft: num(plotLeft), PlotRight: num(plotRight),
		PlotTop: num(plotTop), PlotBottom: num(plotBottom)}
	if tl == nil || len(tl.Buckets) == 0 || tl.Step <= 0 {
		v.Empty = true
		return v
	}
	loc := tl.Start.Location()
	group := (len(tl.Buckets) + maxBars - 1) / maxBars
	nbars := (len(tl.Buckets) + group - 1) / group
	barStep := tl.Step * time.Duration(group)
	t0 := tl.Start
	t1 := tl.Start.Add(time.Duration(nbars) * barStep)
	span := t1.Sub(t0)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(t0)) / float64(span)
		f = min(max(f, 0), 1)
		return plotLeft + f*(plotRight-plotLeft)
	}
	v.Interval = humanDuration(barStep)
	v.Label = "Requests per " + v.Interval + " by status from " + stamp(t0) + " to " + stamp(t1)

	// Sum buckets into display bars.
	bars := make([]analyze.Bucket, nbars)
	var present [analyze.NumClasses]bool
	peak := 0
	for i := range tl.Buckets {
		b := &bars[i/group]
		for c, n := range tl.Buckets[i] {
			b[c] += n
			present[c] = present[c] || n > 0
		}
	}
	for i := range bars {
		peak = max(peak, bars[i].Total())
	}
	ymax := niceCeil(peak)
	plotH := plotBottom - plotTop - 40 // the top 40 units hold incident labels
	for _, f := range []float64{0, 0.5, 1} {
		val := f * float64(ymax)
		if f == 0.5 && ymax%2 == 1 {
			continue
		}
		v.YTicks = append(v.YTicks, tickView{Pos: num(plotBottom - f*plotH), Label: strconv.Itoa(int(val))})
	}
	bw := (plotRight - plotLeft) / float64(nbars)
	gap := min(bw*0.15, 1.5)
	// Stack order, bottom up: the gateway statuses first so that they show
	// even when they are a small share.
	order := [...]analyze.Class{analyze.Class502, analyze.Class504, analyze.Class503, analyze.Class5xx, analyze.Class4xx, analyze.ClassOK}
	for i := range bars {
		tot := bars[i].Total()
		if tot == 0 {
			continue
		}
		from := t0.Add(time.Duration(i) * barStep)
		bv := barView{Title: barTitle(from.In(loc), from.Add(barStep).In(loc), &bars[i], tot)}
		y := plotBottom
		for _, c := range order {
			n := bars[i][c]
			if n == 0 {
				continue
			}
			h := float64(n) / float64(ymax) * plotH
			h = max(h, 1.2)
			y -= h
			bv.Rects = append(bv.Rects, rectView{X: num(plotLeft + float64(i)*bw + gap/2), Y: num(y),
				W: num(max(bw-gap, 0.4)), H: num(h), Class: classID(c)})
		}
		v.Bars = append(v.Bars, bv)
	}
	for c := analyze.Class(0); c < analyze.NumClasses; c++ {
		if present[c] {
			v.Classes = append(v.Classes, Tag{Class: classID(c), Text: c.String()})
		}
	}

	// Incident bands, labels on up to three rows without overlap.
	var rowEnd [3]float64
	for n, inc := range incs {
		x0 := x(inc.Start)
		x1 := x(inc.End.Add(tl.Step))
		if x1-x0 < 3 {
			mid := (x0 + x1) / 2
			x0, x1 = mid-1.5, mid+1.5
		}
		label := "#" + strconv.Itoa(n+1) + " " + string(inc.Cause)
		b := bandView{X: num(x0), W: num(x1 - x0), Y: num(plotTop), H: num(plotBottom - plotTop),
			Href:  "#" + caseID + "-incident-" + strconv.Itoa(n+1),
			Cause: string(inc.Cause),
			Title: "Incident " + strconv.Itoa(n+1) + ": " + inc.Cause.Describe() + "\n" +
				stamp(inc.Start.In(loc)) + " → " + inc.End.In(loc).Format(stampShort) +
				" (" + humanDuration(inc.End.Sub(inc.Start)) + ")\n" + statusLine(inc) + "\n" + inc.Summary}
		width := float64(len(label))*5.6 + 8
		lx := x0 + 3
		if lx+width > plotRight {
			lx = max(plotLeft, x1-width-3)
		}
		for r := range rowEnd {
			if lx >= rowEnd[r] {
				rowEnd[r] = lx + width
				b.Label, b.LabelX, b.LabelY = label, num(lx), num(plotTop+12+float64(r)*13)
				break
			}
		}
		v.Bands = append(v.Bands, b)
	}

	// Markers, merged per kind and column.
	type key struct {
		k   analyze.MarkerKind
		col int
	}
	idx := map[key]int{}
	var counts []int
	var firsts []analyze.Marker
	for _, m := range tl.Markers {
		k := key{m.Kind, int((x(m.Time) - plotLeft) / markerCol)}
		if i, ok := idx[k]; ok {
			counts[i]++
			continue
		}
		idx[k] = len(firsts)
		firsts = append(firsts, m)
		counts = append(counts, 1)
	}
	for i, m := range firsts {
		mx := x(m.Time)
		row := rowY(m.Kind)
		title := m.Label
		if counts[i] > 1 {
			title += " (×" + strconv.Itoa(counts[i]) + " around here)"
		}
		title += "\n" + stamp(m.Time.In(loc)) + "\n" + m.Evidence.Path + ":" +
			strconv.FormatInt(m.Evidence.Line, 10) + ": " + clip(m.Evidence.Text, titleChars)
		v.Markers = append(v.Markers, markerView{Kind: m.Kind.String(), D: symbol(m.Kind, mx, row),
			X: num(mx), Y1: num(row + 6), Title: title})
	}
	for k := analyze.MarkerKind(0); k < analyze.NumMarkerKinds; k++ {
		if n := tl.MarkerCounts[k]; n > 0 {
			v.Kinds = append(v.Kinds, kindView{Kind: k.String(), D: symbol(k, 7, 7), Label: kindLabel(k), Count: n})
		}
	}
	for _, m := range tl.Markers {
		if len(v.List) == listRows {
			break
		}
		v.List = append(v.List, markerRow{Time: stamp(m.Time.In(loc)), Kind: m.Kind.String(),
			Label: m.Label, Where: m.Evidence.Path + ":" + strconv.FormatInt(m.Evidence.Line, 10),
			Text: clip(m.Evidence.Text, 300)})
	}
	total := 0
	for _, n := range tl.MarkerCounts {
		total += n
	}
	v.ListTotal = total
	v.Rows = []rowView{{num(rowKernel + 3), "kernel"}, {num(rowFPM + 3), "php-fpm"}, {num(rowServer + 3), "server"}}
	v.XTicks = xTicks(t0.In(loc), t1.In(loc), x)
	return v
}

func classID(c analyze.Class) string {
	switch c {
	case analyze.ClassOK:
		return "ok"
	case analyze.Class4xx:
		return "c4xx"
	case analyze.Class5xx:
		return "c5xx"
	case analyze.Class502:
		return "s502"
	case analyze.Class503:
		return "s503"
	}
	return "s504"
}

func kindLabel(k analyze.MarkerKind) string {
	switch k {
	case analyze.MarkOOMKill:
		return "OOM kill"
	case analyze.MarkMaxChildren:
		return "pm.max_children reached"
	case analyze.MarkWorkerSignal:
		return "worker killed by a signal"
	case analyze.MarkSegfault:
		return "segfault"
	case analyze.MarkFPMStart:
		return "php-fpm start"
	case analyze.MarkFPMStop:
		return "php-fpm stop"
	case analyze.MarkServerStart:
		return "web server start"
	case analyze.MarkServerStop:
		return "web server stop"
	}
	return k.String()
}

// rowY is the y of a kind's row.
func rowY(k analyze.MarkerKind) float64 {
	switch k {
	case analyze.MarkOOMKill, analyze.MarkSegfault:
		return rowKernel
	case analyze.MarkServerStart, analyze.MarkServerStop:
		return rowServer
	}
	return rowFPM
}

// symbol is the SVG path of a kind's symbol centred on (x, y): a down
// triangle for kills and crashes, a diamond for pool warnings, circles
// for starts and squares for stops.
func symbol(k analyze.MarkerKind, x, y float64) string {
	var b strings.Builder
	p := func(parts ...any) {
		for _, q := range parts {
			switch q := q.(type) {
			case float64:
				b.WriteString(num(q))
			case string:
				b.WriteString(q)
			}
		}
	}
	switch k {
	case analyze.MarkOOMKill, analyze.MarkSegfault, analyze.MarkWorkerSignal:
		p("M", x-5.5, ",", y-5, "h11l-5.5,10z")
	case analyze.MarkMaxChildren:
		p("M", x, ",", y-6, "l6,6l-6,6l-6,-6z")
	case analyze.MarkFPMStart, analyze.MarkServerStart:
		p("M", x-5, ",", y, "a5,5 0 1,0 10,0a5,5 0 1,0 -10,0z")
	default:
		p("M", x-4.5, ",", y-4.5, "h9v9h-9z")
	}
	return b.String()
}

func barTitle(from, to time.Time, b *analyze.Bucket, tot int) string {
	var s strings.Builder
	s.WriteString(from.Format(stampShort) + "–" + to.Format(stampShort) + ": " + plural(tot, "request"))
	for c := analyze.Class(0); c < analyze.NumClasses; c++ {
		if b[c] > 0 {
			s.WriteString("\n" + c.String() + ": " + strconv.Itoa(b[c]))
		}
	}
	return s.String()
}

func statusLine(inc correlate.Incident) string {
	var parts []string
	for _, s := range []string{"502", "503", "504"} {
		if inc.Statuses[s] > 0 {
			parts = append(parts, strconv.Itoa(inc.Statuses[s])+" × "+s)
		}
	}
	return strings.Join(parts, ", ") + " of " + plural(inc.Requests, "request")
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}

// xTicks places at most about 8 labelled ticks on round wall-clock times.
func xTicks(t0, t1 time.Time, x func(time.Time) float64) []tickView {
	steps := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	span := t1.Sub(t0)
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	for span/step > 8 {
		step *= 2
	}
	layout := "15:04"
	switch {
	case step < time.Minute:
		layout = stampShort
	case step >= 24*time.Hour:
		layout = "Jan 2"
	}
	_, off := t0.Zone()
	secs := int64(step / time.Second)
	wall := t0.Unix() + int64(off)
	first := (wall + secs - 1) / secs * secs
	if time.Unix(first-int64(off), 0).Before(t0) {
		first += secs // t0 had a fraction of a second
	}
	var out []tickView
	for w := first; ; w += secs {
		t := time.Unix(w-int64(off), 0).In(t0.Location())
		if t.After(t1) || len(out) > 20 {
			break
		}
		tx, anchor := x(t), "middle"
		if tx > plotRight-25 {
			anchor = "end"
		}
		out = append(out, tickView{Pos: num(tx), Label: t.Format(layout), Anchor: anchor})
	}
	return out
}

// clip shortens s to at most n bytes (on a rune boundary) with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
