package captcha

import (
	_ "embed"
	"slices"
)

//go:embed assets/altcha-solver.js
var solverJS []byte

// SolverJS returns our solver script (assets/altcha-solver.js): plain
// JavaScript for the page, to be served as text/javascript at the Widget's
// ScriptURL. It attaches to <div data-mamoru-pow data-challenge-url="...">
// elements inside forms; its header comment lists the data attributes.
// The caller may keep the slice; it is a copy.
func SolverJS() []byte { return slices.Clone(solverJS) }
