package views

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
)

// render renders c and parses it the way a browser would.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(t.Context(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(&b)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

func byTestID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

func attr(s *goquery.Selection, name string) string {
	v, _ := s.Attr(name)
	return v
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func TestCallCard(t *testing.T) {
	ringing := CallVM{
		ID: "8f2a", Status: "InProgress", To: "(650) 555-0123", From: "Mobile", Live: true,
		Message:    "Ringing your phone. Answer it to be connected.",
		Caller:     newLegVM(dialer.Caller, dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}),
		Callee:     newLegVM(dialer.Callee, dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}),
		Cancelable: true,
	}
	busy := CallVM{
		ID: "77", Status: "CannotReach", To: "(650) 555-0125", From: "Desk",
		Message: "The call failed: The number you called is busy.",
		Caller:  newLegVM(dialer.Caller, dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}),
		Callee:  newLegVM(dialer.Callee, dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}),
		Note:    NoteSentence(dialer.NoteSlowDown, 0),
	}
	tests := []struct {
		name                         string
		vm                           CallVM
		heading, callerSt, calleeSt  string
		callerPhase, calleeExplained string
		cancel                       bool
	}{
		{"ringing", ringing, "Calling (650) 555-0123 from Mobile", "InProgress", "", "ringing", "Waiting", true},
		{"busy", busy, "Call to (650) 555-0125 from Desk", "Success", "Busy", "answered", "The number you called is busy.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, CallCard(tt.vm))
			card := byTestID(doc, "call")
			if card.Length() != 1 {
				t.Fatalf("want one call card, got %d", card.Length())
			}
			if got := attr(card, "id"); got != "call-"+tt.vm.ID {
				t.Errorf("id = %q, want call-%s (the script swaps cards by id)", got, tt.vm.ID)
			}
			if got := attr(card, "data-call-id"); got != tt.vm.ID {
				t.Errorf("data-call-id = %q", got)
			}
			if got := attr(card, "data-call-status"); got != tt.vm.Status {
				t.Errorf("data-call-status = %q, want %q", got, tt.vm.Status)
			}
			if got := text(card.Find("h3")); got != tt.heading {
				t.Errorf("heading = %q, want %q", got, tt.heading)
			}
			if got := text(byTestID(doc, "call-message")); got != tt.vm.Message {
				t.Errorf("call-message = %q", got)
			}
			caller, callee := byTestID(doc, "caller-leg"), byTestID(doc, "callee-leg")
			if got := attr(caller, "data-status"); got != tt.callerSt {
				t.Errorf("caller data-status = %q, want %q", got, tt.callerSt)
			}
			if got := attr(caller, "data-phase"); got != tt.callerPhase {
				t.Errorf("caller data-phase = %q, want %q", got, tt.callerPhase)
			}
			if got := attr(callee, "data-status"); got != tt.calleeSt {
				t.Errorf("callee data-status = %q, want %q", got, tt.calleeSt)
			}
			if !strings.Contains(text(callee), tt.calleeExplained) || !strings.Contains(text(callee), "The number you called") {
				t.Errorf("callee leg reads %q, want label and %q", text(callee), tt.calleeExplained)
			}
			btn := byTestID(doc, "cancel-button")
			if got := btn.Length() == 1; got != tt.cancel {
				t.Errorf("cancel button shown = %v, want %v", got, tt.cancel)
			}
			if tt.cancel {
				form := btn.Closest("form")
				if attr(form, "method") != "post" || attr(form, "action") != "/calls/"+tt.vm.ID+"/cancel" {
					t.Errorf("cancel form posts to %s %s", attr(form, "method"), attr(form, "action"))
				}
			}
			if got := text(byTestID(doc, "call-note")); got != tt.vm.Note {
				t.Errorf("note = %q, want %q", got, tt.vm.Note)
			}
		})
	}
}

func TestCallCardEscapesServerValues(t *testing.T) {
	vm := CallVM{ID: `x"><script>alert(1)</script>`, Status: "Weird<b>", To: "<img src=x>", Message: "<i>hi</i>", Cancelable: true}
	var b bytes.Buffer
	if err := CallCard(vm).Render(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", "<i>", "<b>"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("rendered card contains %q unescaped:\n%s", bad, b.String())
		}
	}
	doc := render(t, CallCard(vm))
	if got := attr(byTestID(doc, "call"), "data-call-id"); got != vm.ID {
		t.Errorf("data-call-id = %q, want the id verbatim", got)
	}
	if got := attr(byTestID(doc, "cancel-button").Closest("form"), "action"); got != "/calls/x%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E/cancel" {
		t.Errorf("cancel action = %q, want the id path-escaped", got)
	}
}

