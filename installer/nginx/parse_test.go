package nginx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseRoundTripDebian: every file of Debian's /etc/nginx tree (read only)
// dumps back byte for byte.
func TestParseRoundTripDebian(t *testing.T) {
	tr, err := Load("/etc/nginx/nginx.conf")
	if err != nil {
		t.Fatalf("Debian's nginx configuration is required (package nginx): %v", err)
	}
	if len(tr.Files) < 2 {
		t.Errorf("includes not followed: %v", tr.order)
	}
	for p, f := range tr.Files {
		if f.Block.Dump() != f.orig {
			t.Errorf("%s does not round-trip", p)
		}
	}
	if len(tr.VHosts()) == 0 {
		t.Errorf("no server block found in Debian's default site")
	}
}

const tricky = `# head
user  www-data ;	# trailing, with a tab
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    log_format main '$remote_addr "$request" \'q\' ${status}x';
    server {
        listen [::]:80 default_server ipv6only=on;
        listen 80 # comment between words
            default_server;
        server_name example.com "*.example.org" ~^(?<sub>.+)\.example\.net$ www.example.*;
        location ~ \.php$ { if ($x) { return 403; } }
        content_by_lua_block {
            local s = "}{ ; # not a comment"
            -- } a Lua comment
            local t = [[ } ]]
            ngx.say(s)
        }
        set $a "semi;colon";
    }
}
`

func TestParseTricky(t *testing.T) {
	b, err := Parse(tricky, &File{Path: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Dump(); got != tricky {
		t.Fatalf("round trip:\n%s", got)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(tricky), 0o644)
	tr, err := Load(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	vs := tr.VHosts()
	if len(vs) != 1 || len(vs[0].Addrs) != 2 || !vs[0].Addrs[0].IPv6Only || !vs[0].Addrs[1].Default || len(vs[0].Names) != 4 || vs[0].Names[1] != "*.example.org" {
		t.Fatalf("vhost = %+v", vs[0])
	}
	if vs[0].Dir.Line != 6 {
		t.Errorf("server line = %d, want 6", vs[0].Dir.Line)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, src := range []string{"http {\n server {\n", "a b;\n}\n", "a \"unterminated;\n"} {
		_, err := Parse(src, &File{Path: "x"})
		if err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("Parse(%q) = %v, want an error with a line", src, err)
		}
	}
}

func TestBestMatch(t *testing.T) {
	names := []string{"~^w+\\.ex\\.com$", "www.ex.*", "*.ex.com", ".ex.com", "x.ex.com"}
	for _, c := range []struct {
		target string
		kind   int
		name   string
	}{
		{"x.ex.com", matchExact, "x.ex.com"},
		{"ex.com", matchExact, ".ex.com"},
		{"y.ex.com", matchWildStart, "*.ex.com"},
		{"www.ex.org", matchWildEnd, "www.ex.*"},
		{"other.org", matchNone, ""},
	} {
		k, n := bestMatch(c.target, names)
		if k != c.kind || n != c.name {
			t.Errorf("bestMatch(%q) = %d %q, want %d %q", c.target, k, n, c.kind, c.name)
		}
	}
	if k, _ := bestMatch("www.ex.com", []string{"~^w+\\.ex\\.com$"}); k != matchRegex {
		t.Errorf("regex not matched")
	}
	if !inWildcardScope("a.ex.com", "*.ex.com") || inWildcardScope("a.b.ex.com", "*.ex.com") || inWildcardScope("ex.com", "*.ex.com") {
		t.Errorf("inWildcardScope")
	}
}

// FuzzParse: no panic, and whatever parses dumps back byte for byte.
func FuzzParse(f *testing.F) {
	f.Add(tricky)
	f.Add("server { listen 80; }\n")
	f.Add("a '\\'' \"x;\" ${v}x; # c\n")
	f.Fuzz(func(t *testing.T, src string) {
		b, err := Parse(src, &File{Path: "f"})
		if err != nil {
			return
		}
		if got := b.Dump(); got != src {
			t.Fatalf("round trip:\n%q\n%q", src, got)
		}
	})
}
