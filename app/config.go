package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/push"
	"github.com/ringout-dialer/ringout/rcsim"
)

// config is the app's configuration: environment variables, overridden by flags of the same
// name in lower case (ADDR → -addr). See the table in README.md.
type config struct {
	Addr           string
	PublicURL      string
	RCServerURL    string
	RCClientID     string
	RCClientSecret string
	DataDir        string
	SessionSecret  string
	// SessionSecretPrevious are secrets used before SessionSecret (space-separated),
	// still accepted for reading cookies and tokens.
	SessionSecretPrevious string
	FrameAncestors        []string
	TLSCert               string
	TLSKey                string
	ReplicaID             string // names this process in X-User-Agent (and, in a cluster, its leases)
	// DatabaseURL (postgres://…) selects PostgreSQL and cluster mode; empty: SQLite in DATA_DIR.
	DatabaseURL string
	// DatabaseListenURL is a direct connection for the replica's LISTEN when DatabaseURL goes
	// through a transaction-pooling PgBouncer (empty: DatabaseURL).
	DatabaseListenURL string
	// LeaseTTL is how long a replica's poller lease lasts without renewal (cluster mode).
	LeaseTTL time.Duration
	// MaxConnsPerClient caps the open connections of one client address (0: no cap).
	MaxConnsPerClient int
	// MaxSignInsPerClient caps the sign-ins one client address may have begun within 10
	// minutes (0: no cap). Unset it is 30, or 0 when MaxConnsPerClient is 0 (a proxy).
	MaxSignInsPerClient int
	// ReadTimeout is how long a request, headers and body, may take to arrive.
	ReadTimeout time.Duration
	// DebugAddr, when set, serves Go's profiler there (debug.go); empty: not at all.
	DebugAddr string
	// WebhookURL is where RingCentral sends the users' call events (push.Path under the
	// app's public URL, reachable from RingCentral over HTTPS); "off", or unset outside demo
	// mode: none, the calls are polled. See webhookAddress.
	WebhookURL string
	SimAddr    string
	SimSpeed   float64
	SimUsers   int
	// The simulator's switches (rcsim.Options), demo mode and `ringout sim`.
	SimRetention      time.Duration
	SimCancel         rcsim.CancelMode
	SimPenaltyRestart bool
	SimRefreshTokens  bool
	SimAccessTTL      time.Duration
	SimSessionCap     int
	SimIDs            string // -sim-ids: rcsim.IDsBase64 or rcsim.IDsDigits
}

// simOptions are the simulator's options from the -sim-* flags.
func (c config) simOptions() rcsim.Options {
	limit := c.SimSessionCap
	if limit == 0 {
		limit = -1 // no limit
	}
	return rcsim.Options{Speed: c.SimSpeed, Retention: c.SimRetention, Cancel: c.SimCancel,
		PenaltyRestart: c.SimPenaltyRestart, NoRefreshTokens: !c.SimRefreshTokens,
		AccessTokenTTL: c.SimAccessTTL, SessionCap: limit, IDs: c.SimIDs, ExtraUsers: c.SimUsers}
}

// demo reports whether the app runs on its embedded simulator (no RingCentral app configured).
func (c config) demo() bool { return c.RCClientID == "" }

// webhookAddress is where RingCentral is asked to send call events, "" for nowhere. In
// demo mode the embedded simulator sends them to the app's own public URL; against
// RingCentral only when WEBHOOK_URL says so, since the app must be reachable from the
// internet over HTTPS (an intranet app often is not: its calls are polled).
func (c config) webhookAddress() string {
	switch {
	case c.WebhookURL == "off":
		return ""
	case c.WebhookURL != "":
		return c.WebhookURL
	case c.demo():
		return c.PublicURL + push.Path
	}
	return ""
}

func (c config) tls() bool { return c.TLSCert != "" }

