package scm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/scm"
	"github.com/acmectl/acmectl/scm/scmtest"
)

const onboardKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

// aliases stands in for acmectl's --server aliases.
func aliases(v string) (string, error) {
	if v == "sectigo-ov" {
		return "https://acme.sectigo.com/v2/OV", nil
	}
	return "", fmt.Errorf("%q is no alias", v)
}

func TestOnboard(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{NotAddedDomains: []string{"refused.example"}})
	s.PresetEAB("web-prod-01", "kid-1", onboardKey)
	c := newClient(t, s)
	var steps []string
	req := scm.OnboardRequest{OrganizationID: 1823, AccountName: "web-prod-01", Server: "sectigo-ov", ServerAlias: aliases,
		Domains: []string{"A.example", "b.example,www.a.example."},
		Progress: func(ev scm.OnboardEvent) {
			steps = append(steps, string(ev.Step)+" "+strconv.Itoa(ev.Account.ID)+" "+strings.Join(ev.Domains, ","))
		}}

	// First run: the account is created, every domain added.
	ob, err := c.Onboard(t.Context(), req)
	if err != nil {
		t.Fatalf("Onboard: %v", err)
	}
	want := []string{"a.example", "b.example", "www.a.example"}
	if !ob.Created || ob.Server.URL != "https://acme.sectigo.com/v2/OV" || ob.EAB.KeyID != "kid-1" || string(ob.EAB.HMACKey) != onboardKey ||
		!slices.Equal(ob.Domains, want) || !slices.Equal(ob.Added, want) || ob.CertName != "web-prod-01" || ob.Account.ID != 101 {
		t.Errorf("first Onboard = %+v", ob)
	}
	if got := strings.Join(steps, "|"); got != "account_created 101 |domains_added 101 a.example,b.example,www.a.example" {
		t.Errorf("progress = %q", got)
	}
	if a, _ := s.Account(101); !slices.Equal(a.Domains, want) || a.OrganizationID != 1823 {
		t.Errorf("SCM account = %+v", a)
	}

	// Second run: only reads.
	s.ResetRequests()
	steps = nil
	ob, err = c.Onboard(t.Context(), req)
	if err != nil || ob.Created || len(ob.Added) != 0 || ob.EAB.KeyID != "kid-1" {
		t.Fatalf("second Onboard = %+v, %v", ob, err)
	}
	if n := s.Count("POST", ".") + s.Count("PUT", ".") + s.Count("DELETE", "."); n != 0 {
		t.Errorf("second run changed SCM: %d requests", n)
	}
	if got := strings.Join(steps, "|"); got != "account_found 101 |domains_present 101 a.example,b.example,www.a.example" {
		t.Errorf("second progress = %q", got)
	}

	// One more domain: only it is added; a refused one is a *DomainError.
	s.ResetRequests()
	req.Domains = append(req.Domains, "c.example")
	if ob, err = c.Onboard(t.Context(), req); err != nil || !slices.Equal(ob.Added, []string{"c.example"}) {
		t.Errorf("third Onboard = %+v, %v", ob, err)
	}
	req.Domains = append(req.Domains, "refused.example")
	var de *scm.DomainError
	if ob, err = c.Onboard(t.Context(), req); !errors.As(err, &de) || !slices.Equal(de.Domains, []string{"refused.example"}) || ob != nil {
		t.Errorf("refused domain: %+v, %v", ob, err)
	}
	// Progress is optional.
	req.Progress, req.Domains = nil, []string{"a.example"}
	if _, err := c.Onboard(t.Context(), req); err != nil {
		t.Errorf("Onboard without Progress: %v", err)
	}
}

func TestOnboardAccountChoice(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	c := newClient(t, s)
	// An account stored with the server's name (not its URL) is found by URL.
	s.PresetEAB("legacy", "kid-legacy", onboardKey)
	old := s.AddAccount(scmtest.Account{Name: "legacy", ACMEServer: "OV ACME Server", OrganizationID: 7, Domains: []string{"l.example"}})
	ob, err := c.Onboard(t.Context(), scm.OnboardRequest{OrganizationID: 7, AccountName: "legacy", Server: "https://acme.sectigo.com/v2/OV/", Domains: []string{"l.example"}})
	if err != nil || ob.Created || ob.Account.ID != old || ob.EAB.KeyID != "kid-legacy" {
		t.Errorf("legacy: %+v, %v", ob, err)
	}
	// The same name on another server, or in another organization, is another account.
	for _, r := range []scm.OnboardRequest{
		{OrganizationID: 7, AccountName: "legacy", Server: "DV ACME Server", Domains: []string{"l.example"}},
		{OrganizationID: 8, AccountName: "legacy", Server: "OV ACME Server", Domains: []string{"l.example"}},
	} {
		if ob, err := c.Onboard(t.Context(), r); err != nil || !ob.Created || ob.Account.ID == old {
			t.Errorf("%+v: %+v, %v; want a new account", r, ob, err)
		}
	}
	// Two of that name: refused, naming both.
	dup := s.AddAccount(scmtest.Account{Name: "legacy", ACMEServer: "https://acme.sectigo.com/v2/OV", OrganizationID: 7})
	_, err = c.Onboard(t.Context(), scm.OnboardRequest{OrganizationID: 7, AccountName: "legacy", Server: "OV ACME Server", Domains: []string{"l.example"}})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("ids %d, %d", old, dup)) {
		t.Errorf("two accounts of one name: %v", err)
	}
}