func TestNewCallVM(t *testing.T) {
	start := time.Date(2025, 3, 3, 14, 5, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name               string
		call               dialer.Call
		cancel, live, tl   bool
		status, calleeText string
	}{
		{
			name: "ringing the caller",
			call: dialer.Call{ID: "1", Status: dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress},
				StartedAt: start, History: []dialer.StatusAt{{Status: dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}, At: start}}},
			cancel: true, live: true, tl: true, status: "InProgress", calleeText: "Waiting.",
		},
		{
			name: "cancel already requested",
			call: dialer.Call{ID: "2", CancelRequested: true, Status: dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}},
			live: true, status: "InProgress", calleeText: "Waiting.",
		},
		{
			name: "connected cannot be canceled",
			call: dialer.Call{ID: "3", Status: dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegSuccess, Callee: dialer.LegSuccess}},
			live: true, status: "Success", calleeText: "They answered.",
		},
		{
			name: "busy",
			call: dialer.Call{ID: "4", Status: dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy},
				StartedAt: start, History: []dialer.StatusAt{
					{Status: dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}, At: at(0)},
					{Status: dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}, At: at(3)},
				}},
			tl: true, status: "CannotReach", calleeText: "The number you called is busy.",
		},
		{
			name: "unknown status from RingCentral",
			call: dialer.Call{ID: "5", Status: dialer.Status{Call: "Teleported", Callee: "Levitating"}},
			live: true, status: "Teleported", calleeText: `RingCentral reports the number you called as "Levitating".`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm := NewCallVM(tt.call, "(650) 555-0123", "Mobile", at(10))
			if vm.Cancelable != tt.cancel || vm.Live != tt.live || vm.Status != tt.status {
				t.Errorf("cancelable, live, status = %v, %v, %q; want %v, %v, %q", vm.Cancelable, vm.Live, vm.Status, tt.cancel, tt.live, tt.status)
			}
			if (vm.Timeline != nil) != tt.tl {
				t.Errorf("timeline present = %v, want %v", vm.Timeline != nil, tt.tl)
			}
			doc := render(t, CallCard(vm))
			if got := text(byTestID(doc, "callee-leg").Find("p")); !strings.Contains(got, tt.calleeText) {
				t.Errorf("callee leg reads %q, want %q", got, tt.calleeText)
			}
			if got := text(byTestID(doc, "call-message")); got != ExplainCall(tt.call.Status) {
				t.Errorf("call-message = %q", got)
			}
			if got := byTestID(doc, "cancel-button").Length() == 1; got != tt.cancel {
				t.Errorf("cancel button shown = %v, want %v", got, tt.cancel)
			}
			if _, got := byTestID(doc, "call").Attr("data-live"); got != tt.live {
				t.Errorf("data-live present = %v, want %v (the page adds only live cards)", got, tt.live)
			}
		})
	}
}

func threeNumbers() []FromOption {
	return []FromOption{
		{Value: "+16505550101", Label: "Mobile", Type: "Mobile", Number: "(650) 555-0101"},
		{Value: "+16505550102", Label: "Desk", Type: "PhoneLine", Number: "(650) 555-0102"},
		{Value: "+442071838750", Label: "London", Type: "Other", Number: "+44 20 7183 8750"},
	}
}

