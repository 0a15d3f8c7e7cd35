// Package static holds the page's stylesheet and script, embedded in the binary, and serves
// them with long-lived caching: pages link them as /static/app.css?v=VERSION, and a response
// to a request carrying the current VERSION may be cached forever.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

//go:embed app.css app.js icon.svg click-to-dial.js
var files embed.FS

var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

type asset struct {
	contentType string
	plain, gz   []byte
}

// Assets serves the embedded files. Create it with New.
type Assets struct {
	version string
	files   map[string]asset
}

// New reads and compresses the embedded files once and computes their version.
func New() *Assets {
	a := &Assets{files: map[string]asset{}}
	h := sha256.New()
	names, _ := fs.Glob(files, "*.*") // embedded, so it cannot fail
	for _, name := range names {
		b, _ := files.ReadFile(name)
		a.files[name] = asset{contentType: contentTypes[name[strings.LastIndex(name, "."):]], plain: b, gz: Gzip(b)}
		h.Write([]byte(name))
		h.Write(b)
	}
	a.version = hex.EncodeToString(h.Sum(nil))[:12]
	return a
}

// Gzip is b compressed as well as gzip can: for bodies compressed once and sent many times.
func Gzip(b []byte) []byte {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return gz.Bytes()
}

// Version is the content hash of all the files, for the ?v= cache-busting parameter.
func (a *Assets) Version() string { return a.version }

// ServeHTTP serves /static/NAME (or NAME, when mounted with http.StripPrefix). With
// ?v=Version it answers Cache-Control: public, max-age=31536000, immutable; otherwise
// no-cache with an ETag. It sends gzip to clients that accept it.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/static"), "/")
	f, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.plain, `"`+a.version+`"`
	if AcceptsGzip(r) {
		body, etag = f.gz, `"`+a.version+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// AcceptsGzip reports whether the request's Accept-Encoding allows gzip (and does not set
// its q to 0). The handlers use it for pages too: one reading of the header.
func AcceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
