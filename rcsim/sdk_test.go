package rcsim_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestGuideSampleWithOfficialSDK runs the RingOut guide's JavaScript sample, unchanged, with
// the official @ringcentral/sdk from npm against the simulator (real time, real HTTP).
func TestGuideSampleWithOfficialSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node with the official SDK: skipped with -short")
	}
	if _, err := os.Stat(filepath.Join("sdktest", "node_modules", "@ringcentral", "sdk")); err != nil {
		msg := "rcsim/sdktest/node_modules is missing: run `npm ci` in rcsim/sdktest"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed")
		}
		t.Skip("node is not installed")
	}
	tests := []struct {
		script string
		want   []string
	}{
		{"ringout.js", []string{"Call placed. Call status: InProgress"}},
		{"ringout-status.js", []string{
			"Call placed. Call status: InProgress",
			"Call status: InProgress, caller: InProgress, callee: InProgress",
			"Canceled: 204",
			"After cancel: 404 Resource for parameter [ringoutId] is not found",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			srv := rcsim.NewServer(rcsim.Options{})
			defer srv.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, tt.script)
			cmd.Dir = "sdktest"
			cmd.Env = append(os.Environ(),
				"RC_SERVER_URL="+srv.URL, "RC_CLIENT_ID="+rcsim.DemoClientID, "RC_CLIENT_SECRET="+rcsim.DemoClientSecret,
				"RC_USERNAME=+16505550100", "RC_PASSWORD=demo", "RC_EXTENSION=101")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node %s: %v\nstdout: %s\nstderr: %s", tt.script, err, out, stderr.String())
			}
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("node %s printed\n%s\nwant\n%s\nstderr: %s", tt.script, out, strings.Join(tt.want, "\n"), stderr.String())
			}
			var paths []string
			for _, r := range srv.Requests() {
				paths = append(paths, r.Method+" "+r.Path)
			}
			if len(paths) < 2 || paths[0] != "POST /restapi/oauth/token" {
				t.Errorf("requests %v: want the password login first", paths)
			}
		})
	}
}
