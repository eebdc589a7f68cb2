// Package ciscripts tests the repository's shell scripts: scripts/deps.sh (the
// Debian packages `make test` needs, installed or named before anything is
// compiled), and shellcheck over every script.
package ciscripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository root (this package is internal/ciscripts).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatalf("shellcheck not installed (scripts/deps.sh lists it): %v", err)
	}
	root := repoRoot(t)
	scripts, _ := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	scripts = append(scripts, filepath.Join(root, ".ci", "run"))
	if len(scripts) < 3 {
		t.Fatalf("found only %v", scripts)
	}
	out, err := exec.Command(sc, scripts...).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck %v: %v\n%s", scripts, err, out)
	}
}

// writeExec writes an executable file.
func writeExec(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// worldReadableDir returns a temporary directory that another user can enter
// (t.TempDir makes 0700 directories).
func worldReadableDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir() // <os.TempDir>/<TestName…>/<NNN>, both made 0700
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMakeTestStopsBeforeCompilingWhenNotRoot runs `make test` as a user who is
// not root, with a package list holding a package that is not installed: make
// stops with one line naming the command to run, and go is never started.
func TestMakeTestStopsBeforeCompilingWhenNotRoot(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make not installed: %v", err)
	}
	root := repoRoot(t)
	dir := worldReadableDir(t)
	// A copy of the Makefile and scripts/, with a go on PATH that leaves a mark.
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Makefile", "scripts/deps.sh"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		writeExec(t, filepath.Join(dir, f), string(b))
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(dir, "go-ran")
	if err := os.Mkdir(mark, 0o777); err != nil { // a directory the other user can write into
		t.Fatal(err)
	}
	if err := os.Chmod(mark, 0o777); err != nil {
		t.Fatal(err)
	}
	writeExec(t, filepath.Join(bin, "go"), "#!/bin/sh\necho \"$*\" > "+mark+"/$$\n")

	const fake = "acmectl-test-not-a-package"
	args := []string{"make", "-C", dir, "test"}
	if os.Geteuid() == 0 {
		args = append([]string{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin:/usr/sbin:/sbin", "DEPS_PACKAGES=curl "+fake, "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("make test with a missing package succeeded:\n%s", out)
	}
	var deps []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "deps:") {
			deps = append(deps, l)
		}
	}
	if len(deps) != 1 {
		t.Fatalf("want one deps: line, got %d:\n%s", len(deps), out)
	}
	for _, want := range []string{fake, "run: sudo scripts/deps.sh", "apt-get install -y --no-install-recommends " + fake} {
		if !strings.Contains(deps[0], want) {
			t.Errorf("message %q lacks %q", deps[0], want)
		}
	}
	if strings.Contains(deps[0], "curl") {
		t.Errorf("message %q names curl, which is installed", deps[0])
	}
	if ran, _ := os.ReadDir(mark); len(ran) != 0 {
		b, _ := os.ReadFile(filepath.Join(mark, ran[0].Name()))
		t.Errorf("go ran before the dependency check stopped make: go %s", b)
	}
}

// fakeDebian is a PATH of stand-ins for the tools deps.sh uses as root: id
// says 0, dpkg-query answers from a state file, apt-cache offers a candidate
// unless the package is listed in nocandidate, apt-get records its calls (and
// "installs" by adding to the state; failing once when told to), systemctl and
// service record what they stop. Nothing on the machine changes.
type fakeDebian struct {
	dir, bin, state, log string
}

