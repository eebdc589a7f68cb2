// Package depcheck enforces the import graph (STYLE §1): acme imports only the
// standard library and go-jose; challenge and storage import neither acme nor
// each other.
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/acmectl/acmectl/"

func deps(t *testing.T, pattern string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pattern).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pattern, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pattern, err)
	}
	return strings.Fields(string(out))
}

func TestImportGraph(t *testing.T) {
	tests := []struct {
		pattern   string
		allowed   []string // prefixes allowed outside the standard library
		forbidden []string
	}{
		{"../../acme/...", []string{mod + "acme", "github.com/go-jose/go-jose/v4", "golang.org/x/"}, nil},
		{"../../challenge/...", nil, []string{mod + "acme", mod + "storage", mod + "cmd", mod + "scm"}},
		{"../../storage/...", nil, []string{mod + "acme", mod + "challenge", mod + "cmd", mod + "scm"}},
		{"../../scm/...", nil, []string{mod + "acme", mod + "challenge", mod + "storage", mod + "cmd", "github.com/urfave/cli"}},
		{"../../schedule/...", nil, []string{mod + "cmd", "github.com/urfave/cli"}},
		{"../../installer/...", []string{mod + "installer"}, nil}, // standard library only; the solver shape without acme
	}
	for _, tc := range tests {
		for _, d := range deps(t, tc.pattern) {
			if tc.allowed != nil && !hasPrefix(d, tc.allowed) {
				t.Errorf("%s depends on %s; only %v are allowed", tc.pattern, d, tc.allowed)
			}
			if hasPrefix(d, tc.forbidden) {
				t.Errorf("%s depends on %s, which it must not", tc.pattern, d)
			}
		}
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
