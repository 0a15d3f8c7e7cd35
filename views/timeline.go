package views

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// TimelinePoint is the statuses of both legs from At (since the call started) on.
type TimelinePoint struct {
	At     time.Duration
	Caller string
	Callee string
	Call   string // the callStatus, which words the legs (DescribeLeg); "" reads as live
}

// TimelineVM is the history of a call's two legs.
type TimelineVM struct {
	Points []TimelinePoint
	// End is where the picture stops (now for a live call); at least the last point.
	End time.Duration
}

// Geometry of the timeline, in percent of its width: the bars stretch with the page while
// the words (row names, ticks) keep their size in CSS pixels (no viewBox, so nothing scales
// them down), and the picture carries no words it cannot fit.
const (
	tlTail    = 12.0 // width kept after End, so that the final status shows
	tlTickGap = 20.0 // minimum distance between tick labels
	tlMinW    = 0.6  // the narrowest segment drawn
)

type tlSegment struct {
	Row, Status, Phase, Title string
	X, W                      string // "12.5%"
	// Text is the segment in words for the text alternative: "Ringing 0:00–0:04".
	Text string
}

type tlTick struct {
	X, Label, Anchor string // Anchor: start or middle (text-anchor)
}

// tlRow is one leg's segments, and the leg in words: "Your phone: ringing 0:00–0:04, …".
type tlRow struct {
	Name, Short string // "caller", "You"
	Segments    []tlSegment
	Text        string
}

type tlLayout struct {
	Rows  []tlRow
	Ticks []tlTick
	// Label is the picture's accessible name: both rows in words.
	Label string
}

// empty reports whether there is nothing to draw.
func (l tlLayout) empty() bool {
	for _, r := range l.Rows {
		if len(r.Segments) > 0 {
			return false
		}
	}
	return true
}

// layout computes the segments, the tick labels and the words. It accepts anything:
// unsorted points, negative times, an End before the last point.
func (vm TimelineVM) layout() tlLayout {
	pts := slices.Clone(vm.Points)
	slices.SortStableFunc(pts, func(a, b TimelinePoint) int { return cmp.Compare(max(a.At, 0), max(b.At, 0)) })
	var l tlLayout
	if len(pts) == 0 {
		return l
	}
	end := max(vm.End, pts[len(pts)-1].At, 0)
	span := float64(end)
	if span <= 0 {
		span = 1
	}
	x := func(d time.Duration) float64 {
		return float64(max(d, 0)) / span * (100 - tlTail)
	}
	rows := []struct {
		name, short, label string
		status             func(TimelinePoint) string
	}{
		{"caller", "You", "Your phone", func(p TimelinePoint) string { return p.Caller }},
		{"callee", "Them", "The number you called", func(p TimelinePoint) string { return p.Callee }},
	}
	// view is a leg at a point, worded from the whole call: the number called is not rung
	// ("waiting") until your phone answered, although RingCentral reports it InProgress
	// from the start, and a final call's InProgress legs read as what they became.
	view := func(row string, p TimelinePoint) LegView {
		s := dialer.Status{Call: dialer.CallStatus(p.Call), Caller: dialer.LegStatus(p.Caller), Callee: dialer.LegStatus(p.Callee)}
		if row == "callee" {
			return DescribeLeg(dialer.Callee, s)
		}
		return DescribeLeg(dialer.Caller, s)
	}
	phase := func(row string, p TimelinePoint) string { return view(row, p).Phase }
	var label []string
	for _, r := range rows {
		row := tlRow{Name: r.name, Short: r.short}
		var words []string
		for i := 0; i < len(pts); {
			st, ph := r.status(pts[i]), phase(r.name, pts[i])
			j := i + 1
			for j < len(pts) && r.status(pts[j]) == st && phase(r.name, pts[j]) == ph {
				j++
			}
			from, x1, to := pts[i].At, 100.0, ""
			if j < len(pts) {
				x1 = x(pts[j].At)
				to = mmss(pts[j].At)
			} else if end > max(from, 0) {
				to = mmss(end)
			}
			if st != "" {
				// Rounded as drawn, so that a segment starts exactly where the previous ends.
				x0 := math.Round(x(from)*10) / 10
				w := max(math.Round(x1*10)/10-x0, tlMinW)
				word := view(r.name, pts[j-1]).Word
				when := " at " + mmss(from)
				if to != "" {
					when = " " + mmss(from) + "–" + to
				}
				row.Segments = append(row.Segments, tlSegment{
					Row: r.name, Status: st, Phase: ph,
					Title: fmt.Sprintf("%s: %s (%s),%s", r.label, word, st, when),
					X:     pct(x0), W: pct(w),
					Text: word + when,
				})
				words = append(words, strings.ToLower(word)+when)
			}
			i = j
		}
		if len(words) > 0 {
			row.Text = r.label + ": " + strings.Join(words, ", ") + "."
			label = append(label, row.Text)
		}
		l.Rows = append(l.Rows, row)
	}
	l.Label = "Timeline. " + strings.Join(label, " ")

	// Ticks: the start, the changes and the end, never two with the same label nor closer
	// than tlTickGap; the last one is kept at the cost of the one before it.
	var at []time.Duration
	for i, p := range pts {
		if i == 0 || p.Caller != pts[i-1].Caller || p.Callee != pts[i-1].Callee {
			at = append(at, max(p.At, 0))
		}
	}
	if end > pts[len(pts)-1].At {
		at = append(at, end)
	}
	var xs []float64
	fits := func(xd float64, label string) bool {
		n := len(l.Ticks)
		return n == 0 || (label != l.Ticks[n-1].Label && xd-xs[n-1] >= tlTickGap)
	}
	for i, d := range at {
		xd, label := x(d), mmss(d)
		for i == len(at)-1 && len(l.Ticks) > 1 && !fits(xd, label) {
			l.Ticks, xs = l.Ticks[:len(l.Ticks)-1], xs[:len(xs)-1] // the end wins over the changes before it
		}
		if fits(xd, label) {
			l.Ticks, xs = append(l.Ticks, tlTick{X: pct(xd), Label: label, Anchor: "middle"}), append(xs, xd)
		}
	}
	if n := len(l.Ticks); n > 0 {
		l.Ticks[0].Anchor = "start" // the others have room: the last is at most at 100-tlTail
	}
	return l
}

// mmss formats a duration (since the start of the call, or a talk time) as m:ss, or
// h:mm:ss from an hour on; never negative.
func mmss(d time.Duration) string {
	s := int(max(d, 0) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func pct(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + "%" }
