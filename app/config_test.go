package app

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// TestConfig: environment variables configure the app, flags of the same name win, and
// every malformed setting stops the start with a message naming it.
func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "defaults: demo mode on 127.0.0.1:8080", check: func(t *testing.T, c config) {
			if c.Addr != "127.0.0.1:8080" || !c.demo() || c.DataDir != "./data" || c.RCServerURL != "https://platform.ringcentral.com" {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "a flag wins over the environment", env: map[string]string{"ADDR": "127.0.0.1:1"}, args: []string{"-addr", "127.0.0.1:2"},
			check: func(t *testing.T, c config) {
				if c.Addr != "127.0.0.1:2" {
					t.Errorf("Addr = %q, want the flag's", c.Addr)
				}
			}},
		{name: "real mode with both credentials", env: map[string]string{"RC_CLIENT_ID": "id", "RC_CLIENT_SECRET": "s"},
			check: func(t *testing.T, c config) {
				if c.demo() {
					t.Error("demo mode with RC_CLIENT_ID set")
				}
			}},
		{name: "public URL loses its trailing slash", env: map[string]string{"PUBLIC_URL": "https://dialer.example.com/"},
			check: func(t *testing.T, c config) {
				if c.PublicURL != "https://dialer.example.com" {
					t.Errorf("PublicURL = %q", c.PublicURL)
				}
			}},
		{name: "frame ancestors become origins", env: map[string]string{"FRAME_ANCESTORS": "https://intranet.example.com/ http://a.example:8000"},
			check: func(t *testing.T, c config) {
				if want := []string{"https://intranet.example.com", "http://a.example:8000"}; !slices.Equal(c.FrameAncestors, want) {
					t.Errorf("FrameAncestors = %q, want %q", c.FrameAncestors, want)
				}
			}},
		{name: "call events pushed in demo mode, to the app itself", env: map[string]string{"PUBLIC_URL": "http://127.0.0.1:9"},
			check: func(t *testing.T, c config) {
				if got := c.webhookAddress(); got != "http://127.0.0.1:9/ringcentral/webhook" {
					t.Errorf("webhookAddress() = %q", got)
				}
			}},
		{name: "call events not pushed against RingCentral unless WEBHOOK_URL says where", env: map[string]string{"RC_CLIENT_ID": "id", "RC_CLIENT_SECRET": "s"},
			check: func(t *testing.T, c config) {
				if got := c.webhookAddress(); got != "" {
					t.Errorf("webhookAddress() = %q, want none", got)
				}
			}},
		{name: "WEBHOOK_URL off in demo mode", env: map[string]string{"WEBHOOK_URL": "off"},
			check: func(t *testing.T, c config) {
				if got := c.webhookAddress(); got != "" {
					t.Errorf("webhookAddress() = %q, want none", got)
				}
			}},
		{name: "WEBHOOK_URL against RingCentral", env: map[string]string{"RC_CLIENT_ID": "id", "RC_CLIENT_SECRET": "s", "WEBHOOK_URL": "https://dialer.example.com/ringcentral/webhook"},
			check: func(t *testing.T, c config) {
				if got := c.webhookAddress(); got != "https://dialer.example.com/ringcentral/webhook" {
					t.Errorf("webhookAddress() = %q", got)
				}
			}},
		{name: "WEBHOOK_URL not a URL", env: map[string]string{"WEBHOOK_URL": "dialer.example.com/hook"}, wantErr: "WEBHOOK_URL"},
		{name: "public URL not http(s)", env: map[string]string{"PUBLIC_URL": "ftp://x"}, wantErr: "PUBLIC_URL"},
		{name: "public URL without host", env: map[string]string{"PUBLIC_URL": "https://"}, wantErr: "PUBLIC_URL"},
		{name: "client id without secret", env: map[string]string{"RC_CLIENT_ID": "id"}, wantErr: "RC_CLIENT_SECRET"},
		{name: "TLS cert without key", env: map[string]string{"TLS_CERT": "c.pem"}, wantErr: "TLS_CERT and TLS_KEY"},
		{name: "frame ancestor with a path", env: map[string]string{"FRAME_ANCESTORS": "https://intranet.example.com/page"}, wantErr: "FRAME_ANCESTORS"},
		{name: "frame ancestor without scheme", env: map[string]string{"FRAME_ANCESTORS": "intranet.example.com"}, wantErr: "FRAME_ANCESTORS"},
		{name: "simulator speed zero", args: []string{"-sim-speed", "0"}, wantErr: "-sim-speed"},
		{name: "simulator users reach the simulator's options (demo mode and `ringout sim`)", args: []string{"-sim-users", "7"},
			check: func(t *testing.T, c config) {
				if got := c.simOptions().ExtraUsers; got != 7 {
					t.Errorf("simOptions().ExtraUsers = %d, want 7", got)
				}
			}},
		{name: "too many simulator users", args: []string{"-sim-users", "100001"}, wantErr: "-sim-users"},
		{name: "simulator ids are base64 by default", check: func(t *testing.T, c config) {
			if c.SimIDs != "base64" {
				t.Errorf("SimIDs = %q, want base64", c.SimIDs)
			}
		}},
		{name: "simulator ids digits", args: []string{"-sim-ids", "digits"}, check: func(t *testing.T, c config) {
			if c.SimIDs != "digits" {
				t.Errorf("SimIDs = %q, want digits", c.SimIDs)
			}
		}},
		{name: "simulator ids unknown", args: []string{"-sim-ids", "hex"}, wantErr: "-sim-ids"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "flag provided but not defined"},
		{name: "connection cap not a number", env: map[string]string{"MAX_CONNS_PER_CLIENT": "lots"}, wantErr: "MAX_CONNS_PER_CLIENT"},
		{name: "negative connection cap", env: map[string]string{"MAX_CONNS_PER_CLIENT": "-1"}, wantErr: "MAX_CONNS_PER_CLIENT"},
		{name: "sign-in cap by default", check: func(t *testing.T, c config) {
			if c.MaxSignInsPerClient != 30 {
				t.Errorf("MaxSignInsPerClient = %d, want 30", c.MaxSignInsPerClient)
			}
		}},
		{name: "no sign-in cap per client behind a proxy", env: map[string]string{"MAX_CONNS_PER_CLIENT": "0"}, check: func(t *testing.T, c config) {
			if c.MaxSignInsPerClient != 0 {
				t.Errorf("MaxSignInsPerClient = %d, want 0", c.MaxSignInsPerClient)
			}
		}},
		{name: "sign-in cap set", env: map[string]string{"MAX_CONNS_PER_CLIENT": "0", "MAX_SIGNINS_PER_CLIENT": "5"}, check: func(t *testing.T, c config) {
			if c.MaxSignInsPerClient != 5 {
				t.Errorf("MaxSignInsPerClient = %d, want 5", c.MaxSignInsPerClient)
			}
		}},
		{name: "negative sign-in cap", env: map[string]string{"MAX_SIGNINS_PER_CLIENT": "-1"}, wantErr: "MAX_SIGNINS_PER_CLIENT"},
		{name: "read timeout not a duration", env: map[string]string{"READ_TIMEOUT": "30"}, wantErr: "READ_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestSessionSecret: a SESSION_SECRET shorter than 32 characters is refused; without one,
// the secret generated into DATA_DIR is the same at every start. SESSION_SECRET_PREVIOUS
// lists earlier secrets, space-separated, each of 32 characters or more.
func TestSessionSecret(t *testing.T) {
	if _, err := (config{SessionSecret: "short"}).sessionSecret(); err == nil || !strings.Contains(err.Error(), "32") {
		t.Errorf("short SESSION_SECRET: err = %v, want a refusal naming 32 characters", err)
	}
	long1, long2 := strings.Repeat("a", 32), strings.Repeat("b", 40)
	c, err := parseConfig(nil, func(k string) string {
		return map[string]string{"SESSION_SECRET": strings.Repeat("n", 32), "SESSION_SECRET_PREVIOUS": " " + long1 + "  " + long2 + " "}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if prev, err := c.previousSecrets(); err != nil || len(prev) != 2 || string(prev[0]) != long1 || string(prev[1]) != long2 {
		t.Errorf("SESSION_SECRET_PREVIOUS = %q, %v; want the two secrets", prev, err)
	}
	if _, err := (config{SessionSecretPrevious: long1 + " short"}).previousSecrets(); err == nil || !strings.Contains(err.Error(), "SESSION_SECRET_PREVIOUS") {
		t.Errorf("a short previous secret: err = %v, want a refusal naming SESSION_SECRET_PREVIOUS", err)
	}
	c = config{DataDir: t.TempDir()}
	first, err := c.sessionSecret()
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.sessionSecret()
	if err != nil || string(again) != string(first) || len(first) < 32 {
		t.Errorf("generated secret %q then %q (err %v), want the same one of ≥ 32 characters", first, again, err)
	}
}

// TestReplicaID: REPLICA_ID names the replica; unset, it is the host name.
func TestReplicaID(t *testing.T) {
	c, err := parseConfig(nil, func(k string) string { return map[string]string{"REPLICA_ID": "dialer-2"}[k] }, io.Discard)
	if err != nil || c.ReplicaID != "dialer-2" {
		t.Errorf("REPLICA_ID=dialer-2: ReplicaID %q (err %v)", c.ReplicaID, err)
	}
	c, err = parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.ReplicaID != hostname() || c.ReplicaID == "" {
		t.Errorf("unset: ReplicaID %q, want the host name %q (err %v)", c.ReplicaID, hostname(), err)
	}
	if got := userAgent("east 1"); !strings.HasPrefix(got, "ringout/") || !strings.HasSuffix(got, " replica/east-1") {
		t.Errorf("userAgent(%q) = %q, want ringout/VERSION replica/east-1", "east 1", got)
	}
}
