package ciscripts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/acmectl/acmectl/internal/etcdtest"
	"github.com/acmectl/acmectl/internal/pebbletest"
)

// releaseVersion is the VERSION the tests give make build.
const releaseVersion = "v9.8.7-release-test"

var (
	makeOnce sync.Once
	makeBin  string
	makeErr  error
)

// makeBuild runs `make build` once for the package's tests (a DIST of its
// own, VERSION=releaseVersion) and returns dist/acmectl.
func makeBuild(t *testing.T) string {
	t.Helper()
	makeOnce.Do(func() {
		dist, err := os.MkdirTemp("", "acmectl-ciscripts-dist-")
		if err != nil {
			makeErr = err
			return
		}
		build := exec.Command("make", "-C", repoRoot(t), "--no-print-directory", "build", "DIST="+dist, "VERSION="+releaseVersion)
		if out, err := build.CombinedOutput(); err != nil {
			makeErr = fmt.Errorf("make build: %v\n%s", err, out)
			return
		}
		makeBin = filepath.Join(dist, "acmectl")
		if left, _ := filepath.Glob(filepath.Join(dist, "*")); len(left) != 1 {
			makeErr = fmt.Errorf("make build left %v in DIST, want only acmectl", left)
		}
	})
	if makeErr != nil {
		t.Fatal(makeErr)
	}
	return makeBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if makeBin != "" {
		os.RemoveAll(filepath.Dir(makeBin))
	}
	os.Exit(code)
}

// TestMakeBuildStaticWithVersion: the release build is static
// (CGO_ENABLED=0), -trimpath, and reports the version given through
// ldflags, as make release requires.
func TestMakeBuildStaticWithVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds acmectl")
	}
	t.Parallel()
	bin := makeBuild(t)
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		t.Fatalf("ldd is needed (Debian package libc-bin): %v", err)
	}
	out, _ := exec.Command(ldd, bin).CombinedOutput() // exits 1 for a static binary
	if !strings.Contains(string(out), "not a dynamic executable") {
		t.Errorf("ldd %s = %q, want \"not a dynamic executable\"", bin, out)
	}
	out, err = exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), releaseVersion) {
		t.Errorf("acmectl --version = %q, %v, want it to contain %s", out, err, releaseVersion)
	}
	// -trimpath: no build-machine paths in the binary.
	if b, err := os.ReadFile(bin); err != nil {
		t.Fatal(err)
	} else if root := repoRoot(t); bytes.Contains(b, []byte(root)) {
		t.Errorf("binary contains the build directory %s (no -trimpath?)", root)
	}
}

