package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/manager"
)

// TestOwnCommand: acmectl's own commands are found as certbot finds verbs
// (the first word that is no option or option value), everything else is
// certbot's command line.
func TestOwnCommand(t *testing.T) {
	app := newApp()
	tests := []struct {
		in   []string
		want int
	}{
		{[]string{"schedule", "install"}, 0},
		{[]string{"-n", "schedule", "install"}, 1},
		{[]string{"--cert-name", "doctor", "certonly"}, -1}, // a value, then a certbot verb
		{[]string{"--config-dir", "/x", "doctor"}, 2},
		{[]string{"-n", "-d", "a.com", "--standalone"}, -1},
		{[]string{"certonly", "scm"}, -1},
		{[]string{"--", "scm"}, -1},
		{[]string{"--help", "all"}, -1},
	}
	for _, tc := range tests {
		if got := ownCommand(app, tc.in); got != tc.want {
			t.Errorf("ownCommand(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestExitCodesAndOneLine(t *testing.T) {
	if c := exitCode(nil); c != 0 {
		t.Errorf("nil: %d", c)
	}
	if c := exitCode(errors.New("x")); c != 1 {
		t.Errorf("plain: %d", c)
	}
	if c := exitCode(fmtWrap(usageErrorf("bad"))); c != 2 {
		t.Errorf("wrapped usage: %d", c)
	}
	if s := oneLine("a\n  b\r\n\nc "); s != "a; b; c" {
		t.Errorf("oneLine = %q", s)
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("ctx"), err) }

func TestProgressObserver(t *testing.T) {
	var buf bytes.Buffer
	p := newTextObserver(&buf, &buf, false, true)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wait := func(elapsed, next time.Duration) {
		p.Event(manager.Event{Kind: manager.EventWaiting, Time: now.Add(elapsed),
			Wait: &manager.Wait{What: "order X (processing)", Elapsed: elapsed, Next: next}})
	}
	wait(0, time.Second)
	if buf.Len() != 0 {
		t.Errorf("short wait printed %q", buf.String())
	}
	wait(5*time.Second, 2*time.Second)
	if got := buf.String(); !strings.Contains(got, "Waiting for order X (processing): 5s elapsed, next check in 2s") {
		t.Errorf("progress = %q", got)
	}
	buf.Reset()
	wait(6*time.Second, 2*time.Second) // at most one line per 5 s
	if buf.Len() != 0 {
		t.Errorf("second line within 5 s: %q", buf.String())
	}
	q := newTextObserver(&buf, &buf, true, false)
	q.Event(manager.Event{Kind: manager.EventWaiting, Time: now, Wait: &manager.Wait{What: "x", Elapsed: time.Minute}})
	q.Event(manager.Event{Kind: manager.EventLineageSkipped, Lineage: "a"})
	if buf.Len() != 0 {
		t.Errorf("-q printed %q", buf.String())
	}
}

func TestPromptsOnlyWhenInteractive(t *testing.T) {
	mk := func(input string, tty, nonInteractive bool) (*env, *bytes.Buffer) {
		var errw bytes.Buffer
		return &env{o: &manager.Config{NonInteractive: nonInteractive}, stderr: &errw, stdinTTY: tty,
			stdin: bufio.NewReader(strings.NewReader(input))}, &errw
	}
	tests := []struct {
		name                string
		input               string
		tty, nonInteractive bool
		def, want           bool
		asked               bool
	}{
		{"yes", "y\n", true, false, false, true, true},
		{"no", "no\n", true, false, true, false, true},
		{"empty takes default", "\n", true, false, true, true, true},
		{"retry after junk", "maybe\nY\n", true, false, false, true, true},
		{"-n never asks", "n\n", true, true, true, true, false},
		{"no terminal never asks", "n\n", false, false, true, true, false},
	}
	for _, tc := range tests {
		e, errw := mk(tc.input, tc.tty, tc.nonInteractive)
		got, err := e.confirm("Delete?", tc.def)
		if err != nil || got != tc.want {
			t.Errorf("%s: confirm = %v, %v; want %v", tc.name, got, err, tc.want)
		}
		if asked := strings.Contains(errw.String(), "Delete?"); asked != tc.asked {
			t.Errorf("%s: asked = %v, want %v", tc.name, asked, tc.asked)
		}
	}
	if err := manager.NeedFlag("no certificate chosen", "--cert-name NAME"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "pass --cert-name NAME") {
		t.Errorf("NeedFlag = %v", err)
	}
}

// TestJSONObserver: renew --json writes one JSON object per event on stdout,
// errors as strings, secrets nowhere.
func TestJSONObserver(t *testing.T) {
	var out, errw bytes.Buffer
	o := newTextObserver(&out, &errw, false, false)
	o.json = true
	o.Event(manager.Event{Kind: manager.EventLineageStarted, Lineage: "a.example", ConfPath: "/c/renewal/a.example.conf"})
	o.Event(manager.Event{Kind: manager.EventLineageFailed, Lineage: "a.example", Err: errors.New("the CA said\nno")})
	o.Event(manager.Event{Kind: manager.EventWaiting, Wait: &manager.Wait{What: "order"}})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || errw.Len() != 0 {
		t.Fatalf("JSON lines = %q, stderr %q", lines, errw.String())
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["event"] != "lineage_failed" || ev["lineage"] != "a.example" || ev["error"] != "the CA said; no" {
		t.Errorf("failed event = %v", ev)
	}
}
