package http01

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

var _ interface {
	Present(ctx context.Context, domain, token, keyAuth string) error
	CleanUp(ctx context.Context, domain, token, keyAuth string) error
} = (*Webroot)(nil)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatalf("stat %s: %v", p, err)
	}
	return fi.Mode()
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func TestWebrootPresentCleanUp(t *testing.T) {
	old := syscall.Umask(0o077) // modes must not depend on the umask
	defer syscall.Umask(old)

	rootA, rootB := t.TempDir(), t.TempDir()
	w, err := NewWebroot(map[string]string{"a.example": rootA, "WWW.A.example": rootA, "b.example": rootB, "127.0.0.1": rootB})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	present := []struct{ domain, token, root string }{
		{"a.example", "tok1", rootA},
		{"www.a.example", "tok2", rootA},
		{"b.example", "tok3", rootB},
		{"127.0.0.1", "tok4", rootB},
	}
	for _, p := range present {
		if err := w.Present(ctx, p.domain, p.token, p.token+".ka"); err != nil {
			t.Fatalf("Present(%s): %v", p.domain, err)
		}
		f := filepath.Join(p.root, ".well-known", "acme-challenge", p.token)
		b, err := os.ReadFile(f)
		if err != nil || string(b) != p.token+".ka" {
			t.Fatalf("%s = %q, %v; want %q", f, b, err, p.token+".ka")
		}
		if m := mode(t, f); m.Perm() != 0o644 || !m.IsRegular() {
			t.Errorf("%s mode %v, want -rw-r--r--", f, m)
		}
	}
	for _, root := range []string{rootA, rootB} {
		for _, d := range []string{".well-known", ".well-known/acme-challenge"} {
			if m := mode(t, filepath.Join(root, d)); m.Perm() != 0o755 || !m.IsDir() {
				t.Errorf("%s/%s mode %v, want drwxr-xr-x", root, d, m)
			}
		}
	}
	// Clean up in an order that keeps rootA's directories alive until the end.
	if err := w.CleanUp(ctx, "a.example", "tok1", "tok1.ka"); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(rootA, ".well-known/acme-challenge/tok1")) {
		t.Error("tok1 not removed")
	}
	if !exists(filepath.Join(rootA, ".well-known/acme-challenge/tok2")) {
		t.Error("tok2 removed by tok1's CleanUp")
	}
	for _, p := range present[1:] {
		if err := w.CleanUp(ctx, p.domain, p.token, p.token+".ka"); err != nil {
			t.Fatal(err)
		}
	}
	for _, root := range []string{rootA, rootB} {
		if exists(filepath.Join(root, ".well-known")) {
			t.Errorf("%s/.well-known left behind", root)
		}
	}
	// Idempotent.
	if err := w.CleanUp(ctx, "a.example", "tok1", "tok1.ka"); err != nil {
		t.Errorf("second CleanUp = %v", err)
	}
}

func TestWebrootKeepsWhatItDidNotCreate(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, ".well-known", "acme-challenge")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "someone-elses")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := NewWebroot(map[string]string{"a.example": root})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Present(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
		t.Fatal(err)
	}
	if err := w.CleanUp(t.Context(), "a.example", "tok", "tok.ka"); err != nil {
		t.Fatal(err)
	}
	if !exists(other) || exists(filepath.Join(dir, "tok")) {
		t.Errorf("after CleanUp: other file exists=%v, token file exists=%v", exists(other), exists(filepath.Join(dir, "tok")))
	}
	if m := mode(t, dir); m.Perm() != 0o700 {
		t.Errorf("pre-existing dir mode changed to %v", m)
	}
}

func TestWebrootFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the root
		token   string
		wantErr string
	}{
		{"token with slash", func(t *testing.T) string { return t.TempDir() }, "../../etc/passwd", `".."`},
		{"token with NUL", func(t *testing.T) string { return t.TempDir() }, "a\x00b", "NUL"},
		{"token with separator", func(t *testing.T) string { return t.TempDir() }, "a/b", `"/"`},
		{"not writable (sysfs)", func(t *testing.T) string { return "/sys/kernel" }, "tok", "operation not permitted"},
		{".well-known is a file", func(t *testing.T) string {
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, ".well-known"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return root
		}, "tok", "is not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := tc.setup(t)
			before := listTree(t, root)
			w, err := NewWebroot(map[string]string{"a.example": root})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Present(t.Context(), "a.example", tc.token, "ka")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Present = %v, want error containing %q", err, tc.wantErr)
			}
			if err := w.CleanUp(t.Context(), "a.example", tc.token, "ka"); err != nil {
				t.Errorf("CleanUp after failed Present = %v", err)
			}
			if after := listTree(t, root); !reflect.DeepEqual(before, after) {
				t.Errorf("tree changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func listTree(t *testing.T, root string) []string {
	t.Helper()
	if strings.HasPrefix(root, "/sys") {
		return nil
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWebrootErrors(t *testing.T) {
	if _, err := NewWebroot(nil); err == nil || !strings.Contains(err.Error(), "-w PATH") {
		t.Errorf("NewWebroot(nil) = %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := NewWebroot(map[string]string{"a.example": missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("NewWebroot(missing) = %v, want error naming %s", err, missing)
	}
	w, err := NewWebroot(map[string]string{"a.example": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Present(t.Context(), "other.example", "tok", "ka")
	if err == nil || !strings.Contains(err.Error(), "no webroot for other.example") {
		t.Errorf("Present(unmapped) = %v", err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unexpected wrap: %v", err)
	}
}

func TestScanWebrootArgs(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		want    map[string]string
		wantErr string
	}{
		{
			name: "each -w applies to the following -d",
			argv: []string{"certonly", "-w", "/www/a", "-d", "a.com", "-d", "www.a.com", "-w", "/www/b", "-d", "b.net,m.b.net"},
			want: map[string]string{"a.com": "/www/a", "www.a.com": "/www/a", "b.net": "/www/b", "m.b.net": "/www/b"},
		},
		{
			name: "long and joined forms",
			argv: []string{"--webroot-path=/www/a", "--domains=a.com", "-w/www/b", "-db.net", "--domain", "c.net"},
			want: map[string]string{"a.com": "/www/a", "b.net": "/www/b", "c.net": "/www/b"},
		},
		{
			name: "domains before the only -w take it",
			argv: []string{"-d", "a.com", "-w", "/www/a"},
			want: map[string]string{"a.com": "/www/a"},
		},
		{
			name:    "domains before two -w",
			argv:    []string{"-d", "a.com", "-w", "/www/a", "-w", "/www/b"},
			wantErr: "must precede all domain flags",
		},
		{
			name: "map takes precedence, in any order, and implies -d",
			argv: []string{"-w", "/www/a", "-d", "a.com,b.com", `--webroot-map={"b.com,c.com":"/www/map"}`, "-w", "/www/z", "-d", "z.com"},
			want: map[string]string{"a.com": "/www/a", "b.com": "/www/map", "c.com": "/www/map", "z.com": "/www/z"},
		},
		{
			name: "map alone",
			argv: []string{"--webroot-map", `{"a.com":"/www/a","127.0.0.1":"/www/ip"}`},
			want: map[string]string{"a.com": "/www/a", "127.0.0.1": "/www/ip"},
		},
		{
			name: "ip address",
			argv: []string{"-w", "/www/a", "--ip-address", "192.0.2.1"},
			want: map[string]string{"192.0.2.1": "/www/a"},
		},
		{name: "no webroot", argv: []string{"-d", "a.com"}, wantErr: "no webroot for a.com"},
		{name: "bad json", argv: []string{"--webroot-map", `{"a.com":1}`}, wantErr: "JSON"},
		{name: "missing value", argv: []string{"-d", "a.com", "-w"}, wantErr: "-w needs a value"},
		{name: "stops at --", argv: []string{"-w", "/www/a", "-d", "a.com", "--", "-d", "x.com"}, want: map[string]string{"a.com": "/www/a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ScanWebrootArgs(tc.argv)
			var got map[string]string
			if err == nil {
				got, err = a.Map()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ScanWebrootArgs(%q) error = %v, want %q", tc.argv, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ScanWebrootArgs(%q) = %v", tc.argv, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ScanWebrootArgs(%q).Map() = %v, want %v", tc.argv, got, tc.want)
			}
			if len(a.Domains()) != len(tc.want) {
				t.Errorf("Domains() = %v, want the %d names of %v", a.Domains(), len(tc.want), tc.want)
			}
		})
	}
}
