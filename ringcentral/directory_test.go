package ringcentral_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestDirectoryDecode: an entry in the shape of the spec's example is read with its names,
// department, extension number and direct number (a FaxOnly direct number is not one).
func TestDirectoryDecode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"records":[{"id":"12345","type":"User","status":"Enabled","firstName":"John","lastName":"Smith",
			"jobTitle":"CEO","department":"Sales","email":"john.smith@example.com","extensionNumber":"103","account":{"id":"2002"},
			"site":{"code":"10","name":"Main Site","id":"main-site"},
			"phoneNumbers":[{"phoneNumber":"+12022372134","usageType":"DirectNumber","type":"FaxOnly"},
				{"phoneNumber":"+12125672134","usageType":"DirectNumber","type":"VoiceFax"},
				{"phoneNumber":"+16029472302","usageType":"MobileNumber"}],
			"profileImage":{"uri":"...","etag":"..."}},
			{"id":"2","type":"Department","name":"Support line","extensionNumber":"200"}],
			"paging":{"page":1,"totalPages":1,"perPage":1000,"totalElements":2,"pageStart":0,"pageEnd":1}}`))
	}))
	t.Cleanup(srv.Close)
	got, err := ringcentral.New(srv.URL, srv.Client()).Directory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d entries", len(got))
	}
	if e := got[0]; e.DisplayName() != "John Smith" || e.Department != "Sales" || e.ExtensionNumber != "103" || e.DirectNumber() != "+12125672134" {
		t.Errorf("entry %+v (name %q, direct %q)", e, e.DisplayName(), e.DirectNumber())
	}
	if e := got[1]; e.DisplayName() != "Support line" || e.DirectNumber() != "" {
		t.Errorf("call queue %+v", e)
	}
}

// TestDirectoryPages: Directory reads every page of the simulator's directory, one Medium
// request per page.
func TestDirectoryPages(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo")
	got, err := c.DirectoryPaged(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	want := len(sim.Users()) + len(sim.Colleagues())
	if len(got) != want {
		t.Fatalf("%d entries, want %d", len(got), want)
	}
	requests := 0
	for _, r := range sim.Requests() {
		if r.Path == "/restapi/v1.0/account/~/directory/entries" {
			requests++
			if r.Group != "Medium" {
				t.Errorf("group %q", r.Group)
			}
		}
	}
	if requests != (want+4)/5 {
		t.Errorf("%d requests for %d entries at 5 a page", requests, want)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.ExtensionNumber] || e.DirectNumber() == "" || e.DisplayName() == "" {
			t.Errorf("entry %+v", e)
		}
		seen[e.ExtensionNumber] = true
	}
	all, err := c.Directory(t.Context())
	if err != nil || len(all) != want {
		t.Errorf("Directory = %d entries, %v", len(all), err)
	}
}
