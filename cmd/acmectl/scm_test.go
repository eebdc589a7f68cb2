package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/scm"
	"github.com/acmectl/acmectl/scm/scmtest"
)

// scmRun is one run of a minimal app holding scmCommand, whose onboard
// hands over to a recorder instead of certonly/register.
type scmRun struct {
	stdout, stderr string
	err            error
	handoff        []onboardIssue // each hand-over of scm onboard
}

func runSCMApp(t *testing.T, args ...string) scmRun {
	t.Helper()
	var out, errb bytes.Buffer
	var r scmRun
	record := func(_ *cli.Context, req onboardIssue) error {
		r.handoff = append(r.handoff, req)
		return nil
	}
	app := &cli.App{
		Name:           "acmectl",
		Writer:         &out,
		ErrWriter:      &errb,
		ExitErrHandler: func(*cli.Context, error) {},
		Commands:       []*cli.Command{scmCommandWith(record)},
	}
	r.err = app.RunContext(t.Context(), append([]string{"acmectl"}, args...))
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}

// handoffString renders a hand-over for comparisons: the command, the
// server, the EAB key id and key, the names, the lineage name, the e-mail
// and the certonly flags.
func handoffString(r onboardIssue) string {
	ob := r.Onboarding
	return strings.Join([]string{r.command(), ob.Server.URL, ob.EAB.KeyID, string(ob.EAB.HMACKey),
		strings.Join(ob.Domains, ","), ob.CertName, r.Email, strings.Join(r.CertonlyFlags, " ")}, "|")
}

// setSCMEnv points the SCM_* variables at s with its default credentials.
func setSCMEnv(t *testing.T, s *scmtest.Server) {
	t.Setenv(envSCMURL, s.URL)
	t.Setenv(envSCMLogin, scmtest.DefaultLogin)
	t.Setenv(envSCMPassword, scmtest.DefaultPassword)
	t.Setenv(envSCMCustomerURI, scmtest.DefaultCustomerURI)
}

// scmNoSecrets fails when the password or a key appears in any output.
func scmNoSecrets(t *testing.T, r scmRun, secrets ...string) {
	t.Helper()
	secrets = append(secrets, scmtest.DefaultPassword)
	text := r.stdout + r.stderr
	if r.err != nil {
		text += r.err.Error()
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("output leaks secret %q:\n%s", s, text)
		}
	}
}

func TestSCMServers(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	setSCMEnv(t, s)
	r := runSCMApp(t, "scm", "servers")
	if r.err != nil {
		t.Fatalf("scm servers: %v\n%s", r.err, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[2], "OV ACME Server") || !strings.Contains(lines[2], "https://acme.sectigo.com/v2/OV") {
		t.Errorf("servers table:\n%s", r.stdout)
	}
	r = runSCMApp(t, "scm", "servers", "--json", "--validation-type", "EV")
	var ss []scm.Server
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &ss) != nil || len(ss) != 1 || ss[0].Name != "EV ACME Server" {
		t.Errorf("servers --json: %v %s", r.err, r.stdout)
	}
	scmNoSecrets(t, r)
	if r := runSCMApp(t, "scm", "servers", "extra"); r.err == nil || !strings.Contains(r.err.Error(), `unexpected argument "extra"`) {
		t.Errorf("servers extra arg: %v", r.err)
	}
}

