package rcsim_test

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestDocListsScenarios keeps the package documentation's list of scenarios equal to the
// table: every scenario, in order, as "Name (Number): Description".
func TestDocListsScenarios(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(f.Doc.Text()), " ")
	at := 0
	for _, sc := range rcsim.Scenarios() {
		entry := "- " + sc.Name + " (" + sc.Number + "): " + strings.Join(strings.Fields(sc.Description), " ")
		i := strings.Index(doc[at:], entry)
		if i < 0 {
			t.Errorf("doc.go does not list, after the previous scenario,\n%s", entry)
			continue
		}
		at += i + len(entry)
	}
}

func TestScenarioTable(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range rcsim.Scenarios() {
		if sc.Name == "" || sc.Label == "" || sc.Description == "" || names[sc.Name] {
			t.Errorf("scenario %+v: empty field or duplicate name", sc)
		}
		names[sc.Name] = true
		// Each scenario's own number picks it.
		if got := rcsim.ScenarioFor(sc.Number); got.Name != sc.Name {
			t.Errorf("ScenarioFor(%s) = %s, want %s", sc.Number, got.Name, sc.Name)
		}
	}
	for to, want := range map[string]rcsim.Scenario{
		"+16505550121": rcsim.Answered, "+16505550124": rcsim.Answered, "+14155550133": rcsim.Answered,
		"+442071838758": rcsim.CallerNoAnswer, // the first leg fails before the destination counts
		"+442071838755": rcsim.International,
		"+16505550105":  rcsim.Busy,
	} {
		if got := rcsim.ScenarioFor(to); got.Name != want.Name {
			t.Errorf("ScenarioFor(%s) = %s, want %s", to, got.Name, want.Name)
		}
	}
}
