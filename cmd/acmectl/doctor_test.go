package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/doctor"
	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/schedule"
	"github.com/acmectl/acmectl/schedule/scheduletest"
	"github.com/acmectl/acmectl/storage"
)

// docFixture is a healthy certbot tree with two webroot lineages renewing
// against a fake CA over HTTPS.
type docFixture struct {
	config  string
	root    string // temp dir holding config, webroots and hooks
	ca      *httptest.Server
	bundle  string
	server  string
	acctID  string
	tree    *storage.Tree
	webroot map[string]string
	hook    string
}

var docNames = []string{"a.example", "b.example"}

func selfSigned(t *testing.T, names []string, notAfter time.Time) (certPEM, chainPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "doctor test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

func newDocFixture(t *testing.T) *docFixture {
	t.Helper()
	ctx := t.Context()
	ca := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/dir" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"newNonce":"https://%[1]s/nonce","newAccount":"https://%[1]s/acct","newOrder":"https://%[1]s/order"}`, r.Host)
	}))
	ca.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(ca.Close)
	root := t.TempDir()
	f := &docFixture{root: root, config: filepath.Join(root, "letsencrypt"), ca: ca, server: ca.URL + "/dir",
		bundle: filepath.Join(root, "ca.pem"), webroot: map[string]string{}}
	writeFile(t, f.bundle, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate().Raw})), 0o644)
	f.hook = filepath.Join(root, "hooks", "reload.sh")
	writeFile(t, f.hook, "#!/bin/sh\nexit 0\n", 0o755)

	tree, err := storage.Open(f.config, &storage.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	f.tree = tree
	akey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.acctID, err = tree.SaveAccount(ctx, &storage.Account{Server: f.server, URL: f.server + "/acct/1", Key: akey})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range docNames {
		wr := filepath.Join(root, "www", n)
		if err := os.MkdirAll(wr, 0o755); err != nil {
			t.Fatal(err)
		}
		f.webroot[n] = wr
		c, ch, k := selfSigned(t, []string{n, "www." + n}, time.Now().AddDate(0, 0, 60))
		conf := &storage.RenewalConf{Params: storage.RenewalParams{Account: f.acctID, Server: f.server,
			Authenticator: "webroot", WebrootPath: []string{wr}, KeyType: "ecdsa",
			RenewHook: f.hook + " --reload", PreHook: "echo starting", PostHook: "systemd-cat true || true"}}
		if _, err := tree.CreateLineage(ctx, n, &storage.Version{CertPEM: c, ChainPEM: ch, KeyPEM: k}, conf); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *docFixture) conf(t *testing.T, name string) *storage.RenewalConf {
	t.Helper()
	b, err := os.ReadFile(f.tree.RenewalConfPath(name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := storage.ParseRenewalConf("x", b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *docFixture) setConf(t *testing.T, name string, edit func(c *storage.RenewalConf)) {
	t.Helper()
	c := f.conf(t, name)
	edit(c)
	if err := f.tree.SaveRenewalConf(t.Context(), name, c); err != nil {
		t.Fatal(err)
	}
}

// nginxLineage makes a.example a lineage of certbot's nginx plugin whose
// server root holds nginxConf.
func (f *docFixture) nginxLineage(t *testing.T, nginxConf string) {
	t.Helper()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "nginx.conf"), nginxConf, 0o644)
	f.fromTestdata(t, "certbot-nginx.conf", "a.example")
	f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.SetParamValue("nginx_server_root", storage.Scalar(root)) })
}

// fromTestdata installs testdata/doctor/<file> as name's renewal conf.
func (f *docFixture) fromTestdata(t *testing.T, file, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "doctor", file))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("@CONFIG@", f.config, "@NAME@", name, "@SERVER@", f.server, "@ACCOUNT@", f.acctID).Replace(string(b))
	writeFile(t, f.tree.RenewalConfPath(name), s, 0o644)
}

func (f *docFixture) doctor(t *testing.T, bundle string) *doctor.Doctor {
	t.Helper()
	client, err := manager.NewHTTPClient(bundle)
	if err != nil {
		t.Fatal(err)
	}
	client.Timeout = doctor.CATimeout
	d, err := doctor.New(f.config, client)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *docFixture) archive(name, file string) string {
	return filepath.Join(f.tree.ArchiveDir(name), file)
}

