// Package logfile is acmectl's letsencrypt.log: rotated at the start of every
// run as certbot's RotatingFileHandler does, opened 0600 for appending, and a
// slog handler that fans records out to several handlers (the log file and
// the console). It does not decide what is logged.
package logfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
)

// Name is the log file certbot writes.
const Name = "letsencrypt.log"

// Rotate renames letsencrypt.log to .1, .1 to .2, ... keeping at most
// backups old files, as certbot's RotatingFileHandler does at the start of
// every run. backups == 0 keeps appending to one file.
func Rotate(dir string, backups int) error {
	cur := filepath.Join(dir, Name)
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

// Open creates dir (0700) if needed, rotates, and opens letsencrypt.log
// (0600) for appending.
func Open(dir string, backups int) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create logs directory: %w", err)
	}
	if err := Rotate(dir, backups); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return f, nil
}

// Tee sends records to several handlers.
type Tee []slog.Handler

func (t Tee) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t Tee) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t Tee) WithAttrs(a []slog.Attr) slog.Handler {
	out := make(Tee, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(a)
	}
	return out
}

func (t Tee) WithGroup(g string) slog.Handler {
	out := make(Tee, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(g)
	}
	return out
}
