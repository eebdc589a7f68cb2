package portuse

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestListenInUseNamesHolder(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port

	for _, addr := range []string{"127.0.0.1:" + strconv.Itoa(port), ":" + strconv.Itoa(port)} {
		ln, err := Listen(t.Context(), addr)
		if err == nil {
			ln.Close()
			t.Fatalf("Listen(%q) succeeded on a taken port", addr)
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("Listen(%q) error %v is not *Error", addr, err)
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Listen(%q) error does not wrap EADDRINUSE", addr)
		}
		if pe.Port != port || pe.PID != os.Getpid() {
			t.Errorf("Listen(%q) = port %d pid %d, want port %d pid %d", addr, pe.Port, pe.PID, port, os.Getpid())
		}
		msg := err.Error()
		if !strings.Contains(msg, "port "+strconv.Itoa(port)) || !strings.Contains(msg, "pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("Listen(%q) error %q does not name the port and pid", addr, msg)
		}
	}
}

func TestHolderNone(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if pid, name := Holder(port); pid != 0 || name != "" {
		t.Errorf("Holder(%d) = %d %q for a closed port, want 0 \"\"", port, pid, name)
	}
}
