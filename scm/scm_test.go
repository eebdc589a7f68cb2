package scm_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmectl/acmectl/scm"
	"github.com/acmectl/acmectl/scm/scmtest"
)

func newClient(t *testing.T, s *scmtest.Server) *scm.Client {
	t.Helper()
	return &scm.Client{
		BaseURL:      s.URL,
		Login:        scmtest.DefaultLogin,
		Password:     scmtest.DefaultPassword,
		CustomerURI:  scmtest.DefaultCustomerURI,
		HTTPClient:   s.HTTP.Client(),
		Timeout:      10 * time.Second,
		RetryBackoff: func(int) time.Duration { return time.Millisecond },
	}
}

func TestAccountLifecycle(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	s.PresetEAB("web-prod-01", "kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W")
	c := newClient(t, s)
	ctx := t.Context()

	a, err := c.CreateAccount(ctx, scm.AccountRequest{Name: "web-prod-01", ACMEServer: "OV ACME Server", OrganizationID: 1823})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if a.ID == 0 || a.Name != "web-prod-01" || a.OrganizationID != 1823 || a.ACMEServer != "OV ACME Server" {
		t.Errorf("CreateAccount = %+v", a)
	}
	if a.MACID != "kid-1" || string(a.MACKey) != "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W" {
		t.Errorf("CreateAccount EAB = %q, (key len %d); want the preset", a.MACID, len(a.MACKey))
	}
	if !a.StatusIs(scm.StatusPending) || a.StatusIs(scm.StatusValid) {
		t.Errorf("status %q: StatusIs(pending) should hold case-insensitively", a.Status)
	}
	if a.CertValidationType != "OV" {
		t.Errorf("CertValidationType = %q, want OV", a.CertValidationType)
	}
	// create = POST then GET of the Location id
	if n := s.Count("POST", `^/api/acme/v2/account$`); n != 1 {
		t.Errorf("POST account count = %d, want 1", n)
	}
	if n := s.Count("GET", fmt.Sprintf(`^/api/acme/v2/account/%d$`, a.ID)); n != 1 {
		t.Errorf("GET account after create = %d, want 1", n)
	}

	got, err := c.GetAccount(ctx, a.ID)
	if err != nil || got.MACID != a.MACID || got.MACKey != a.MACKey {
		t.Fatalf("GetAccount = %+v, %v", got, err)
	}

	if err := c.RenameAccount(ctx, a.ID, "web-prod-02"); err != nil {
		t.Fatalf("RenameAccount: %v", err)
	}
	if sa, _ := s.Account(a.ID); sa.Name != "web-prod-02" {
		t.Errorf("after rename name = %q", sa.Name)
	}
	if err := c.RenameAccount(ctx, a.ID, ""); err == nil {
		t.Errorf("RenameAccount with empty name: no error")
	}

	list, err := c.ListAccounts(ctx, scm.AccountFilter{OrganizationID: 1823, Name: "web-prod-02", Status: "PENDING", ACMEServer: "https://acme.sectigo.com/v2/OV"})
	if err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("ListAccounts = %+v, %v; want the one account", list, err)
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	for k, want := range map[string]string{"organizationId": "1823", "name": "web-prod-02", "status": "PENDING", "position": "0", "size": "200"} {
		if got := last.Query.Get(k); got != want {
			t.Errorf("list query %s = %q, want %q", k, got, want)
		}
	}
	if _, err := c.ListAccounts(ctx, scm.AccountFilter{OrganizationID: 1823, OrganizationOnly: true}); err != nil {
		t.Fatal(err)
	}
	reqs = s.Requests()
	if got := reqs[len(reqs)-1].Query.Get("organizationId"); got != "1823,-2" {
		t.Errorf("OrganizationOnly query = %q, want 1823,-2", got)
	}

	if err := c.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	_, err = c.GetAccount(ctx, a.ID)
	var se *scm.Error
	if !errors.As(err, &se) || se.StatusCode != 404 || !errors.Is(err, scm.ErrNotFound) {
		t.Fatalf("GetAccount after delete: %v, want *scm.Error 404", err)
	}
	if err := c.DeleteAccount(ctx, a.ID); !errors.Is(err, scm.ErrNotFound) {
		t.Errorf("DeleteAccount twice: %v, want ErrNotFound", err)
	}
}

