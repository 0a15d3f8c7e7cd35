package rcsim

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
)

// The presenter's "phones" page: the two virtual phones of every call the simulator knows,
// with buttons that act on each leg (Sim.Act). It is ours, not RingCentral's, and like the
// admin endpoints it is not in the request log.
//
//	GET  /phones          the page
//	GET  /phones/calls    the list of phones alone (an HTML fragment the page polls)
//	GET  /phones/static/  its script and style sheet
//	POST /phones/act      form fields call, leg (caller|callee), action (answer|decline|busy|noreply|hangup)

//go:embed phones
var phonesFS embed.FS

var phonesTmpl = template.Must(template.New("phones").Funcs(template.FuncMap{
	"phone": func(prefix, callID string, leg phoneLegView) phoneData { return phoneData{prefix, callID, leg} },
}).ParseFS(phonesFS, "phones/*.html"))

// phoneData is what the "phone" template takes: one phone of a call.
type phoneData struct {
	Prefix, CallID string
	Leg            phoneLegView
}

// maxPhoneCalls is how many calls the page shows, newest first.
const maxPhoneCalls = 12

// phoneLegView is one virtual phone.
type phoneLegView struct {
	Leg    string // "caller" or "callee": the form value and the test id suffix
	Role   string // what this phone is in the RingOut
	Number string // formatted for people
	Status string // the leg status RingCentral would report
	// State is what the phone is doing: "idle" (not rung yet), "ringing", "talking",
	// "ended" or "failed". It drives the look and the buttons.
	State   string
	Caption string // what the phone's screen says
	// CallerID is the number the phone's screen shows as calling (the callee's phone only).
	CallerID string
	Ringing  bool // Answer, Decline and Busy apply
	Talking  bool // Hang up applies
}

// phoneCallView is one call: its two phones.
type phoneCallView struct {
	ID, Who, Status string
	Caller, Callee  phoneLegView
}

type phonesPage struct {
	Prefix string // where the simulator is mounted, e.g. "/sim"
	Calls  []phoneCallView
}

func (s *Sim) phoneRoutes(mux *http.ServeMux) {
	static, err := fs.Sub(phonesFS, "phones")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	mux.HandleFunc("GET /phones", s.phonesPage)
	mux.HandleFunc("GET /phones/calls", s.phonesFragment)
	mux.Handle("GET /phones/static/", http.StripPrefix("/phones/static/", http.FileServerFS(static)))
	mux.Handle("POST /phones/act", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.phoneAct)))
}

func isPhonesPath(p string) bool { return p == "/phones" || strings.HasPrefix(p, "/phones/") }

func (s *Sim) phonesPage(w http.ResponseWriter, r *http.Request) {
	s.renderPhones(w, r, "page")
}

func (s *Sim) phonesFragment(w http.ResponseWriter, r *http.Request) {
	s.renderPhones(w, r, "calls")
}

