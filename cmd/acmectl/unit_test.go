package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/manager"
)

// TestOwnCommand: acmectl's own commands are found as certbot finds verbs
// (the first word that is no option or option value), everything else is
// certbot's command line.
func TestOwnCommand(t *testing.T) {
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
		if got := ownCommand(tc.in); got != tc.want {
			t.Errorf("ownCommand(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestOwnCommandNames: the words runApp routes to newApp without building
// it are exactly the names and aliases of newApp's commands.
func TestOwnCommandNames(t *testing.T) {
	var names []string
	for _, c := range newApp().Commands {
		names = append(names, c.Names()...)
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(ownCommandNames))
	if !slices.Equal(names, want) {
		t.Errorf("newApp's commands %q, ownCommandNames %q", names, want)
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

// TestProgressObserver: a wait for the CA shows once it passed 2 s — what is
// awaited, for how long so far, when the next check is — as one line
// rewritten in place on a terminal (cleared before other output), as a line
// at most every 30 s per awaited thing otherwise, and not at all in -q.
func TestProgressObserver(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wait := func(o *textObserver, elapsed, next time.Duration) {
		o.Event(manager.Event{Kind: manager.EventWaiting, Time: now.Add(elapsed),
			Wait: &manager.Wait{What: "authorization for a.example, pending", Kind: acme.WaitAuthorization, URL: "https://ca/authz/1",
				Elapsed: elapsed, Next: next, RetryAfter: 300 * time.Second}})
	}
	const line = "Waiting for authorization for a.example, pending: 35s so far, next check in 1m0s (the CA asked for 5m0s)"

	var buf bytes.Buffer
	tty := newTextObserver(&buf, &buf, false, true)
	wait(tty, time.Second, time.Second)
	if buf.Len() != 0 {
		t.Errorf("short wait printed %q", buf.String())
	}
	wait(tty, 35*time.Second, time.Minute)
	wait(tty, 36*time.Second, time.Minute)
	if got, want := buf.String(), "\r\033[K"+line+"\r\033[K"+strings.Replace(line, "35s", "36s", 1); got != want {
		t.Errorf("terminal progress = %q, want %q", got, want)
	}
	buf.Reset()
	tty.Event(manager.Event{Kind: manager.EventCertificateSaved, Lineage: "a"})
	tty.endLine()
	if got := buf.String(); got != "\r\033[K" {
		t.Errorf("after the wait: %q, want the progress line cleared once", got)
	}

	buf.Reset()
	log := newTextObserver(&buf, &buf, false, false)
	for _, s := range []int{35, 40, 64, 66} {
		wait(log, time.Duration(s)*time.Second, time.Minute)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || lines[0] != line || !strings.Contains(lines[1], ": 1m6s so far") {
		t.Errorf("periodic progress = %q, want lines at 35 s and 66 s", lines)
	}

	buf.Reset()
	q := newTextObserver(&buf, &buf, true, false)
	wait(q, time.Minute, time.Minute)
	q.Event(manager.Event{Kind: manager.EventLineageSkipped, Lineage: "a"})
	q.Event(manager.Event{Kind: manager.EventWarning, Reason: "x"})
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