func TestCreateAccountValidation(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	c := newClient(t, s)
	for _, tc := range []struct {
		name string
		req  scm.AccountRequest
		want string
	}{
		{"no name", scm.AccountRequest{ACMEServer: "OV ACME Server", OrganizationID: 1}, "name is empty"},
		{"long name", scm.AccountRequest{Name: strings.Repeat("a", 129), ACMEServer: "x", OrganizationID: 1}, "at most 128"},
		{"no server", scm.AccountRequest{Name: "a", OrganizationID: 1}, "acme server is empty"},
		{"no org", scm.AccountRequest{Name: "a", ACMEServer: "x"}, "organization id 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateAccount(t.Context(), tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CreateAccount = %v, want error containing %q", err, tc.want)
			}
		})
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("invalid requests reached the server %d times", n)
	}
	// server-side rejection surfaces as *scm.Error with code and description
	_, err := c.CreateAccount(t.Context(), scm.AccountRequest{Name: "a", ACMEServer: "No Such Server", OrganizationID: 1})
	var se *scm.Error
	if !errors.As(err, &se) || se.StatusCode != 400 || !strings.Contains(se.Description, "No Such Server") {
		t.Errorf("CreateAccount unknown server = %v, want *scm.Error 400", err)
	}
}

func TestDomains(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{NotAddedDomains: []string{"bad.example", "worse.example"}})
	c := newClient(t, s)
	ctx := t.Context()
	id := s.AddAccount(scmtest.Account{Name: "a", ACMEServer: "OV ACME Server", OrganizationID: 1})

	if err := c.AddDomains(ctx, id, []string{"a.example", "www.a.example"}); err != nil {
		t.Fatalf("AddDomains: %v", err)
	}
	req := s.Requests()[0]
	if req.Method != "POST" || req.Body != `{"domains":[{"name":"a.example"},{"name":"www.a.example"}]}` {
		t.Errorf("AddDomains sent %s %s", req.Method, req.Body)
	}
	err := c.AddDomains(ctx, id, []string{"worse.example", "b.example", "bad.example"})
	var de *scm.DomainError
	if !errors.As(err, &de) || de.Op != "add" || de.AccountID != id || strings.Join(de.Domains, ",") != "bad.example,worse.example" {
		t.Fatalf("AddDomains refused = %v, want *DomainError naming bad.example,worse.example", err)
	}
	if !strings.Contains(err.Error(), "bad.example, worse.example") {
		t.Errorf("error text %q does not name the domains", err)
	}
	if err := c.AddDomains(ctx, id, nil); err == nil {
		t.Error("AddDomains(nil): no error")
	}

	ds, err := c.ListDomains(ctx, id, scm.DomainFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "a.example,www.a.example,b.example" {
		t.Errorf("ListDomains = %s", got)
	}
	ds, err = c.ListDomains(ctx, id, scm.DomainFilter{Name: `^www\.`, ExpiresWithinNextDays: 30})
	if err != nil || len(ds) != 1 || ds[0].Name != "www.a.example" || ds[0].ValidUntil == "" {
		t.Errorf("ListDomains(regex) = %+v, %v", ds, err)
	}
	last := s.Requests()[len(s.Requests())-1]
	if last.Query.Get("name") != `^www\.` || last.Query.Get("expiresWithinNextDays") != "30" {
		t.Errorf("ListDomains query = %v", last.Query)
	}

	if err := c.RemoveDomains(ctx, id, []string{"b.example"}); err != nil {
		t.Fatalf("RemoveDomains: %v", err)
	}
	last = s.Requests()[len(s.Requests())-1]
	if last.Method != "DELETE" || last.Body != `{"domains":[{"name":"b.example"}]}` {
		t.Errorf("RemoveDomains sent %s %s", last.Method, last.Body)
	}
	err = c.RemoveDomains(ctx, id, []string{"nope.example"})
	if !errors.As(err, &de) || de.Op != "remove" || de.Domains[0] != "nope.example" || !strings.Contains(err.Error(), "removed from") {
		t.Errorf("RemoveDomains unknown = %v", err)
	}
	if err := c.AddDomains(ctx, 9999, []string{"x.example"}); !errors.Is(err, scm.ErrNotFound) {
		t.Errorf("AddDomains unknown account = %v, want ErrNotFound", err)
	}
}