func (s *Sim) renderPhones(w http.ResponseWriter, r *http.Request, name string) {
	var b bytes.Buffer
	if err := phonesTmpl.ExecuteTemplate(&b, name, phonesPage{Prefix: mountPrefix(r), Calls: s.phoneCalls()}); err != nil {
		s.log.Error("rendering the phones page", "err", err)
		http.Error(w, "the phones page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(b.Bytes()) //nolint:errcheck // the client went away; nothing more to do
}

// phoneCalls are the calls still readable, newest first.
func (s *Sim) phoneCalls() []phoneCallView {
	calls := s.Calls()
	slices.Reverse(calls)
	calls = calls[:min(len(calls), maxPhoneCalls)]
	out := make([]phoneCallView, 0, len(calls))
	for _, c := range calls {
		who := c.Owner
		if u := s.dir.byID(c.Owner); u != nil {
			who = u.Name() + " (ext " + u.Number + ")"
		}
		out = append(out, phoneCallView{
			ID: c.ID, Who: who, Status: string(c.Status.Call),
			Caller: callerPhone(c), Callee: calleePhone(c),
		})
	}
	return out
}

// callerPhone is the first leg: the "ring me at" phone, rung first.
func callerPhone(c CallView) phoneLegView {
	v := phoneLegView{Leg: "caller", Role: "Rings first: “ring me at”", Number: displayNumber(c.From), Status: string(c.Status.Caller)}
	final := c.Status.Over()
	switch c.Status.Caller {
	case StatusInProgress:
		v.State, v.Caption, v.Ringing = "ringing", "Ringing…", !final
	case StatusSuccess:
		v.State, v.Caption, v.Talking = "talking", "Answered", !final
		if c.Status.Callee == StatusSuccess {
			v.Caption = "On the call"
		}
	default:
		v.State, v.Caption = legEnd(c.Status.Caller)
	}
	if final && (v.State == "ringing" || v.State == "talking") {
		// The other leg failed: RingCentral drops this one too.
		v.State, v.Caption = "ended", "Call over"
	}
	return v
}

// calleePhone is the second leg: the number called, rung once the first leg answered.
func calleePhone(c CallView) phoneLegView {
	v := phoneLegView{Leg: "callee", Role: "The number called", Number: displayNumber(c.To), Status: string(c.Status.Callee)}
	if c.CallerID != "" {
		v.CallerID = displayNumber(c.CallerID)
	}
	final := c.Status.Over()
	callerUp := c.Status.Caller == StatusSuccess
	switch c.Status.Callee {
	case StatusInProgress:
		switch {
		case final || (!callerUp && c.Status.Caller != StatusInProgress):
			v.State, v.Caption = "idle", "Never rang"
		case !callerUp:
			v.State, v.Caption = "idle", "Rings once the first phone answers"
		default:
			v.State, v.Caption, v.Ringing = "ringing", "Ringing…", true
		}
	case StatusSuccess:
		v.State, v.Caption, v.Talking = "talking", "On the call", !final
	default:
		v.State, v.Caption = legEnd(c.Status.Callee)
	}
	return v
}

// legEnd is how a phone looks after its leg ended.
func legEnd(st Status) (state, caption string) {
	switch st {
	case StatusFinished:
		return "ended", "Hung up"
	case StatusBusy:
		return "failed", "Busy"
	case StatusNoAnswer:
		return "failed", "No answer"
	case StatusRejected:
		return "failed", "Declined"
	case StatusInternationalDisabled:
		return "failed", "International calls are off"
	}
	return "failed", string(st)
}

// displayNumber formats a home-country number as (650) 555-0129; others stay E.164.
func displayNumber(e164 string) string {
	if isHomeCountry(e164) {
		return "(" + e164[2:5] + ") " + e164[5:8] + "-" + e164[8:]
	}
	return e164
}

var phoneActions = []Action{ActAnswer, ActDecline, ActBusy, ActNoReply, ActHangUp}

// phoneAct applies a button of the page. A script's fetch (Accept: application/json) gets
// 204; a plain form post is sent back to the page.
func (s *Sim) phoneAct(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var leg Leg
	switch r.PostForm.Get("leg") {
	case Caller.String():
		leg = Caller
	case Callee.String():
		leg = Callee
	default:
		http.Error(w, "leg must be caller or callee", http.StatusBadRequest)
		return
	}
	a := Action(r.PostForm.Get("action"))
	if !slices.Contains(phoneActions, a) {
		http.Error(w, "action must be answer, decline, busy, noreply or hangup", http.StatusBadRequest)
		return
	}
	if err := s.Act(r.PostForm.Get("call"), leg, a); errors.Is(err, ErrCallGone) {
		http.Error(w, "this call is over", http.StatusNotFound)
		return
	}
	s.log.Info("rcsim phone action", "call", r.PostForm.Get("call"), "leg", r.PostForm.Get("leg"), "action", r.PostForm.Get("action"))
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, mountPrefix(r)+"/phones", http.StatusSeeOther)
}
