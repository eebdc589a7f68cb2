package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/manager"
)

// persistTree is a tree with one registered account at its Pebble, whose
// DNS test server (challtestsrv) is where records are published and read.
type persistTree struct {
	*tree
	accountURL string
}

func newPersistTree(t *testing.T, s *pebbletest.Server) *persistTree {
	t.Helper()
	tr := newTree(t, s)
	r := tr.mustRun("register", "-n", "--agree-tos", "-m", "persist@example.com", "--server", s.DirectoryURL)
	pt := &persistTree{tree: tr}
	for _, l := range strings.Split(r.stdout, "\n") {
		if u, ok := strings.CutPrefix(l, "Account registered: "); ok {
			pt.accountURL = strings.TrimSpace(u)
		}
	}
	if pt.accountURL == "" {
		t.Fatalf("no account URL in: %s", r)
	}
	return pt
}

// persist runs "dns-persist <verb>" against the tree's Pebble, reading DNS
// from its challtestsrv.
func (pt *persistTree) persist(verb string, args ...string) result {
	pt.t.Helper()
	return pt.run(append([]string{"dns-persist", verb, "--server", pt.s.DirectoryURL, "--dns-resolver", pt.s.DNSAddr}, args...)...)
}

// zoneRecord is one record line of "dns-persist records" output, parsed as
// a zone file would be.
type zoneRecord struct{ name, value string }

func parseZoneLines(t *testing.T, out string) []zoneRecord {
	t.Helper()
	var recs []zoneRecord
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("record line %q does not parse as a zone-file line: %v", l, err)
		}
		txt, ok := rr.(*dns.TXT)
		if !ok {
			t.Fatalf("record line %q is not TXT", l)
		}
		recs = append(recs, zoneRecord{strings.TrimSuffix(txt.Hdr.Name, "."), strings.Join(txt.Txt, "")})
	}
	return recs
}

// publishTXT replaces the TXT values of name at challtestsrv.
func publishTXT(t *testing.T, s *pebbletest.Server, name string, values ...string) {
	t.Helper()
	s.ChallSrv(t, "clear-txt", map[string]string{"host": name + "."})
	for _, v := range values {
		s.ChallSrv(t, "set-txt", map[string]string{"host": name + ".", "value": v})
	}
}

// txtQueries counts the TXT queries challtestsrv answered for name.
func txtQueries(t *testing.T, s *pebbletest.Server, name string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"host": name})
	resp, err := http.Post(s.ChallSrvURL+"/dns-request-history", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []struct{ Question struct{ Qtype uint16 } }
	if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
		t.Fatalf("dns-request-history: %v", err)
	}
	n := 0
	for _, e := range events {
		if e.Question.Qtype == dns.TypeTXT {
			n++
		}
	}
	return n
}

