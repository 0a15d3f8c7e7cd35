package app

import (
	"runtime/debug"
	"strings"
)

// version is the app's version as the build recorded it: the module version of a tagged
// build (go install …@v1.2.3), else the first 12 digits of the commit it was built from
// (with "+dirty" for uncommitted changes), else "dev" (go run, go test).
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "dev"
	}
	return rev + dirty
}

// userAgent is the X-User-Agent the app sends RingCentral: "ringout/VERSION replica/ID".
// Spaces in the replica id would split the word, so they become "-".
func userAgent(replica string) string {
	return "ringout/" + version() + " replica/" + strings.ReplaceAll(strings.TrimSpace(replica), " ", "-")
}
