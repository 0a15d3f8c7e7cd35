package app

import (
	"net"
	"net/http"
	"testing"
)

// TestDebugAddr: the profiler is served on DEBUG_ADDR only, never on the app's own
// listener, and not at all when DEBUG_ADDR is unset.
func TestDebugAddr(t *testing.T) {
	get := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	debug := ln.Addr().String()
	ln.Close()
	base := startRunEnv(t, map[string]string{"DATA_DIR": t.TempDir(), "DEBUG_ADDR": debug})
	if code := get("http://" + debug + "/debug/pprof/heap?debug=1"); code != http.StatusOK {
		t.Errorf("DEBUG_ADDR /debug/pprof/heap: %d, want 200", code)
	}
	if code := get(base + "/debug/pprof/heap?debug=1"); code != http.StatusNotFound {
		t.Errorf("the app's listener answers /debug/pprof/heap with %d, want 404", code)
	}

	plain := startRun(t, t.TempDir())
	if code := get(plain + "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("without DEBUG_ADDR the app's listener answers /debug/pprof/ with %d, want 404", code)
	}
}
