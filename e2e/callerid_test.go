package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
)

// TestBrowserCallerID: the person chooses the company number beside the Call button; the
// call reaches the simulator with that callerId (the callee's virtual phone shows it), and
// the choice is still selected on the next page.
func TestBrowserCallerID(t *testing.T) {
	app, ctx := signedInBrowser(t, "demo")
	var selected string
	browse(t, ctx, 10*time.Second,
		chromedp.WaitVisible(byTestID("caller-id-select"), chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('[data-testid=caller-id-select]').selectedOptions[0].textContent`, &selected),
	)
	if !strings.Contains(selected, "(your setting)") {
		t.Errorf("caller id preselected %q, want the extension's setting", selected)
	}
	browse(t, ctx, 5*time.Second, setValue(byTestID("caller-id-select"), rcsim.MainNumber))
	id := dial(t, ctx, typed(rcsim.LongRing), false)

	resp, err := http.Get(app.URL + "/sim/phones/calls")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	shown := strings.TrimSpace(doc.Find(phoneSel(id, "callee") + " [data-testid=phone-caller-id]").Text())
	if want := phone.Display(rcsim.MainNumber, "US"); !strings.Contains(shown, want) {
		t.Errorf("the callee's phone shows %q, want caller id %s", shown, want)
	}

	var value string
	browse(t, ctx, 10*time.Second,
		chromedp.Reload(),
		chromedp.WaitVisible(byTestID("caller-id-select"), chromedp.ByQuery),
		chromedp.Value(byTestID("caller-id-select"), &value, chromedp.ByQuery),
	)
	if value != rcsim.MainNumber {
		t.Errorf("after a reload the caller id is %q, want the remembered %s", value, rcsim.MainNumber)
	}
}
