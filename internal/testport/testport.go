// Package testport hands out loopback ports for servers that tests start in
// other processes (Pebble, nginx, etcd, knotd): the port is chosen, then the
// server binds it, so between the two another process must not take it.
//
// A port from 127.0.0.1:0 is an ephemeral port, and every outgoing connection
// on the machine draws its local port from the same range: a client of any
// test could hold it by the time the server binds it ("bind: address already
// in use", seen in make test). So ports come from below the kernel's
// ephemeral range, and each is claimed with an exclusive lock file that the
// test process holds until it exits, so the packages go test runs side by
// side never hand out the same port. Nothing here is for production code.
package testport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var (
	mu      sync.Mutex
	claimed = map[int]*os.File{} // held open (locked) until the process exits
)

// lo and hi bound the ports handed out: [lo, hi), below the ephemeral range.
func bounds() (lo, hi int) {
	lo, hi = 15000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if start, err := strconv.Atoi(f[0]); err == nil && start > lo+1000 && start < hi {
				hi = start
			}
		}
	}
	return lo, hi
}

// TCP returns a port on 127.0.0.1 that no other test process was given and
// that nothing listens on now.
func TCP() (int, error) { return claim(false) }

// UDP returns a port free for both UDP and TCP on 127.0.0.1 (DNS servers
// listen on both).
func UDP() (int, error) { return claim(true) }

func claim(udp bool) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	dir := filepath.Join(os.TempDir(), "acmectl-testports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, fmt.Errorf("testport: %w", err)
	}
	lo, hi := bounds()
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		if claimed[p] != nil {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return 0, fmt.Errorf("testport: %w", err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // another test process has it
			continue
		}
		if !bindable(p, udp) {
			f.Close()
			continue
		}
		claimed[p] = f
		return p, nil
	}
	return 0, errors.New("testport: no free loopback port after 200 tries")
}

func bindable(p int, udp bool) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	if udp {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}
