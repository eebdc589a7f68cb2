package apache

import (
	"os"
	"testing"
)

// TestParseRoundTripDebianApache: Debian's apache2.conf and default sites dump
// back byte for byte.
func TestParseRoundTripDebianApache(t *testing.T) {
	for _, p := range []string{"/etc/apache2/apache2.conf", "/etc/apache2/ports.conf", "/etc/apache2/sites-available/000-default.conf",
		"/etc/apache2/sites-available/default-ssl.conf", "/etc/apache2/mods-available/ssl.conf"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("Debian's apache2 configuration is required: %v", err)
		}
		f, err := ParseFile(p, string(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if f.Dump() != string(b) {
			t.Errorf("%s does not round-trip", p)
		}
	}
}

func FuzzParseApache(f *testing.F) {
	f.Add("<VirtualHost *:80>\n\tServerName a \\\n  b\n# c\n</VirtualHost>\n")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := ParseFile("f", src)
		if err != nil {
			return
		}
		if p.Dump() != src {
			t.Fatalf("round trip %q", src)
		}
	})
}
