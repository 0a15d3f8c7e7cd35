package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ringout-dialer/ringout/store"
)

// TestSecretRotation: SESSION_SECRET changes from old to new with old listed as a previous
// secret. Browsers signed in under old stay signed in (cookies read, tokens decrypted), and
// every token is encrypted again under new (when used, or by the sweep at start): once old
// is no longer listed the tokens still decrypt. A session whose token no listed secret
// decrypts is ended.
func TestSecretRotation(t *testing.T) {
	oldSecret := secret
	newSecret := []byte("the-new-session-secret-0123456789abcdef")
	lostSecret := []byte("a-secret-nobody-listed-0123456789abcdef")
	h := newHarness(t)

	// A browser signed in under a secret that is not listed any more.
	h.restart(lostSecret)
	_, goneSession := h.signedIn("demo2")

	h.restart(oldSecret)
	used, usedSession := h.signedIn("demo")
	idle, idleSession := h.signedIn("demo2")

	h.restart(newSecret, oldSecret)
	if got := home(t, h, used); !strings.HasPrefix(got, "signed in as") {
		t.Fatalf("after the rotation the page says %q", got)
	}
	if resp, body := get(t, used, h.app.URL+"/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("API call after the rotation: %d %q", resp.StatusCode, body)
	}
	if err := h.auth.Load().Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.GetSession(t.Context(), goneSession.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the session no secret decrypts is still stored: %v", err)
	}
	if got := home(t, h, idle); !strings.HasPrefix(got, "signed in as") {
		t.Errorf("the idle browser after the rotation: %q", got)
	}

	// old is dropped from the list: the tokens were encrypted again under new.
	h.restart(newSecret)
	for _, id := range []string{usedSession.ID, idleSession.ID} {
		if _, err := h.st.Token(t.Context(), id); err != nil {
			t.Errorf("token of session %.8s… under the new secret alone: %v", id, err)
		}
	}
}
