package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		want     *Config
		wantErr  string
	}{
		{"one host default prefix", "etcd://10.0.0.1:2379", &Config{Endpoints: []string{"10.0.0.1:2379"}, Prefix: "/acmectl"}, ""},
		{"several hosts and prefix", "etcd://a:2379,b:2380,[::1]:2379/fleet/web", &Config{Endpoints: []string{"a:2379", "b:2380", "[::1]:2379"}, Prefix: "/fleet/web"}, ""},
		{"default port", "etcd://a,b/p", &Config{Endpoints: []string{"a:2379", "b:2379"}, Prefix: "/p"}, ""},
		{"tls with files", "etcds://a:2379/p?ca=/ca.pem&cert=/c.pem&key=/k.pem&node=web1&cluster-key=/ck",
			&Config{Endpoints: []string{"a:2379"}, Prefix: "/p", TLS: true, CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem", Node: "web1", ClusterKeyFile: "/ck"}, ""},
		{"user in userinfo", "etcd://acme@a:2379/p", &Config{Endpoints: []string{"a:2379"}, Prefix: "/p", Username: "acme"}, ""},
		{"user option", "etcd://a:2379/p?user=acme", &Config{Endpoints: []string{"a:2379"}, Prefix: "/p", Username: "acme"}, ""},
		{"password in userinfo", "etcd://acme:hunter2@a:2379/p", nil, "password in the URL is refused"},
		{"password option", "etcd://a:2379/p?password=hunter2", nil, "password in the URL is refused"},
		{"bad scheme", "http://a:2379", nil, "want etcd or etcds"},
		{"no scheme", "a:2379", nil, "want etcd://"},
		{"no host", "etcd:///p", nil, "no host"},
		{"bad port", "etcd://a:99999/p", nil, "not 1-65535"},
		{"dot prefix", "etcd://a/x/../y", nil, "empty, . or .."},
		{"unknown option", "etcd://a/p?foo=1", nil, `unknown option "foo"`},
		{"tls option without tls", "etcd://a/p?ca=/x", nil, "need TLS"},
		{"cert without key", "etcds://a/p?cert=/x", nil, "go together"},
		{"option twice", "etcd://a/p?node=a&node=b", nil, "given 2 times"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURL(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseURL(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseURL(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}

	c, err := ParseURL("etcd://u@a/p?password-file=" + pwFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Password.Reveal() != "s3cret" {
		t.Errorf("password from file = %q", c.Password.Reveal())
	}
	if s := c.String(); s != "etcd://a:2379/p" {
		t.Errorf("String() = %q", s)
	}
}

func TestLoadEnv(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("from-file\n"), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("x\n"), 0o644)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c := &Config{}
	if err := c.LoadEnv(env(map[string]string{EnvUser: "u", EnvPassword: "p1", EnvKeyFile: "/k"})); err != nil {
		t.Fatal(err)
	}
	if c.Username != "u" || c.Password.Reveal() != "p1" || c.ClusterKeyFile != "/k" {
		t.Errorf("LoadEnv = %+v", c)
	}
	c = &Config{Username: "u"}
	if err := c.LoadEnv(env(map[string]string{EnvPasswordFile: pwFile})); err != nil || c.Password.Reveal() != "from-file" {
		t.Errorf("password file: %v %q", err, c.Password.Reveal())
	}
	for name, m := range map[string]map[string]string{
		"both password sources": {EnvUser: "u", EnvPassword: "a", EnvPasswordFile: pwFile},
		"password without user": {EnvPassword: "a"},
		"world-readable file":   {EnvUser: "u", EnvPasswordFile: open},
		"missing file":          {EnvUser: "u", EnvPasswordFile: filepath.Join(dir, "nope")},
	} {
		c := &Config{}
		if err := c.LoadEnv(env(m)); err == nil {
			t.Errorf("%s: LoadEnv succeeded", name)
		}
	}
}

// TestSecretRedacted: no way of printing or encoding a Secret shows it.
func TestSecretRedacted(t *testing.T) {
	s := NewSecret("hunter2")
	c := Config{Username: "u", Password: s}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c))
	}
	j, _ := json.Marshal(c)
	out = append(out, string(j))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "password", s, "config", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "password", s)
	out = append(out, buf.String())
	for _, o := range out {
		if strings.Contains(o, "hunter2") || strings.Contains(o, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("secret shown: %s", o)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
}