func TestClients(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	c := newClient(t, s)
	ctx := t.Context()
	id := s.AddAccount(scmtest.Account{Name: "a", ACMEServer: "OV ACME Server", OrganizationID: 1})
	s.AddClient(id, scmtest.Client{AccountID: "14b0e312-4698-44f4-9e55-2ea1acc7a2dd", UserAgent: "acmectl/1", IPAddress: "192.0.2.1"})
	s.AddClient(id, scmtest.Client{AccountID: "c2", Status: "Pending"})

	cs, err := c.ListClients(ctx, id, scm.ClientFilter{})
	if err != nil || len(cs) != 2 || cs[0].UserAgent != "acmectl/1" {
		t.Fatalf("ListClients = %+v, %v", cs, err)
	}
	cs, err = c.ListClients(ctx, id, scm.ClientFilter{Status: "pending"})
	if err != nil || len(cs) != 1 || !cs[0].StatusIs("PENDING") {
		t.Fatalf("ListClients(status) = %+v, %v", cs, err)
	}
	if err := c.DeactivateClient(ctx, id, "14b0e312-4698-44f4-9e55-2ea1acc7a2dd"); err != nil {
		t.Fatalf("DeactivateClient: %v", err)
	}
	a, _ := s.Account(id)
	if a.Clients[0].Status != "deactivated" {
		t.Errorf("client status = %q after deactivate", a.Clients[0].Status)
	}
	if n := s.Count("PUT", `/client/14b0e312-4698-44f4-9e55-2ea1acc7a2dd$`); n != 1 {
		t.Errorf("PUT client count = %d", n)
	}
	if err := c.DeactivateClient(ctx, id, "unknown"); !errors.Is(err, scm.ErrNotFound) {
		t.Errorf("DeactivateClient unknown = %v, want ErrNotFound", err)
	}
	if err := c.DeactivateClient(ctx, id, "../x"); err == nil {
		t.Error("DeactivateClient with a path in the id: no error")
	}
	if _, err := c.ListClients(ctx, 4242, scm.ClientFilter{}); !errors.Is(err, scm.ErrNotFound) {
		t.Errorf("ListClients unknown account = %v", err)
	}
}

