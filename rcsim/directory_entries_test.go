package rcsim_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestDirectoryEntries: the company directory lists every extension of the demo account
// (the three users and about a dozen colleagues, each with a name, department, extension
// number and direct number), paged as the platform pages it, in the Medium group.
func TestDirectoryEntries(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")
	const path = "/restapi/v1.0/account/~/directory/entries"
	r := e.get(path, tok)
	if r.status != http.StatusOK || r.header.Get("X-Rate-Limit-Group") != "Medium" {
		t.Fatalf("GET directory/entries = %d, group %q: %s", r.status, r.header.Get("X-Rate-Limit-Group"), r.body)
	}
	body := r.json(t)
	records, _ := body["records"].([]any)
	want := len(e.srv.Users()) + len(e.srv.Colleagues())
	if len(records) != want || len(e.srv.Colleagues()) < 10 {
		t.Fatalf("%d entries, want %d (about a dozen colleagues)", len(records), want)
	}
	seen := map[string]bool{}
	for _, rec := range records {
		m := rec.(map[string]any)
		ext, _ := m["extensionNumber"].(string)
		phones, _ := m["phoneNumbers"].([]any)
		named := m["firstName"] != nil && m["lastName"] != nil || m["name"] != nil
		if ext == "" || seen[ext] || !named || m["department"] == nil || len(phones) != 1 {
			t.Errorf("entry %v", m)
		}
		seen[ext] = true
		if _, ok := m["account"]; !ok {
			t.Errorf("entry without the account section (showFederated defaults to true): %v", m)
		}
	}
	if !seen["101"] || !seen["102"] || !seen["103"] {
		t.Errorf("the users are not all in the directory: %v", seen)
	}

	// Paged: five per page, the last page short, past it empty.
	pages := (want + 4) / 5
	total := 0
	for p := 1; p <= pages+1; p++ {
		r := e.get(path+"?showFederated=false&perPage=5&page="+strconv.Itoa(p), tok)
		m := r.json(t)
		recs, _ := m["records"].([]any)
		pg, _ := m["paging"].(map[string]any)
		if pg["page"] != float64(p) || pg["perPage"] != float64(5) || pg["totalPages"] != float64(pages) || pg["totalElements"] != float64(want) {
			t.Errorf("page %d paging %v", p, pg)
		}
		if p <= pages && pg["pageStart"] != float64((p-1)*5) {
			t.Errorf("page %d starts at %v", p, pg["pageStart"])
		}
		if p > pages && len(recs) != 0 {
			t.Errorf("page %d past the end has %d entries", p, len(recs))
		}
		for _, rec := range recs {
			if _, ok := rec.(map[string]any)["account"]; ok {
				t.Error("showFederated=false still sends the account section")
			}
		}
		total += len(recs)
	}
	if total != want {
		t.Errorf("the pages hold %d entries, want %d", total, want)
	}
	for _, bad := range []string{"perPage=0", "perPage=2001", "perPage=x", "page=0"} {
		if r := e.get(path+"?"+bad, tok); r.status != http.StatusBadRequest || r.errorCode(t) != "CMN-101" {
			t.Errorf("?%s = %d %s", bad, r.status, r.body)
		}
	}
	if r := e.get(path+"?perPage=all", tok); len(r.json(t)["records"].([]any)) != want {
		t.Error("perPage=all does not answer everything")
	}
}
