package main

import (
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/acmectl/acmectl/internal/logfile"
)

// consoleLevel maps -q and -v counts to the stderr log level: warnings by
// default, info with -v, debug with -vv.
func consoleLevel(quiet bool, verbose int) slog.Level {
	switch {
	case quiet:
		return slog.LevelError + 4 // nothing: errors are printed by main
	case verbose >= 2:
		return slog.LevelDebug
	case verbose == 1:
		return slog.LevelInfo
	}
	return slog.LevelWarn + 4 // the human output says what matters
}

// lockedWriter serializes writes from concurrent renewals.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newLogger logs everything (debug) to file and the -v level to stderr.
// Secrets never reach it: the acme package redacts EAB keys and logs no bodies,
// and acmectl logs no key material.
func newLogger(file io.Writer, stderr io.Writer, quiet bool, verbose int) *slog.Logger {
	var hs logfile.Tee
	if file != nil {
		hs = append(hs, slog.NewTextHandler(file, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	hs = append(hs, slog.NewTextHandler(stderr, &slog.HandlerOptions{
		Level: consoleLevel(quiet, verbose),
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	return slog.New(hs)
}

func openLog(dir string, backups int) (*os.File, error) { return logfile.Open(dir, backups) }