// findingsText renders a lineage's findings at one level.
func findingsText(l *doctor.Lineage, level string) string {
	var b strings.Builder
	for _, x := range l.Findings {
		if x.Level == level {
			fmt.Fprintf(&b, "%s | fix: %s\n", x.Msg, x.Fix)
		}
	}
	return b.String()
}

func TestDoctorHealthyTree(t *testing.T) {
	f := newDocFixture(t)
	d := f.doctor(t, f.bundle)
	for _, n := range docNames {
		l := d.Check(t.Context(), n)
		if l.Failed() || findingsText(l, doctor.Warn) != "" {
			var b bytes.Buffer
			doctor.WriteReport(&b, []*doctor.Lineage{l})
			t.Errorf("healthy lineage %s:\n%s", n, b.String())
		}
		for _, want := range []string{"renewal conf parses", "live links resolve", "key and certificate match",
			"webroot " + f.webroot[n] + " exists and is writable", "account " + f.acctID, "CA directory " + f.server + " answers",
			`renew_hook "` + f.hook + ` --reload" can run`} {
			if !strings.Contains(findingsText(l, doctor.OK), want) {
				t.Errorf("%s: no OK for %q:\n%s", n, want, findingsText(l, doctor.OK))
			}
		}
	}
	// Through the command: all clear, exit 0, one block per lineage.
	out, err := runDoctorCmd(t, "--config-dir", f.config, "--ca-bundle", f.bundle)
	if err != nil {
		t.Errorf("doctor on a healthy tree: %v\n%s", err, out)
	}
	for _, n := range docNames {
		if !strings.Contains(out, n+" ("+f.tree.RenewalConfPath(n)+"): renewal should work") {
			t.Errorf("no all-clear block for %s:\n%s", n, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("FAIL in a healthy report:\n%s", out)
	}
	// Who renews: reported for --root (hidden; "/" by default).
	root := scheduletest.Root(t, true)
	out, _ = runDoctorCmd(t, "--config-dir", f.config, "--ca-bundle", f.bundle, "--root", root)
	if !strings.Contains(out, "Scheduled renewal: none, so nothing renews these certificates; run: acmectl schedule install") {
		t.Errorf("doctor does not report the missing schedule:\n%s", out)
	}
	// Doctor only reads: no cache file, no new files.
	if _, err := os.Stat(filepath.Join(f.config, ".acmectl", "cache.json")); err == nil {
		t.Errorf("doctor wrote the listing cache")
	}
}

func runDoctorCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := &cli.App{Name: "acmectl", Writer: &out, ErrWriter: &out, Commands: []*cli.Command{doctorCommand()},
		ExitErrHandler: func(*cli.Context, error) {}}
	t.Setenv(envCABundle, "")
	err := app.RunContext(t.Context(), append([]string{"acmectl", "doctor"}, args...))
	return out.String(), err
}

func TestDoctorBreakage(t *testing.T) {
	type fixture = docFixture
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, f *fixture, d *doctor.Doctor)
		// noBundle: run without trusting the fake CA.
		noBundle bool
		level    string // FAIL unless WARN
		// failsToo: the lineage also fails for another reason (WARN cases).
		failsToo bool
		want     []string // substrings of the finding text (message | fix)
	}{
		{name: "conf does not parse", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.fromTestdata(t, "bad-syntax.conf", "a.example")
		}, want: []string{"renewal conf does not parse", "a.example.conf:7", "fix that line"}},
		{name: "nginx configuration test fails", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.nginxLineage(t, "events {}\nhttp { no_such_directive on; }\n")
		}, want: []string{"nginx's configuration test fails", `unknown directive "no_such_directive"`, "acmectl (like certbot) tests it"}},
		{name: "nginx binary missing", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.nginxLineage(t, "events {}\nhttp {}\n")
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.SetParamValue("nginx_ctl", storage.Scalar("/nonexistent/nginx")) })
		}, want: []string{`"/nonexistent/nginx" is not installed here`, "--nginx-ctl PATH"}},
		{name: "certbot's nginx lineage explained", level: doctor.Note, break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.nginxLineage(t, "events {}\nhttp {}\n")
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.SetParamValue("nginx_sleep_seconds", storage.Scalar("3")) })
		}, want: []string{"certbot reloads nginx after each renewed certificate; acmectl reloads it once per renew run",
			"acmectl renew installs the certificate into it again", "nginx_sleep_seconds = 3 is not used"}},
		{name: "unknown installer", level: doctor.Warn, break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.Installer = "lighttpd" })
		}, want: []string{"installer lighttpd is a certbot plugin acmectl does not have", "--deploy-hook 'systemctl reload lighttpd'"}},
		{name: "unknown authenticator", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.Authenticator = "certbot-dns-foo:foo" })
		}, want: []string{`authenticator "certbot-dns-foo:foo" is unknown`}},
		{name: "saved parameter the engine refuses", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.KeyType, c.Params.RSAKeySize = "rsa", 1024 })
		}, want: []string{"renewal parameters:", "rsa_key_size = 1024: want 2048 to 8192", "acmectl reconfigure --cert-name a.example"}},
		{name: "saved challenge the engine does not know", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.PrefChalls = []string{"smtp-01"} })
		}, want: []string{"renewal parameters:", "pref_challs", "smtp-01"}},
		{name: "dns provider not built in", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.Authenticator = "dns-nosuchprovider" })
		}, want: []string{`DNS provider "nosuchprovider" is not in this build`, "build-all-dns"}},
		{name: "webroot missing", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			if err := os.RemoveAll(f.webroot["a.example"]); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"webroot " + "@WEBROOT@" + " does not exist", "mkdir -p @WEBROOT@"}},
		{name: "webroot is a file", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			os.RemoveAll(f.webroot["a.example"])
			writeFile(t, f.webroot["a.example"], "x", 0o644)
		}, want: []string{"is not a directory"}},
		{name: "webroot not writable", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			wr := f.webroot["a.example"]
			// Root may write anywhere; simulate the renew user's view.
			d.Access = func(p string, mode uint32) error {
				if strings.HasPrefix(p, wr) {
					return syscall.EACCES
				}
				return nil
			}
		}, want: []string{"webroot @WEBROOT@ is not writable", "chown"}},
		{name: "webroot map misses a name", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) {
				c.Params.WebrootPath = nil
				c.Params.WebrootMap = []storage.KV{{Key: "a.example", Value: f.webroot["a.example"]}}
			})
		}, want: []string{"www.a.example has no webroot in [[webroot_map]]"}},
		{name: "hook missing", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.RenewHook = "/nonexistent/reload.sh now" })
		}, want: []string{`renew_hook "/nonexistent/reload.sh now": /nonexistent/reload.sh does not exist`, "--deploy-hook"}},
		{name: "hook not executable", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			if err := os.Chmod(f.hook, 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"is not executable (mode 0644)", "chmod +x @HOOK@"}},
		{name: "hook command not in PATH", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.PreHook = "FOO=1 no-such-command-xyz --stop" })
		}, want: []string{"pre_hook", "no-such-command-xyz is not found in PATH", "--pre-hook"}},
		{name: "manual auth hook missing", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) {
				c.Params.Authenticator = "manual"
				c.Params.ManualAuthHook = filepath.Join(f.root, "auth.sh")
			})
		}, want: []string{"manual_auth_hook", "auth.sh does not exist"}},
		{name: "manual without auth hook", level: doctor.Warn, break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.Authenticator = "manual" })
		}, want: []string{"manual authenticator without manual_auth_hook", "--manual-auth-hook"}},
		{name: "directory hook not executable", level: doctor.Warn, break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			writeFile(t, filepath.Join(f.config, "renewal-hooks", "deploy", "10-reload"), "#!/bin/sh\n", 0o644)
		}, want: []string{"renewal-hooks/deploy/10-reload is not executable", "chmod +x"}},
		{name: "account missing", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			dir, _ := f.tree.AccountsDir(f.server)
			if err := os.RemoveAll(filepath.Join(dir, f.acctID)); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"account @ACCT@ for @SERVER@ is not in", "acmectl register --server @SERVER@", "--account NEW_ID"}},
		{name: "no account at all", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			if err := os.RemoveAll(filepath.Join(f.config, "accounts")); err != nil {
				t.Fatal(err)
			}
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.Account = "" })
		}, want: []string{"no account for @SERVER@; an unattended renew cannot register one", "acmectl register --server @SERVER@ --agree-tos"}},
		{name: "account key unreadable JSON", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			dir, _ := f.tree.AccountsDir(f.server)
			p := filepath.Join(dir, f.acctID, "private_key.json")
			os.Chmod(p, 0o600)
			writeFile(t, p, "{not json", 0o400)
		}, want: []string{"account @ACCT@ does not load", "private_key.json"}},
		{name: "two accounts, none saved", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if _, err := f.tree.SaveAccount(t.Context(), &storage.Account{Server: f.server, URL: f.server + "/acct/2", Key: k}); err != nil {
				t.Fatal(err)
			}
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.Account = "" })
		}, want: []string{"2 accounts for @SERVER@ and none saved", "--account ID (one of"}},
		{name: "accounts dir too open", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			if err := os.Chmod(filepath.Join(f.config, "accounts"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"accounts is mode 0755", "chmod 0700 @CONFIG@/accounts"}},
		{name: "account key too open", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			dir, _ := f.tree.AccountsDir(f.server)
			if err := os.Chmod(filepath.Join(dir, f.acctID, "private_key.json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"private_key.json is mode 0644", "chmod 0400"}},
		{name: "key does not match cert", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			_, _, k := selfSigned(t, []string{"other.example"}, time.Now().AddDate(0, 1, 0))
			p := f.archive("a.example", "privkey1.pem")
			writeFile(t, p, string(k), 0o600)
		}, want: []string{"private key does not match the certificate", "privkey.pem at the archive key"}},
		{name: "dangling live link", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			if err := os.Remove(f.archive("a.example", "cert1.pem")); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"cert @CONFIG@/live/a.example/cert.pem is a dangling link (-> ../../archive/a.example/cert1.pem)", "restore archive/a.example/"}},
		{name: "live file is not a link", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			p := filepath.Join(f.tree.LiveDir("a.example"), "fullchain.pem")
			b, _ := os.ReadFile(p)
			os.Remove(p)
			writeFile(t, p, string(b), 0o644)
		}, want: []string{"fullchain.pem is not a symlink into archive/"}},
		{name: "live link missing", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			os.Remove(filepath.Join(f.tree.LiveDir("a.example"), "chain.pem"))
		}, want: []string{"chain @CONFIG@/live/a.example/chain.pem is missing"}},
		{name: "private key world-readable", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			if err := os.Chmod(f.archive("a.example", "privkey1.pem"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"privkey1.pem is readable by everyone (mode 0644)", "chmod 0600 @CONFIG@/archive/a.example/privkey1.pem"}},
		{name: "expired certificate", level: doctor.Warn, break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			d.Now = func() time.Time { return time.Now().AddDate(0, 0, 90) }
		}, want: []string{"certificate expired on", "acmectl renew --cert-name a.example"}},
		{name: "conf paths from another tree", level: doctor.Warn, break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			p := f.tree.RenewalConfPath("a.example")
			writeFile(t, p, strings.ReplaceAll(readFile(t, p), f.config, "/old/letsencrypt"), 0o644)
		}, want: []string{"renewal conf has cert = /old/letsencrypt/live/a.example/cert.pem, but the lineage's link is @CONFIG@/live/a.example/cert.pem", "acmectl reconfigure --cert-name a.example rewrites the paths"}},
		{name: "autorenew off", level: doctor.Warn, break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.NoAutoRenew = true })
		}, want: []string{"autorenew = False"}},
		{name: "standalone port busy", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			port := ln.Addr().(*net.TCPAddr).Port
			f.setConf(t, "a.example", func(c *storage.RenewalConf) {
				c.Params.Authenticator, c.Params.HTTP01Port, c.Params.HTTP01Address = "standalone", port, "127.0.0.1"
				c.Params.PreHook = ""
			})
		}, want: []string{"is in use (a web server?)", "--pre-hook 'systemctl stop nginx'"}},
		{name: "CA down", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			f.ca.Close()
		}, want: []string{"CA directory @SERVER@ does not answer", "firewall"}},
		{name: "CA not trusted", noBundle: true, want: []string{"CA directory @SERVER@: TLS", "--ca-bundle"}},
		{name: "CA URL is not a directory", break_: func(t *testing.T, f *fixture, d *doctor.Doctor) {
			// An account for the new URL, so only the directory fails.
			srv := f.ca.URL + "/directory"
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			id, err := f.tree.SaveAccount(t.Context(), &storage.Account{Server: srv, URL: srv + "/acct/9", Key: k})
			if err != nil {
				t.Fatal(err)
			}
			f.setConf(t, "a.example", func(c *storage.RenewalConf) { c.Params.Server, c.Params.Account = srv, id })
		}, want: []string{"answers HTTP 404", "without /directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newDocFixture(t)
			bundle := f.bundle
			if tc.noBundle {
				bundle = ""
			}
			d := f.doctor(t, bundle)
			if tc.break_ != nil {
				tc.break_(t, f, d)
			}
			level := tc.level
			if level == "" {
				level = doctor.Fail
			}
			ls := []*doctor.Lineage{d.Check(t.Context(), "a.example"), d.Check(t.Context(), "b.example")}
			got := findingsText(ls[0], level)
			r := strings.NewReplacer("@WEBROOT@", f.webroot["a.example"], "@HOOK@", f.hook, "@ACCT@", f.acctID,
				"@SERVER@", f.server, "@CONFIG@", f.config)
			for _, w := range tc.want {
				if w = r.Replace(w); !strings.Contains(got, w) {
					t.Errorf("a.example %s findings lack %q:\n%s", level, w, got)
				}
			}
			if want := level == doctor.Fail || tc.failsToo; ls[0].Failed() != want {
				t.Errorf("a.example Failed() = %v, want %v:\n%s", ls[0].Failed(), want, findingsText(ls[0], doctor.Fail))
			}
			err := doctor.Summary(ls)
			switch {
			case level == doctor.Fail && (err == nil || !strings.Contains(err.Error(), "a.example")):
				t.Errorf("doctorSummary = %v, want an error naming a.example", err)
			case level == doctor.Warn && err != nil && !tc.failsToo:
				t.Errorf("doctorSummary = %v for a warning", err)
			}
			// The other lineage is judged on its own (shared problems aside).
			shared := map[string]bool{"hook not executable": true, "account missing": true, "no account at all": true, "CA down": true,
				"CA not trusted": true, "accounts dir too open": true, "account key too open": true,
				"account key unreadable JSON": true, "directory hook not executable": true, "expired certificate": true}
			if !shared[tc.name] && (ls[1].Failed() || findingsText(ls[1], doctor.Warn) != "") {
				t.Errorf("b.example affected by a.example's breakage:\n%s%s", findingsText(ls[1], doctor.Fail), findingsText(ls[1], doctor.Warn))
			}
			// The report prints the lineage block with FAIL and the fix.
			var b bytes.Buffer
			doctor.WriteReport(&b, ls)
			if level == doctor.Fail && !strings.Contains(b.String(), "a.example ("+f.tree.RenewalConfPath("a.example")+"): renewal would FAIL") {
				t.Errorf("report:\n%s", b.String())
			}
		})
	}
}

