package mamoru_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering checks the import rules of docs/architecture.md: the root
// package imports only the standard library, adapters never import each
// other, and only cmd/mamoru wires adapters together.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	const mod = "github.com/mamoru-id/mamoru"
	adapters := map[string]bool{mod + "/sqlite": true, mod + "/postgres": true, mod + "/web": true}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			if pkg == mod && strings.Contains(strings.Split(imp, "/")[0], ".") {
				t.Errorf("the root package imports %s; it may import only the standard library", imp)
			}
			if adapters[pkg] && adapters[imp] {
				t.Errorf("adapter %s imports adapter %s; only cmd/mamoru wires adapters", pkg, imp)
			}
			if imp == mod+"/cmd/mamoru" {
				t.Errorf("%s imports cmd/mamoru", pkg)
			}
		}
	}
}