// TestE2EDNSPersist (issue 20, Must show 1): the printed records, published
// once, let certonly issue for a name and its wildcard with
// --preferred-challenges dns-persist-01 and no DNS provider or hook, and
// renew --force-renewal issue again with no DNS change.
func TestE2EDNSPersist(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	pt := newPersistTree(t, s)

	r := pt.persist("records", "-d", "p.example", "-d", "*.p.example")
	if r.code != 0 {
		t.Fatalf("dns-persist records: %s", r)
	}
	recs := parseZoneLines(t, r.stdout)
	want := "pebble.letsencrypt.org; accounturi=" + pt.accountURL + "; policy=wildcard"
	if len(recs) != 1 || recs[0].name != "_validation-persist.p.example" || recs[0].value != want {
		t.Fatalf("records %+v, want one _validation-persist.p.example %q\n%s", recs, want, r)
	}
	if !strings.Contains(r.stdout, "; p.example, *.p.example") || !strings.Contains(r.stdout, "; issuer domain names this CA accepts: pebble.letsencrypt.org") {
		t.Errorf("comments missing:\n%s", r.stdout)
	}
	// --json says the same.
	rj := pt.persist("records", "-d", "p.example", "-d", "*.p.example", "--json")
	var js manager.PersistRecords
	if err := json.Unmarshal([]byte(rj.stdout), &js); err != nil || rj.code != 0 {
		t.Fatalf("--json: %v\n%s", err, rj)
	}
	if len(js.Records) != 1 || js.Records[0].Name != recs[0].name || js.Records[0].Value != recs[0].value || js.Records[0].Type != "TXT" ||
		js.AccountURL != pt.accountURL || strings.Join(js.Records[0].For, ",") != "p.example,*.p.example" {
		t.Errorf("--json = %+v", js)
	}

	// Before publishing: check names the record to create, exit 1.
	r = pt.persist("check", "-d", "p.example", "-d", "*.p.example")
	if r.code != 1 || !strings.Contains(r.stdout, "p.example: FAIL (missing)") || !strings.Contains(r.stdout, `fix: create TXT _validation-persist.p.example "`+want+`"`) {
		t.Errorf("check before publishing: %s", r)
	}
	publishTXT(t, s, recs[0].name, recs[0].value)
	r = pt.persist("check", "-d", "p.example", "-d", "*.p.example")
	if r.code != 0 || !strings.Contains(r.stdout, "p.example: OK") || !strings.Contains(r.stdout, "*.p.example: OK") {
		t.Fatalf("check after publishing: %s", r)
	}

	// No authenticator, no provider, no hook.
	r = pt.run("certonly", "-n", "--server", s.DirectoryURL, "--preferred-challenges", "dns-persist-01", "-d", "p.example", "-d", "*.p.example",
		"--dns-resolver", s.DNSAddr)
	if r.code != 0 {
		t.Fatalf("certonly --preferred-challenges dns-persist-01: %s", r)
	}
	c := readCert(t, filepath.Join(pt.config, "live", "p.example", "cert.pem"))
	if !manager.SameSet(c.DNSNames, []string{"p.example", "*.p.example"}) {
		t.Errorf("DNSNames = %v", c.DNSNames)
	}
	conf, _ := os.ReadFile(filepath.Join(pt.config, "renewal", "p.example.conf"))
	for _, w := range []string{"pref_challs = dns-persist-01,", "dns_resolver = " + s.DNSAddr + ","} {
		if !strings.Contains(string(conf), w) {
			t.Errorf("renewal conf lacks %q:\n%s", w, conf)
		}
	}
	for _, no := range []string{"authenticator", "manual_auth_hook", "credentials"} {
		if strings.Contains(string(conf), no) {
			t.Errorf("renewal conf has %s:\n%s", no, conf)
		}
	}

	// Renewal: the same record, nothing published or changed.
	r = pt.run("renew", "--cert-name", "p.example", "--force-renewal", "--no-random-sleep-on-renew")
	if r.code != 0 || !strings.Contains(r.stdout, "all renewals succeeded") {
		t.Fatalf("renew --force-renewal: %s", r)
	}
	if _, err := os.Stat(filepath.Join(pt.config, "archive", "p.example", "cert2.pem")); err != nil {
		t.Errorf("no second version: %v", err)
	}
	if c2 := readCert(t, filepath.Join(pt.config, "live", "p.example", "cert.pem")); c2.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("renew did not replace the certificate")
	}

	// doctor: the record is accepted; names another account after a new
	// account takes the lineage; a persistUntil within 30 days warns.
	r = pt.run("doctor", "--cert-name", "p.example")
	if r.code != 0 || !strings.Contains(r.stdout, "dns-persist-01 record of *.p.example names account") || strings.Contains(r.stdout, "port") {
		t.Errorf("doctor: %s", r)
	}
	soon := strconv.FormatInt(time.Now().Add(10*24*time.Hour).Unix(), 10)
	publishTXT(t, s, recs[0].name, recs[0].value+"; persistUntil="+soon)
	r = pt.run("doctor", "--cert-name", "p.example")
	if r.code != 0 || !strings.Contains(r.stdout, "WARN  dns-persist-01 record of p.example: persistUntil 2") || !strings.Contains(r.stdout, "a later persistUntil") {
		t.Errorf("doctor, persistUntil in 10 days: %s", r)
	}
	publishTXT(t, s, recs[0].name) // removed
	r = pt.run("doctor", "--cert-name", "p.example")
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL  dns-persist-01 record of *.p.example: no TXT record at _validation-persist.p.example") ||
		!strings.Contains(r.stdout, "acmectl dns-persist records --cert-name p.example") ||
		strings.Count(r.stdout, `fix: create TXT _validation-persist.p.example "`+want+`"`) != 2 {
		t.Errorf("doctor, record removed: %s", r)
	}
	publishTXT(t, s, recs[0].name, recs[0].value)
	r2 := pt.run("register", "-n", "--agree-tos", "-m", "second@example.com", "--server", s.DirectoryURL, "--account", "new")
	if r2.code != 0 {
		t.Fatalf("second account: %s", r2)
	}
	newID := ""
	for _, l := range strings.Split(r2.stdout, "\n") {
		if id, ok := strings.CutPrefix(l, "Account ID: "); ok {
			newID = strings.TrimSpace(id)
		}
	}
	confPath := filepath.Join(pt.config, "renewal", "p.example.conf")
	b, _ := os.ReadFile(confPath)
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "account = ") {
			lines[i] = "account = " + newID
		}
	}
	if err := os.WriteFile(confPath, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	r = pt.run("doctor", "--cert-name", "p.example")
	if r.code != 1 || !strings.Contains(r.stdout, "(wrong-account)") || !strings.Contains(r.stdout, "the record names account "+pt.accountURL) {
		t.Errorf("doctor, lineage moved to another account: %s", r)
	}
}