func TestDialerForm(t *testing.T) {
	lastUsed := threeNumbers()
	lastUsed[1].Selected = true
	tests := []struct {
		name               string
		vm                 DialerVM
		selected           string
		errors             map[string]string // field id → message
		formError, checked bool
	}{
		{name: "last used preselected", vm: DialerVM{From: lastUsed, PlayPrompt: true}, selected: "+16505550102", errors: map[string]string{}, checked: true},
		{name: "first by default", vm: DialerVM{From: threeNumbers()}, selected: "+16505550101", errors: map[string]string{}},
		{name: "typed other number", vm: DialerVM{From: threeNumbers(), FromOther: "650 555 0199"}, selected: FromOther, errors: map[string]string{}},
		{name: "no forwarding numbers", vm: DialerVM{}, selected: FromOther, errors: map[string]string{}},
		{
			name:     "invalid numbers",
			vm:       DialerVM{From: lastUsed, To: "12", FromOther: "x", Errors: FormErrors{To: "This is not a valid phone number.", From: "Enter a phone number."}},
			selected: FromOther,
			errors:   map[string]string{"to": "This is not a valid phone number.", "from": "Enter a phone number."},
		},
		{
			name:      "RingCentral refused",
			vm:        DialerVM{From: lastUsed, Errors: FormErrors{Form: "You do not have permission to place RingOut calls (CMN-401)."}},
			selected:  "+16505550102",
			errors:    map[string]string{},
			formError: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Selected is only meaningful with the other number not typed.
			tt.vm.From = slices.Clone(tt.vm.From)
			if tt.vm.FromOther != "" {
				for i := range tt.vm.From {
					tt.vm.From[i].Selected = false
				}
			}
			doc := render(t, DialerForm(tt.vm))
			form := doc.Find("form#dial-form")
			if attr(form, "method") != "post" || attr(form, "action") != "/calls" {
				t.Fatalf("form posts to %s %s", attr(form, "method"), attr(form, "action"))
			}
			sel := byTestID(doc, "from-select")
			if attr(sel, "name") != "from" {
				t.Errorf("from-select name = %q", attr(sel, "name"))
			}
			if n := sel.Find("option").Length(); n != len(tt.vm.From)+1 {
				t.Errorf("%d options, want %d numbers + Other", n, len(tt.vm.From))
			}
			chosen := sel.Find("option[selected]")
			if chosen.Length() == 0 {
				chosen = sel.Find("option").First() // what a browser selects
			}
			if chosen.Length() != 1 || attr(chosen, "value") != tt.selected {
				t.Errorf("selected options = %d (%q), want just %q", chosen.Length(), attr(chosen, "value"), tt.selected)
			}
			if tt.vm.FromOther != "" && attr(doc.Find("input[name=from_other]"), "value") != tt.vm.FromOther {
				t.Errorf("from_other lost what the user typed")
			}
			to := byTestID(doc, "to-input")
			if attr(to, "name") != "to" || attr(to, "type") != "tel" || attr(to, "autocomplete") != "tel" || to.AttrOr("required", "-") == "-" {
				t.Errorf("to-input attributes: %s", goquery.NodeName(to))
			}
			if attr(to, "value") != tt.vm.To {
				t.Errorf("to-input value = %q, want %q", attr(to, "value"), tt.vm.To)
			}
			if got := byTestID(doc, "prompt-checkbox").AttrOr("checked", "-") != "-"; got != tt.checked {
				t.Errorf("prompt checked = %v, want %v", got, tt.checked)
			}
			if attr(byTestID(doc, "prompt-checkbox"), "name") != "playPrompt" {
				t.Errorf("checkbox name = %q", attr(byTestID(doc, "prompt-checkbox"), "name"))
			}
			if text(byTestID(doc, "call-button")) != "Call" {
				t.Errorf("call button reads %q", text(byTestID(doc, "call-button")))
			}
			want := len(tt.errors)
			if tt.formError {
				want++
			}
			if n := byTestID(doc, "form-error").Length(); n != want {
				t.Errorf("%d form-error elements, want %d", n, want)
			}
			for field, msg := range tt.errors {
				input := doc.Find("#" + field)
				errID := attr(input, "aria-describedby")
				if attr(input, "aria-invalid") != "true" || errID == "" {
					t.Errorf("%s: not marked invalid (aria-invalid=%q aria-describedby=%q)", field, attr(input, "aria-invalid"), errID)
					continue
				}
				e := doc.Find("#" + errID)
				if attr(e, "data-testid") != "form-error" || text(e) != msg {
					t.Errorf("%s: described by %q reading %q, want form-error %q", field, errID, text(e), msg)
				}
			}
			if tt.formError && text(doc.Find("#form-error")) != tt.vm.Errors.Form {
				t.Errorf("form-level error reads %q", text(doc.Find("#form-error")))
			}
			if len(tt.errors) == 0 && to.AttrOr("aria-invalid", "") != "" {
				t.Errorf("to-input marked invalid without an error")
			}
		})
	}
}