func newFakeDebian(t *testing.T, installed []string, nocandidate []string, failInstallOnce bool) *fakeDebian {
	t.Helper()
	f := &fakeDebian{dir: t.TempDir()}
	f.bin = filepath.Join(f.dir, "bin")
	f.state = filepath.Join(f.dir, "installed")
	f.log = filepath.Join(f.dir, "log")
	if err := os.Mkdir(f.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.state, []byte(strings.Join(installed, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "nocandidate"), []byte(strings.Join(nocandidate, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if failInstallOnce {
		if err := os.WriteFile(filepath.Join(f.dir, "fail-once"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := f.dir
	writeExec(t, filepath.Join(f.bin, "id"), "#!/bin/sh\necho 0\n")
	writeExec(t, filepath.Join(f.bin, "dpkg-query"), `#!/bin/sh
for p; do :; done
grep -qx "$p" `+f.state+` && printf installed || { printf 'not-installed'; exit 1; }
`)
	writeExec(t, filepath.Join(f.bin, "apt-cache"), `#!/bin/sh
[ "$1" = policy ] || exit 2
echo "$2:"
if grep -qx "$2" `+d+`/nocandidate; then echo "  Candidate: (none)"; else echo "  Candidate: 1.0"; fi
`)
	writeExec(t, filepath.Join(f.bin, "apt-get"), `#!/bin/sh
echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> `+f.log+`
case "$1" in
update) : > `+d+`/nocandidate ;;
install)
  if [ -e `+d+`/fail-once ]; then rm `+d+`/fail-once; exit 100; fi
  skip=0
  for a; do
    if [ $skip = 1 ]; then skip=0; continue; fi
    case "$a" in install) ;; -o) skip=1 ;; -*) ;; *)
      grep -qx "$a" `+d+`/nocandidate && exit 100
      echo "$a" >> `+f.state+` ;;
    esac
  done ;;
esac
`)
	stop := "#!/bin/sh\necho \"stop $*\" >> " + f.log + "\n"
	writeExec(t, filepath.Join(f.bin, "systemctl"), stop)
	writeExec(t, filepath.Join(f.bin, "service"), stop)
	return f
}

// run runs scripts/deps.sh with the fake tools and returns its output and the log.
func (f *fakeDebian) run(t *testing.T, packages string) (out string, log []string, err error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "deps.sh"))
	cmd.Env = []string{"PATH=" + f.bin + ":/usr/bin:/bin", "DEPS_PACKAGES=" + packages}
	b, err := cmd.CombinedOutput()
	l, _ := os.ReadFile(f.log)
	for _, s := range strings.Split(strings.TrimSpace(string(l)), "\n") {
		if s != "" {
			// systemctl and service differ in argument order; keep "stop NAME".
			s = strings.Replace(s, "stop stop ", "stop ", 1)
			if strings.HasPrefix(s, "stop ") && strings.HasSuffix(s, " stop") {
				s = strings.TrimSuffix(s, " stop")
			}
			log = append(log, s)
		}
	}
	return string(b), log, err
}

func TestDepsAsRoot(t *testing.T) {
	const flags = "-y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
	tests := []struct {
		name            string
		installed       []string
		nocandidate     []string
		failInstallOnce bool
		packages        string
		wantLog         []string
		wantErr         bool
	}{
		{
			name:      "all installed: nothing to do",
			installed: []string{"curl", "nginx"},
			packages:  "curl nginx",
		},
		{
			name:      "missing with candidates: no update, install, stop what the install started",
			installed: []string{"curl", "knot"},
			packages:  "curl nginx knot apache2 groff-base",
			wantLog: []string{
				"apt-get install " + flags + " nginx apache2 groff-base DEBIAN_FRONTEND=noninteractive",
				"stop nginx", "stop apache2",
			},
		},
		{
			name:        "no candidate: update first",
			installed:   []string{"curl"},
			nocandidate: []string{"etcd-server"},
			packages:    "curl etcd-server etcd-client",
			wantLog: []string{
				"apt-get update -qq DEBIAN_FRONTEND=noninteractive",
				"apt-get install " + flags + " etcd-server etcd-client DEBIAN_FRONTEND=noninteractive",
				"stop etcd",
			},
		},
		{
			name:            "stale lists: install fails, update, retry once",
			packages:        "knot",
			failInstallOnce: true,
			wantLog: []string{
				"apt-get install " + flags + " knot DEBIAN_FRONTEND=noninteractive",
				"apt-get update -qq DEBIAN_FRONTEND=noninteractive",
				"apt-get install " + flags + " knot DEBIAN_FRONTEND=noninteractive",
				"stop knot",
			},
		},
		{
			name:            "after an update, a failed install is final",
			nocandidate:     []string{"acmectl-test-not-a-package"},
			packages:        "acmectl-test-not-a-package",
			failInstallOnce: true,
			wantLog: []string{
				"apt-get update -qq DEBIAN_FRONTEND=noninteractive",
				"apt-get install " + flags + " acmectl-test-not-a-package DEBIAN_FRONTEND=noninteractive",
			},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeDebian(t, tc.installed, tc.nocandidate, tc.failInstallOnce)
			out, log, err := f.run(t, tc.packages)
			if (err != nil) != tc.wantErr {
				t.Fatalf("deps.sh: err = %v, want error %v\n%s", err, tc.wantErr, out)
			}
			if !slices.Equal(log, tc.wantLog) {
				t.Errorf("calls:\n  %s\nwant:\n  %s\noutput:\n%s", strings.Join(log, "\n  "), strings.Join(tc.wantLog, "\n  "), out)
			}
			if len(tc.wantLog) == 0 && out != "" {
				t.Errorf("deps.sh with nothing to do printed %q", out)
			}
		})
	}
}