func TestSCMAccountCommands(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	setSCMEnv(t, s)
	const key = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
	s.PresetEAB("web-prod-01", "kid-web", key)

	// create, by alias
	r := runSCMApp(t, "scm", "account", "create", "--org-id", "1823", "--name", "web-prod-01", "--acme-server", "sectigo-ov")
	if r.err != nil {
		t.Fatalf("create: %v\n%s", r.err, r.stderr)
	}
	scmNoSecrets(t, r, key)
	if !strings.Contains(r.stderr, `Created SCM ACME account "web-prod-01" (id 101)`) || !strings.Contains(r.stdout, "kid-web") || !strings.Contains(r.stdout, "hidden") {
		t.Errorf("create output:\n%s\n%s", r.stdout, r.stderr)
	}
	a, ok := s.Account(101)
	if !ok || a.ACMEServer != "https://acme.sectigo.com/v2/OV" || a.OrganizationID != 1823 {
		t.Fatalf("created account = %+v", a)
	}

	// show: masked, --show-secrets, --json
	r = runSCMApp(t, "scm", "account", "show", "101")
	if r.err != nil || !strings.Contains(r.stdout, "EAB key ID (macId):") || !strings.Contains(r.stdout, "kid-web") {
		t.Errorf("show: %v\n%s", r.err, r.stdout)
	}
	scmNoSecrets(t, r, key)
	r = runSCMApp(t, "scm", "account", "show", "--json", "101")
	var v scmAccountView
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &v) != nil || v.MACKey != "redacted" || v.MACID != "kid-web" || v.ID != 101 {
		t.Errorf("show --json: %v %s", r.err, r.stdout)
	}
	scmNoSecrets(t, r, key)
	r = runSCMApp(t, "scm", "account", "show", "--show-secrets", "101")
	if r.err != nil || !strings.Contains(r.stdout, key) {
		t.Errorf("show --show-secrets does not print the key: %v\n%s", r.err, r.stdout)
	}
	r = runSCMApp(t, "scm", "account", "show", "--show-secrets", "--json", "101")
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &v) != nil || v.MACKey != key {
		t.Errorf("show --show-secrets --json: %v %s", r.err, r.stdout)
	}
}

// rename, list and delete, on an account that create made.
func TestSCMAccountRenameListDelete(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	setSCMEnv(t, s)
	const key = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
	s.PresetEAB("web-prod-01", "kid-web", key)

	if r := runSCMApp(t, "scm", "account", "create", "--org-id", "1823", "--name", "web-prod-01", "--acme-server", "sectigo-ov"); r.err != nil {
		t.Fatalf("create: %v", r.err)
	}
	var r scmRun

	// rename, list
	if r = runSCMApp(t, "scm", "account", "rename", "101", "web-prod-02"); r.err != nil || !strings.Contains(r.stdout, `Renamed SCM ACME account 101 to "web-prod-02"`) {
		t.Errorf("rename: %v %s", r.err, r.stdout)
	}
	r = runSCMApp(t, "scm", "account", "list", "--org-id", "1823", "--status", "PENDING")
	if r.err != nil || !strings.Contains(r.stdout, "web-prod-02") || strings.Count(strings.TrimSpace(r.stdout), "\n") != 1 {
		t.Errorf("list:\n%v\n%s", r.err, r.stdout)
	}
	scmNoSecrets(t, r, key)
	r = runSCMApp(t, "scm", "account", "list", "--json")
	var vs []scmAccountView
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &vs) != nil || len(vs) != 1 || vs[0].MACKey != "redacted" {
		t.Errorf("list --json: %v %s", r.err, r.stdout)
	}
	scmNoSecrets(t, r, key)

	// delete, then 404
	if r = runSCMApp(t, "scm", "account", "delete", "101"); r.err != nil || !strings.Contains(r.stdout, "Deleted SCM ACME account 101") {
		t.Errorf("delete: %v %s", r.err, r.stdout)
	}
	r = runSCMApp(t, "scm", "account", "show", "101")
	if !errors.Is(r.err, scm.ErrNotFound) || !strings.Contains(r.err.Error(), "does not exist") {
		t.Errorf("show deleted: %v, want a 404 naming the account", r.err)
	}

}