func TestFromOptionText(t *testing.T) {
	tests := []struct {
		o    FromOption
		want string
	}{
		{FromOption{Label: "Mobile", Type: "Mobile", Number: "(650) 555-0101"}, "(650) 555-0101 · Mobile"},
		{FromOption{Label: "My Mobile", Type: "Mobile", Number: "(650) 555-0111"}, "(650) 555-0111 · My Mobile"},
		{FromOption{Label: "Desk", Type: "PhoneLine", Number: "(650) 555-0102"}, "(650) 555-0102 · Desk (PhoneLine)"},
		{FromOption{Type: "Home", Number: "(650) 555-0103"}, "(650) 555-0103 · Home"},
		{FromOption{Number: "(650) 555-0104"}, "(650) 555-0104"},
	}
	for _, tt := range tests {
		if got := tt.o.Text(); got != tt.want {
			t.Errorf("Text() = %q, want %q", got, tt.want)
		}
	}
}

func TestDialerPageScenarios(t *testing.T) {
	busy := rcsim.Busy.Number
	vm := DialerVM{From: threeNumbers(), To: busy, Scenarios: []Scenario{
		{Number: rcsim.Answered.Number, Label: rcsim.Answered.Label}, {Number: busy, Label: rcsim.Busy.Label},
	}}
	doc := render(t, DialerPage(vm))
	links := byTestID(doc, "scenario")
	if links.Length() != 2 {
		t.Fatalf("%d scenario links, want 2", links.Length())
	}
	if got := attr(links.Eq(1), "href"); got != "/?to=%2B"+busy[1:] {
		t.Errorf("without JS the Busy link goes to %q", got)
	}
	if got := attr(links.Eq(1), "data-fill-to"); got != busy {
		t.Errorf("data-fill-to = %q", got)
	}
	if got := attr(byTestID(doc, "to-input"), "value"); got != busy {
		t.Errorf("to-input not prefilled: %q", got)
	}
	// The cards are not a live region (an update would be read out whole); the status line
	// says what changed.
	if doc.Find("#calls").Length() != 1 || doc.Find("#calls[aria-live]").Length() != 0 || doc.Find("#ws-status").Length() != 1 ||
		doc.Find("#announce[role=status]").Length() != 1 {
		t.Errorf("page lacks #calls (not a live region), #ws-status or the #announce status line")
	}
	if got := render(t, DialerPage(DialerVM{})).Find(".try").Length(); got != 0 {
		t.Errorf("try these shown outside demo mode")
	}
}

func recentCalls(n int) []RecentCallVM {
	calls := make([]RecentCallVM, n)
	for i := range calls {
		calls[i] = RecentCallVM{
			ID: fmt.Sprint(1000 + i), Status: "Success", When: "Mar 3, 14:05", WhenISO: "2025-03-03T14:05:00Z",
			From: "Mobile", To: fmt.Sprintf("(650) 555-01%02d", i%100), ToE164: fmt.Sprintf("+165055501%02d", i%100),
			CallerStatus: "Finished", CalleeStatus: "Finished",
			Explanation: "The call has ended.",
		}
	}
	if n == 0 {
		return calls
	}
	calls[0].Status, calls[0].CalleeStatus, calls[0].Explanation = "CannotReach", "Busy", "The number you called is busy."
	calls[0].Duration = "0:17"
	return calls
}

