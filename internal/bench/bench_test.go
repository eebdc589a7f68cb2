package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestQuickRun runs the benchmark program as `make bench` would, but as a
// smoke run of acmectl alone (-quick -only acmectl): it builds acmectl, starts
// Pebble, runs every case once on small trees and checks that the table has a
// measured row for each case. Nothing is timed or compared.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds acmectl and starts Pebble")
	}
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-quick", "-only", "acmectl", "-out", ""}, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"| 0. start-up: --version (hello-world: prints one line) | hello-world (Go, acmectl's libraries) |",
		"| 1. issue one certificate",
		"| 2. issue 5 certificates",
		"| 3. renew, nothing due, 1 lineage, first run of the day | acmectl | 1 |",
		"| 3. renew, nothing due, 20 lineages | acmectl | 1 |",
		"| 4. certificates, 20 lineages | acmectl | 1 |",
		"| 5. renew 5 due lineages",
		"| 6. issue one certificate, CA processing 3s with Retry-After: 3 | acmectl | 1 |",
		"## Machine and versions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAILED") {
		t.Errorf("a case failed:\n%s\n%s", out, stderr.String())
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Contains(line, "| acmectl | 0 |") {
			t.Errorf("acmectl case not measured: %s", line)
		}
	}
}

// TestArgs checks that bad flags are refused with a clear error.
func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "0"}, "-n 0"},
		{[]string{"-only", "certbot"}, "must include acmectl"},
		{[]string{"-only", "acmectl,foo"}, "unknown client"},
		{[]string{"-parallel", "0"}, "-parallel 0"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"-cases", "9"}, "-cases: \"9\""},
		{[]string{"-cases", "-1"}, "-cases: \"-1\""},
		{[]string{"-cases", "5"}, "add 2"},
		{[]string{"-sizes", "0"}, "-sizes: \"0\""},
	} {
		var stdout, stderr bytes.Buffer
		err := run(tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestThousandsAndMedian(t *testing.T) {
	for n, want := range map[int]string{1: "1", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	m := median([]sample{{wall: 3, reqs: 9}, {wall: 1, reqs: 7}, {wall: 2, reqs: 8}})
	if m.wall != 2 || m.reqs != 8 {
		t.Errorf("median = %+v, want wall 2 reqs 8", m)
	}
	m = median([]sample{{wall: 4}, {wall: 2}})
	if m.wall != 3 {
		t.Errorf("median of two = %v, want 3", m.wall)
	}
}

// TestBuildTagsAsMake: case 0's baselines and its list of acmectl's
// libraries use the tags make build builds the binary that runs with.
func TestBuildTagsAsMake(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "build -tags "+buildTags+" -overlay $(DIST)/overlay.json") {
		t.Errorf("make build does not build acmectl with -tags %s", buildTags)
	}
}