func TestDoctorCommand(t *testing.T) {
	f := newDocFixture(t)
	if err := os.RemoveAll(f.webroot["b.example"]); err != nil {
		t.Fatal(err)
	}
	out, err := runDoctorCmd(t, "--config-dir", f.config, "--ca-bundle", f.bundle)
	if err == nil || exitCode(err) != exitError || !strings.Contains(err.Error(), "1 of 2 certificates would fail to renew: b.example") {
		t.Errorf("doctor error = %v, want exit 1 naming b.example", err)
	}
	for _, want := range []string{"a.example (", "): renewal should work", "b.example (", "): renewal would FAIL",
		"  FAIL  webroot " + f.webroot["b.example"] + " does not exist", "        fix: mkdir -p " + f.webroot["b.example"]} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// -q prints only the failing lineage; -n is accepted.
	out, err = runDoctorCmd(t, "-q", "-n", "--config-dir", f.config, "--ca-bundle", f.bundle)
	if err == nil || strings.Contains(out, "a.example") || !strings.Contains(out, "b.example") {
		t.Errorf("doctor -q = %v:\n%s", err, out)
	}
	// --cert-name narrows the check.
	out, err = runDoctorCmd(t, "--config-dir", f.config, "--ca-bundle", f.bundle, "--cert-name", "a.example")
	if err != nil || strings.Contains(out, "b.example") {
		t.Errorf("doctor --cert-name a.example = %v:\n%s", err, out)
	}
	if _, err := runDoctorCmd(t, "--config-dir", f.config, "--cert-name", "nope.example"); err == nil || !strings.Contains(err.Error(), "no certificate named nope.example") {
		t.Errorf("unknown --cert-name: %v", err)
	}
	// REQUESTS_CA_BUNDLE is honoured like --ca-bundle.
	var buf bytes.Buffer
	app := &cli.App{Name: "acmectl", Writer: &buf, Commands: []*cli.Command{doctorCommand()}, ExitErrHandler: func(*cli.Context, error) {}}
	t.Setenv(envCABundle, f.bundle)
	if err := app.RunContext(t.Context(), []string{"acmectl", "doctor", "--config-dir", f.config, "--cert-name", "a.example"}); err != nil {
		t.Errorf("doctor with REQUESTS_CA_BUNDLE: %v\n%s", err, buf.String())
	}
	// A missing tree is an error, and is not created.
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := runDoctorCmd(t, "--config-dir", missing); err == nil {
		t.Errorf("doctor on a missing config dir: nil error")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("doctor created %s", missing)
	}
}

