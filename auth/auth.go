// Package auth signs users in with RingCentral (OAuth 2 authorization code with PKCE and
// state), keeps their sessions server-side, and gives the rest of the app HTTP clients whose
// tokens stay fresh.
//
// The browser holds only an opaque random session id in a gorilla/sessions cookie; the
// RingCentral tokens stay in the store, encrypted at rest. Access tokens are refreshed
// shortly before they expire, single-flight per session (RingCentral refresh tokens are
// single use), and the rotated pair is kept in memory until it is stored (a busy database
// retried in the background), so a spent refresh token is never sent again. A request that
// gets 401 because its token was rotated while it was in flight is sent once more with the
// new one. A rejected refresh token, an access token that expires without a refresh token
// (the app's "Issue refresh tokens" setting is off), or any other 401 from the API ends the
// session; callers then see dialer.ErrSignedOut, and the browser's sign-in page says why
// (SignedOutReason). Sessions are revoked at RingCentral when they are signed out, replaced
// or swept: RingCentral keeps only about five per user and app.
package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"

	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

const (
	// loginTTL is how long a sign-in may take between /login and the callback.
	loginTTL = 10 * time.Minute
	// sessionMaxAge is the session cookie's lifetime; the server-side session (bounded by the
	// refresh token's expiry) usually ends first.
	sessionMaxAge = 30 * 24 * time.Hour
	// touchEvery limits how often Session writes LastSeen.
	touchEvery = time.Minute
	// defaultRefreshBefore is Config.RefreshBefore when unset.
	defaultRefreshBefore = 60 * time.Second
)

// Config is what Auth needs from the outside.
type Config struct {
	// OAuth is the app's RingCentral configuration (ringcentral.OAuthConfig).
	OAuth *oauth2.Config
	// HTTPClient sends the token, revoke and API requests; it should have a timeout.
	// nil means a client with a 15 s timeout.
	HTTPClient *http.Client
	// Server is the RingCentral API base, for the extension lookup at sign-in.
	Server string
	// SecureCookies marks cookies Secure and gives them the __Host- prefix (PUBLIC_URL is https).
	SecureCookies bool
	// Secret is SESSION_SECRET; the cookie keys are derived from it. At least 16 bytes.
	Secret []byte
	// PreviousSecrets are secrets used before Secret (a rotation): cookies they signed are
	// still read. (Tokens they encrypted: pass their StoreKey to store.Open as previous
	// keys; Sweep writes those tokens again under the current key.)
	PreviousSecrets [][]byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives sign-in failures and session ends; nil discards.
	Logger *slog.Logger
	// RefreshBefore is how long before expiry an access token is refreshed; 0 means 60 s.
	RefreshBefore time.Duration
	// MaxLoginsPerClient caps the sign-ins one client address may have begun within the
	// 10 minutes a sign-in may take (each is a row in the store until then); 0 means 30, a
	// negative number no per-client cap (behind a proxy every client has its address).
	MaxLoginsPerClient int
	// MaxLogins caps the sign-ins begun within 10 minutes by all clients together; 0
	// means 10 000.
	MaxLogins int
}

// Session is a signed-in user as the pages need it.
type Session struct {
	ID              string // the opaque session id (also in the cookie)
	UserID          string // RingCentral extension id; the owner of the user's calls
	AccountID       string
	Name            string
	ExtensionNumber string
	HomeCountry     string // ISO 3166 code, e.g. "US"
	// Expires is when the sign-in ends at the latest (the refresh token's expiry, or the
	// access token's without one); zero when unknown. A refresh may move it later.
	Expires time.Time
}

// EndReason says why a session ended, for the functions registered with OnSessionEnd.
type EndReason string

// The reasons a session ends.
const (
	// EndSignedOut: the user signed out, signed in again in the same browser, or the
	// session was dropped unused (a popup sign-in never redeemed).
	EndSignedOut EndReason = "signed_out"
	// EndExpired: the sign-in expired (no refresh token, or it expired; the hourly sweep).
	EndExpired EndReason = endedExpired
	// EndedByRingCentral: RingCentral rejected the session's token or refresh token.
	EndedByRingCentral EndReason = endedByRingCentral
)

