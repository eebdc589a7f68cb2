// Command runwrap runs one command and writes its wall time, CPU time and
// peak RSS to a file, for the benchmark.
//
// Why: on Linux a child started by a Go program (os/exec clones with
// CLONE_VM|CLONE_VFORK) inherits the parent's RSS high-water mark in its
// rusage at exec, so the benchmark process — grown by cloning trees of
// 10,000 lineages — would report its own peak for every client it runs. A
// small wrapper's high-water mark (a few MiB) is below any client's, so what
// it reports is the client's.
//
// Usage: runwrap OUTFILE COMMAND [ARG...]; OUTFILE gets
// "wall_ns user_ns sys_ns maxrss_kib" and runwrap exits with the command's
// status (128+signal when it was killed).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: runwrap OUTFILE COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "runwrap:", err)
		os.Exit(127)
	}
	ps := cmd.ProcessState
	var rss int64
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	line := fmt.Sprintf("%d %d %d %d\n", wall.Nanoseconds(), ps.UserTime().Nanoseconds(), ps.SystemTime().Nanoseconds(), rss)
	if err := os.WriteFile(os.Args[1], []byte(line), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "runwrap:", err)
		os.Exit(127)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(ps.ExitCode())
}
