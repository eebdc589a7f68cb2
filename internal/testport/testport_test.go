package testport

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Ports are below the ephemeral range, never handed out twice, and bindable.
func TestPortsAreDistinctAndBelowEphemeral(t *testing.T) {
	lo, hi := bounds()
	seen := map[int]bool{}
	for range 50 {
		p, err := TCP()
		if err != nil {
			t.Fatal(err)
		}
		if p < lo || p >= hi || seen[p] {
			t.Fatalf("port %d: outside [%d,%d) or handed out twice", p, lo, hi)
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d handed out but not bindable: %v", p, err)
		}
		l.Close()
	}
}

// A port claimed by one process is refused to another (the lock file).
func TestClaimHeldAcrossProcesses(t *testing.T) {
	if os.Getenv("TESTPORT_CHILD") != "" {
		p, err := TCP()
		if err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString(strconv.Itoa(p))
		return
	}
	mine := map[string]bool{}
	for range 100 {
		p, err := UDP()
		if err != nil {
			t.Fatal(err)
		}
		mine[strconv.Itoa(p)] = true
	}
	for range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestClaimHeldAcrossProcesses$")
		cmd.Env = append(os.Environ(), "TESTPORT_CHILD=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		if mine[got] {
			t.Fatalf("child process was given port %s, which this process holds", got)
		}
	}
}
