package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/phone"
)

type colleagueJSON struct {
	Name, Ext, Dept, Number, Shown string
}

// TestDirectory: GET /directory is the account's directory for the page script (every
// colleague with a name, extension, department and direct number), read from RingCentral
// once for the account however many pages and users ask, kept by the browser a few minutes
// (Cache-Control, ETag and 304), and refreshed in the background once old.
func TestDirectory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		b.get("/") // starts the read
		r := b.get("/directory")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" ||
			r.header.Get("Cache-Control") != "private, max-age=300" || r.header.Get("ETag") == "" {
			t.Fatalf("GET /directory = %d %v", r.status, r.header)
		}
		var list []colleagueJSON
		if err := json.Unmarshal([]byte(r.body), &list); err != nil {
			t.Fatal(err)
		}
		if want := len(h.sim.Users()) + len(h.sim.Colleagues()); len(list) != want {
			t.Errorf("%d colleagues, want %d", len(list), want)
		}
		byExt := map[string]colleagueJSON{}
		for _, c := range list {
			byExt[c.Ext] = c
		}
		for _, c := range h.sim.Colleagues() {
			got := byExt[c.Number]
			name := c.FirstName + " " + c.LastName
			if c.Type == "Department" {
				name = c.Name
			}
			if got.Name != name || got.Dept != c.Department || got.Number != c.DirectPhone || got.Shown != phone.Display(c.DirectPhone, "US") {
				t.Errorf("ext %s: %+v, want %s of %s on %s", c.Number, got, name, c.Department, c.DirectPhone)
			}
		}

		// The browser asks again with its ETag: 304, nothing read.
		again := b.do(http.MethodGet, appURL+"/directory", nil, "", http.Header{"If-None-Match": {r.header.Get("ETag")}})
		if again.status != http.StatusNotModified {
			t.Errorf("revalidation = %d, want 304", again.status)
		}
		// Asked for gzip (as browsers do), it comes gzipped, under its own ETag.
		zipped := b.do(http.MethodGet, appURL+"/directory", nil, "", http.Header{"Accept-Encoding": {"gzip"}})
		if zipped.header.Get("Content-Encoding") != "gzip" || zipped.header.Get("ETag") == r.header.Get("ETag") ||
			len(zipped.body) >= len(r.body) {
			t.Errorf("GET /directory with gzip: %d bytes, %v; want gzipped under another ETag than %d bytes", len(zipped.body), zipped.header, len(r.body))
		} else if plain := gunzip(t, zipped.body); plain != r.body {
			t.Errorf("the gzipped directory reads %.200s, want %.200s", plain, r.body)
		}
		if again := b.do(http.MethodGet, appURL+"/directory", nil, "", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {zipped.header.Get("ETag")}}); again.status != http.StatusNotModified {
			t.Errorf("revalidation of the gzipped directory = %d, want 304", again.status)
		}
		// Another user of the account, more pages: still the one read.
		other := h.signIn("demo2")
		other.get("/")
		other.get("/directory")
		b.get("/")
		if n := h.requests(http.MethodGet, "/directory/entries"); n != 1 {
			t.Errorf("directory read %d times, want once for the account", n)
		}

		// Once old, a page is served the directory it has and a read brings it up to date.
		time.Sleep(21 * time.Minute)
		if stale := b.get("/directory"); stale.status != http.StatusOK || stale.body != r.body {
			t.Errorf("stale directory: %d %.200s", stale.status, stale.body)
		}
		synctest.Wait()
		if n := h.requests(http.MethodGet, "/directory/entries"); n != 2 {
			t.Errorf("after 21 minutes the directory was read %d times in all, want 2", n)
		}
		if r := b.get("/directory"); r.status != http.StatusOK {
			t.Errorf("refreshed directory: %d", r.status)
		}
		if n := h.requests(http.MethodGet, "/directory/entries"); n != 2 {
			t.Errorf("a fresh directory was read again (%d reads)", n)
		}

		if h.browser().get("/directory").status != http.StatusUnauthorized {
			t.Error("GET /directory without a sign-in is not 401")
		}
	})
}

// TestExtensionDial: an extension number of the account in the number field calls that
// colleague's direct number; digits that are no extension are still not a phone number.
func TestExtensionDial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		target := h.sim.Colleagues()[0]
		id := b.place(target.Number)
		var to string
		for _, c := range h.sim.Calls() {
			if c.ID == id {
				to = c.To
			}
		}
		if to != target.DirectPhone {
			t.Errorf("extension %s called %q, want %s", target.Number, to, target.DirectPhone)
		}
		r := b.fetch("/calls", url.Values{"to": {"99"}})
		if r.status != http.StatusUnprocessableEntity || r.text("form-error") != phone.ErrInvalid.Error() {
			t.Errorf("to=99 (no such extension): %d %q", r.status, r.text("form-error"))
		}
		if n := h.requests(http.MethodGet, "/directory/entries"); n != 1 {
			t.Errorf("directory read %d times, want once", n)
		}
	})
}