func TestSCMAccountErrors(t *testing.T) {
	setSCMEnv(t, scmtest.New(t, scmtest.Options{}))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"show no id", []string{"account", "show"}, "missing ACCOUNT_ID"},
		{"show bad id", []string{"account", "show", "abc"}, `ACCOUNT_ID "abc": want a positive number`},
		{"rename no name", []string{"account", "rename", "5"}, "missing NEW_NAME"},
		{"delete unknown", []string{"account", "delete", "999"}, "404"},
		{"create unknown server", []string{"account", "create", "--org-id", "1", "--name", "x", "--acme-server", "nope"}, `ACME server "nope" is not one of this SCM tenant's servers`},
		{"create missing flag", []string{"account", "create", "--name", "x", "--acme-server", "sectigo-ov"}, "org-id"},
		{"org-only without org", []string{"account", "list", "--org-only"}, "--org-only needs --org-id"},
		{"unknown flag", []string{"account", "list", "--bogus"}, "acmectl scm account list: flag provided but not defined: -bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runSCMApp(t, append([]string{"scm"}, tc.args...)...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", r.err, tc.want)
			}
		})
	}
	var u *usageError
	if r := runSCMApp(t, "scm", "account", "list", "--bogus"); !errors.As(r.err, &u) {
		t.Errorf("unknown flag: %T %v, want a *usageError (exit code 2)", r.err, r.err)
	}
}

// More than 200 accounts: the CLI lists all of them across pages.
func TestSCMAccountListPaging(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	setSCMEnv(t, s)
	for i := range 437 {
		s.AddAccount(scmtest.Account{Name: "acct-" + strconv.Itoa(i), ACMEServer: "OV ACME Server", OrganizationID: 5})
	}
	r := runSCMApp(t, "scm", "account", "list", "--org-id", "5")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := strings.Count(r.stdout, "acct-"); n != 437 {
		t.Errorf("listed %d accounts, want 437", n)
	}
	if n := s.Count("GET", `^/api/acme/v2/account$`); n != 3 {
		t.Errorf("%d list requests, want 3 pages", n)
	}
}

func TestSCMDomainCommands(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{NotAddedDomains: []string{"refused.example"}})
	setSCMEnv(t, s)
	id := strconv.Itoa(s.AddAccount(scmtest.Account{Name: "d", ACMEServer: "OV ACME Server", OrganizationID: 1}))

	r := runSCMApp(t, "scm", "domain", "add", "-d", "a.example,www.a.example", id, "B.Example.")
	if r.err != nil || !strings.Contains(r.stdout, "Added to SCM ACME account "+id+": a.example, www.a.example, b.example") {
		t.Fatalf("domain add: %v\n%s", r.err, r.stdout)
	}
	r = runSCMApp(t, "scm", "domain", "add", id, "c.example", "refused.example")
	if r.err == nil || !strings.Contains(r.err.Error(), "refused.example") {
		t.Errorf("domain add refused: err = %v, want non-nil naming the domain", r.err)
	}
	if !strings.Contains(r.stderr, "WARNING: SCM did not add 1 domain(s) to ACME account "+id+": refused.example") || !strings.Contains(r.stdout, "Added: c.example") {
		t.Errorf("domain add refused output:\n%s\n%s", r.stdout, r.stderr)
	}
	r = runSCMApp(t, "scm", "domain", "list", id)
	if r.err != nil || !strings.HasPrefix(r.stdout, "DOMAIN") || strings.Count(r.stdout, ".example") != 4 || strings.Contains(r.stdout, "refused") {
		t.Errorf("domain list:\n%v\n%s", r.err, r.stdout)
	}
	r = runSCMApp(t, "scm", "domain", "list", "--json", "--name", `^www\.`, id)
	var ds []scm.Domain
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &ds) != nil || len(ds) != 1 || ds[0].Name != "www.a.example" {
		t.Errorf("domain list --json --name: %v %s", r.err, r.stdout)
	}
	if r = runSCMApp(t, "scm", "domain", "remove", id, "b.example"); r.err != nil || !strings.Contains(r.stdout, "Removed from SCM ACME account "+id+": b.example") {
		t.Errorf("domain remove: %v %s", r.err, r.stdout)
	}
	r = runSCMApp(t, "scm", "domain", "remove", id, "gone.example")
	if r.err == nil || !strings.Contains(r.stderr, "did not remove") || !strings.Contains(r.err.Error(), "gone.example") {
		t.Errorf("domain remove unknown: %v %s", r.err, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"domain", "add", id}, "no domains given"},
		{[]string{"domain", "add", id, "bad/name"}, "not a valid domain name"},
		{[]string{"domain", "add", "4242", "x.example"}, "404"},
		{[]string{"domain", "list", "4242"}, "404"},
	} {
		r := runSCMApp(t, append([]string{"scm"}, tc.args...)...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, r.err, tc.want)
		}
	}
}