// Auth signs users in and out and hands out their RingCentral clients. It is safe for
// concurrent use.
type Auth struct {
	cfg     Config
	st      store.Sessions
	cookies *sessions.CookieStore
	log     *slog.Logger

	mu     sync.Mutex
	locks  map[string]*sessionLock // by session id: single-flight refresh
	tokens map[string]heldToken    // by session id: the current pair, decrypted (pending.go)
	saving map[string]bool         // by session id: a saver of the unsaved pair runs
	// tokenGen counts the changes of tokens by keep and forget: a pair read from the store
	// during one is not held (it may be behind).
	tokenGen uint64
	owners   map[string][]string // by user: live session ids, most recently used first (owners.go)
	// sessionOwner is the user of each session in owners; ownerGen counts the changes of
	// owners, as tokenGen does for tokens.
	sessionOwner map[string]string
	ownerGen     uint64
	// ownerClients are OwnerClient's clients, one per user in owners (every poll asks).
	ownerClients map[string]*http.Client
	storeReads   atomic.Int64 // reads of tokens and session lists from the store (tests)

	onEnd []func(id string, why EndReason) // OnSessionEnd's functions, under mu

	savers    sync.WaitGroup // background savers of pending pairs
	closing   chan struct{}  // closed by Close
	closeOnce sync.Once

	logins *loginLimiter // sign-ins begun, per client and in all (limits.go)
	purged time.Time     // under mu: when beginLogin last deleted abandoned sign-ins
}

