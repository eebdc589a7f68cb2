package scm_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/scm"
	"github.com/acmectl/acmectl/scm/scmtest"
)

func TestNormalizeDomains(t *testing.T) {
	got, err := scm.NormalizeDomains([]string{" A.Example. ,b.example", "a.example", "", "www.a.example"})
	if err != nil || !slices.Equal(got, []string{"a.example", "b.example", "www.a.example"}) {
		t.Errorf("NormalizeDomains = %v, %v", got, err)
	}
	for _, bad := range []string{"a b", "a/b", `a\b`, "a:1", "u@a", "a?", "a#", "a..b", ".a", strings.Repeat("a", 254)} {
		var ie *scm.InputError
		if _, err := scm.NormalizeDomains([]string{bad}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "is not a valid domain name") {
			t.Errorf("NormalizeDomains(%q) = %v, want an *InputError", bad, err)
		}
	}
	if got := scm.Without([]string{"a.example", "B.example", "c.example"}, []string{"b.EXAMPLE"}); !slices.Equal(got, []string{"a.example", "c.example"}) {
		t.Errorf("Without = %v", got)
	}
}

func TestFindServer(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{Servers: append(scmtest.DefaultServers(),
		scmtest.ACMEServer{URL: "https://acme.example/dir", Name: "sectigo-ov", CAID: 9, CertValidationType: "DV", Active: true})})
	c := newClient(t, s)
	for _, tc := range []struct{ v, want string }{
		{"OV ACME Server", "https://acme.sectigo.com/v2/OV"},
		{"ov acme server", "https://acme.sectigo.com/v2/OV"},
		{"https://acme.sectigo.com/v2/DV/", "https://acme.sectigo.com/v2/DV"},
		{"sectigo-ov", "https://acme.example/dir"}, // a server name wins over the alias
		{"alias-ev", "https://acme.sectigo.com/v2/EV"},
	} {
		srv, err := c.FindServer(t.Context(), tc.v, func(v string) (string, error) {
			switch v {
			case "sectigo-ov":
				return "https://acme.sectigo.com/v2/OV", nil
			case "alias-ev":
				return "https://acme.sectigo.com/v2/EV", nil
			}
			return "", errors.New("no alias")
		})
		if err != nil || srv.URL != tc.want {
			t.Errorf("FindServer(%q) = %v, %v, want %s", tc.v, srv, err, tc.want)
		}
	}
	var se *scm.UnknownServerError
	if _, err := c.FindServer(t.Context(), "nope", nil); !errors.As(err, &se) || len(se.Servers) != 4 {
		t.Errorf("FindServer(nope) = %v", err)
	}
	empty := scmtest.New(t, scmtest.Options{Servers: []scmtest.ACMEServer{}})
	if _, err := newClient(t, empty).FindServer(t.Context(), "x", nil); err == nil || !strings.HasSuffix(err.Error(), "servers: none") {
		t.Errorf("FindServer on a tenant without servers = %v", err)
	}
}

func TestReadCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("ok.ini", "# SCM\n; note\nurl = https://scm.example/api\nLogin=admin\npassword = p = w\ncustomer-uri = c\nClient_Cert = /c.pem\nclientkey = /k.pem\nca_bundle = /ca.pem\n", 0o600)
	c, err := scm.ReadCredentialsFile(good)
	want := scm.Credentials{URL: "https://scm.example/api", Login: "admin", Password: "p = w", CustomerURI: "c", ClientCert: "/c.pem", ClientKey: "/k.pem", CABundle: "/ca.pem"}
	if err != nil || c != want {
		t.Errorf("ReadCredentialsFile = %+v, %v", c, err)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"unknown key", "passwd = x\n", `line 1: unknown key "passwd"`},
		{"no equals", "\nlogin admin\n", "line 2: want key = value"},
	} {
		var ie *scm.InputError
		if _, err := scm.ReadCredentialsFile(write(tc.name, tc.content, 0o600)); !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	world := write("world.ini", "login = a\n", 0o604)
	var ie *scm.InputError
	if _, err := scm.ReadCredentialsFile(world); !errors.As(err, &ie) || !strings.Contains(err.Error(), "mode 0604); run: chmod 600 "+world) {
		t.Errorf("world-readable: %v", err)
	}
	if _, err := scm.ReadCredentialsFile(filepath.Join(dir, "none")); err == nil || errors.As(err, &ie) {
		t.Errorf("missing file: %v, want a plain error", err)
	}
}

func TestCredentialsTLSConfig(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{TLS: true})
	dir := t.TempDir()
	certFile, keyFile := s.WriteClientCert(t, dir)
	ca := s.WriteCABundle(t, dir)
	cfg, err := scm.Credentials{CABundle: ca, ClientCert: certFile, ClientKey: keyFile}.TLSConfig("--client-key")
	if err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("TLSConfig = %v, %v", cfg, err)
	}
	c := &scm.Client{BaseURL: s.URL, Login: scmtest.DefaultLogin, CustomerURI: scmtest.DefaultCustomerURI, ClientCert: true, HTTPClient: scm.NewHTTPClient(cfg)}
	if _, err := c.ListServers(t.Context(), scm.ServerFilter{}); err != nil {
		t.Errorf("ListServers over the client certificate: %v", err)
	}
	if err := os.Chmod(keyFile, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := (scm.Credentials{ClientCert: certFile, ClientKey: keyFile}).TLSConfig("--client-key"); err != nil {
		t.Errorf("group-readable key (0640) refused: %v", err)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	var ie *scm.InputError
	if _, err := (scm.Credentials{ClientCert: certFile, ClientKey: keyFile}).TLSConfig("--client-key"); !errors.As(err, &ie) || !strings.Contains(err.Error(), "--client-key "+keyFile) {
		t.Errorf("world-readable key: %v", err)
	}
	notPEM := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (scm.Credentials{CABundle: notPEM}).TLSConfig(""); !errors.As(err, &ie) {
		t.Errorf("CA bundle without PEM: %v", err)
	}
	if _, err := (scm.Credentials{CABundle: filepath.Join(dir, "none")}).TLSConfig(""); err == nil {
		t.Errorf("missing CA bundle: no error")
	}
}
