package scm

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzError: any error body yields a bounded, printable one-line message.
func FuzzError(f *testing.F) {
	for _, s := range []string{
		`{"code":-16,"description":"Unknown user"}`,
		`{"code":-7,"description":"{0} is required but missing","details":"name","items":[1]}`,
		`<html><body>502 Bad Gateway</body></html>`,
		``, `{"code":"x"}`, "\x00\xff\n\t",
	} {
		f.Add(401, []byte(s))
	}
	f.Add(502, []byte(strings.Repeat("é", 150)))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := newError(http.MethodGet, "/acme/v2/account/1", &response{status: status, body: body})
		msg := e.Error()
		if e.Code == 0 && e.Details == "" && (len(e.Description) > 210 || strings.ContainsAny(e.Description, "\n\r")) {
			t.Errorf("unbounded or multi-line description %q", e.Description)
		}
		if e.Code == 0 && e.Details == "" && !utf8.ValidString(e.Description) && utf8.Valid(body) {
			t.Errorf("invalid UTF-8 from valid input: %q", e.Description)
		}
		if msg == "" {
			t.Error("empty message")
		}
	})
}

// FuzzLocation: idFromLocation returns a positive id or an error, never panics.
func FuzzLocation(f *testing.F) {
	for _, s := range []string{"https://cert-manager.com/api/acme/v2/account/100", "/api/acme/v2/account/7/", "", "::", "https://x/9999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		id, err := idFromLocation(loc)
		if err == nil && id <= 0 {
			t.Errorf("idFromLocation(%q) = %d without error", loc, id)
		}
	})
}