// New returns an Auth over st. A new Auth over the same store and Secret recognises the
// cookies of the previous one: a restart keeps everyone signed in.
func New(cfg Config, st store.Sessions) (*Auth, error) {
	if cfg.OAuth == nil {
		return nil, errors.New("auth: Config.OAuth is required")
	}
	if cfg.Server == "" {
		return nil, errors.New("auth: Config.Server is required")
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("auth: Config.Secret must be at least 16 bytes")
	}
	if st == nil {
		return nil, errors.New("auth: a store is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = defaultRefreshBefore
	}
	if cfg.MaxLoginsPerClient == 0 {
		cfg.MaxLoginsPerClient = defaultMaxLoginsPerClient
	}
	if cfg.MaxLogins <= 0 {
		cfg.MaxLogins = defaultMaxLogins
	}
	// The first key pair signs and encrypts cookies; all of them read cookies.
	var keyPairs [][]byte
	for _, sec := range append([][]byte{cfg.Secret}, cfg.PreviousSecrets...) {
		if len(sec) < 16 {
			return nil, errors.New("auth: Config.PreviousSecrets must be at least 16 bytes each")
		}
		hashKey, err := hkdf.Key(sha256.New, sec, nil, "ringout cookie authentication", 64)
		if err != nil {
			return nil, fmt.Errorf("auth: derive cookie key: %w", err)
		}
		blockKey, err := hkdf.Key(sha256.New, sec, nil, "ringout cookie encryption", 32)
		if err != nil {
			return nil, fmt.Errorf("auth: derive cookie key: %w", err)
		}
		keyPairs = append(keyPairs, hashKey, blockKey)
	}
	cs := sessions.NewCookieStore(keyPairs...)
	cs.MaxAge(int(sessionMaxAge / time.Second))
	return &Auth{cfg: cfg, st: st, cookies: cs, log: cfg.Logger, locks: map[string]*sessionLock{},
		tokens: map[string]heldToken{}, saving: map[string]bool{}, closing: make(chan struct{}),
		owners: map[string][]string{}, sessionOwner: map[string]string{}, ownerClients: map[string]*http.Client{},
		logins: newLoginLimiter(cfg.MaxLoginsPerClient, cfg.MaxLogins)}, nil
}

// StoreKey derives the 32-byte token encryption key for store.Open from SESSION_SECRET.
// It is independent of the cookie keys derived from the same secret.
func StoreKey(secret []byte) ([]byte, error) {
	if len(secret) < 16 {
		return nil, errors.New("auth: secret must be at least 16 bytes")
	}
	return hkdf.Key(sha256.New, secret, nil, "ringout token encryption", 32)
}

// Error is a failed sign-in. Message is a plain sentence for the page (which adds a "Try
// again" link); Reason is for the logs. Neither contains a token or an authorization code.
type Error struct {
	Kind    ErrorKind
	Reason  string
	Message string
	Err     error // the underlying error, if any
	// RetryAfter, for TooManySignIns and RateLimited, is when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return "auth: sign-in failed: " + e.Reason }
func (e *Error) Unwrap() error { return e.Err }

// ErrorKind classifies sign-in failures.
type ErrorKind string

// The kinds of sign-in failure.
const (
	Denied        ErrorKind = "denied"         // the user refused consent
	ProviderError ErrorKind = "provider_error" // RingCentral sent another error
	MissingParams ErrorKind = "missing_params" // no code or state
	BadState      ErrorKind = "bad_state"      // state not issued to this browser, or used already
	Expired       ErrorKind = "expired"        // the sign-in took longer than 10 minutes
	Exchange      ErrorKind = "exchange"       // the code was not accepted
	Profile       ErrorKind = "profile"        // the extension lookup failed
	Internal      ErrorKind = "internal"       // our store failed
	// TooManySignIns: this client, or all clients together, began too many sign-ins
	// lately; nothing was stored (limits.go).
	TooManySignIns ErrorKind = "too_many_sign_ins"
	// RateLimited: RingCentral's token endpoint refused the code with 429 (its Auth
	// group allows 5 requests a minute).
	RateLimited ErrorKind = "rate_limited"
)

var messages = map[ErrorKind]string{
	Denied:        "You did not allow RingOut to use your RingCentral account, so you are not signed in.",
	ProviderError: "RingCentral could not sign you in.",
	MissingParams: "The answer from RingCentral was incomplete, so you are not signed in.",
	BadState:      "This sign-in was not started in this browser, or it was already used.",
	Expired:       "The sign-in took longer than 10 minutes.",
	Exchange:      "RingCentral did not accept the sign-in.",
	Profile:       "We could not read your RingCentral profile.",
	Internal:      "Something went wrong on our side while signing you in.",
}

// fail logs a sign-in failure and returns it as an *Error.
func (a *Auth) fail(ctx context.Context, kind ErrorKind, reason string, err error) *Error {
	e := &Error{Kind: kind, Reason: reason, Message: messages[kind], Err: err}
	attrs := []slog.Attr{slog.String("kind", string(kind)), slog.String("reason", reason)}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	a.log.LogAttrs(ctx, slog.LevelWarn, "sign-in failed", attrs...)
	return e
}

// BeginLogin starts a sign-in: it stores a fresh state and PKCE verifier bound to this
// browser (a short-lived cookie of this attempt with an opaque id) and returns the
// RingCentral authorize URL to redirect to. A browser may have several sign-ins in progress
// (tabs): each has its own cookie.
func (a *Auth) BeginLogin(w http.ResponseWriter, r *http.Request) (string, error) {
	return a.beginLogin(w, r, "")
}

// beginLogin is BeginLogin; popupID is the embedded page's attempt id for a popup sign-in.
func (a *Auth) beginLogin(w http.ResponseWriter, r *http.Request, popupID string) (string, error) {
	ctx := r.Context()
	now := a.cfg.Now()
	if wait, all, ok := a.logins.admit(clientAddress(r), now); !ok {
		msg := "Too many sign-ins were started from your network in the last 10 minutes. Try again in " + minutes(wait) + "."
		reason := "sign-in cap of the client address reached"
		if all {
			msg = "Too many sign-ins are in progress on this server right now. Try again in " + minutes(wait) + "."
			reason = "sign-in cap of the server reached"
		}
		e := a.fail(ctx, TooManySignIns, reason, nil)
		e.Message, e.RetryAfter = msg, wait
		return "", e
	}
	attempt := store.LoginAttempt{
		BrowserID: randomID(),
		State:     randomID(),
		Verifier:  oauth2.GenerateVerifier(),
		PopupID:   popupID,
		CreatedAt: now,
	}
	a.purgeLogins(ctx, now)
	if err := a.st.PutLoginAttempt(ctx, attempt); err != nil {
		return "", fmt.Errorf("auth: begin login: %w", err)
	}
	if err := a.setCookie(w, r, a.loginCookie(attempt.State), attempt.BrowserID, cookieOptions{MaxAge: loginTTL}); err != nil {
		return "", fmt.Errorf("auth: begin login: %w", err)
	}
	return a.cfg.OAuth.AuthCodeURL(attempt.State, oauth2.S256ChallengeOption(attempt.Verifier)), nil
}

// purgeLogins deletes the abandoned sign-ins (older than loginTTL), at most once per
// purgeEvery: one request in a minute pays for it (by the index on created_at), not each.
func (a *Auth) purgeLogins(ctx context.Context, now time.Time) {
	a.mu.Lock()
	due := now.Sub(a.purged) >= purgeEvery
	if due {
		a.purged = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	if _, err := a.st.DeleteLoginAttemptsBefore(ctx, now.Add(-loginTTL)); err != nil {
		a.log.WarnContext(ctx, "deleting abandoned sign-ins", "err", err)
	}
}

// Callback completes a sign-in on RingCentral's redirect. It accepts only the state issued
// to this browser, once, within 10 minutes; exchanges the code with the PKCE verifier; reads
// the user's profile; stores the session with its tokens; and sets a new session cookie
// (the id is always fresh: no session fixation). Failures are *Error, already logged.
//
// A sign-in started by BeginPopupLogin sets no session cookie in the popup: it returns a
// single-use PopupCode instead, which the iframe that opened the popup redeems (Redeem).
func (a *Auth) Callback(w http.ResponseWriter, r *http.Request) (*SignedIn, error) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	// The attempt is found by its state, and only with the pre-login cookie of that state:
	// a callback with a state this browser was not issued (a cross-site link, another
	// browser's state) takes nothing, and the browser's sign-ins in progress go on. The
	// attempt with this state is taken first, whatever the outcome: a state works once.
	var browserID string
	var hasCookie bool
	attempt, attemptErr := store.LoginAttempt{}, store.ErrNotFound
	if state != "" {
		name := a.loginCookie(state)
		if browserID, hasCookie = a.readCookie(r, name); hasCookie {
			a.clearCookie(w, name)
			attempt, attemptErr = a.st.TakeLoginAttempt(ctx, state, browserID)
		}
	}
	switch {
	case q.Get("error") == "access_denied":
		return nil, a.fail(ctx, Denied, "user denied consent", nil)
	case q.Has("error"):
		return nil, a.fail(ctx, ProviderError, fmt.Sprintf("authorize error %.100q: %.200q", q.Get("error"), q.Get("error_description")), nil)
	case q.Get("code") == "" || state == "":
		return nil, a.fail(ctx, MissingParams, "callback without code or state", nil)
	case !hasCookie:
		return nil, a.fail(ctx, BadState, "no pre-login cookie for this state (other browser, made-up state, or cookie expired)", nil)
	case errors.Is(attemptErr, store.ErrNotFound):
		return nil, a.fail(ctx, BadState, "no pending sign-in for this browser (replayed state?)", nil)
	case attemptErr != nil:
		return nil, a.fail(ctx, Internal, "reading the sign-in attempt", attemptErr)
	case a.cfg.Now().Sub(attempt.CreatedAt) > loginTTL:
		return nil, a.fail(ctx, Expired, "sign-in attempt older than 10 minutes", nil)
	}

	now := a.cfg.Now()
	t, err := a.cfg.OAuth.Exchange(a.tokenContext(ctx), q.Get("code"), oauth2.VerifierOption(attempt.Verifier))
	if wait, limited := tokenRateLimited(err); limited {
		e := a.fail(ctx, RateLimited, "code exchange: "+describe(err), err)
		e.Message = fmt.Sprintf("RingCentral refused the sign-in for now: it allows %d sign-in requests a minute (its Auth limit). "+
			"Try again in %s.", ringcentral.Limits[ringcentral.Auth], secondsText(wait))
		e.RetryAfter = wait
		return nil, e
	}
	if err != nil {
		return nil, a.fail(ctx, Exchange, "code exchange: "+describe(err), err)
	}
	tok := storeToken(t, now, store.Token{})
	hc := oauth2.NewClient(a.tokenContext(ctx), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken}))
	ext, err := ringcentral.New(a.cfg.Server, hc).Extension(ctx)
	if err != nil {
		if rerr := a.revoke(ctx, tok); rerr != nil {
			a.log.WarnContext(ctx, "revoking the unused token", "err", rerr)
		}
		return nil, a.fail(ctx, Profile, "GET extension/~: "+err.Error(), err)
	}
	ss := store.Session{
		ID:              randomID(),
		UserID:          strconv.FormatInt(ext.ID, 10),
		AccountID:       ext.Account.ID,
		Name:            ext.Name,
		ExtensionNumber: ext.ExtensionNumber,
		HomeCountry:     ext.RegionalSettings.HomeCountry.ISOCode,
		CreatedAt:       now,
		LastSeen:        now,
	}
	if err := a.st.CreateSession(ctx, ss, tok); err != nil {
		return nil, a.fail(ctx, Internal, "storing the session", err)
	}
	a.sessionUsed(ss.UserID, ss.ID) // first of the user's sessions for the pollers
	if attempt.PopupID != "" {
		code, err := a.mintPopupCode(ctx, attempt.PopupID, ss.ID, now)
		if err != nil {
			if rerr := a.revokeSession(ctx, ss.ID, ""); rerr != nil {
				a.log.WarnContext(ctx, "deleting the session of the unstored popup code", "err", rerr)
			}
			return nil, a.fail(ctx, Internal, "storing the popup code", err)
		}
		a.log.InfoContext(ctx, "signed in (popup)", "user", ss.UserID, "extension", ss.ExtensionNumber)
		return &SignedIn{Session: fromStore(ss), PopupCode: code}, nil
	}
	// A browser that was signed in already (perhaps as someone else) drops that session.
	// It is revoked at RingCentral too, or it would hold one of the user's sessions there.
	if old, ok := a.readCookie(r, a.sessionCookie()); ok {
		if err := a.revokeSession(ctx, old, ""); err != nil {
			a.log.WarnContext(ctx, "deleting the replaced session", "err", err)
		}
	}
	if err := a.setCookie(w, r, a.sessionCookie(), ss.ID, cookieOptions{MaxAge: sessionMaxAge}); err != nil {
		return nil, a.fail(ctx, Internal, "writing the session cookie", err)
	}
	a.log.InfoContext(ctx, "signed in", "user", ss.UserID, "extension", ss.ExtensionNumber)
	return &SignedIn{Session: fromStore(ss)}, nil
}