// opsEnv runs acmectl in-process (newApp plus the operating commands) and
// real certbot on one tree against one Pebble.
type opsEnv struct {
	t                  *testing.T
	s                  *pebbletest.Server
	config, work, logs string
}

func newOpsEnv(t *testing.T, s *pebbletest.Server) *opsEnv {
	t.Helper()
	d := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(d, "xdg"))
	t.Setenv(envSystemConfig, filepath.Join(d, "no-cli.ini"))
	t.Setenv(envCABundle, "")
	return &opsEnv{t: t, s: s, config: filepath.Join(d, "config"), work: filepath.Join(d, "work"), logs: filepath.Join(d, "logs")}
}

func (e *opsEnv) dirs() []string {
	return []string{"--config-dir", e.config, "--work-dir", e.work, "--logs-dir", e.logs}
}

// acmectl runs one command in-process; flags after the command.
func (e *opsEnv) acmectl(args ...string) (string, error) {
	e.t.Helper()
	var out bytes.Buffer
	app := appWithOps()
	app.Writer, app.ErrWriter = &out, &out
	full := append(append([]string{"acmectl"}, args...), e.dirs()...)
	full = append(full, "--ca-bundle", e.s.CABundle)
	err := runApp(app, full)
	return out.String(), err
}

func (e *opsEnv) certbot(args ...string) (string, error) {
	e.t.Helper()
	if _, err := exec.LookPath("certbot"); err != nil {
		e.t.Fatalf("certbot is needed (Debian package certbot): %v", err)
	}
	ctx, cancel := context.WithTimeout(e.t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "certbot", append(append([]string{"-n"}, e.dirs()...), args...)...)
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+e.s.CABundle)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func archiveVersions(t *testing.T, config, name string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(config, "archive", name, "cert*.pem"))
	return len(m)
}

