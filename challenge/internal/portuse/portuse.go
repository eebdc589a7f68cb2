// Package portuse opens the TCP listeners of the standalone solvers and, when a
// port is taken, says which process holds it (from /proc/net/tcp{,6} and
// /proc/*/fd on Linux). It is not a port scanner: it only looks up the one port
// that failed.
package portuse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Error is returned by Listen when the address is already in use. PID is 0 and
// Process empty when the holder could not be found (another network namespace,
// missing permissions, not Linux).
type Error struct {
	Addr    string // the address that was requested, e.g. ":80"
	Port    int
	PID     int
	Process string
	Err     error // the underlying listen error (wraps syscall.EADDRINUSE)
}

func (e *Error) Error() string {
	holder := "another process"
	if e.PID != 0 {
		holder = fmt.Sprintf("%s (pid %d)", e.Process, e.PID)
	}
	return fmt.Sprintf("listen on %s: port %d is already in use by %s", e.Addr, e.Port, holder)
}

func (e *Error) Unwrap() error { return e.Err }

// HostPort is the listen address of a standalone solver: address may be empty
// (every address) or a bracketed IPv6 literal; port 0 means defaultPort.
func HostPort(address string, port, defaultPort int) string {
	if port == 0 {
		port = defaultPort
	}
	host := strings.TrimSuffix(strings.TrimPrefix(address, "["), "]")
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Listen listens on TCP addr ("host:port"; an empty host means every IPv4 and
// IPv6 address). A port that is in use comes back as *Error.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err == nil {
		return ln, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	e := &Error{Addr: addr, Err: err}
	if _, p, splitErr := net.SplitHostPort(addr); splitErr == nil {
		e.Port, _ = strconv.Atoi(p)
	}
	if e.Port > 0 {
		e.PID, e.Process = Holder(e.Port)
	}
	return nil, e
}

// maxProcs bounds the /proc walk.
const maxProcs = 100000

// Holder returns the pid and command name of a process with a TCP socket
// listening on port, or 0 and "" when none can be found.
func Holder(port int) (int, string) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeningInodes(f, port, inodes)
	}
	if len(inodes) == 0 {
		return 0, ""
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, ""
	}
	for i, p := range procs {
		if i >= maxProcs {
			break
		}
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				name := strings.TrimSpace(string(comm))
				if name == "" {
					name = "unknown"
				}
				return pid, name
			}
		}
	}
	return 0, ""
}

// listeningInodes adds the socket inodes of LISTEN sockets on port found in a
// /proc/net/tcp-format file.
func listeningInodes(path string, port int, into map[string]bool) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" { // 0A = TCP_LISTEN
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		if fields[9] != "0" {
			into[fields[9]] = true
		}
	}
}