func TestServers(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	c := newClient(t, s)
	ss, err := c.ListServers(t.Context(), scm.ServerFilter{})
	if err != nil || len(ss) != 3 {
		t.Fatalf("ListServers = %+v, %v", ss, err)
	}
	ov := ss[1]
	if ov.URL != "https://acme.sectigo.com/v2/OV" || ov.CertValidationType != "OV" || ov.Active == nil || !*ov.Active {
		t.Errorf("ListServers[1] = %+v", ov)
	}
	for _, tc := range []struct {
		v    string
		want bool
	}{{"OV ACME Server", true}, {"ov acme server", true}, {"https://acme.sectigo.com/v2/OV/", true}, {"https://acme.sectigo.com/v2/DV", false}, {"", false}} {
		if got := ov.Matches(tc.v); got != tc.want {
			t.Errorf("Matches(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
	ss, err = c.ListServers(t.Context(), scm.ServerFilter{CertValidationType: "EV"})
	if err != nil || len(ss) != 1 || ss[0].Name != "EV ACME Server" {
		t.Errorf("ListServers(EV) = %+v, %v", ss, err)
	}
}

func TestPaging(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	for i := range 451 {
		s.AddAccount(scmtest.Account{Name: "acct-" + strconv.Itoa(i), ACMEServer: "OV ACME Server", OrganizationID: 7})
	}
	s.AddAccount(scmtest.Account{Name: "other", ACMEServer: "OV ACME Server", OrganizationID: 8})
	c := newClient(t, s)
	all, err := c.ListAccounts(t.Context(), scm.AccountFilter{OrganizationID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 451 {
		t.Fatalf("ListAccounts = %d accounts, want 451", len(all))
	}
	seen := map[int]bool{}
	for _, a := range all {
		if seen[a.ID] {
			t.Fatalf("account %d listed twice", a.ID)
		}
		seen[a.ID] = true
	}
	var positions []string
	for _, r := range s.Requests() {
		if r.Query.Get("size") != "200" {
			t.Errorf("page size %q, want 200", r.Query.Get("size"))
		}
		positions = append(positions, r.Query.Get("position"))
	}
	if got := strings.Join(positions, ","); got != "0,200,400" {
		t.Errorf("positions = %s, want 0,200,400 (stop at X-Total-Count)", got)
	}

	// a smaller page size; the server's X-Total-Count says when to stop
	s.ResetRequests()
	c.PageSize = 50
	all, err = c.ListAccounts(t.Context(), scm.AccountFilter{})
	if err != nil || len(all) != 452 {
		t.Fatalf("ListAccounts(size 50) = %d, %v", len(all), err)
	}
	if n := len(s.Requests()); n != 10 {
		t.Errorf("pages fetched = %d, want 10", n)
	}
	// an exact multiple: total 200 needs exactly one request
	s2 := scmtest.New(t, scmtest.Options{})
	for i := range 200 {
		s2.AddAccount(scmtest.Account{Name: strconv.Itoa(i), ACMEServer: "x", OrganizationID: 1})
	}
	all, err = newClient(t, s2).ListAccounts(t.Context(), scm.AccountFilter{})
	if err != nil || len(all) != 200 || len(s2.Requests()) != 1 {
		t.Errorf("200 accounts: got %d in %d requests, %v", len(all), len(s2.Requests()), err)
	}
}

// A server without X-Total-Count: paging stops at a short page.
func TestPagingWithoutTotal(t *testing.T) {
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		pos, _ := strconv.Atoi(r.URL.Query().Get("position"))
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		var out []map[string]any
		for i := pos; i < min(pos+size, 25); i++ {
			out = append(out, map[string]any{"id": i + 1, "name": "n", "futureField": map[string]int{"x": 1}})
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(hs.Close)
	c := &scm.Client{BaseURL: hs.URL + "/api", Login: "l", Password: "p", CustomerURI: "c", PageSize: 10}
	all, err := c.ListAccounts(t.Context(), scm.AccountFilter{})
	if err != nil || len(all) != 25 || all[24].ID != 25 {
		t.Fatalf("ListAccounts = %d, %v", len(all), err)
	}
	if calls.Load() != 3 {
		t.Errorf("calls = %d, want 3", calls.Load())
	}
}

func TestAuthErrors(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	for _, tc := range []struct {
		name  string
		tweak func(*scm.Client)
		want  string // error text part, or "" for a local config error check
	}{
		{"wrong password", func(c *scm.Client) { c.Password = "wrong" }, "Unknown user"},
		{"wrong login", func(c *scm.Client) { c.Login = "eve" }, "Unknown user"},
		{"wrong customer", func(c *scm.Client) { c.CustomerURI = "other" }, "Unknown user"},
		{"client cert without a certificate", func(c *scm.Client) { c.ClientCert = true }, "Unknown user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, s)
			tc.tweak(c)
			_, err := c.ListServers(t.Context(), scm.ServerFilter{})
			var se *scm.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *scm.Error", err)
			}
			if se.StatusCode != 401 || se.Code != -16 || se.Description != "Unknown user" || !errors.Is(err, scm.ErrUnauthorized) {
				t.Errorf("err = %+v, want 401 -16 Unknown user", se)
			}
			if strings.Contains(err.Error(), scmtest.DefaultPassword) || strings.Contains(err.Error(), "wrong") {
				t.Errorf("error text contains the password: %v", err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		c    scm.Client
		want string
	}{
		{"no login", scm.Client{Password: "p", CustomerURI: "c"}, "no login"},
		{"no customer", scm.Client{Login: "l", Password: "p"}, "no customer uri"},
		{"no password", scm.Client{Login: "l", CustomerURI: "c"}, "no password"},
		{"bad base", scm.Client{BaseURL: "cert-manager.com", Login: "l", Password: "p", CustomerURI: "c"}, "absolute http(s) url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.GetAccount(t.Context(), 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestClientCertAuth(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{TLS: true})
	tlsc := s.HTTP.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsc.Certificates = []tls.Certificate{s.ClientCertificate()}
	c := &scm.Client{
		BaseURL: s.URL, Login: scmtest.DefaultLogin, CustomerURI: scmtest.DefaultCustomerURI,
		ClientCert: true, HTTPClient: scm.NewHTTPClient(tlsc),
	}
	a, err := c.CreateAccount(t.Context(), scm.AccountRequest{Name: "cc", ACMEServer: "OV ACME Server", OrganizationID: 3})
	if err != nil {
		t.Fatalf("CreateAccount over client cert: %v", err)
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.Path, "/private/api/acme/v2/account") || r.HasPassword || !r.ClientCert {
			t.Errorf("request %s %s password=%v cert=%v: want /private prefix, no password, a client cert", r.Method, r.Path, r.HasPassword, r.ClientCert)
		}
	}
	if _, err := c.GetAccount(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	// The certificate alone is not enough on the password path, and the
	// password path without a password is refused locally.
	c.ClientCert = false
	if _, err := c.GetAccount(t.Context(), a.ID); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("password auth without password = %v", err)
	}
	// Server side trusts a proper TLS chain (no InsecureSkipVerify anywhere).
	pool := x509.NewCertPool()
	pool.AddCert(s.HTTP.Certificate())
	c2 := newClient(t, s)
	c2.HTTPClient = scm.NewHTTPClient(&tls.Config{RootCAs: pool})
	if _, err := c2.GetAccount(t.Context(), a.ID); err != nil {
		t.Errorf("password auth over TLS: %v", err)
	}
}

func TestRedaction(t *testing.T) {
	s := scmtest.New(t, scmtest.Options{})
	s.PresetEAB("r", "kid-r", "VERY-SECRET-HMAC-KEY-0123456789")
	var logs bytes.Buffer
	c := newClient(t, s)
	c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := c.CreateAccount(t.Context(), scm.AccountRequest{Name: "r", ACMEServer: "OV ACME Server", OrganizationID: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.Logger.Info("state", "client", c, "account", a, "key", a.MACKey)
	js, _ := json.Marshal(a)
	secrets := []string{scmtest.DefaultPassword, "VERY-SECRET-HMAC-KEY"}
	for name, out := range map[string]string{
		"%v client": fmt.Sprintf("%v", c), "%+v client": fmt.Sprintf("%+v", *c), "%#v client": fmt.Sprintf("%#v", c),
		"String": c.String(), "%v account": fmt.Sprintf("%v", a), "%+v account": fmt.Sprintf("%+v", *a),
		"%#v account": fmt.Sprintf("%#v", *a), "json": string(js), "logs": logs.String(),
	} {
		for _, sec := range secrets {
			if strings.Contains(out, sec) {
				t.Errorf("%s leaks a secret: %s", name, out)
			}
		}
	}
	if !strings.Contains(logs.String(), "status=201") || !strings.Contains(string(js), `"macKey":"redacted"`) {
		t.Errorf("logs/json missing expected content:\n%s\n%s", logs.String(), js)
	}
	if string(a.MACKey) != "VERY-SECRET-HMAC-KEY-0123456789" {
		t.Error("the secret value itself was lost")
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.Body, scmtest.DefaultPassword) {
			t.Error("password sent in a body")
		}
	}
}

func TestRetryAndErrors(t *testing.T) {
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case r.Method == "GET" && n == 1:
			w.WriteHeader(503)
		case r.Method == "GET":
			_, _ = w.Write([]byte(`{"id":5,"name":"x","macKey":"k","status":"Valid","unknown":[1,2]}`))
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html>\n<b>Bad\tGateway</b></html>"))
		}
	}))
	t.Cleanup(hs.Close)
	c := &scm.Client{BaseURL: hs.URL + "/api/", Login: "l", Password: "p", CustomerURI: "c", RetryBackoff: func(int) time.Duration { return 0 }}
	a, err := c.GetAccount(t.Context(), 5)
	if err != nil || a.ID != 5 || !a.StatusIs("valid") {
		t.Fatalf("GetAccount after a 503 = %+v, %v", a, err)
	}
	if calls.Load() != 2 {
		t.Errorf("GET calls = %d, want 2 (one retry)", calls.Load())
	}
	calls.Store(10)
	err = c.DeleteAccount(t.Context(), 5)
	var se *scm.Error
	if !errors.As(err, &se) || se.StatusCode != 502 || se.Code != 0 || se.Description != "<html> <b>Bad Gateway</b></html>" {
		t.Fatalf("DeleteAccount 502 = %#v", err)
	}
	if calls.Load() != 11 {
		t.Errorf("DELETE was retried: calls = %d", calls.Load())
	}
	// a cancelled context stops the call
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.GetAccount(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Errorf("GetAccount cancelled = %v", err)
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(block) })
	c := &scm.Client{BaseURL: hs.URL + "/api", Login: "l", Password: "p", CustomerURI: "c", Timeout: 100 * time.Millisecond,
		RetryBackoff: func(int) time.Duration { return 0 }}
	start := time.Now()
	_, err := c.ListServers(t.Context(), scm.ServerFilter{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ListServers against a hung server = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestLocationParsing(t *testing.T) {
	for _, tc := range []struct {
		loc  string
		want string // "" = ok
	}{
		{"https://cert-manager.com/api/acme/v2/account/100", ""},
		{"/api/acme/v2/account/100/", ""},
		{"", "no Location"},
		{"https://cert-manager.com/api/acme/v2/account/abc", "no account id"},
	} {
		t.Run(tc.loc, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "POST" {
					if tc.loc != "" {
						w.Header().Set("Location", tc.loc)
					}
					w.WriteHeader(201)
					return
				}
				if r.URL.Path != "/api/acme/v2/account/100" {
					w.WriteHeader(404)
					return
				}
				_, _ = w.Write([]byte(`{"id":100,"macId":"m"}`))
			}))
			defer hs.Close()
			c := &scm.Client{BaseURL: hs.URL + "/api", Login: "l", Password: "p", CustomerURI: "c"}
			a, err := c.CreateAccount(t.Context(), scm.AccountRequest{Name: "n", ACMEServer: "s", OrganizationID: 1})
			if tc.want == "" {
				if err != nil || a.ID != 100 {
					t.Errorf("CreateAccount = %+v, %v", a, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CreateAccount = %v, want error %q", err, tc.want)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("["))
		chunk := bytes.Repeat([]byte(`{"name":"aaaaaaaaaaaaaaaaaaaaaaaaa"},`), 1000)
		for range 400 { // ~14 MB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(hs.Close)
	c := &scm.Client{BaseURL: hs.URL + "/api", Login: "l", Password: "p", CustomerURI: "c"}
	_, err := c.ListServers(t.Context(), scm.ServerFilter{})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge body = %v, want a too-large error", err)
	}
}