// TestE2ESwitchFromCertbotAndBack is the operator's path: a tree certbot
// made → acmectl doctor (with a dry-run issuance) → schedule install
// --replace-certbot → acmectl renews → schedule remove --restore-certbot →
// certbot renews the same tree again.
func TestE2ESwitchFromCertbotAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (Pebble, certbot); skipped with -short")
	}
	s := pebbletest.Start(t, pebbletest.Options{})
	e := newOpsEnv(t, s)
	const name = "switch.example"
	if out, err := e.certbot("certonly", "--standalone", "--http-01-port", fmt.Sprint(s.HTTPPort),
		"--agree-tos", "-m", "ops@example.com", "--server", s.DirectoryURL,
		"--cert-name", name, "-d", name, "-d", "www."+name); err != nil {
		t.Fatalf("certbot certonly: %v\n%s", err, out)
	}

	// doctor on certbot's tree: all clear, proven by a dry-run.
	out, err := e.acmectl("doctor", "--dry-run")
	if err != nil || !strings.Contains(out, name+" (") || !strings.Contains(out, "OK    dry-run renewal succeeded") || strings.Contains(out, "FAIL") {
		t.Fatalf("doctor --dry-run on certbot's tree: %v\n%s", err, out)
	}
	if n := archiveVersions(t, e.config, name); n != 1 {
		t.Errorf("doctor --dry-run saved a version: %d in archive", n)
	}

	// Take over scheduling from certbot (staged root with Debian's certbot units).
	root := scheduletest.CertbotRoot(t, true)
	if out, err := e.acmectl("schedule", "install", "--root", root, "-n", "--replace-certbot", "--binary", "/usr/bin/acmectl"); err != nil {
		t.Fatalf("schedule install: %v\n%s", err, out)
	}
	if f := (&schedule.Host{Root: root, Staged: true}).Certbot(); schedule.CertbotActive(f) {
		t.Errorf("certbot still scheduled after --replace-certbot: %v", f)
	}
	exec := schedule.UnitValue(readFile(t, filepath.Join(root, "etc/systemd/system/acmectl-renew.service")), "ExecStart")
	if !strings.Contains(exec, "renew -q --config-dir "+e.config) {
		t.Errorf("ExecStart = %q, want renew -q with the config dir", exec)
	}

	// What the timer runs, forced: acmectl renews certbot's lineage.
	if out, err := e.acmectl("renew", "-q", "--force-renewal", "--no-random-sleep-on-renew"); err != nil {
		t.Fatalf("acmectl renew: %v\n%s", err, out)
	}
	if n := archiveVersions(t, e.config, name); n != 2 {
		t.Fatalf("after acmectl renew: %d versions, want 2", n)
	}

	// And back: certbot's timer returns, certbot renews the tree acmectl wrote.
	if out, err := e.acmectl("schedule", "remove", "--root", root, "--restore-certbot"); err != nil {
		t.Fatalf("schedule remove: %v\n%s", err, out)
	}
	if f := (&schedule.Host{Root: root, Staged: true}).Certbot(); !schedule.CertbotActive(f) {
		t.Errorf("certbot not scheduled after --restore-certbot: %v", f)
	}
	if out, err := e.certbot("renew", "--force-renewal", "--cert-name", name, "--no-random-sleep-on-renew"); err != nil {
		t.Fatalf("certbot renew after acmectl: %v\n%s", err, out)
	}
	if n := archiveVersions(t, e.config, name); n != 3 {
		t.Errorf("after certbot renew: %d versions, want 3", n)
	}
	if out, err := e.acmectl("doctor"); err != nil {
		t.Errorf("doctor after switching back: %v\n%s", err, out)
	}
}

