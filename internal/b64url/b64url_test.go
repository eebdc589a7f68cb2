package b64url

import (
	"regexp"
	"strings"
	"testing"
)

// IsToken accepts exactly what the regexp it replaced accepted.
func TestIsTokenMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{22,256}$`)
	cases := []string{"", "a", strings.Repeat("a", 21), strings.Repeat("a", 22), strings.Repeat("Z9_-", 64), strings.Repeat("b", 257),
		strings.Repeat("a", 21) + "=", strings.Repeat("a", 22) + "/", "../../../../etc/passwd/aaaaaaaaaa", strings.Repeat("é", 20),
		strings.Repeat("a", 22) + "\n", "tok en" + strings.Repeat("x", 20)}
	for _, s := range cases {
		if got, want := IsToken(s, 22, 256), re.MatchString(s); got != want {
			t.Errorf("IsToken(%q) = %v, regexp says %v", s, got, want)
		}
	}
}

func FuzzIsToken(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	f.Add("abc")
	f.Add("a/b")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsToken(s, 1, 64), re.MatchString(s); got != want {
			t.Fatalf("IsToken(%q) = %v, regexp says %v", s, got, want)
		}
	})
}
