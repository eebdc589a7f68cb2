package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/scm/scmtest"
)

// TestE2EOnboard: the SCM fake hands out the EAB kid/HMAC key an EAB-required
// Pebble accepts; `scm onboard` creates the SCM account, assigns the domains,
// registers and writes live/<name>/fullchain.pem through the real certonly.
// A second run changes nothing on the SCM side and issues nothing.
func TestE2EOnboard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test (Pebble); skipped with -short")
	}
	const (
		kid  = "kid-onboard-1"
		hmac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
		name = "web-prod-01"
	)
	p := pebbletest.Start(t, pebbletest.Options{EAB: map[string]string{kid: hmac}})
	s := scmtest.New(t, scmtest.Options{Servers: []scmtest.ACMEServer{
		{URL: p.DirectoryURL, Name: "Pebble ACME Server", CAID: 9, CertValidationType: "DV", Active: true},
	}})
	s.PresetEAB(name, kid, hmac)
	setSCMEnv(t, s)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "etc")
	args := []string{"acmectl", "scm", "onboard", "--org-id", "1823", "--name", name, "--server", p.DirectoryURL,
		"-d", "a.example", "-d", "www.a.example", "--email", "ops@a.example", "--",
		"--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", strconv.Itoa(p.HTTPPort),
		"--agree-tos", "-n", "--ca-bundle", p.CABundle,
		"--config-dir", cfg, "--work-dir", filepath.Join(dir, "work"), "--logs-dir", filepath.Join(dir, "logs")}
	run := func() (string, error) {
		var out bytes.Buffer
		app := newApp()
		app.Writer, app.ErrWriter = &out, &out
		err := app.RunContext(t.Context(), args)
		text := out.String()
		for _, secret := range []string{hmac, scmtest.DefaultPassword} {
			if strings.Contains(text, secret) {
				t.Errorf("output contains a secret:\n%s", text)
			}
		}
		return text, err
	}

	out, err := run()
	t.Logf("first run:\n%s", out)
	if err != nil {
		t.Fatalf("first onboard: %v", err)
	}
	if s.Count("POST", `^/api/acme/v2/account$`) != 1 || s.Count("POST", `/domain$`) != 1 {
		t.Errorf("first run: want one account create and one domain add; log %+v", s.Requests())
	}
	accts := s.Accounts()
	if len(accts) != 1 || !slices.Equal(accts[0].Domains, []string{"a.example", "www.a.example"}) || accts[0].MACID != kid {
		t.Fatalf("SCM state after onboard = %+v", accts)
	}
	fullchain := filepath.Join(cfg, "live", name, "fullchain.pem")
	pemData, err := os.ReadFile(fullchain)
	if err != nil {
		t.Fatalf("onboard wrote no certificate: %v\n%s", err, out)
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		t.Fatalf("%s holds no PEM", fullchain)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cert.DNSNames, ","); got != "a.example,www.a.example" && got != "www.a.example,a.example" {
		t.Errorf("certificate names = %s", got)
	}

	// second run: no SCM change, no new certificate version
	s.ResetRequests()
	out, err = run()
	t.Logf("second run:\n%s", out)
	if err != nil {
		t.Fatalf("second onboard: %v", err)
	}
	for _, r := range s.Requests() {
		if r.Method != "GET" {
			t.Errorf("second run changed SCM: %s %s", r.Method, r.Path)
		}
	}
	again, err := os.ReadFile(fullchain)
	if err != nil || !bytes.Equal(again, pemData) {
		t.Errorf("second run replaced the certificate (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(cfg, "archive", name, "cert2.pem")); err == nil {
		t.Errorf("second run issued a new certificate version")
	}
	// neither the HMAC key nor the SCM password reaches the log or config files
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, secret := range []string{hmac, scmtest.DefaultPassword} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s contains a secret", path)
			}
		}
		return nil
	})
}