// doctor --dry-run catches what only an issuance shows: here the saved
// http-01 port is not the one the CA dials.
func TestE2EDoctorDryRunFails(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (Pebble); skipped with -short")
	}
	s := pebbletest.Start(t, pebbletest.Options{})
	e := newOpsEnv(t, s)
	if out, err := e.acmectl("certonly", "-n", "--agree-tos", "-m", "ops@example.com", "--server", s.DirectoryURL,
		"--standalone", "--http-01-port", fmt.Sprint(s.HTTPPort), "--http-01-address", "127.0.0.1",
		"--cert-name", "dry.example", "-d", "dry.example"); err != nil {
		t.Fatalf("certonly: %v\n%s", err, out)
	}
	tree, err := storage.Open(e.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := storage.ParseRenewalConf("x", []byte(readFile(t, tree.RenewalConfPath("dry.example"))))
	if err != nil {
		t.Fatal(err)
	}
	// Any free port but the one the CA dials (nothing listens there between
	// challenges, so FreePort can hand it out).
	for c.Params.HTTP01Port = pebbletest.FreePort(t); c.Params.HTTP01Port == s.HTTPPort; c.Params.HTTP01Port = pebbletest.FreePort(t) {
	}
	if err := tree.SaveRenewalConf(t.Context(), "dry.example", c); err != nil {
		t.Fatal(err)
	}
	out, err := e.acmectl("doctor")
	if err != nil {
		t.Fatalf("doctor without --dry-run should pass the static checks: %v\n%s", err, out)
	}
	out, err = e.acmectl("doctor", "--dry-run")
	if err == nil || !strings.Contains(out, "FAIL  dry-run renewal failed: obtain a certificate for dry.example") ||
		!strings.Contains(out, "connection refused") || !strings.Contains(out, "fix: see ") {
		t.Errorf("doctor --dry-run = %v, want a dry-run FAIL:\n%s", err, out)
	}
}

