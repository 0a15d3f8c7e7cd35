// Package simsignin is the tests' one HTTP sign-in: a user signs in to the app through the
// simulator's sign-in page with a plain HTTP client, as a browser without JavaScript would
// (GET /login, the simulator's form, /oauth/callback, the dialer).
package simsignin

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Do signs user in with c (the password is the user name, as the simulator's users have
// it). c must keep cookies and follow redirects. It fails t unless the sign-in form carried
// a state and a PKCE challenge and c ends on appURL's dialer, signed in.
func Do(t testing.TB, c *http.Client, appURL, user string) {
	t.Helper()
	resp, doc := Form(t, c, appURL+"/login", user)
	if resp.Request.URL.String() != appURL+"/" || doc.Find(`[data-testid="signed-in-as"]`).Length() == 0 {
		t.Fatalf("not signed in on the dialer after the callback (HTTP %d at %s)", resp.StatusCode, resp.Request.URL)
	}
}

// Framed GETs url with c as the app's iframe would (Sec-Fetch-Dest: iframe) and returns the
// page. It fails t if the request or reading the page fails.
func Framed(t testing.TB, c *http.Client, url string) *goquery.Document {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("Sec-Fetch-Dest", "iframe")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Form starts a sign-in at loginURL (the app's /login, or the popup's /login?popup=1&…),
// fills in the simulator's form for user and submits it; it returns the page the app's
// callback led to (its body already read into doc). It fails t unless the form carried a
// state and a PKCE challenge.
func Form(t testing.TB, c *http.Client, loginURL, user string) (*http.Response, *goquery.Document) {
	t.Helper()
	resp, err := c.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	doc.Find(`form input[type=hidden]`).Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	if form.Get("state") == "" || form.Get("code_challenge") == "" {
		t.Fatalf("GET %s did not lead to a sign-in form with state and PKCE challenge (HTTP %d at %s)", loginURL, resp.StatusCode, resp.Request.URL)
	}
	form.Set("username", user)
	form.Set("password", user)
	form.Set("action", "signin")
	resp, err = c.PostForm(resp.Request.URL.String(), form) // the form posts to its own URL
	if err != nil {
		t.Fatal(err)
	}
	doc, err = goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}

// FrameJar is the framed app's partitioned cookie jar, for the iframe's popup sign-in: it
// keeps every cookie by name and sends them all, Secure ones too (the embedded cookies are
// always Secure; the tests serve plain HTTP on loopback, which a browser treats as secure
// but net/http/cookiejar does not). One jar is one iframe on one host.
type FrameJar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *FrameJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cookies == nil {
		j.cookies = map[string]*http.Cookie{}
	}
	for _, ck := range cs {
		if ck.MaxAge < 0 {
			delete(j.cookies, ck.Name)
		} else {
			j.cookies[ck.Name] = &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
}

func (j *FrameJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var cs []*http.Cookie
	for _, ck := range j.cookies {
		cs = append(cs, ck)
	}
	return cs
}

// Has reports whether the jar holds the cookie named name.
func (j *FrameJar) Has(name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cookies[name] != nil
}