func TestSCMClientCommands(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	setSCMEnv(t, s)
	n := s.AddAccount(scmtest.Account{Name: "c", ACMEServer: "OV ACME Server", OrganizationID: 1})
	id := strconv.Itoa(n)
	s.AddClient(n, scmtest.Client{AccountID: "14b0e312-4698-44f4-9e55-2ea1acc7a2dd", UserAgent: "certbot/2.11", IPAddress: "192.0.2.7", LastActivity: "2026-11-01"})
	r := runSCMApp(t, "scm", "client", "list", id)
	if r.err != nil || !strings.HasPrefix(r.stdout, "CLIENT ID") || !strings.Contains(r.stdout, "14b0e312-4698-44f4-9e55-2ea1acc7a2dd") || !strings.Contains(r.stdout, "192.0.2.7") {
		t.Errorf("client list:\n%v\n%s", r.err, r.stdout)
	}
	if r = runSCMApp(t, "scm", "client", "deactivate", id, "14b0e312-4698-44f4-9e55-2ea1acc7a2dd"); r.err != nil || !strings.Contains(r.stdout, "Deactivated ACME client") {
		t.Errorf("client deactivate: %v %s", r.err, r.stdout)
	}
	r = runSCMApp(t, "scm", "client", "list", "--json", "--status", "DEACTIVATED", id)
	var cs []scm.AccountClient
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &cs) != nil || len(cs) != 1 || cs[0].Status != "deactivated" {
		t.Errorf("client list --json: %v %s", r.err, r.stdout)
	}
	if r = runSCMApp(t, "scm", "client", "deactivate", id, "nope"); !errors.Is(r.err, scm.ErrNotFound) {
		t.Errorf("deactivate unknown client: %v", r.err)
	}
	if r = runSCMApp(t, "scm", "client", "deactivate", id); r.err == nil || !strings.Contains(r.err.Error(), "missing CLIENT_ID") {
		t.Errorf("deactivate without client: %v", r.err)
	}
}

