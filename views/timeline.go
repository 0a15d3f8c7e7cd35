package views

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
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

// Geometry of the timeline SVG, in its own units (it scales with CSS).
const (
	tlWidth   = 320
	tlHeight  = 54
	tlX0      = 44 // left of the plot; the row labels sit before it
	tlTail    = 44 // width kept after End, so that the final status shows with its word
	tlRowH    = 14
	tlTickGap = 30 // minimum distance between tick labels
)

type tlSegment struct {
	Row, Status, Phase, Title string
	X, Y, W                   string
	// Label is the status in words, written on the segment when it fits; LX, LY place it.
	Label, LX, LY string
}

type tlTick struct {
	X, Label string
}

type tlLayout struct {
	Segments []tlSegment
	Ticks    []tlTick
}

// layout computes the rectangles and tick labels. It accepts anything: unsorted points,
// negative times, an End before the last point.
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
		return tlX0 + float64(max(d, 0))/span*(tlWidth-tlX0-tlTail)
	}
	rows := []struct {
		name, label string
		y           int
		status      func(TimelinePoint) string
	}{
		{"caller", "Your phone", 4, func(p TimelinePoint) string { return p.Caller }},
		{"callee", "The number you called", 22, func(p TimelinePoint) string { return p.Callee }},
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
	for _, r := range rows {
		for i := 0; i < len(pts); {
			st, ph := r.status(pts[i]), phase(r.name, pts[i])
			j := i + 1
			for j < len(pts) && r.status(pts[j]) == st && phase(r.name, pts[j]) == ph {
				j++
			}
			from, x1, to := pts[i].At, float64(tlWidth), ""
			if j < len(pts) {
				x1 = x(pts[j].At)
				to = "–" + mmss(pts[j].At)
			} else if end > max(from, 0) {
				to = "–" + mmss(end)
			}
			if st != "" {
				// Rounded as drawn, so that a segment starts exactly where the previous ends.
				x0 := math.Round(x(from)*10) / 10
				w := max(math.Round(x1*10)/10-x0, 1)
				word := shortWord(view(r.name, pts[j-1]).Word)
				seg := tlSegment{
					Row: r.name, Status: st, Phase: ph,
					Title: fmt.Sprintf("%s: %s (%s), %s%s", r.label, word, st, mmss(from), to),
					X:     num(x0), Y: strconv.Itoa(r.y), W: num(w),
				}
				if float64(len(word))*tlCharW+6 <= w {
					seg.Label, seg.LX, seg.LY = word, num(x0+3), strconv.Itoa(r.y+10)
				}
				l.Segments = append(l.Segments, seg)
			}
			i = j
		}
	}
	last := -float64(tlTickGap)
	add := func(d time.Duration) {
		if xd := x(d); xd-last >= tlTickGap {
			l.Ticks = append(l.Ticks, tlTick{X: num(xd), Label: mmss(d)})
			last = xd
		}
	}
	for i, p := range pts {
		if i == 0 || p.Caller != pts[i-1].Caller || p.Callee != pts[i-1].Callee {
			add(p.At)
		}
	}
	if end > pts[len(pts)-1].At {
		add(end)
	}
	return l
}

// tlCharW is the width of a character of a segment label, roughly, in SVG units.
const tlCharW = 4.2

// shortWord is a badge's word shortened for the picture; RingCentral's word is in the title.
func shortWord(w string) string {
	switch w {
	case "International calls off":
		return "Intl. off"
	case "RingCentral error":
		return "Error"
	case "Cannot ring this phone":
		return "Cannot ring"
	}
	return w
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

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
