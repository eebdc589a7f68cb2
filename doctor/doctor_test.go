package doctor

import (
	"strings"
	"testing"
)

func TestShellWordsAndHookProblem(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"systemctl reload nginx", []string{"systemctl", "reload", "nginx"}},
		{`"/opt/my hooks/x.sh" a`, []string{"/opt/my hooks/x.sh", "a"}},
		{"a && b", []string{"a"}},
		{"a; b", []string{"a"}},
		{"", nil},
	} {
		if got := shellWords(tc.in); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("shellWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		cmd string
		bad bool
	}{
		{"sh -c 'exit 0'", false},
		{"if true; then :; fi", false},
		{"FOO=1 BAR=2 sh -c true", false},
		{"/bin/sh /x", false},
		{"no-such-cmd-zz", true},
		{"/nonexistent/x", true},
		{"/tmp", true},
	} {
		if msg, _ := HookProblem(tc.cmd); (msg != "") != tc.bad {
			t.Errorf("HookProblem(%q) = %q, want bad=%v", tc.cmd, msg, tc.bad)
		}
	}
}