// scheme is the scheme the app serves.
func (c config) scheme() string {
	if c.tls() {
		return "https"
	}
	return "http"
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("ringout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c config
	var frameAncestors string
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&c.PublicURL, "public_url", env("PUBLIC_URL", ""), "external base URL (default http://ADDR, with the port actually bound)")
	fs.StringVar(&c.RCServerURL, "rc_server_url", env("RC_SERVER_URL", "https://platform.ringcentral.com"), "RingCentral API base URL")
	fs.StringVar(&c.RCClientID, "rc_client_id", env("RC_CLIENT_ID", ""), "RingCentral app client id (unset: demo mode)")
	fs.StringVar(&c.RCClientSecret, "rc_client_secret", env("RC_CLIENT_SECRET", ""), "RingCentral app client secret")
	fs.StringVar(&c.DataDir, "data_dir", env("DATA_DIR", "./data"), "directory for the SQLite file and generated secret")
	fs.StringVar(&c.SessionSecret, "session_secret", env("SESSION_SECRET", ""), "secret for cookies and token encryption (default: generated into DATA_DIR)")
	fs.StringVar(&c.SessionSecretPrevious, "session_secret_previous", env("SESSION_SECRET_PREVIOUS", ""), "space-separated secrets used before SESSION_SECRET, still accepted (rotation)")
	fs.StringVar(&frameAncestors, "frame_ancestors", env("FRAME_ANCESTORS", ""), "space-separated origins allowed to embed the app")
	fs.StringVar(&c.TLSCert, "tls_cert", env("TLS_CERT", ""), "TLS certificate file")
	fs.StringVar(&c.TLSKey, "tls_key", env("TLS_KEY", ""), "TLS key file")
	maxConns := fs.String("max_conns_per_client", env("MAX_CONNS_PER_CLIENT", "1000"), "open connections one client address may hold (0: no cap; behind a proxy, cap at the proxy)")
	maxSignIns := fs.String("max_signins_per_client", env("MAX_SIGNINS_PER_CLIENT", ""), "sign-ins one client address may begin within 10 minutes (0: no cap; default 30, or 0 with MAX_CONNS_PER_CLIENT=0)")
	readTimeout := fs.String("read_timeout", env("READ_TIMEOUT", "30s"), "time a whole request (headers and body) may take to arrive")
	fs.StringVar(&c.ReplicaID, "replica_id", env("REPLICA_ID", hostname()), "names this replica (X-User-Agent; default: the host name)")
	fs.StringVar(&c.WebhookURL, "webhook_url", env("WEBHOOK_URL", ""), "URL RingCentral sends call events to (this app's "+push.Path+", reachable from RingCentral); off: poll only (default: on in demo mode, off otherwise)")
	fs.StringVar(&c.DebugAddr, "debug_addr", env("DEBUG_ADDR", ""), "serve Go's profiler (/debug/pprof/) on this private address (unset: off)")
	fs.StringVar(&c.DatabaseURL, "database_url", env("DATABASE_URL", ""), "postgres://… selects PostgreSQL and cluster mode (unset: SQLite in DATA_DIR)")
	fs.StringVar(&c.DatabaseListenURL, "database_listen_url", env("DATABASE_LISTEN_URL", ""), "cluster mode: a direct postgres://… connection for LISTEN when DATABASE_URL goes through PgBouncer transaction pooling (default: DATABASE_URL)")
	leaseTTL := fs.String("lease_ttl", env("LEASE_TTL", "3s"), "cluster mode: how long a replica's poller lease lasts without renewal")
	fs.StringVar(&c.SimAddr, "sim_addr", env("SIM_ADDR", "127.0.0.1:8090"), "listen address of `ringout sim`")
	fs.Float64Var(&c.SimSpeed, "sim-speed", 1, "simulator clock speed factor (demo mode and `ringout sim`)")
	fs.IntVar(&c.SimUsers, "sim-users", 0, "extra simulator users load1…loadN (password = username) for load tests (demo mode and `ringout sim`)")
	fs.DurationVar(&c.SimRetention, "sim-retention", 30*time.Second, "simulator: how long a finished call stays readable (simulated time)")
	simCancel := fs.String("sim-cancel", string(rcsim.CancelUntilCallerAnswers), "simulator: DELETE ring-out ends a call until-caller-answers or until-connected")
	fs.BoolVar(&c.SimPenaltyRestart, "sim-penalty-restart", false, "simulator: a 429 begins a 60 s penalty that every request during it restarts")
	fs.BoolVar(&c.SimRefreshTokens, "sim-refresh-tokens", true, "the simulator issues refresh tokens (RingCentral: the app's \"Issue refresh tokens\" setting, off by default)")
	fs.DurationVar(&c.SimAccessTTL, "sim-access-ttl", time.Hour, "lifetime of the simulator's access tokens, in simulated time")
	fs.IntVar(&c.SimSessionCap, "sim-session-cap", 5, "sessions one user may hold at once at the simulator; a sign-in beyond it ends the oldest (0: no limit)")
	fs.StringVar(&c.SimIDs, "sim-ids", "base64", "simulator ring-out ids: base64 (strings, like the platform) or digits (JSON numbers, like the RingOut guide)")
	var err error
	if err = fs.Parse(args); err != nil {
		return c, err
	}
	if c.MaxConnsPerClient, err = strconv.Atoi(*maxConns); err != nil || c.MaxConnsPerClient < 0 {
		return c, fmt.Errorf("MAX_CONNS_PER_CLIENT %q is not a whole number ≥ 0", *maxConns)
	}
	switch {
	case *maxSignIns != "":
		if c.MaxSignInsPerClient, err = strconv.Atoi(*maxSignIns); err != nil || c.MaxSignInsPerClient < 0 {
			return c, fmt.Errorf("MAX_SIGNINS_PER_CLIENT %q is not a whole number ≥ 0", *maxSignIns)
		}
	case c.MaxConnsPerClient == 0: // behind a proxy every client has the proxy's address
	default:
		c.MaxSignInsPerClient = 30
	}
	if c.ReadTimeout, err = time.ParseDuration(*readTimeout); err != nil || c.ReadTimeout < time.Second {
		return c, fmt.Errorf("READ_TIMEOUT %q is not a duration of at least 1s (like 30s)", *readTimeout)
	}
	if c.LeaseTTL, err = time.ParseDuration(*leaseTTL); err != nil || c.LeaseTTL < time.Second {
		return c, fmt.Errorf("LEASE_TTL %q is not a duration of at least 1s (like 3s)", *leaseTTL)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("TLS_CERT and TLS_KEY must be set together")
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
		return c, fmt.Errorf("PUBLIC_URL %q is not an http(s) URL", c.PublicURL)
	}
	if u, err := url.Parse(c.WebhookURL); c.WebhookURL != "" && c.WebhookURL != "off" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
		return c, fmt.Errorf("WEBHOOK_URL %q is not an http(s) URL or off", c.WebhookURL)
	}
	if c.RCClientID != "" && c.RCClientSecret == "" {
		return c, errors.New("RC_CLIENT_SECRET must be set with RC_CLIENT_ID")
	}
	for _, o := range strings.Fields(frameAncestors) {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
			return c, fmt.Errorf("FRAME_ANCESTORS: %q is not an origin like https://intranet.example.com", o)
		}
		c.FrameAncestors = append(c.FrameAncestors, u.Scheme+"://"+u.Host)
	}
	if c.SimUsers < 0 || c.SimUsers > 100000 {
		return c, errors.New("-sim-users must be between 0 and 100000")
	}
	if c.SimCancel, err = rcsim.ParseCancelMode(*simCancel); err != nil {
		return c, errors.New("-sim-cancel: " + err.Error())
	}
	if c.SimRetention <= 0 {
		return c, errors.New("-sim-retention must be positive")
	}
	if c.SimSpeed <= 0 {
		return c, errors.New("-sim-speed must be positive")
	}
	if c.SimAccessTTL < time.Second {
		return c, errors.New("-sim-access-ttl must be at least 1s")
	}
	if c.SimSessionCap < 0 {
		return c, errors.New("-sim-session-cap must be 0 (no limit) or more")
	}
	if _, err := rcsim.ParseIDs(c.SimIDs); err != nil {
		return c, fmt.Errorf("-sim-ids: %w", err)
	}
	if err := c.checkCluster(); err != nil {
		return c, err
	}
	return c, nil
}