// untarGz extracts a testdata tree (dirs, files, symlinks; no absolute or
// ".." names).
func untarGz(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if filepath.IsAbs(h.Name) || strings.Contains(h.Name, "..") {
			t.Fatalf("%s: bad name %q", src, h.Name)
		}
		p := filepath.Join(dst, h.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, p)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(io.LimitReader(tr, 1<<20)); err == nil {
				err = os.WriteFile(p, b, 0o644)
			}
		default:
			t.Fatalf("%s: %s: unexpected tar entry type %q", src, h.Name, h.Typeflag)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestDoctorCertbotFixtureTrees: on the committed trees certbot made
// (testdata/certbot/tree-*.tar.gz, see regen.sh), restored as an operator
// restores a backup, doctor reports all clear.
func TestDoctorCertbotFixtureTrees(t *testing.T) {
	tars, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "certbot", "tree-*.tar.gz"))
	if len(tars) == 0 {
		t.Fatal("no certbot fixture trees in testdata/certbot (run testdata/certbot/regen.sh)")
	}
	for _, src := range tars {
		t.Run(filepath.Base(src), func(t *testing.T) {
			dir := t.TempDir()
			config := filepath.Join(dir, "config")
			untarGz(t, src, config)
			var meta struct {
				Server    string
				Generated time.Time
				Webroots  []string
			}
			if err := json.Unmarshal([]byte(readFile(t, filepath.Join(config, "FIXTURE.json"))), &meta); err != nil {
				t.Fatal(err)
			}
			// The confs name the generating test's temp dirs: move them here
			// (what "restore the tree at its old path" amounts to).
			confs, _ := filepath.Glob(filepath.Join(config, "renewal", "*.conf"))
			if len(confs) == 0 {
				t.Fatal("fixture has no renewal confs")
			}
			old := ""
			for _, c := range confs {
				for _, l := range strings.Split(readFile(t, c), "\n") {
					if v, ok := strings.CutPrefix(l, "archive_dir = "); ok {
						old = filepath.Dir(filepath.Dir(filepath.Dir(v))) // <old>/config/archive/<name>
					}
				}
			}
			if old == "" {
				t.Fatal("no archive_dir in the fixture's confs")
			}
			for _, c := range confs {
				writeFile(t, c, strings.ReplaceAll(readFile(t, c), old, dir), 0o644)
			}
			for _, w := range meta.Webroots {
				if err := os.MkdirAll(strings.Replace(w, old, dir, 1), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// The tarball keeps no modes: restore certbot's.
			err := filepath.Walk(config, func(p string, fi os.FileInfo, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(config, p)
				switch {
				case fi.Mode()&os.ModeSymlink != 0:
					return nil
				case rel == "accounts" || strings.HasPrefix(rel, "accounts/") && fi.IsDir():
					return os.Chmod(p, 0o700)
				case filepath.Base(p) == "private_key.json":
					return os.Chmod(p, 0o400)
				case strings.HasPrefix(filepath.Base(p), "privkey"):
					return os.Chmod(p, 0o600)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}

			// The fixture's Pebble is gone: a fake CA answers for its URL.
			ca := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"newNonce":"https://x/nonce","newAccount":"https://x/acct","newOrder":"https://x/order"}`)
			}))
			ca.Config.ErrorLog = log.New(io.Discard, "", 0)
			defer ca.Close()
			base := ca.Client().Transport
			client := &http.Client{Timeout: doctor.CATimeout, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				r = r.Clone(r.Context())
				r.URL.Host = strings.TrimPrefix(ca.URL, "https://")
				return base.RoundTrip(r)
			})}
			d, err := doctor.New(config, client)
			if err != nil {
				t.Fatal(err)
			}
			d.Now = func() time.Time { return meta.Generated.Add(time.Hour) }
			d.Listen = func(string, string) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
			names, err := d.LineageNames(t.Context())
			if err != nil || len(names) == 0 {
				t.Fatalf("lineages: %v, %v", names, err)
			}
			var ls []*doctor.Lineage
			for _, n := range names {
				ls = append(ls, d.Check(t.Context(), n))
			}
			var b bytes.Buffer
			doctor.WriteReport(&b, ls)
			if err := doctor.Summary(ls); err != nil || strings.Contains(b.String(), "WARN") {
				t.Errorf("doctor on certbot's tree: %v\n%s", err, b.String())
			}
			if !strings.Contains(b.String(), "OK    CA directory "+meta.Server+" answers") {
				t.Errorf("CA check not run against %s:\n%s", meta.Server, b.String())
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