// SignedIn is a completed sign-in.
type SignedIn struct {
	*Session
	// PopupCode is set for a popup sign-in: the single-use code the popup hands to the
	// iframe that opened it. It is a secret; never log it or put it in a URL.
	PopupCode string
}

// sessionID returns the session id in the request's cookie: the top-level one, else the
// framed app's partitioned one.
func (a *Auth) sessionID(r *http.Request) (string, bool) {
	if id, ok := a.readCookie(r, a.sessionCookie()); ok {
		return id, true
	}
	return a.readCookie(r, embedSessionCookie)
}

// Session returns the signed-in session of the request's cookie (the top-level app's or,
// inside an iframe, the partitioned one Redeem set). A missing, forged, truncated or expired
// cookie, or a session that ended, is simply "not signed in".
func (a *Auth) Session(r *http.Request) (*Session, bool) {
	ctx := r.Context()
	id, ok := a.sessionID(r)
	if !ok {
		return nil, false
	}
	ss, err := a.st.GetSession(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			a.log.ErrorContext(ctx, "reading session", "err", err)
		}
		return nil, false
	}
	now := a.cfg.Now()
	if !ss.Expires.IsZero() && !now.Before(ss.Expires) {
		a.endSession(ctx, id, endedExpired, "the sign-in expired (no refresh token, or it expired)")
		return nil, false
	}
	if now.Sub(ss.LastSeen) >= touchEvery {
		if err := a.st.TouchSession(ctx, id, now); err != nil {
			a.log.WarnContext(ctx, "touching session", "err", err)
		} else {
			a.sessionUsed(ss.UserID, id)
		}
	}
	return fromStore(ss), true
}

