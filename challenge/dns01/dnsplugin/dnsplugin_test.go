package dnsplugin

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/challenge"
)

// The test binary is its own plugin: with DNSPLUGIN_TEST_CHILD set it serves
// the fake providers below on stdin and stdout.
func TestMain(m *testing.M) {
	if os.Getenv("DNSPLUGIN_TEST_CHILD") != "" {
		if err := Serve(os.Stdin, os.Stdout, newFake); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fake records its calls in $FAKE_LOG, one line each, with the child's pid.
type fake struct{ log string }

func (f fake) record(op, domain, token, keyAuth string) error {
	l, err := os.OpenFile(f.log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer l.Close()
	_, err = fmt.Fprintf(l, "%d %s %s %s %s\n", os.Getpid(), op, domain, token, keyAuth)
	return err
}

// waitFor polls the log until it has n lines that contain s (bounded).
func (f fake) waitFor(s string, n int) error {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b, _ := os.ReadFile(f.log)
		if strings.Count(string(b), s) >= n {
			return nil
		}
	}
	return fmt.Errorf("fake: %d lines with %q never came", n, s)
}

func (f fake) Present(domain, token, keyAuth string) error {
	switch {
	case domain == "fail.example":
		return errors.New("fake: zone fail.example refused")
	case domain == "crash.example":
		os.Exit(3)
	case strings.HasPrefix(domain, "together"):
		// Both "together" presents must be in flight at once: the child serves
		// requests concurrently.
		if err := f.record("started", domain, token, keyAuth); err != nil {
			return err
		}
		if err := f.waitFor(" started together", 2); err != nil {
			return err
		}
	}
	return f.record("present", domain, token, keyAuth)
}

func (f fake) CleanUp(domain, token, keyAuth string) error {
	return f.record("cleanup", domain, token, keyAuth)
}

func (f fake) Timeout() (time.Duration, time.Duration) { return 7 * time.Second, 3 * time.Second }

type fakeSequential struct{ fake }

func (fakeSequential) Sequential() time.Duration { return 5 * time.Second }

func newFake(name string) (challenge.Provider, error) {
	if os.Getenv("FAKE_TOKEN") != "s3cret" {
		return nil, errors.New("fake: FAKE_TOKEN missing")
	}
	f := fake{log: os.Getenv("FAKE_LOG")}
	switch name {
	case "fake":
		return f, nil
	case "fakeseq":
		return fakeSequential{f}, nil
	}
	return nil, fmt.Errorf("no provider %q", name)
}

// setup points the child at a fresh log and returns it with a Config.Command
// that runs the test binary as the plugin.
func setup(t *testing.T) (logPath string, cmd func() (*exec.Cmd, func(), error)) {
	t.Helper()
	logPath = filepath.Join(t.TempDir(), "calls")
	t.Setenv("DNSPLUGIN_TEST_CHILD", "1")
	t.Setenv("FAKE_TOKEN", "s3cret") // reaches the child through the environment
	t.Setenv("FAKE_LOG", logPath)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return logPath, func() (*exec.Cmd, func(), error) {
		c := exec.Command(self, "-test.run=^$")
		c.Stderr = os.Stderr
		return c, nil, nil
	}
}

func calls(t *testing.T, logPath string) (lines []string, pids map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(logPath)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	pids = map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if pid, rest, ok := strings.Cut(l, " "); ok {
			pids[pid] = true
			lines = append(lines, rest)
		}
	}
	return lines, pids
}

// exitedWithin waits (bounded) for proc's child to be reaped.
func exitedWithin(t *testing.T, proc *process) {
	t.Helper()
	select {
	case <-proc.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the plugin process did not exit after its stdin closed")
	}
}

func TestProviderRoundTrip(t *testing.T) {
	logPath, cmd := setup(t)
	prov, err := New(Config{Provider: "fake", Command: cmd, Resolvers: []string{"127.0.0.1:53"}, DNSTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := prov.(*Provider)
	if _, ok := prov.(interface{ Sequential() time.Duration }); ok {
		t.Error("fake is not sequential, the plugin provider says it is")
	}
	if to, iv := p.Timeout(); to != 7*time.Second || iv != 3*time.Second {
		t.Errorf("Timeout() = %v, %v; want the child's 7s, 3s", to, iv)
	}
	first := p.proc
	for _, d := range []string{"a.example", "b.example"} {
		if err := p.Present(d, "tok-"+d, "ka-"+d); err != nil {
			t.Fatalf("Present(%s): %v", d, err)
		}
	}
	if err := p.CleanUp("a.example", "tok-a.example", "ka-a.example"); err != nil {
		t.Fatal(err)
	}
	if p.proc != first {
		t.Fatal("the child was stopped with a record still presented")
	}
	if err := p.CleanUp("b.example", "tok-b.example", "ka-b.example"); err != nil {
		t.Fatal(err)
	}
	if p.proc != nil {
		t.Error("the child still runs after the last CleanUp")
	}
	exitedWithin(t, first)

	// A later Present starts a new child.
	if err := p.Present("c.example", "tok", "ka"); err != nil {
		t.Fatal(err)
	}
	if err := p.CleanUp("c.example", "tok", "ka"); err != nil {
		t.Fatal(err)
	}
	lines, pids := calls(t, logPath)
	want := []string{
		"present a.example tok-a.example ka-a.example", "present b.example tok-b.example ka-b.example",
		"cleanup a.example tok-a.example ka-a.example", "cleanup b.example tok-b.example ka-b.example",
		"present c.example tok ka", "cleanup c.example tok ka",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if len(pids) != 2 {
		t.Errorf("calls came from %d processes, want 2 (one per run of records)", len(pids))
	}
}

func TestProviderErrors(t *testing.T) {
	_, cmd := setup(t)
	if _, err := New(Config{Provider: "nope", Command: cmd}); err == nil || err.Error() != `no provider "nope"` {
		t.Errorf("New(nope) = %v, want the child's error", err)
	}
	t.Setenv("FAKE_TOKEN", "")
	if _, err := New(Config{Provider: "fake", Command: cmd}); err == nil || err.Error() != "fake: FAKE_TOKEN missing" {
		t.Errorf("New without credentials = %v, want the constructor's error", err)
	}
	t.Setenv("FAKE_TOKEN", "s3cret")
	prov, err := New(Config{Provider: "fake", Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.Present("fail.example", "t", "k"); err == nil || err.Error() != "fake: zone fail.example refused" {
		t.Errorf("Present(fail) = %v", err)
	}
	bad := func() (*exec.Cmd, func(), error) { return exec.Command("/nonexistent/acmectl-dns"), nil, nil }
	if _, err := New(Config{Provider: "fake", Command: bad}); err == nil || !strings.Contains(err.Error(), "DNS plugin for fake") {
		t.Errorf("New with a plugin that cannot start = %v", err)
	}
}

func TestProviderConcurrentCalls(t *testing.T) {
	_, cmd := setup(t)
	prov, err := New(Config{Provider: "fake", Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, d := range []string{"together1.example", "together2.example"} {
		go func() { errs <- prov.Present(d, "t", "k") }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Present: %v (the child serialised the calls?)", err)
		}
	}
}

func TestProviderChildDies(t *testing.T) {
	logPath, cmd := setup(t)
	prov, err := New(Config{Provider: "fake", Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.Present("crash.example", "t", "k"); !errors.Is(err, errExited) {
		t.Fatalf("Present on a child that exits = %v, want %v", err, errExited)
	}
	// The next call gets a new child.
	if err := prov.Present("after.example", "t", "k"); err != nil {
		t.Fatalf("Present after the crash: %v", err)
	}
	if lines, _ := calls(t, logPath); len(lines) != 1 || lines[0] != "present after.example t k" {
		t.Errorf("calls = %q", lines)
	}
}

func TestProviderSequential(t *testing.T) {
	_, cmd := setup(t)
	prov, err := New(Config{Provider: "fakeseq", Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := prov.(interface{ Sequential() time.Duration })
	if !ok || s.Sequential() != 5*time.Second {
		t.Fatalf("New(fakeseq) = %T, want a sequential provider with 5s", prov)
	}
	if _, ok := prov.(challenge.ProviderTimeout); !ok {
		t.Error("the sequential provider lost Timeout")
	}
}

func TestServeRejectsRequestBeforeInit(t *testing.T) {
	var out bytes.Buffer
	err := Serve(strings.NewReader(`{"id":1,"op":"present","domain":"x"}`+"\n"), &out, newFake)
	if err == nil || !strings.Contains(err.Error(), "not init") {
		t.Errorf("Serve = %v", err)
	}
	if err := Serve(strings.NewReader(""), &out, newFake); err != nil {
		t.Errorf("Serve on empty input = %v", err)
	}
}

// gzipEnv returns /usr/bin/env, gzipped, as an embedding would hold an
// executable: started with the test binary as its argument, it runs the
// plugin (the test binary itself is too large to unpack quickly under -race).
func gzipEnv(t *testing.T) (gz []byte, args []string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/usr/bin/env")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), []string{self, "-test.run=^$"}
}

func TestEmbedded(t *testing.T) {
	setup(t)
	gz, args := gzipEnv(t)

	t.Run("memfd", func(t *testing.T) {
		cmd := Embedded(gz, "acmectl-dns-test", args...)
		c, _, err := cmd()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.Path, "/proc/self/fd/") {
			t.Errorf("path %s: not the memfd", c.Path)
		}
		prov, err := New(Config{Provider: "fake", Command: cmd})
		if err != nil {
			t.Fatal(err)
		}
		if err := prov.Present("m.example", "t", "k"); err != nil {
			t.Fatal(err)
		}
		if err := prov.CleanUp("m.example", "t", "k"); err != nil {
			t.Fatal(err)
		}
		// The memfd is sealed: nothing can write into the executable.
		fd := strings.TrimPrefix(c.Path, "/proc/self/fd/")
		if f, err := os.OpenFile("/proc/self/fd/"+fd, os.O_WRONLY, 0); err == nil {
			_, werr := f.Write([]byte("x"))
			f.Close()
			if werr == nil {
				t.Error("wrote into the sealed plugin memfd")
			}
		}
	})

	t.Run("temporary file", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		var dirs []string
		cmd := func() (*exec.Cmd, func(), error) {
			c, started, err := tempExecutable(gz, "acmectl-dns-test", args)
			if err == nil {
				dirs = append(dirs, filepath.Dir(c.Path))
			}
			return c, started, err
		}
		prov, err := New(Config{Provider: "fake", Command: cmd})
		if err != nil {
			t.Fatal(err)
		}
		if err := prov.Present("f.example", "t", "k"); err != nil {
			t.Fatal(err)
		}
		if len(dirs) != 1 || !strings.HasPrefix(dirs[0], tmp) {
			t.Fatalf("plugin directories %v, want one under %s", dirs, tmp)
		}
		if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
			t.Errorf("%s still exists after the plugin started (%v)", dirs[0], err)
		}
	})
}
