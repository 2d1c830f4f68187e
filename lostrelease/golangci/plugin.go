// Package golangci registers the lostrelease analyzer as a golangci-lint v2
// module plugin named "lostrelease".
//
// Build a golangci-lint that includes it with `golangci-lint custom` and a
// .custom-gcl.yml:
//
//	version: v2.15.0
//	plugins:
//	  - module: github.com/ctxguard/release/lostrelease/golangci
//	    import: github.com/ctxguard/release/lostrelease/golangci
//	    version: latest
//
// then enable it in .golangci.yml:
//
//	version: "2"
//	linters:
//	  enable:
//	    - lostrelease
//	  settings:
//	    custom:
//	      lostrelease:
//	        type: module
//	        description: reports release guards that are never used
//
// The plugin has no settings: any key under settings is an error.
package golangci

import (
	"github.com/ctxguard/release/lostrelease"
	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"
)

// Name is the name the plugin is registered under, and the linter's name in
// .golangci.yml.
const Name = "lostrelease"

func init() {
	register.Plugin(Name, New)
}

// Settings are the plugin's settings from .golangci.yml. There are none.
type Settings struct{}

// New returns the plugin for the given settings. It returns an error if
// settings holds any key, or is not a map.
func New(settings any) (register.LinterPlugin, error) {
	if _, err := register.DecodeSettings[Settings](settings); err != nil {
		return nil, err
	}
	return plugin{}, nil
}

type plugin struct{}

// BuildAnalyzers returns [lostrelease.Analyzer], which golangci-lint runs
// with its facts.
func (plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	return []*analysis.Analyzer{lostrelease.Analyzer}, nil
}

// GetLoadMode returns [register.LoadModeTypesInfo]: the analyzer needs type
// information.
func (plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