// Live reports whether the session with this id is still signed in, and until when at the
// latest (zero: unknown); an expired one is ended here. When it is not, why says how it
// ended. Unlike Session it takes an id, not a request, and does not count as a use: it is
// for long-lived connections re-checking their session. When the store fails it says
// live: nobody is signed out for that.
func (a *Auth) Live(ctx context.Context, id string) (expires time.Time, live bool, why EndReason) {
	if id == "" {
		return time.Time{}, false, EndSignedOut
	}
	ss, err := a.st.GetSession(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		why = EndSignedOut
		if reason, err := a.st.EndedSession(ctx, id); err == nil && reason != "" {
			why = EndReason(reason)
		}
		return time.Time{}, false, why
	case err != nil:
		a.log.ErrorContext(ctx, "reading session", "err", err)
		return time.Time{}, true, ""
	}
	if !ss.Expires.IsZero() && !a.cfg.Now().Before(ss.Expires) {
		a.endSession(ctx, id, endedExpired, "the sign-in expired (no refresh token, or it expired)")
		return time.Time{}, false, EndExpired
	}
	return ss.Expires, true, ""
}

// OnSessionEnd registers fn to be called whenever a session ends here: signed out,
// replaced, expired, ended by RingCentral, swept. fn is called after the session is gone
// from the store, possibly while auth holds the session's lock: it must not block or call
// back into Auth for that session. The WebSocket closes the session's pages with it.
func (a *Auth) OnSessionEnd(fn func(id string, why EndReason)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.onEnd = append(a.onEnd, fn)
}

