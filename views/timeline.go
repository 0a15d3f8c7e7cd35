package views

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// TimelinePoint is the statuses of both legs from At (since the call started) on.
type TimelinePoint struct {
	At     time.Duration
	Caller string
	Callee string
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
	tlTail    = 14 // width kept after End so that a final status stays visible
	tlRowH    = 14
	tlTickGap = 30 // minimum distance between tick labels
)

type tlSegment struct {
	Row, Status, Phase, Title string
	X, Y, W                   string
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
	for _, r := range rows {
		for i := 0; i < len(pts); {
			st := r.status(pts[i])
			j := i + 1
			for j < len(pts) && r.status(pts[j]) == st {
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
				x0 := x(from)
				l.Segments = append(l.Segments, tlSegment{
					Row: r.name, Status: st, Phase: Phase(st),
					Title: fmt.Sprintf("%s: %s, %s%s", r.label, st, mmss(from), to),
					X:     num(x0), Y: strconv.Itoa(r.y), W: num(max(x1-x0, 1)),
				})
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

// mmss formats a duration since the start of the call as m:ss.
func mmss(d time.Duration) string {
	s := int(max(d, 0) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