// TestE2EDNSPersistRefusedBeforeValidation (issue 20, Must show 2 and 3): a
// record for another account, a wildcard without policy=wildcard and an
// expired persistUntil each stop certonly before the CA validates, with the
// record to publish in the error, and nothing saved; check says the same
// per name.
func TestE2EDNSPersistRefusedBeforeValidation(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	pt := newPersistTree(t, s)
	other := newPersistTree(t, s) // another account, in its own tree
	const is = "pebble.letsencrypt.org"
	mine := is + "; accounturi=" + pt.accountURL
	past := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	soon := strconv.FormatInt(time.Now().Add(5*24*time.Hour).Unix(), 10)

	publishTXT(t, s, "_validation-persist.acct.example", is+"; accounturi="+other.accountURL)
	publishTXT(t, s, "_validation-persist.wild.example", mine)
	publishTXT(t, s, "_validation-persist.expired.example", mine+"; persistUntil="+past)
	publishTXT(t, s, "_validation-persist.soon.example", mine+"; persistUntil="+soon)

	for _, tc := range []struct {
		name    string
		domains []string
		want    []string
	}{
		{"acct.example", []string{"acct.example"}, []string{
			"dns-persist-01: acct.example: the record names account " + other.accountURL + ", not " + pt.accountURL,
			`replace it with TXT _validation-persist.acct.example "` + mine + `"`}},
		{"wild.example", []string{"wild.example", "*.wild.example"}, []string{
			"dns-persist-01: *.wild.example: the record has no policy=wildcard",
			`add policy=wildcard: replace it with TXT _validation-persist.wild.example "` + mine + `; policy=wildcard"`}},
		{"expired.example", []string{"expired.example"}, []string{
			"dns-persist-01: expired.example: the record's persistUntil",
			"has passed",
			`replace it with TXT _validation-persist.expired.example "` + mine + `" (a later persistUntil, or none)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"certonly", "-n", "--server", s.DirectoryURL, "--preferred-challenges", "dns-persist-01", "--dns-resolver", s.DNSAddr}
			for _, d := range tc.domains {
				args = append(args, "-d", d)
			}
			r := pt.run(args...)
			if r.code != 1 {
				t.Fatalf("certonly exit %d, want 1: %s", r.code, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "urn:ietf:params:acme:error") || strings.Contains(r.stderr, "DNS-PERSIST-01 challenge") {
				t.Errorf("the CA validated (its problem is in the error):\n%s", r.stderr)
			}
			// Only the local check asked for the record, once per name
			// (Pebble's VA asks 3 times per validation).
			if n := txtQueries(t, s, "_validation-persist."+tc.name); n != len(tc.domains) {
				t.Errorf("%d TXT queries for the record, want %d (the local check; Pebble never validated)", n, len(tc.domains))
			}
			for _, p := range []string{filepath.Join("live", tc.name), filepath.Join("archive", tc.name), filepath.Join("renewal", tc.name+".conf")} {
				if _, err := os.Lstat(filepath.Join(pt.config, p)); err == nil {
					t.Errorf("%s was saved", p)
				}
			}
		})
	}

	// check, text: one block per name, exit 1.
	r := pt.persist("check", "-d", "acct.example", "-d", "*.wild.example", "-d", "wild.example", "-d", "expired.example", "-d", "soon.example", "-d", "none.example")
	if r.code != 1 || !strings.Contains(r.stderr, "the CA would refuse the dns-persist-01 record of 4 of 6 names") {
		t.Errorf("check exit/summary: %s", r)
	}
	for _, w := range []string{
		"Account ", "issuer domain names: " + is,
		"acct.example: FAIL (wrong-account) the record names account " + other.accountURL + ", not " + pt.accountURL,
		"*.wild.example: FAIL (no-wildcard-policy) the record has no policy=wildcard",
		`  fix: add policy=wildcard: replace it with TXT _validation-persist.wild.example "` + mine + `; policy=wildcard"`,
		"wild.example: OK the CA would accept it",
		"expired.example: FAIL (expired) the record's persistUntil",
		"soon.example: WARN persistUntil",
		"none.example: FAIL (missing) no TXT record at _validation-persist.none.example names the CA (" + is + ")",
		`  fix: create TXT _validation-persist.none.example "` + mine + `"`,
		"  read from: resolver " + s.DNSAddr,
		`  record: TXT _validation-persist.acct.example "` + is + "; accounturi=" + other.accountURL + `"`,
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("check output lacks %q:\n%s", w, r.stdout)
		}
	}
	// check --json: the same verdicts.
	r = pt.persist("check", "-d", "acct.example", "-d", "*.wild.example", "-d", "expired.example", "-d", "soon.example", "--json")
	var js manager.PersistCheck
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || r.code != 1 {
		t.Fatalf("check --json: %v\n%s", err, r)
	}
	var got []string
	for _, v := range js.Verdicts {
		got = append(got, fmt.Sprintf("%s=%s", v.Name, v.Status))
	}
	if strings.Join(got, " ") != "acct.example=wrong-account *.wild.example=no-wildcard-policy expired.example=expired soon.example=ok" {
		t.Errorf("check --json verdicts %v", got)
	}
	if js.Verdicts[3].Warning == "" || js.Verdicts[3].PersistUntil == nil {
		t.Errorf("soon.example: %+v", js.Verdicts[3])
	}
	// A persistUntil within 30 days issues, with a warning naming the fix;
	// here Pebble validates, and its queries show in the count the refused
	// cases above kept at the local check's.
	q0 := txtQueries(t, s, "_validation-persist.soon.example")
	r = pt.run("certonly", "-n", "--server", s.DirectoryURL, "--preferred-challenges", "dns-persist-01", "--dns-resolver", s.DNSAddr, "-d", "soon.example")
	if r.code != 0 || !strings.Contains(r.stderr, "Warning: soon.example: _validation-persist.soon.example: persistUntil") {
		t.Errorf("certonly with persistUntil in 5 days: %s", r)
	}
	if n := txtQueries(t, s, "_validation-persist.soon.example") - q0; n < 2 {
		t.Errorf("%d TXT queries during a validated issuance, want the local check's and Pebble's", n)
	}
}

// TestE2EDNSPersistSwitchFromDNS01: a dns-01 lineage (manual hook writing
// _acme-challenge records) is switched to dns-persist-01 with reconfigure,
// as the README shows; renew then needs no hook.
func TestE2EDNSPersistSwitchFromDNS01(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	pt := newPersistTree(t, s)
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth.sh")
	log := filepath.Join(dir, "hook.log")
	if err := os.WriteFile(auth, []byte(`#!/bin/sh
echo "$CERTBOT_DOMAIN" >> `+log+`
curl -sf -d "{\"host\":\"_acme-challenge.$CERTBOT_DOMAIN.\",\"value\":\"$CERTBOT_VALIDATION\"}" `+s.ChallSrvURL+`/set-txt
`), 0o755); err != nil {
		t.Fatal(err)
	}
	pt.mustRun("certonly", "-n", "--server", s.DirectoryURL, "--manual", "--preferred-challenges", "dns", "--manual-auth-hook", auth,
		"-d", "sw.example", "-d", "*.sw.example", "--cert-name", "sw")
	r := pt.persist("records", "--cert-name", "sw")
	recs := parseZoneLines(t, r.stdout)
	if r.code != 0 || len(recs) != 1 || !strings.HasSuffix(recs[0].value, "; policy=wildcard") {
		t.Fatalf("records --cert-name: %s", r)
	}
	// Before the record exists, reconfigure's test issuance fails and changes nothing.
	r = pt.run("reconfigure", "--cert-name", "sw", "--preferred-challenges", "dns-persist-01", "--dns-resolver", s.DNSAddr)
	conf, _ := os.ReadFile(filepath.Join(pt.config, "renewal", "sw.conf"))
	// Both names are reported in one error, each with the shared record (policy=wildcard).
	if r.code != 1 || strings.Count(r.stderr, `create TXT _validation-persist.sw.example "`+recs[0].value+`"`) != 2 ||
		!strings.Contains(r.stderr, "dns-persist-01: sw.example: ") || !strings.Contains(r.stderr, "dns-persist-01: *.sw.example: ") ||
		!strings.Contains(string(conf), "pref_challs = dns-01,") {
		t.Errorf("reconfigure without the record: %s\n%s", r, conf)
	}
	publishTXT(t, s, recs[0].name, recs[0].value)
	pt.mustRun("reconfigure", "--cert-name", "sw", "--preferred-challenges", "dns-persist-01", "--dns-resolver", s.DNSAddr)
	conf, _ = os.ReadFile(filepath.Join(pt.config, "renewal", "sw.conf"))
	if !strings.Contains(string(conf), "pref_challs = dns-persist-01,") {
		t.Errorf("conf after reconfigure:\n%s", conf)
	}
	before, _ := os.ReadFile(log)
	pt.mustRun("renew", "--cert-name", "sw", "--force-renewal", "--no-random-sleep-on-renew")
	after, _ := os.ReadFile(log)
	if !bytes.Equal(before, after) {
		t.Errorf("the manual hook ran after the switch:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(pt.config, "archive", "sw", "cert2.pem")); err != nil {
		t.Errorf("renew after the switch did not save a version: %v", err)
	}

	// certbot has no dns-persist-01: it skips the lineage as an invalid
	// conf (README); switched back, certbot renews it with the hook again.
	certbot := func(args ...string) (string, error) {
		if _, err := exec.LookPath("certbot"); err != nil {
			t.Fatalf("certbot is needed (Debian package certbot): %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "certbot", append([]string{"-n", "--config-dir", pt.config, "--work-dir", pt.work, "--logs-dir", pt.logs}, args...)...)
		cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+s.CABundle)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := certbot("renew", "--cert-name", "sw", "--force-renewal", "--no-random-sleep-on-renew")
	if err == nil || !strings.Contains(out, "sw.conf (parsefail)") {
		t.Errorf("certbot renew of a dns-persist-01 lineage: %v\n%s", err, out)
	}
	pt.mustRun("reconfigure", "--cert-name", "sw", "--preferred-challenges", "dns")
	if out, err := certbot("renew", "--cert-name", "sw", "--force-renewal", "--no-random-sleep-on-renew"); err != nil {
		t.Errorf("certbot renew after switching back: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(pt.config, "archive", "sw", "cert3.pem")); err != nil {
		t.Errorf("certbot did not renew after the switch back: %v", err)
	}
}

// TestE2EDNSPersistCreateOnce: "dns-persist records --dns exec" creates the
// records once through lego's exec contract, with the settings from
// --dns-credentials; they are saved nowhere, and issuance then needs none.
// A provider that can only write _acme-challenge records is refused.
func TestE2EDNSPersistCreateOnce(t *testing.T) {
	skipShort(t)
	t.Parallel()
	s := pebbletest.Start(t, pebbletest.Options{})
	pt := newPersistTree(t, s)
	dir := t.TempDir()
	script := filepath.Join(dir, "publish.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
test "$1" = present && test "$PUBLISH_TOKEN" = s3cret-token || exit 3
curl -sf -d "{\"host\":\"$2\",\"value\":\"$3\"}" `+s.ChallSrvURL+`/set-txt
`), 0o755); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(dir, "exec.ini")
	if err := os.WriteFile(creds, []byte("EXEC_PATH="+script+"\nPUBLISH_TOKEN=s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := pt.persist("records", "-d", "e.example", "-d", "*.e.example", "-d", "f.example", "--dns", "exec", "--dns-credentials", creds)
	if r.code != 0 || !strings.Contains(r.stderr, "Created 2 records through --dns exec") || len(parseZoneLines(t, r.stdout)) != 2 {
		t.Fatalf("records --dns exec: %s", r)
	}
	pt.mustRun("dns-persist", "check", "--server", s.DirectoryURL, "--dns-resolver", s.DNSAddr, "-d", "e.example", "-d", "*.e.example", "-d", "f.example")
	pt.mustRun("certonly", "-n", "--server", s.DirectoryURL, "--preferred-challenges", "dns-persist-01", "--dns-resolver", s.DNSAddr,
		"-d", "e.example", "-d", "*.e.example", "-d", "f.example")
	err := filepath.Walk(pt.config, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("s3cret-token")) || bytes.Contains(b, []byte(creds)) || bytes.Contains(b, []byte("exec")) {
			t.Errorf("%s holds the DNS credentials or provider:\n%s", p, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	r = pt.persist("records", "-d", "g.example", "--dns", "cloudflare")
	if r.code != 2 || !strings.Contains(r.stderr, "--dns cloudflare: lego's cloudflare provider can only write _acme-challenge records") {
		t.Errorf("records --dns cloudflare: %s", r)
	}
	r = pt.persist("records", "-d", "g.example", "--standalone")
	if r.code != 2 || !strings.Contains(r.stderr, "only through --dns PROVIDER") {
		t.Errorf("records --standalone: %s", r)
	}

	// Bad input: a clear line, the right exit code, nothing written.
	fresh := newTree(t, s)
	for _, tc := range []struct {
		tr   *tree
		args []string
		code int
		want string
	}{
		{pt.tree, []string{"dns-persist", "records", "--server", s.DirectoryURL}, 2, "--domain NAME (or --cert-name NAME)"},
		{pt.tree, []string{"dns-persist", "records", "--server", s.DirectoryURL, "--ip-address", "192.0.2.1", "-d", "a.example"}, 2, "proves DNS names only"},
		{pt.tree, []string{"dns-persist", "records", "--server", s.DirectoryURL, "-d", "a.example", "--persist-issuer", "other.example"}, 2, `issuer "other.example" is not one the CA accepts (pebble.letsencrypt.org)`},
		{pt.tree, []string{"dns-persist", "records", "--server", s.DirectoryURL, "-d", "a.example", "--persist-until", "2001-01-01"}, 2, "is in the past"},
		{pt.tree, []string{"dns-persist", "check", "--server", s.DirectoryURL, "--cert-name", "nosuch"}, 2, "no certificate named nosuch"},
		{pt.tree, []string{"dns-persist", "publish"}, 2, `unknown subcommand "publish"`},
		{fresh, []string{"dns-persist", "records", "--server", s.DirectoryURL, "-d", "a.example"}, 1, "no account is registered at " + s.DirectoryURL + "; run 'acmectl register"},
	} {
		r := tc.tr.run(tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: %s\nwant exit %d and one line with %q", tc.args, r, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(fresh.config, "accounts")); err == nil {
		t.Error("records registered an account")
	}
}
