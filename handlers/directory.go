package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/static"
)

// The company directory (GET account/~/directory/entries, Medium group) is read once per
// account and kept: a page gets it once (GET /directory, cached by the browser) and the page
// script searches it locally as the person types, so typing costs RingCentral nothing.
// Once directoryRefresh old, the next page of anyone in the account is served the directory
// it has and a read in the background brings it up to date: at most 3 reads an hour per
// account, each one request per 1000 entries.
const (
	directoryRefresh = 20 * time.Minute
	// directoryRetry is how soon a read that failed is tried again.
	directoryRetry = 5 * time.Minute
	// directoryMaxAge is how long the browser may keep GET /directory without asking again.
	directoryMaxAge = 5 * time.Minute
)

// colleague is one entry of the directory as the page gets it.
type colleague struct {
	Name   string `json:"name"`
	Ext    string `json:"ext,omitempty"`
	Dept   string `json:"dept,omitempty"`
	Number string `json:"number"` // the direct number (E.164): what a call to them dials
	Shown  string `json:"shown"`  // Number formatted for people
}

// accountDirectory is one account's directory as last read.
type accountDirectory struct {
	list []colleague
	json []byte
	gz   []byte // json gzipped once, as most browsers ask: a thousand colleagues are ~100 KB of JSON
	etag string
	at   time.Time // when it was read (or, after a failure, when to try again less directoryRefresh)
}

// directories are the accounts' directories.
type directories struct {
	mu     sync.Mutex
	m      map[string]*accountDirectory
	flight singleflight.Group
}

// directory is the session's account's directory: at once when it was read less than
// directoryRefresh ago; otherwise a read starts (one per account at a time) and, when a
// directory is known or wait is false, the known one (or nil) is returned while the read
// goes on in the background. With wait and nothing known, it waits for the read.
func (a *App) directory(ctx context.Context, s *auth.Session, wait bool) *accountDirectory {
	key := "account:" + s.AccountID
	a.dirs.mu.Lock()
	d := a.dirs.m[key]
	a.dirs.mu.Unlock()
	if d != nil && a.Now().Sub(d.at) < directoryRefresh {
		return d
	}
	ch := a.dirs.flight.DoChan(key, func() (any, error) { return a.readDirectory(ctx, s, key, d), nil })
	if d != nil || !wait {
		return d
	}
	select {
	case r := <-ch:
		d, _ := r.Val.(*accountDirectory)
		return d
	case <-ctx.Done():
		return nil
	}
}

// readDirectory reads the directory and keeps it for the account. On failure the old one
// (or an empty one) is kept and tried again after directoryRetry.
func (a *App) readDirectory(ctx context.Context, s *auth.Session, key string, old *accountDirectory) *accountDirectory {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	entries, err := a.RingCentral.Directory(ctx, s)
	var d *accountDirectory
	switch {
	case errors.Is(err, dialer.ErrSignedOut):
		return old // someone else's page will read it
	case err != nil:
		a.explainRC(ctx, opDirectory, err) // logged; the page works without suggestions
		d = &accountDirectory{json: []byte("[]"), at: a.Now().Add(directoryRetry - directoryRefresh)}
		if old != nil {
			d.list, d.json, d.gz, d.etag = old.list, old.json, old.gz, old.etag
		}
	default:
		d = &accountDirectory{list: []colleague{}, at: a.Now()}
		for _, e := range entries {
			number, name := e.DirectNumber(), e.DisplayName()
			if number == "" || name == "" || (e.Status != "" && e.Status != "Enabled") {
				continue // nothing a RingOut can dial, or not in service
			}
			d.list = append(d.list, colleague{Name: name, Ext: e.ExtensionNumber, Dept: e.Department,
				Number: number, Shown: phone.Display(number, s.HomeCountry)})
		}
		d.json, _ = json.Marshal(d.list)
		d.gz = static.Gzip(d.json)
		sum := sha256.Sum256(d.json)
		d.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	}
	a.dirs.mu.Lock()
	a.dirs.m[key] = d
	a.dirs.mu.Unlock()
	return d
}

// directoryJSON is GET /directory: the account's directory for the page script, which
// fetches it once and searches it as the person types. The browser keeps it a few minutes
// and then asks again with its ETag.
func (a *App) directoryJSON(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		http.Error(w, msgSignedOut, http.StatusUnauthorized)
		return
	}
	body, etag := []byte("[]"), ""
	h := w.Header()
	if d := a.directory(r.Context(), s, true); d != nil {
		body, etag = d.json, d.etag
		if d.gz != nil && static.AcceptsGzip(r) {
			// Its own entity tag: the gzipped body is another representation (RFC 9110 8.8.3).
			body, etag = d.gz, strings.TrimSuffix(etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(directoryMaxAge/time.Second)))
	h.Set("Vary", "Cookie, Accept-Encoding")
	if etag != "" {
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Write(body)
}

// extensionNumber is to when it looks like an extension number of the account (digits
// only, at most 6 of them), else "".
func extensionNumber(to string) string {
	to = strings.TrimSpace(to)
	if to == "" || len(to) > 6 || strings.Trim(to, "0123456789") != "" {
		return ""
	}
	return to
}

// colleagueByExtension is the direct number of the colleague with that extension number,
// from the account's directory; false when there is none (or no directory).
func (a *App) colleagueByExtension(ctx context.Context, s *auth.Session, ext string) (colleague, bool) {
	d := a.directory(ctx, s, true)
	if d == nil {
		return colleague{}, false
	}
	for _, c := range d.list {
		if c.Ext == ext {
			return c, true
		}
	}
	return colleague{}, false
}