// TestMakeBuildEmbedsDNSPlugin checks the DNS plugin that `make build`
// embeds in dist/acmectl for real: acmectl links no lego provider, yet
// `--dns exec` gets a certificate from Pebble through the plugin, and a
// cloud provider (gcloud) answers with its SDK's own configuration error.
// It checks the embedded cluster build the same way: acmectl links no etcd
// client, yet a cluster with a real etcd gets a certificate over dns-01
// (the cluster build using acmectl's DNS plugin), unpacked once into the
// cache directory and unpacked again when the cached copy is tampered with.
func TestMakeBuildEmbedsDNSPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds acmectl and runs Pebble")
	}
	t.Parallel()
	bin := makeBuild(t)

	// acmectl itself links no provider SDK.
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	for _, mod := range []string{"aws-sdk-go-v2", "google.golang.org/api", "azure-sdk-for-go", "linodego", "gokrb5"} {
		if strings.Contains(string(out), mod) {
			t.Errorf("dist/acmectl links %s; the providers belong in the plugin", mod)
		}
	}
	for _, mod := range []string{"go.etcd.io/etcd/client", "google.golang.org/grpc"} {
		if strings.Contains(string(out), mod) {
			t.Errorf("dist/acmectl links %s; the cluster belongs in the embedded cluster build", mod)
		}
	}

	s := pebbletest.Start(t, pebbletest.Options{})
	d := t.TempDir()
	script := filepath.Join(d, "update-dns.sh")
	// lego exec: $1 present|cleanup, $2 fqdn, $3 value.
	if err := os.WriteFile(script, []byte(`#!/bin/sh
case "$1" in
present) curl -sf -d "{\"host\":\"$2\",\"value\":\"$3\"}" `+s.ChallSrvURL+`/set-txt ;;
cleanup) curl -sf -d "{\"host\":\"$2\"}" `+s.ChallSrvURL+`/clear-txt ;;
esac
`), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(extraEnv []string, args ...string) (string, error) {
		args = append(args, "--config-dir", filepath.Join(d, "config"), "--work-dir", filepath.Join(d, "work"),
			"--logs-dir", filepath.Join(d, "logs"), "--ca-bundle", s.CABundle)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append(os.Environ(), "HOME="+d, "XDG_CONFIG_HOME="+filepath.Join(d, "xdg"), "XDG_CACHE_HOME="+filepath.Join(d, "cache"), "ACMECTL_SYSTEM_CLI_INI="), extraEnv...)
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err := cmd.Run()
		return b.String(), err
	}
	base := []string{"certonly", "-n", "--agree-tos", "-m", "e2e@example.com", "--server", s.DirectoryURL}
	if out, err := run([]string{"EXEC_PATH=" + script, "EXEC_SEQUENCE_INTERVAL=1"},
		append(base, "--dns", "exec", "--dns-propagation-seconds", "1", "-d", "plugin.example.com")...); err != nil {
		t.Fatalf("certonly --dns exec through the plugin: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(d, "config", "live", "plugin.example.com", "fullchain.pem")); err != nil {
		t.Errorf("no certificate: %v", err)
	}

	// gcloud, configured with a broken service-account key: the SDK's own
	// message comes back through the plugin. GCE_METADATA_HOST keeps any
	// metadata lookup on a closed loopback port.
	out2, err := run([]string{"GCE_SERVICE_ACCOUNT={", "GCE_METADATA_HOST=127.0.0.1:9"},
		append(base, "--dns", "gcloud", "-d", "cloud.example.com")...)
	if err == nil || !strings.Contains(out2, "googlecloud:") {
		t.Errorf("certonly --dns gcloud with a broken key: %v\n%s", err, out2)
	}
	if _, err := os.Stat(filepath.Join(d, "cache", "acmectl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("runs without a cluster unpacked the cluster build: %v", err)
	}

	// The cluster: join (a new cluster) and a certificate over dns-01, both
	// run by the embedded cluster build.
	etcd := etcdtest.Start(t, etcdtest.Options{})
	store := []string{"--store", "etcd://" + etcd.Addr + "/build-test", "--cluster-key-file", filepath.Join(d, "cluster.key")}
	if out, err := run(nil, append([]string{"cluster", "join", "--generate-key", "-n"}, store...)...); err != nil {
		t.Fatalf("cluster join through dist/acmectl: %v\n%s", err, out)
	}
	cached, _ := filepath.Glob(filepath.Join(d, "cache", "acmectl", "acmectl-cluster-*"))
	if len(cached) != 1 {
		t.Fatalf("cluster build unpacked as %v, want one acmectl-cluster-<sum>", cached)
	}
	if fi, err := os.Stat(cached[0]); err != nil || fi.Mode().Perm() != 0o500 {
		t.Fatalf("unpacked cluster build: %v, %v", fi, err)
	}
	// Someone made the cached copy writable by others: it is not run but
	// unpacked again.
	if err := os.Chmod(cached[0], 0o777); err != nil {
		t.Fatal(err)
	}
	if out, err := run([]string{"EXEC_PATH=" + script, "EXEC_SEQUENCE_INTERVAL=1"},
		append(append(base, store...), "--dns", "exec", "--dns-propagation-seconds", "1", "-d", "cluster.example.com")...); err != nil {
		t.Fatalf("certonly --store --dns exec through dist/acmectl: %v\n%s", err, out)
	}
	if fi, err := os.Stat(cached[0]); err != nil || fi.Mode().Perm() != 0o500 {
		t.Errorf("the tampered copy was kept: %v, %v", fi, err)
	}
	out3, err := run(nil, append([]string{"cluster", "status"}, store...)...)
	if err != nil || !strings.Contains(out3, "cluster.example.com") {
		t.Errorf("cluster status through dist/acmectl: %v\n%s", err, out3)
	}
	if _, err := os.Stat(filepath.Join(d, "config", "live", "cluster.example.com", "fullchain.pem")); err != nil {
		t.Errorf("no replica of the cluster's certificate: %v", err)
	}
}
