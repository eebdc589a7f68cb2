// Package depcheck enforces the import graph (STYLE §1): acme imports only the
// standard library and go-jose, and touches neither the disk nor flags;
// challenge and storage import neither acme nor each other; the engine
// (manager) and doctor import neither the command line (urfave/cli) nor cmd/;
// the internal helpers import nothing of acmectl; cluster imports etcd's client,
// never its server, and none of the engine or the protocol.
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
		{"../../storage/...", nil, []string{mod + "acme", mod + "challenge", mod + "cmd", mod + "scm", mod + "cluster", "go.etcd.io/"}},
		// The cluster store: none of the engine or the protocol; etcd's
		// client, never its server (the binary must not link an etcd server).
		{"../../cluster/...", nil, []string{mod + "acme", mod + "challenge", mod + "cmd", mod + "scm", mod + "manager", mod + "doctor", mod + "installer",
			cliModule, "go.etcd.io/etcd/server", "go.etcd.io/raft", "go.etcd.io/bbolt"}},
		{"../../scm/...", nil, []string{mod + "acme", mod + "challenge", mod + "storage", mod + "cmd", "github.com/urfave/cli"}},
		{"../../schedule/...", nil, []string{mod + "cmd", "github.com/urfave/cli"}},
		{"../../installer/...", []string{mod + "installer", mod + "internal/specialfile", mod + "internal/b64url"}, nil}, // standard library only (and specialfile, b64url); the solver shape without acme
		{"../../revocation/...", []string{mod + "revocation", mod + "internal/specialfile", "golang.org/x/"}, nil},       // OCSP and CRL: standard library and x/crypto/ocsp
		{"../../challenge/...", nil, []string{mod + "manager", mod + "doctor"}},
		{"../../storage/...", nil, []string{mod + "manager", mod + "doctor"}},
		{"../../manager/...", nil, []string{cliModule, mod + "cmd", mod + "doctor", mod + "scm"}},
		{"../../doctor/...", nil, []string{cliModule, mod + "cmd"}},
		{"../../internal/hookrun", nil, []string{mod + "acme", mod + "challenge", mod + "storage", mod + "manager", mod + "cmd"}},
		{"../../internal/kv", nil, []string{mod + "acme", mod + "challenge", mod + "storage", mod + "manager", mod + "cmd"}},
		{"../../internal/pemutil", nil, []string{mod + "acme", mod + "challenge", mod + "storage", mod + "manager", mod + "cmd"}},
		{"../../internal/secretfile", nil, []string{mod + "acme", mod + "challenge", mod + "storage", mod + "manager", mod + "cmd"}},
		// The command-line libraries: certbot's parser rules and completion
		// know nothing of the engine (the engine's table feeds them).
		{"../../internal/argparse", []string{mod + "internal/argparse"}, nil},
		// The atomic writers' guard against replacing a device: standard library only.
		{"../../internal/specialfile", []string{mod + "internal/specialfile"}, nil},
		// The challenge-token check: standard library only.
		{"../../internal/b64url", []string{mod + "internal/b64url"}, nil},
		// The start-up's heap prefault: syscall and unsafe only, so that it
		// initialises before the heavy packages (its doc).
		{"../../internal/prefault", []string{mod + "internal/prefault"}, nil},
		{"../../internal/complete", []string{mod + "internal/argparse", mod + "internal/complete"}, nil},
		// Unpacking and running embedded executables: standard library and x/sys (memfd).
		{"../../internal/embedbin", []string{mod + "internal/embedbin", "golang.org/x/sys"}, nil},
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

const cliModule = "github.com/urfave/cli"

// TestACMEHasNoDiskNorFlags: the protocol client's own packages import no
// file-system, process or flag package (keys arrive as crypto.Signer,
// certificates leave as []byte; net/http's own use of os is not acme's).
func TestACMEHasNoDiskNorFlags(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "../../acme/...").Output()
	if err != nil {
		t.Fatalf("go list ../../acme/...: %v", err)
	}
	forbidden := []string{"os", "os/exec", "io/fs", "io/ioutil", "path/filepath", "flag", "syscall", cliModule}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		for _, imp := range strings.Fields(imports) {
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s: acme must not touch the disk, processes or flags", pkg, imp)
				}
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

// TestNoClusterBuild: acmectl built with -tags nocluster (the front of
// `make build`'s binary) links neither the cluster package nor anything of
// etcd, gRPC or protobuf: their package initialisation is what the split
// takes out of every start. (-e: the embedded files `make build` supplies
// through -overlay are not in the tree.)
func TestNoClusterBuild(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-deps", "-tags", "nocluster,dnsembed", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "../../cmd/acmectl").Output()
	if err != nil {
		t.Fatalf("go list -deps -tags nocluster: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list -deps -tags nocluster listed only %v", deps)
	}
	for _, d := range deps {
		if hasPrefix(d, []string{mod + "cluster", "go.etcd.io/", "google.golang.org/grpc", "google.golang.org/protobuf"}) {
			t.Errorf("the nocluster build depends on %s", d)
		}
	}
}