// ended tells the OnSessionEnd functions that session id ended.
func (a *Auth) ended(id string, why EndReason) {
	a.mu.Lock()
	fns := a.onEnd
	a.mu.Unlock()
	for _, fn := range fns {
		fn(id, why)
	}
}

// Logout revokes the session's token at RingCentral (best effort: a failure is logged),
// deletes the server-side session and expires the cookie. Without a session it only
// expires the cookie.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, ok := a.sessionID(r)
	a.clearCookie(w, a.sessionCookie())
	if _, framed := a.readCookie(r, embedSessionCookie); framed {
		a.clearCookieWith(w, embedSessionCookie, embedded(0))
	}
	if !ok {
		return nil
	}
	if err := a.revokeSession(ctx, id, ""); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	a.log.InfoContext(ctx, "signed out")
	return nil
}

// revokeSession revokes the session's tokens at RingCentral (best effort: a failure is
// logged), which ends the session there and frees one of the user's sessions (RingCentral
// allows about five per user and app), then deletes it here: with reason, the browser
// still holding its cookie is told why (EndSession); without, it is simply gone.
func (a *Auth) revokeSession(ctx context.Context, id, reason string) error {
	unlock := a.lock(id) // not in the middle of a refresh
	defer unlock()
	if tok, err := a.current(ctx, id); err == nil {
		if err := a.revoke(context.WithoutCancel(ctx), tok); err != nil {
			a.log.WarnContext(ctx, "revoking the token at RingCentral", "err", err)
		}
	}
	a.forget(id)
	var err error
	why := EndSignedOut
	if reason != "" {
		err, why = a.st.EndSession(ctx, id, reason, a.cfg.Now()), EndReason(reason)
	} else {
		err = a.st.DeleteSession(ctx, id)
	}
	if err == nil {
		a.ended(id, why)
	}
	return err
}

// revoke revokes tok's session at RingCentral. Revoking either token ends the whole session
// there; the refresh token outlives the access token, so it is sent when there is one.
func (a *Auth) revoke(ctx context.Context, tok store.Token) error {
	t := tok.RefreshToken
	if t == "" {
		t = tok.AccessToken
	}
	if t == "" {
		return nil
	}
	return ringcentral.Revoke(ctx, a.cfg.HTTPClient, a.cfg.OAuth, t)
}

