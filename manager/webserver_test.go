package manager

import (
	"encoding/pem"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/argparse"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/storage"
)

// TestRequestedEnhancements: run and install redirect unless --no-redirect,
// enhance only with --redirect (certbot 1.4+: no question); of a flag and
// its --no-* form the last one given wins (they share certbot's dest).
func TestRequestedEnhancements(t *testing.T) {
	p := argparse.MustNew(CommandLine())
	for _, tc := range []struct {
		args            string
		redirectDefault bool
		want            []installer.Enhancement
	}{
		{"run", true, []installer.Enhancement{installer.Redirect}},
		{"run --no-redirect", true, nil},
		{"run --no-redirect --redirect", true, []installer.Enhancement{installer.Redirect}},
		{"enhance", false, nil},
		{"enhance --redirect --no-redirect", false, nil},
		{"enhance --redirect --hsts", false, []installer.Enhancement{installer.Redirect, installer.HSTS}},
		{"run --hsts --no-hsts --uir --staple-ocsp", true, []installer.Enhancement{installer.Redirect, installer.UIR, installer.StapleOCSP}},
		{"run --no-hsts --hsts --uir --no-uir", true, []installer.Enhancement{installer.Redirect, installer.HSTS}},
	} {
		res, err := p.Parse(strings.Fields(tc.args))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.args, err)
		}
		c, err := LoadConfig(Parsed{res}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.args, err)
		}
		if got := c.requested(tc.redirectDefault); !slices.Equal(got, tc.want) {
			t.Errorf("%s: requested = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// TestRunRefusals: run refuses what certbot's run refuses before any server
// or CA is touched, naming the way out.
func TestRunRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags FlagMap
		want  string
	}{
		{"dry run", FlagMap{"nginx": "true", "dry-run": "true"}, "--dry-run currently only works with the 'certonly' or 'renew' subcommands"},
		{"authenticator without installer", FlagMap{"standalone": "true", "domains": "a.example"}, `you probably want to use the "certonly" command, eg: acmectl certonly --standalone`},
		{"auto-hsts", FlagMap{"nginx": "true", "auto-hsts": "true"}, "--auto-hsts"},
	} {
		m := &Manager{Config: mustConfig(t, tc.flags)}
		_, err := m.Run(t.Context())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Run = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	m := &Manager{Config: mustConfig(t, FlagMap{"nginx": "true", "cert-name": "a"})}
	if _, err := m.Enhance(t.Context()); err == nil || !strings.Contains(err.Error(), "--redirect, --hsts, --uir or --staple-ocsp") {
		t.Errorf("enhance without an enhancement: %v", err)
	}
	m = &Manager{Config: mustConfig(t, FlagMap{"installer": "null"})}
	if _, err := m.Rollback(t.Context()); err == nil || !strings.Contains(err.Error(), "--nginx or --apache") {
		t.Errorf("rollback with the null installer: %v", err)
	}
	// A configurator plugin with run: both halves.
	m = &Manager{Config: mustConfig(t, FlagMap{"authenticator": "apache"})}
	if err := m.pickRunPlugins(); err != nil || m.Config.Installer != "apache" {
		t.Errorf("run -a apache: installer %q, %v", m.Config.Installer, err)
	}
}

// TestRecordInstaller: install records the installer and the options given
// on the command line in the lineage's renewal conf, keeps everything else,
// and changes nothing the second time.
func TestRecordInstaller(t *testing.T) {
	dir := t.TempDir()
	tree, err := storage.Open(filepath.Join(dir, "config"), &storage.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	cert, key := testCert(t, "a.example")
	kp, err := pemutil.EncodePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	conf := &storage.RenewalConf{}
	conf.Params.Authenticator, conf.Params.Server = "webroot", "https://ca.example/dir"
	conf.SetParamValue("pre_hook", storage.Scalar("echo pre"))
	v := &storage.Version{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), KeyPEM: kp}
	if _, err := tree.CreateLineage(t.Context(), "a.example", v, conf); err != nil {
		t.Fatal(err)
	}
	c := mustConfig(t, FlagMap{"nginx": "true", "nginx-server-root": "/srv/nginx", "config-dir": tree.Dir})
	m := &Manager{Config: c, Store: tree}
	changed, err := m.recordInstaller(t.Context(), c, "a.example")
	if err != nil || !changed {
		t.Fatalf("recordInstaller = %v, %v", changed, err)
	}
	got, err := tree.LoadRenewalConf(t.Context(), "a.example")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := got.Marshal()
	for _, want := range []string{"installer = nginx", "nginx_server_root = /srv/nginx", "authenticator = webroot", "pre_hook = echo pre"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("renewal conf lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "authenticator = nginx") || strings.Contains(string(b), "https_port") {
		t.Errorf("install changed more than the installer:\n%s", b)
	}
	if changed, err := m.recordInstaller(t.Context(), c, "a.example"); changed || err != nil {
		t.Errorf("a second recordInstaller = %v, %v; want no change", changed, err)
	}
}