func TestSCMCredentials(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
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
	good := "# SCM\nurl = " + s.URL + "\nlogin = " + scmtest.DefaultLogin + "\npassword = " + scmtest.DefaultPassword + "\ncustomer_uri=" + scmtest.DefaultCustomerURI + "\n"
	okFile := write("ok.ini", good, 0o600)
	worldFile := write("world.ini", good, 0o644)
	badKey := write("badkey.ini", good+"passwd = x\n", 0o600)
	noEq := write("noeq.ini", "login admin\n", 0o600)
	pwFile := write("pw", scmtest.DefaultPassword+"\n", 0o600)
	pwWorld := write("pw-world", scmtest.DefaultPassword+"\n", 0o604)
	wrongPW := write("pw-wrong", "nope\n", 0o600)

	for _, k := range []string{envSCMURL, envSCMLogin, envSCMPassword, envSCMCustomerURI} {
		t.Setenv(k, "")
	}
	conn := []string{"--scm-url", s.URL, "--login", scmtest.DefaultLogin, "--customer-uri", scmtest.DefaultCustomerURI}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // "" = success
	}{
		{"credentials file", nil, []string{"--scm-credentials", okFile}, ""},
		{"world-readable credentials file", nil, []string{"--scm-credentials", worldFile}, "credentials file " + worldFile + " is accessible by other users (mode 0644); run: chmod 600 " + worldFile},
		{"unknown key", nil, []string{"--scm-credentials", badKey}, `line 6: unknown key "passwd"`},
		{"no equals", nil, []string{"--scm-credentials", noEq}, "line 1: want key = value"},
		{"missing file", nil, []string{"--scm-credentials", filepath.Join(dir, "none")}, "no such file"},
		{"password file", nil, append([]string{"--password-file", pwFile}, conn...), ""},
		{"world-readable password file", nil, append([]string{"--password-file", pwWorld}, conn...), "chmod 600 " + pwWorld},
		{"flag beats file", nil, []string{"--scm-credentials", okFile, "--password-file", wrongPW}, "Unknown user"},
		{"environment", map[string]string{envSCMURL: s.URL, envSCMLogin: scmtest.DefaultLogin, envSCMPassword: scmtest.DefaultPassword, envSCMCustomerURI: scmtest.DefaultCustomerURI}, nil, ""},
		{"env beats file", map[string]string{envSCMLogin: "eve"}, []string{"--scm-credentials", okFile}, "401"},
		{"wrong password env", map[string]string{envSCMPassword: "wrong-one"}, conn, "code -16: Unknown user"},
		{"no login", nil, []string{"--scm-url", s.URL}, "no SCM login"},
		{"no customer", nil, []string{"--login", "x"}, "no SCM customer URI"},
		{"no password", nil, []string{"--login", "x", "--customer-uri", "y"}, "no SCM password"},
		{"half client cert", nil, append([]string{"--client-cert", "x.pem"}, conn...), "needs both --client-cert and --client-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := runSCMApp(t, append([]string{"scm", "servers"}, tc.args...)...)
			scmNoSecrets(t, r, "wrong-one")
			if tc.want == "" {
				if r.err != nil || !strings.Contains(r.stdout, "OV ACME Server") {
					t.Errorf("err = %v, out %q", r.err, r.stdout)
				}
				return
			}
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", r.err, tc.want)
			}
		})
	}
}