// cluster reports whether the app runs as one replica of several (DATABASE_URL set).
func (c config) cluster() bool { return c.DatabaseURL != "" }

// checkCluster refuses a cluster mode the replicas could not share: every replica must
// sign cookies and encrypt tokens with the same secret (one generated into each DATA_DIR
// would differ), redirect OAuth to the same public address (the load balancer's, not
// the bound port of each), and talk to one RingCentral (each replica's embedded
// simulator would have its own calls and tokens: run one `ringout sim` and point
// RC_SERVER_URL and RC_CLIENT_ID at it).
func (c config) checkCluster() error {
	if !c.cluster() {
		return nil
	}
	if !postgresURL(c.DatabaseURL) {
		return errors.New("DATABASE_URL must be a PostgreSQL URL like postgres://user:password@host:5432/ringout")
	}
	if c.DatabaseListenURL != "" && !postgresURL(c.DatabaseListenURL) {
		return errors.New("DATABASE_LISTEN_URL must be a PostgreSQL URL like postgres://user:password@db-host:5432/ringout (a direct connection, not through PgBouncer)")
	}
	var missing []string
	if c.SessionSecret == "" {
		missing = append(missing, "SESSION_SECRET (the same secret of at least 32 characters on every replica)")
	}
	if c.PublicURL == "" {
		missing = append(missing, "PUBLIC_URL (the address the browsers use, the same on every replica)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("cluster mode (DATABASE_URL is set) needs %s", strings.Join(missing, " and "))
	}
	if c.demo() {
		return errors.New("cluster mode (DATABASE_URL is set) cannot use the embedded simulator: each replica would have its own; " +
			"run one `ringout sim` and set RC_SERVER_URL to it, RC_CLIENT_ID=" + rcsim.DemoClientID + " and RC_CLIENT_SECRET=" + rcsim.DemoClientSecret +
			" (or your RingCentral app's)")
	}
	return nil
}

// postgresURL reports whether s is a postgres:// (or postgresql://) URL.
func postgresURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// previousSecrets returns SESSION_SECRET_PREVIOUS's secrets: cookies they signed are still
// read and tokens they encrypted still decrypted (and encrypted again under the current
// secret), so that rotating SESSION_SECRET signs nobody out.
func (c config) previousSecrets() ([][]byte, error) {
	var secrets [][]byte
	for _, s := range strings.Fields(c.SessionSecretPrevious) {
		if len(s) < 32 {
			return nil, errors.New("SESSION_SECRET_PREVIOUS: each secret must be at least 32 characters")
		}
		secrets = append(secrets, []byte(s))
	}
	return secrets, nil
}

// sessionSecret returns SESSION_SECRET, or the secret generated once into DATA_DIR.
func (c config) sessionSecret() ([]byte, error) {
	if c.SessionSecret != "" {
		if len(c.SessionSecret) < 32 {
			return nil, errors.New("SESSION_SECRET must be at least 32 characters")
		}
		return []byte(c.SessionSecret), nil
	}
	path := filepath.Join(c.DataDir, "session_secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	s := []byte(hex.EncodeToString(b))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("writing session secret: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(s); err != nil {
		return nil, err
	}
	return s, f.Sync()
}

// hostname is the machine's name, the default REPLICA_ID ("ringout" when it has none).
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "ringout"
}

// keys are the secrets and the store keys derived from them: SESSION_SECRET (or the one
// generated into DATA_DIR) and the previous ones (SESSION_SECRET_PREVIOUS), still accepted
// for cookies and tokens.
type keys struct {
	secret, store           []byte
	previous, previousStore [][]byte
}

func (c config) keys() (keys, error) {
	var k keys
	var err error
	if k.secret, err = c.sessionSecret(); err != nil {
		return k, err
	}
	if k.previous, err = c.previousSecrets(); err != nil {
		return k, err
	}
	if k.store, err = auth.StoreKey(k.secret); err != nil {
		return k, err
	}
	for _, p := range k.previous {
		sk, err := auth.StoreKey(p)
		if err != nil {
			return k, err
		}
		k.previousStore = append(k.previousStore, sk)
	}
	return k, nil
}
