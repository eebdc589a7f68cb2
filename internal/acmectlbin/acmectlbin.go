// Package acmectlbin gives the end-to-end tests of every package one acmectl
// binary, built with `make build`'s flags: one link per state of the source
// instead of one per test package and per run. It is test support only:
// nothing outside tests imports it, and a failed build is returned as an
// error, never turned into a skip.
//
// The binary lives in a directory under os.TempDir() named after the
// checkout (so worktrees do not overwrite each other's binary) and is kept
// between runs, as internal/pebbletest keeps Pebble's. go build itself
// decides whether it is current: it relinks only when the binary's build ID
// no longer matches the source, flags and toolchain. A file lock orders the
// test binaries of one `go test ./...` that ask at the same time.
//
// It does not build the DNS plugin: the default providers are linked, as in
// a plain `go build` (package challenge/dns01, registry_linked.go);
// internal/ciscripts tests the plugin that `make build` embeds.
package acmectlbin

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Version is the version the binary reports (-X main.version).
const Version = "v0.0.0-test"

// pkg is the command built.
const pkg = "github.com/acmectl/acmectl/cmd/acmectl"

// buildArgs are `make build`'s for dist/acmectl (with CGO_ENABLED=0) less
// the dnsembed tag and its overlay.
var buildArgs = []string{"-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags", "-s -w -X main.version=" + Version}

var (
	once    sync.Once
	binPath string
	errPath error
)

// Path returns the path of the acmectl binary for the source as it is now,
// building it first when it is missing or stale. Every call in one process
// returns the same answer; the error is the build's, with its output.
func Path() (string, error) {
	once.Do(func() { binPath, errPath = build() })
	return binPath, errPath
}

func build() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("acmectlbin: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("acmectlbin: not inside the acmectl module")
	}
	root := filepath.Dir(gomod)
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("acmectl-testbin-%x", sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("acmectlbin: %w", err)
	}
	// Held until the build ends; the kernel drops it if the process dies.
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("acmectlbin: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("acmectlbin: lock %s: %w", lock.Name(), err)
	}
	bin := filepath.Join(dir, "acmectl")
	args := append(append([]string{"build"}, buildArgs...), "-o", bin, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("acmectlbin: go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return bin, nil
}
