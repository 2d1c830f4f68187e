package golangci_test

import (
	"testing"

	"github.com/ctxguard/release/lostrelease"
	"github.com/ctxguard/release/lostrelease/golangci"
	"github.com/golangci/plugin-module-register/register"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestBuildsAnalyzerFromSettings checks that the plugin registered as
// lostrelease builds the lostrelease analyzer, with type information, from
// the settings golangci-lint passes when there are none.
func TestBuildsAnalyzerFromSettings(t *testing.T) {
	newPlugin, err := register.GetPlugin("lostrelease")
	if err != nil {
		t.Fatalf("register.GetPlugin(%q): %v", "lostrelease", err)
	}
	for _, settings := range []any{nil, map[string]any{}} {
		p, err := newPlugin(settings)
		if err != nil {
			t.Fatalf("New(%#v): %v; want no error", settings, err)
		}
		as, err := p.BuildAnalyzers()
		if err != nil {
			t.Fatalf("BuildAnalyzers() with settings %#v: %v", settings, err)
		}
		if len(as) != 1 || as[0] != lostrelease.Analyzer {
			t.Errorf("BuildAnalyzers() with settings %#v = %v; want [lostrelease.Analyzer]", settings, as)
		}
		if as[0].Name != golangci.Name {
			t.Errorf("analyzer name %q; want %q, the name .golangci.yml enables", as[0].Name, golangci.Name)
		}
		if mode := p.GetLoadMode(); mode != register.LoadModeTypesInfo {
			t.Errorf("GetLoadMode() = %q; want %q", mode, register.LoadModeTypesInfo)
		}
	}
}

// TestRejectsUnknownSettings checks that a setting the plugin does not have
// is an error, not silently ignored.
func TestRejectsUnknownSettings(t *testing.T) {
	for _, settings := range []any{map[string]any{"strict": true}, "lostrelease"} {
		if _, err := golangci.New(settings); err == nil {
			t.Errorf("New(%#v) returned no error; want one", settings)
		}
	}
}