func TestOnboardBadInput(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	c := newClient(t, s)
	ok := scm.OnboardRequest{OrganizationID: 1, AccountName: "n", Server: "OV ACME Server", Domains: []string{"a.example"}}
	for _, tc := range []struct {
		name string
		edit func(*scm.OnboardRequest)
		want string
	}{
		{"no name", func(r *scm.OnboardRequest) { r.AccountName = " " }, "empty SCM ACME account name"},
		{"no org", func(r *scm.OnboardRequest) { r.OrganizationID = 0 }, "organization id 0"},
		{"no server", func(r *scm.OnboardRequest) { r.Server = "" }, "no ACME server"},
		{"no domains", func(r *scm.OnboardRequest) { r.Domains = []string{" , "} }, "no domains"},
		{"bad domain", func(r *scm.OnboardRequest) { r.Domains = []string{"a b.example"} }, `"a b.example" is not a valid domain name`},
	} {
		r := ok
		tc.edit(&r)
		var ie *scm.InputError
		if _, err := c.Onboard(t.Context(), r); !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an *InputError with %q", tc.name, err, tc.want)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
	// An unknown server names the tenant's.
	r := ok
	r.Server, r.ServerAlias = "letsencrypt", aliases
	var se *scm.UnknownServerError
	_, err := c.Onboard(t.Context(), r)
	if !errors.As(err, &se) || !strings.Contains(err.Error(), `ACME server "letsencrypt" is not one of this SCM tenant's servers: "DV ACME Server" (https://acme.sectigo.com/v2/DV)`) {
		t.Errorf("unknown server: %v", err)
	}
}

// An account SCM returns without macKey cannot be used: a clear error, no
// empty credentials.
func TestOnboardNoEAB(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	target, _ := url.Parse(s.HTTP.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	macKey := regexp.MustCompile(`"macKey"\s*:\s*"[^"]*"`)
	proxy.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		b = macKey.ReplaceAll(b, []byte(`"macKey":""`))
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		resp.Header.Del("Content-Length")
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	c := newClient(t, s)
	c.BaseURL, c.HTTPClient = front.URL+"/api", front.Client()
	_, err := c.Onboard(t.Context(), scm.OnboardRequest{OrganizationID: 1, AccountName: "n", Server: "OV ACME Server", Domains: []string{"a.example"}})
	if err == nil || !strings.Contains(err.Error(), "has no EAB credentials (macId/macKey)") {
		t.Errorf("account without macKey: %v", err)
	}
}

// The EAB credentials print and log as "redacted" in every form.
func TestEABRedacted(t *testing.T) {
	e := scm.EAB{KeyID: "kid-1", HMACKey: onboardKey}
	ob := scm.Onboarding{EAB: e, Account: scm.Account{MACID: "kid-1", MACKey: onboardKey}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("onboarded", "eab", e, "onboarding", ob)
	js, err := json.Marshal(ob)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{e.String(), fmt.Sprint(e), fmt.Sprintf("%v %+v %#v %s %q %x", e, e, e, e, e, e),
		fmt.Sprintf("%v %+v", ob, ob), fmt.Sprintf("%+v", &ob), logged.String(), string(js)} {
		if strings.Contains(out, onboardKey) || strings.Contains(out, fmt.Sprintf("%x", onboardKey)) || !strings.Contains(out, "redacted") {
			t.Errorf("shows the key or lacks %q: %s", "redacted", out)
		}
	}
	if got := e.String(); got != "EAB{kid:kid-1 hmac:redacted}" {
		t.Errorf("String() = %q", got)
	}
	if !strings.Contains(logged.String(), `"eab":{"kid":"kid-1","hmac_key":"redacted"}`) {
		t.Errorf("log record: %s", logged.String())
	}
}