func TestSCMClientCertCLI(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{TLS: true})
	dir := t.TempDir()
	certFile, keyFile := s.WriteClientCert(t, dir)
	ca := s.WriteCABundle(t, dir)
	for _, k := range []string{envSCMURL, envSCMLogin, envSCMPassword, envSCMCustomerURI} {
		t.Setenv(k, "")
	}
	creds := filepath.Join(dir, "scm.ini")
	content := "url = " + s.URL + "\nlogin = " + scmtest.DefaultLogin + "\ncustomer-uri = " + scmtest.DefaultCustomerURI +
		"\nclient_cert = " + certFile + "\nclient_key = " + keyFile + "\nca_bundle = " + ca + "\n"
	if err := os.WriteFile(creds, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runSCMApp(t, "scm", "servers", "--scm-credentials", creds)
	if r.err != nil || !strings.Contains(r.stdout, "OV ACME Server") {
		t.Fatalf("servers over client cert: %v\n%s", r.err, r.stdout)
	}
	req := s.Requests()[0]
	if req.Path != "/private/api/acme/v1/server" || req.HasPassword || !req.ClientCert {
		t.Errorf("request %+v: want /private, no password, a client certificate", req)
	}
	// the key file must not be world-readable either
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runSCMApp(t, "scm", "servers", "--scm-credentials", creds)
	if r.err == nil || !strings.Contains(r.err.Error(), "chmod 600 "+keyFile) {
		t.Errorf("world-readable client key: %v", r.err)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	// scmWithout the CA bundle the server is not trusted (no InsecureSkipVerify)
	r = runSCMApp(t, "scm", "servers", "--scm-url", s.URL, "--login", "admin", "--customer-uri", "c", "--client-cert", certFile, "--client-key", keyFile)
	if r.err == nil || !strings.Contains(r.err.Error(), "certificate") {
		t.Errorf("untrusted SCM TLS: %v", r.err)
	}
}

const onboardKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

// onboardSCM starts a fake SCM that refuses refused.example and hands out
// kid-1/onboardKey for web-prod-01, and returns the onboard command line.
func onboardSCM(t *testing.T) (*scmtest.Server, []string) {
	s := scmtest.New(t, scmtest.Options{NotAddedDomains: []string{"refused.example"}})
	setSCMEnv(t, s)
	s.PresetEAB("web-prod-01", "kid-1", onboardKey)
	return s, []string{"scm", "onboard", "--org-id", "1823", "--name", "web-prod-01", "--server", "sectigo-ov", "-d", "a.example", "-d", "b.example,www.a.example"}
}

func TestSCMOnboard(t *testing.T) {
	s, base := onboardSCM(t)

	r := runSCMApp(t, append(base, "--email", "ops@a.example", "--", "--standalone", "--agree-tos", "-n", "--config-dir", "/x")...)
	if r.err != nil {
		t.Fatalf("onboard: %v\n%s", r.err, r.stderr)
	}
	scmNoSecrets(t, r, onboardKey)
	if s.Count("POST", `^/api/acme/v2/account$`) != 1 || s.Count("POST", `/domain$`) != 1 {
		t.Errorf("first run: want 1 account create and 1 domain add; log %+v", s.Requests())
	}
	a, _ := s.Account(101)
	if strings.Join(a.Domains, ",") != "a.example,b.example,www.a.example" || a.ACMEServer != "https://acme.sectigo.com/v2/OV" {
		t.Errorf("account after onboard = %+v", a)
	}
	want := "certonly|https://acme.sectigo.com/v2/OV|kid-1|" + onboardKey + "|a.example,b.example,www.a.example|web-prod-01|ops@a.example|--standalone --agree-tos -n --config-dir /x"
	if len(r.handoff) != 1 || handoffString(r.handoff[0]) != want || !r.handoff[0].Onboarding.Created {
		t.Errorf("handoff = %v\nwant      %q", r.handoff, want)
	}
	if !strings.Contains(r.stderr, "Created SCM ACME account") || !strings.Contains(r.stderr, "key id kid-1") {
		t.Errorf("onboard progress:\n%s", r.stderr)
	}

	// second run: nothing changes on the SCM side
	s.ResetRequests()
	r = runSCMApp(t, append(base, "--", "--cert-name", "mine", "--standalone")...)
	if r.err != nil {
		t.Fatalf("second onboard: %v", r.err)
	}
	for _, req := range s.Requests() {
		if req.Method != "GET" {
			t.Errorf("second run sent %s %s", req.Method, req.Path)
		}
	}
	if !strings.Contains(r.stderr, "Using SCM ACME account") || !strings.Contains(r.stderr, "already assigned") {
		t.Errorf("second run output:\n%s", r.stderr)
	}
	if got := handoffString(r.handoff[0]); !strings.HasSuffix(got, "|a.example,b.example,www.a.example|web-prod-01||--cert-name mine --standalone") || r.handoff[0].Onboarding.Created {
		t.Errorf("second handoff (the user's --cert-name goes to certonly) = %s", got)
	}

	// one more domain: only that one is added
	s.ResetRequests()
	r = runSCMApp(t, append(base, "-d", "c.example", "--no-certificate")...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	reqs := s.Requests()
	var posts []string
	for _, q := range reqs {
		if q.Method != "GET" {
			posts = append(posts, q.Method+" "+q.Body)
		}
	}
	if strings.Join(posts, "|") != `POST {"domains":[{"name":"c.example"}]}` {
		t.Errorf("third run changes = %q", posts)
	}
	if len(r.handoff) != 1 || handoffString(r.handoff[0]) != "register|https://acme.sectigo.com/v2/OV|kid-1|"+onboardKey+"|a.example,b.example,www.a.example,c.example|web-prod-01||" {
		t.Errorf("--no-certificate handoff = %v", r.handoff)
	}

}

// scm onboard against refused domains and accounts that exist already.
func TestSCMOnboardExisting(t *testing.T) {
	s, base := onboardSCM(t)

	// a refused domain: warning, non-zero, no certonly
	r := runSCMApp(t, append(base, "-d", "refused.example")...)
	if r.err == nil || !strings.Contains(r.err.Error(), "refused.example") || len(r.handoff) != 0 {
		t.Errorf("refused domain: err %v, handoff %v", r.err, r.handoff)
	}
	if !strings.Contains(r.stderr, "WARNING: SCM did not add 1 domain(s) to ACME account 101: refused.example") {
		t.Errorf("refused domain warning:\n%s", r.stderr)
	}

	// an existing account found through its server *name* is reused
	s.PresetEAB("legacy", "kid-legacy", "legacy-key")
	old := s.AddAccount(scmtest.Account{Name: "legacy", ACMEServer: "OV ACME Server", OrganizationID: 1823, Domains: []string{"l.example"}})
	s.ResetRequests()
	r = runSCMApp(t, "scm", "onboard", "--org-id", "1823", "--name", "legacy", "--server", "https://acme.sectigo.com/v2/OV", "-d", "l.example")
	if r.err != nil || s.Count("POST", ".") != 0 || !strings.Contains(r.stderr, "id "+strconv.Itoa(old)) || len(r.handoff) != 1 || r.handoff[0].Onboarding.EAB.KeyID != "kid-legacy" {
		t.Errorf("legacy onboard: %v %v %s", r.err, r.handoff, r.stderr)
	}
	// a same-named account on another server is not taken
	r = runSCMApp(t, "scm", "onboard", "--org-id", "1823", "--name", "legacy", "--server", "sectigo-dv", "-d", "l.example")
	if r.err != nil || s.Count("POST", `^/api/acme/v2/account$`) != 1 {
		t.Errorf("onboard on DV with an OV account of that name should create a new one: %v", r.err)
	}

}

func TestSCMOnboardBadInput(t *testing.T) {
	_, base := onboardSCM(t)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"eab after --", append(append([]string{}, base...), "--", "--eab-kid", "x"), `--eab-kid after "--"`},
		{"server after --", append(append([]string{}, base...), "--", "--server=https://x"), `--server after "--"`},
		{"domain after --", append(append([]string{}, base...), "--", "-d", "x.example"), `-d after "--"`},
		{"unknown server", []string{"scm", "onboard", "--org-id", "1", "--name", "n", "--server", "letsencrypt", "-d", "a.example"}, "not one of this SCM tenant's servers"},
		{"bad org", []string{"scm", "onboard", "--org-id", "0", "--name", "n", "--server", "sectigo-ov", "-d", "a.example"}, "--org-id 0"},
		{"bad domain", []string{"scm", "onboard", "--org-id", "1", "--name", "n", "--server", "sectigo-ov", "-d", "a b"}, "not a valid domain"},
		{"no domain", []string{"scm", "onboard", "--org-id", "1", "--name", "n", "--server", "sectigo-ov"}, "domains"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runSCMApp(t, tc.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || len(r.handoff) != 0 {
				t.Errorf("err = %v (handoff %v), want %q", r.err, r.handoff, tc.want)
			}
		})
	}

	// wrong credentials: 401 Unknown user, nothing handed over, password not shown
	t.Setenv(envSCMPassword, "not-the-password")
	r := runSCMApp(t, base...)
	if !errors.Is(r.err, scm.ErrUnauthorized) || !strings.Contains(r.err.Error(), "Unknown user") || len(r.handoff) != 0 {
		t.Errorf("onboard with a wrong password: %v", r.err)
	}
	scmNoSecrets(t, r, "not-the-password")
}
