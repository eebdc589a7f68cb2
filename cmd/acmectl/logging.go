package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

const logFileName = "letsencrypt.log"

// rotateLogs renames letsencrypt.log to .1, .1 to .2, ... keeping at most
// backups old files, as certbot's RotatingFileHandler does at the start of
// every run. backups == 0 keeps appending to one file.
func rotateLogs(dir string, backups int) error {
	cur := filepath.Join(dir, logFileName)
	if backups <= 0 {
		return nil
	}
	if _, err := os.Stat(cur); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// Drop the oldest, then shift down. Another run may be rotating the same
	// directory at this moment (cron's renew next to an operator's command): a
	// file that vanished under us was moved by it, which is no failure.
	_ = os.Remove(cur + "." + strconv.Itoa(backups))
	for i := backups - 1; i >= 1; i-- {
		from := cur + "." + strconv.Itoa(i)
		if _, err := os.Stat(from); err == nil {
			if err := os.Rename(from, cur+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("rotate log %s: %w", from, err)
			}
		}
	}
	if err := os.Rename(cur, cur+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate log %s: %w", cur, err)
	}
	return nil
}

// openLog creates dir (0700) if needed, rotates, and opens letsencrypt.log
// (0600) for appending.
func openLog(dir string, backups int) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create logs directory: %w", err)
	}
	if err := rotateLogs(dir, backups); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, logFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return f, nil
}

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

// teeHandler sends records to several handlers.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t teeHandler) WithAttrs(a []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(a)
	}
	return out
}

func (t teeHandler) WithGroup(g string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(g)
	}
	return out
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
	var hs teeHandler
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
