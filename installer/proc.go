package installer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Run runs argv (no shell) with extra environment and returns its combined
// output; a failure names the command and carries its output.
func Run(ctx context.Context, env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		// One line: the output's lines joined (nginx -t prints two).
		return out.String(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.Join(strings.Fields(strings.ReplaceAll(out.String(), "\n", " ; ")), " "))
	}
	return out.String(), nil
}

// ReadPID reads a pid file; 0 when missing or unreadable.
func ReadPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Children returns the pids whose parent is pid (from /proc).
func Children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 2 {
			if pp, _ := strconv.Atoi(f[1]); pp == pid {
				out = append(out, c)
			}
		}
	}
	return out
}

// cmdline of a process, "" when gone.
func cmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
}

// WaitNewWorkers waits after a graceful reload of the master pid until a worker
// exists that was not in before and every old one is gone or, when
// shuttingDown is non-empty, shows it in its title ("worker process is shutting
// down" for nginx): from then on new connections get the new configuration.
// certbot sleeps a fixed time instead (nginx --nginx-sleep-seconds, 1 s; Apache
// 3 s after a challenge reload). It gives up quietly at the deadline: the reload
// itself succeeded.
func WaitNewWorkers(ctx context.Context, master int, before []int, shuttingDown string, limit time.Duration) bool {
	if master <= 0 {
		return false
	}
	deadline := time.Now().Add(limit)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		now := Children(master)
		fresh, oldLive := false, false
		for _, c := range now {
			if !slices.Contains(before, c) {
				fresh = true
			} else if shuttingDown == "" || !strings.Contains(cmdline(c), shuttingDown) {
				oldLive = true
			}
		}
		if fresh && (!oldLive || shuttingDown == "") {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		t.Reset(20 * time.Millisecond)
	}
}
