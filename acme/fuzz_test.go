package acme

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func addFiles(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		f.Fatalf("no seeds match %s", pattern)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzProblem: any body decodes to a *Problem with a status and a bounded message.
func FuzzProblem(f *testing.F) {
	addFiles(f, "testdata/problems/*")
	f.Fuzz(func(t *testing.T, body []byte) {
		p := parseProblem(400, body)
		if p == nil || p.Status == 0 {
			t.Fatalf("parseProblem(%q) = %v", body, p)
		}
		msg := p.Error()
		if !strings.HasPrefix(msg, "acme: ") {
			t.Fatalf("message %q lacks the package prefix", msg)
		}
		if len(msg) > 4*len(body)+400 {
			t.Fatalf("message of %d bytes for a %d-byte body", len(msg), len(body))
		}
	})
}

// FuzzRetryAfter: never panics, never negative, never more than a year.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Sat, 28 Nov 2026 12:01:00 GMT", "Monday, 02-Jan-06 15:04:05 MST", "Mon Jan  2 15:04:05 2006", "", "1e9", "9999999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", v, d, ok)
		}
		if d > 365*24*time.Hour && strings.TrimSpace(v) != "" && strings.Trim(strings.TrimSpace(v), "0123456789") == "" {
			t.Fatalf("delta-seconds %q gave %v, over the cap", v, d)
		}
	})
}

// FuzzLinks: targets come only from <...> and each is a substring of the input.
func FuzzLinks(f *testing.F) {
	for _, s := range []string{`<https://ca/cert/1/1>;rel="alternate"`, `<a>;rel=up, <b>; rel="alternate index"`, `<x`, `,,<>;rel=alternate`, `<a;b>; title="x, y"; rel=alternate`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, u := range ParseLinks([]string{v}, "alternate") {
			if !strings.Contains(v, "<"+u+">") {
				t.Fatalf("ParseLinks(%q) returned %q, not a bracketed target", v, u)
			}
		}
	})
}

// FuzzParseChain: a chain is accepted only if it is all certificates, at most
// maxChainCerts, and re-encoding it parses to the same certificates.
func FuzzParseChain(f *testing.F) {
	addFiles(f, "testdata/chains/*.pem")
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("<html>502</html>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseChain(data)
		if err != nil {
			return
		}
		if len(certs) == 0 || len(certs) > maxChainCerts {
			t.Fatalf("accepted %d certificates", len(certs))
		}
		again, err := ParseChain(normalizePEM(data))
		if err != nil || len(again) != len(certs) {
			t.Fatalf("round trip: %d certs, %v; want %d", len(again), err, len(certs))
		}
		for i := range certs {
			if !certs[i].Equal(again[i]) {
				t.Fatalf("certificate %d changed in the round trip", i)
			}
		}
	})
}