func TestRecentCalls(t *testing.T) {
	tests := []struct {
		given, want int
	}{{0, 0}, {1, 1}, {20, 20}, {25, 20}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.given), func(t *testing.T) {
			doc := render(t, RecentCalls(recentCalls(tt.given)))
			list := byTestID(doc, "recent-calls")
			if list.Length() != 1 {
				t.Fatal("no recent-calls section")
			}
			rows := byTestID(doc, "recent-call")
			if rows.Length() != tt.want {
				t.Errorf("%d rows, want %d", rows.Length(), tt.want)
			}
			if tt.want == 0 {
				if !strings.Contains(text(list), "No calls yet.") {
					t.Errorf("empty list reads %q", text(list))
				}
				return
			}
			first := rows.First()
			if got := attr(first, "data-call-status"); got != "CannotReach" {
				t.Errorf("first row data-call-status = %q", got)
			}
			// Badges in plain words; RingCentral's words stay in data-status and the tooltip.
			for _, want := range []string{"Mar 3, 14:05", "Mobile → (650) 555-0100", "Hung up", "Busy", "The number you called is busy."} {
				if !strings.Contains(text(first), want) {
					t.Errorf("first row %q lacks %q", text(first), want)
				}
			}
			// One plain line says which leg is which, and how long the call lasted.
			if got := text(byTestID(doc, "recent-summary").First()); got != "You: Hung up · Them: Busy · lasted 0:17" {
				t.Errorf("first row's summary reads %q", got)
			}
			if b := first.Find(".badge").First(); attr(b, "data-status") != "Finished" || !strings.Contains(attr(b, "title"), "Finished") {
				t.Errorf("caller badge data-status %q, title %q: want RingCentral's Finished in both", attr(b, "data-status"), attr(b, "title"))
			}
			if got := attr(first.Find("time"), "datetime"); got != "2025-03-03T14:05:00Z" {
				t.Errorf("datetime = %q", got)
			}
			again := first.Find(`[data-testid="call-again"]`)
			if attr(again, "data-fill-to") != "+16505550100" || attr(again, "href") != "/?to=%2B16505550100" {
				t.Errorf("Call again fills %q, links %q; want +16505550100 both ways", attr(again, "data-fill-to"), attr(again, "href"))
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	s := time.Second
	type seg struct{ row, phase, status string }
	tests := []struct {
		name  string
		vm    TimelineVM
		segs  []seg
		ticks []string
		label string // the accessible name, when checked
	}{
		{
			name: "answered then finished",
			vm: TimelineVM{Points: []TimelinePoint{
				{0, "InProgress", "", ""},
				{2 * s, "Success", "InProgress", ""},
				{5 * s, "Success", "Success", ""},
				{15 * s, "Finished", "Finished", ""},
			}},
			segs: []seg{
				{"caller", "ringing", "InProgress"}, {"caller", "answered", "Success"}, {"caller", "finished", "Finished"},
				{"callee", "ringing", "InProgress"}, {"callee", "answered", "Success"}, {"callee", "finished", "Finished"},
			},
			ticks: []string{"0:00", "0:05", "0:15"}, // 0:02 is too close to 0:00 to label
			label: "Timeline. Your phone: ringing 0:00–0:02, answered 0:02–0:15, hung up at 0:15. " +
				"The number you called: ringing 0:02–0:05, answered 0:05–0:15, hung up at 0:15.",
		},
		{
			name: "busy, points out of order, live end",
			vm: TimelineVM{End: 75 * s, Points: []TimelinePoint{
				{4 * s, "Success", "Busy", ""},
				{0, "InProgress", "", ""},
				{2 * s, "Success", "InProgress", ""},
			}},
			segs: []seg{
				{"caller", "ringing", "InProgress"}, {"caller", "answered", "Success"},
				{"callee", "ringing", "InProgress"}, {"callee", "failed", "Busy"},
			},
			ticks: []string{"0:00", "1:15"}, // 0:02 and 0:04 are too close to 0:00 to label
		},
		{
			name:  "unknown status",
			vm:    TimelineVM{Points: []TimelinePoint{{0, "Levitating", "Levitating", ""}}},
			segs:  []seg{{"caller", "failed", "Levitating"}, {"callee", "failed", "Levitating"}},
			ticks: []string{"0:00"},
		},
		{
			name: "changes within a second: no repeated ticks",
			vm: TimelineVM{End: 40 * s, Points: []TimelinePoint{
				{0, "InProgress", "InProgress", ""},
				{300 * time.Millisecond, "Success", "InProgress", ""},
				{700 * time.Millisecond, "Success", "Busy", ""},
			}},
			segs: []seg{
				{"caller", "ringing", "InProgress"}, {"caller", "answered", "Success"},
				{"callee", "waiting", "InProgress"}, {"callee", "ringing", "InProgress"}, {"callee", "failed", "Busy"},
			},
			ticks: []string{"0:00", "0:40"},
		},
		{
			name: "the end wins over a change just before it",
			vm: TimelineVM{Points: []TimelinePoint{
				{0, "InProgress", "InProgress", ""},
				{10 * s, "Success", "InProgress", ""},
				{19 * s, "Success", "NoAnswer", ""},
			}},
			segs: []seg{
				{"caller", "ringing", "InProgress"}, {"caller", "answered", "Success"},
				{"callee", "waiting", "InProgress"}, {"callee", "ringing", "InProgress"}, {"callee", "failed", "NoAnswer"},
			},
			ticks: []string{"0:00", "0:10", "0:19"},
		},
		{name: "empty", vm: TimelineVM{}},
		{name: "no statuses yet", vm: TimelineVM{Points: []TimelinePoint{{At: 0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, Timeline(tt.vm))
			svg := byTestID(doc, "timeline")
			if len(tt.segs) == 0 {
				if svg.Length() != 0 {
					t.Errorf("timeline drawn with nothing to show")
				}
				return
			}
			var got []seg
			prevEnd := map[string]float64{}
			svg.Find("rect").Each(func(_ int, r *goquery.Selection) {
				row := attr(r, "data-row")
				got = append(got, seg{row, attr(r, "data-phase"), attr(r, "data-status")})
				var x, w float64
				fmt.Sscan(attr(r, "x"), &x)
				fmt.Sscan(attr(r, "width"), &w)
				if !strings.HasSuffix(attr(r, "x"), "%") || !strings.HasSuffix(attr(r, "width"), "%") || w <= 0 || x+w > 100.01 {
					t.Errorf("segment %s/%s at x=%v w=%v is outside the picture", row, attr(r, "data-status"), x, w)
				}
				if end, ok := prevEnd[row]; ok && x+0.1 < end {
					t.Errorf("segment %s/%s starts at %v, before the previous one ends (%v)", row, attr(r, "data-status"), x, end)
				}
				prevEnd[row] = x + w
				if r.Find("title").Length() != 1 || !strings.Contains(r.Find("title").Text(), attr(r, "data-status")) {
					t.Errorf("segment lacks a hover title naming its status: %q", r.Find("title").Text())
				}
			})
			if fmt.Sprint(got) != fmt.Sprint(tt.segs) {
				t.Errorf("segments\n got %v\nwant %v", got, tt.segs)
			}
			var ticks []string
			svg.Find("text.tl-tick").Each(func(_ int, s *goquery.Selection) { ticks = append(ticks, s.Text()) })
			if fmt.Sprint(ticks) != fmt.Sprint(tt.ticks) {
				t.Errorf("ticks = %v, want %v", ticks, tt.ticks)
			}
			if len(slices.Compact(slices.Clone(ticks))) != len(ticks) {
				t.Errorf("ticks repeat: %v", ticks)
			}
			// No words on the segments (they did not fit: "Answere"); the picture's words are
			// its accessible name and, the same, a disclosure reachable without hover.
			if n := svg.Find("text").Not(".tl-tick").Length(); n != 0 {
				t.Errorf("%d words drawn on segments", n)
			}
			pic := svg.Find("[role=img]")
			name := attr(pic, "aria-label")
			if pic.Length() != 1 || !strings.HasPrefix(name, "Timeline. Your phone: ") {
				t.Errorf("the picture's accessible name is %q", name)
			}
			if tt.label != "" && name != tt.label {
				t.Errorf("accessible name\n %q\nwant\n %q", name, tt.label)
			}
			var items []string
			svg.Find("details summary").Each(func(_ int, s *goquery.Selection) { items = append(items, text(s)) })
			svg.Find("details li").Each(func(_ int, s *goquery.Selection) { items = append(items, text(s)) })
			if len(items) != 3 || "Timeline. "+items[1]+" "+items[2] != name {
				t.Errorf("the disclosure reads %q, want the accessible name's words %q", items, name)
			}
		})
	}
}

func TestNewTimelineVM(t *testing.T) {
	start := time.Date(2025, 3, 3, 14, 5, 0, 0, time.UTC)
	h := []dialer.StatusAt{
		{Status: dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}, At: start.Add(time.Second)},
		{Status: dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegRejected}, At: start.Add(9 * time.Second)},
	}
	vm := NewTimelineVM(start, h, start.Add(9*time.Second))
	want := TimelineVM{End: 9 * time.Second, Points: []TimelinePoint{
		{At: time.Second, Caller: "InProgress", Call: "InProgress"},
		{At: 9 * time.Second, Caller: "Success", Callee: "Rejected", Call: "CannotReach"},
	}}
	if fmt.Sprint(vm) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", vm, want)
	}
	if got := NewTimelineVM(time.Time{}, h, start.Add(9*time.Second)); got.Points[0].At != 0 || got.End != 8*time.Second {
		t.Errorf("zero start: got %+v, want times from the first entry", got)
	}
}