// Sweep ends the sessions whose refresh token has expired and those not used for longer
// than the cookie lives, revoking each at RingCentral first; deletes abandoned sign-ins
// (revoking the sessions of popup sign-ins never redeemed); and forgets why old sessions
// ended. It also writes the tokens encrypted under a previous SESSION_SECRET again under
// the current one, and ends the sessions whose token no listed secret decrypts (they
// cannot be revoked: nothing readable is left to revoke with). Call it at start and now
// and then (e.g. hourly).
func (a *Auth) Sweep(ctx context.Context) error {
	now := a.cfg.Now()
	var errs []error
	rekeyed, lost, err := a.st.RekeySessions(ctx)
	errs = append(errs, err)
	if rekeyed > 0 {
		a.log.InfoContext(ctx, "re-encrypted tokens under the current SESSION_SECRET", "sessions", rekeyed)
	}
	for _, id := range lost {
		a.endSession(ctx, id, endedExpired, "stored token cannot be decrypted with any SESSION_SECRET listed")
	}
	ids, err := a.st.StaleSessions(ctx, now, now.Add(-sessionMaxAge))
	errs = append(errs, err)
	for _, id := range ids {
		errs = append(errs, a.revokeSession(ctx, id, endedExpired))
	}
	_, err = a.st.DeleteLoginAttemptsBefore(ctx, now.Add(-loginTTL))
	errs = append(errs, err)
	_, err = a.st.DeleteEndedSessionsBefore(ctx, now.Add(-sessionMaxAge))
	errs = append(errs, err)
	return errors.Join(append(errs, a.dropUnredeemed(ctx, now))...)
}

// Why a session ended, as EndSession records it.
const (
	endedExpired       = "expired" // the token could no longer be refreshed
	endedByRingCentral = "ended"   // RingCentral rejected the token (401) or the refresh
)

// endedMessages are the sentences of the sign-in page for each reason.
var endedMessages = map[string]string{
	endedExpired: "Your RingCentral sign-in expired, please sign in again.",
	endedByRingCentral: "RingCentral ended your sign-in, please sign in again. " +
		"(RingCentral keeps about five sign-ins per user: signing in on another browser or device ends the oldest.)",
}

// SignedOutReason is, for a browser that is not signed in, the sentence telling it why its
// sign-in ended (expired, or ended by RingCentral), or "" when there is nothing to say
// (never signed in, signed out, or still signed in). It deletes the stale session cookie.
func (a *Auth) SignedOutReason(w http.ResponseWriter, r *http.Request) string {
	ctx := r.Context()
	id, ok := a.readCookie(r, a.sessionCookie())
	clear := func() { a.clearCookie(w, a.sessionCookie()) }
	if !ok {
		if id, ok = a.readCookie(r, embedSessionCookie); !ok {
			return ""
		}
		clear = func() { a.clearCookieWith(w, embedSessionCookie, embedded(0)) }
	}
	if _, err := a.st.GetSession(ctx, id); !errors.Is(err, store.ErrNotFound) {
		return "" // still signed in (or the store failed: say nothing)
	}
	clear()
	reason, err := a.st.EndedSession(ctx, id)
	if err != nil {
		return ""
	}
	return endedMessages[reason]
}

// endSession deletes a session that can no longer be used, remembering reason for its
// browser, and logs why.
func (a *Auth) endSession(ctx context.Context, id, reason, why string) {
	a.forget(id)
	if err := a.st.EndSession(ctx, id, reason, a.cfg.Now()); err != nil {
		a.log.ErrorContext(ctx, "deleting ended session", "err", err)
	} else {
		a.ended(id, EndReason(reason))
	}
	a.log.InfoContext(ctx, "session ended", "why", why)
}

// tokenContext carries the configured HTTP client to golang.org/x/oauth2.
func (a *Auth) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
}

func fromStore(s store.Session) *Session {
	return &Session{ID: s.ID, UserID: s.UserID, AccountID: s.AccountID, Name: s.Name,
		ExtensionNumber: s.ExtensionNumber, HomeCountry: s.HomeCountry, Expires: s.Expires}
}

// randomID is 32 random bytes, base64url: an unguessable opaque id.
func randomID() string {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenRateLimited reports whether the token endpoint answered 429 (RingCentral's Auth
// group: 5 requests a minute), and how long to wait: its Retry-After, else the 60 s penalty.
func tokenRateLimited(err error) (time.Duration, bool) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if n, err := strconv.Atoi(re.Response.Header.Get("Retry-After")); err == nil && n > 0 {
		return time.Duration(n) * time.Second, true
	}
	return ringcentral.DefaultPenalty, true
}

// secondsText says d in whole seconds for a sentence: "40 seconds", "1 second".
func secondsText(d time.Duration) string {
	n := int(d.Round(time.Second) / time.Second)
	if n <= 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

// describe summarises a token endpoint error for the logs, without the response body.
func describe(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Sprintf("HTTP %d %s: %.200s", status, re.ErrorCode, re.ErrorDescription)
	}
	return err.Error()
}
