package dnspersist

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	acct    = "https://ca.example/acct/123"
	other   = "https://ca.example/acct/999"
	issuer  = "authority.example"
	issuer2 = "ca.example.net"
)

func TestRecords(t *testing.T) {
	until := time.Unix(4102444800, 0)
	for _, tc := range []struct {
		name string
		req  Request
		want []string // ZoneLine, then " for " + For
	}{
		{"one name", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}, Names: []string{"p.example"}},
			[]string{`_validation-persist.p.example. IN TXT "authority.example; accounturi=https://ca.example/acct/123" for p.example`}},
		{"base and wildcard share one record with policy=wildcard", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}, Names: []string{"p.example", "*.p.example"}},
			[]string{`_validation-persist.p.example. IN TXT "authority.example; accounturi=https://ca.example/acct/123; policy=wildcard" for p.example,*.p.example`}},
		{"wildcard alone sits at the base name", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}, Names: []string{"*.P.Example."}},
			[]string{`_validation-persist.p.example. IN TXT "authority.example; accounturi=https://ca.example/acct/123; policy=wildcard" for *.p.example`}},
		{"asked for wildcard, persistUntil, second issuer", Request{AccountURL: acct, IssuerDomainNames: []string{issuer, issuer2}, Issuer: "CA.example.net", Names: []string{"a.example", "b.example", "a.example"}, Wildcard: true, PersistUntil: until},
			[]string{
				`_validation-persist.a.example. IN TXT "ca.example.net; accounturi=https://ca.example/acct/123; policy=wildcard; persistUntil=4102444800" for a.example`,
				`_validation-persist.b.example. IN TXT "ca.example.net; accounturi=https://ca.example/acct/123; policy=wildcard; persistUntil=4102444800" for b.example`,
			}},
		{"IDN in A-labels", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}, Names: []string{"bücher.example"}},
			[]string{`_validation-persist.xn--bcher-kva.example. IN TXT "authority.example; accounturi=https://ca.example/acct/123" for xn--bcher-kva.example`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := Records(tc.req)
			if err != nil {
				t.Fatalf("Records: %v", err)
			}
			var got []string
			for _, r := range recs {
				if r.Type != "TXT" || !strings.HasPrefix(r.Name, Label+".") {
					t.Errorf("record %+v", r)
				}
				got = append(got, r.ZoneLine()+" for "+strings.Join(r.For, ","))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Records =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// What is composed is what the CA accepts.
			for _, r := range recs {
				for _, n := range r.For {
					v := Check(n, []string{r.Value}, Expect{IssuerDomainNames: tc.req.IssuerDomainNames, AccountURL: acct, At: time.Unix(1767225600, 0)})
					if !v.OK() {
						t.Errorf("Check(%s, composed record) = %s: %s", n, v.Status, v.Reason)
					}
				}
			}
		})
	}
}

func TestRecordsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  Request
		want string
	}{
		{"no names", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}}, "no names"},
		{"no issuer", Request{AccountURL: acct, Names: []string{"p.example"}}, "names no issuer domain name"},
		{"eleven issuers", Request{AccountURL: acct, IssuerDomainNames: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ","), Names: []string{"p.example"}}, "11 issuer domain names"},
		{"issuer with a newline", Request{AccountURL: acct, IssuerDomainNames: []string{"ca.example\nevil"}, Names: []string{"p.example"}}, "not a lower-case domain name"},
		{"upper-case issuer from the CA", Request{AccountURL: acct, IssuerDomainNames: []string{"CA.example"}, Names: []string{"p.example"}}, "not a lower-case domain name"},
		{"issuer not the CA's", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}, Issuer: "other.example", Names: []string{"p.example"}}, `issuer "other.example" is not one the CA accepts (authority.example)`},
		{"account URL with a space", Request{AccountURL: "https://ca.example/acct 1", IssuerDomainNames: []string{issuer}, Names: []string{"p.example"}}, "cannot carry"},
		{"account URL with ;", Request{AccountURL: "https://ca.example/a;b", IssuerDomainNames: []string{issuer}, Names: []string{"p.example"}}, "cannot carry"},
		{"no account", Request{IssuerDomainNames: []string{issuer}, Names: []string{"p.example"}}, "no account URL"},
		{"name with a quote", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}, Names: []string{`p".example`}}, "not a domain name"},
		{"IP address", Request{AccountURL: acct, IssuerDomainNames: []string{issuer}, Names: []string{"192.0.2.1:80"}}, "not a domain name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Records(tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Records err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestZoneLineSplitsLongValues(t *testing.T) {
	long := strings.Repeat("a", 300)
	r := Record{Name: "_validation-persist.p.example", Type: "TXT", Value: "ca.example; accounturi=https://x/" + long + `"\`}
	line := r.ZoneLine()
	if !strings.HasPrefix(line, `_validation-persist.p.example. IN TXT "ca.example; accounturi=https://x/`) {
		t.Fatalf("line %q", line)
	}
	parts := strings.Split(strings.TrimPrefix(line, "_validation-persist.p.example. IN TXT "), `" "`)
	if len(parts) != 2 || len(strings.Trim(parts[0], `"`)) != 255 {
		t.Errorf("character-strings %d, first %d octets; want 2 and 255", len(parts), len(strings.Trim(parts[0], `"`)))
	}
	if !strings.HasSuffix(line, `\"\\"`) {
		t.Errorf("quote and backslash not escaped: %q", line[len(line)-8:])
	}
}

// parseCases mirror Pebble v2.10.3's va_test TestValidateDNSPersist01 and
// RFC 8659's grammar; err is a piece of the wanted error ("" = parses).
var parseCases = []struct {
	name, txt string
	issuer    string
	err       string
	check     func(IssueValue) bool
}{
	{"minimal", "authority.example; accounturi=" + acct, issuer, "", func(v IssueValue) bool { return v.AccountURI == acct && !v.Wildcard() && !v.HasPersistUntil }},
	{"no blanks", "authority.example;accounturi=" + acct + ";policy=wildcard", issuer, "", func(v IssueValue) bool { return v.Wildcard() }},
	{"heavy whitespace and tabs", "   authority.example \t;   accounturi   =   " + acct + "   ;   policy   =   wildcard   ;   persistUntil   =   4102444800   ", issuer, "",
		func(v IssueValue) bool {
			return v.AccountURI == acct && v.Wildcard() && v.PersistUntil.Unix() == 4102444800
		}},
	{"tags case-insensitive", "authority.example; AccountURI=" + acct + "; pOlIcY=WildCard; PERSISTUNTIL=5", issuer, "",
		func(v IssueValue) bool {
			return v.AccountURI == acct && v.Wildcard() && v.Policy == "WildCard" && v.PersistUntil.Unix() == 5
		}},
	{"other policy counts as none", "authority.example; accounturi=" + acct + "; policy=notwildcard", issuer, "", func(v IssueValue) bool { return v.Policy == "" && !v.Wildcard() }},
	{"empty policy", "authority.example; accounturi=" + acct + "; policy=", issuer, "", func(v IssueValue) bool { return !v.Wildcard() }},
	{"unknown tags ignored", "authority.example; accounturi=" + acct + "; foo=bar; hashed=", issuer, "", func(v IssueValue) bool { return strings.Join(v.Unknown, ",") == "foo,hashed" }},
	{"negative persistUntil", "authority.example; accounturi=" + acct + "; persistUntil=-1", issuer, "", func(v IssueValue) bool { return v.PersistUntil.Unix() == -1 }},
	{"signed persistUntil", "authority.example; accounturi=" + acct + "; persistUntil=+7", issuer, "", func(v IssueValue) bool { return v.PersistUntil.Unix() == 7 }},
	{"missing accounturi parses", "authority.example; policy=wildcard", issuer, "", func(v IssueValue) bool { return v.AccountURI == "" }},
	{"issuer case kept", "Authority.Example; accounturi=" + acct, "Authority.Example", "", nil},
	{"no issuer", "; accounturi=" + acct, "", "no issuer-domain-name", nil},
	{"empty", "", "", "no issuer-domain-name", nil},
	{"trailing semicolon", "authority.example; accounturi=" + acct + ";", issuer, "empty parameter or trailing semicolon", nil},
	{"trailing semicolon and blank", "authority.example; accounturi=" + acct + "; ", issuer, "empty parameter or trailing semicolon", nil},
	{"missing equals", "authority.example; accounturi=" + acct + "; invalidparam", issuer, `malformed parameter "invalidparam" should be tag=value pair`, nil},
	{"empty tag", "authority.example; accounturi=" + acct + "; =abc", issuer, `malformed parameter "=abc", empty tag`, nil},
	{"empty accounturi", "authority.example; accounturi=", issuer, "empty value provided for mandatory accounturi", nil},
	{"blank inside a value", "authority.example; accounturi=" + acct + "; policy=wild card", issuer, `malformed value "wild card" for tag "policy"`, nil},
	{"non-ASCII in a value", "authority.example; accounturi=https://ca.example/é", issuer, "malformed value", nil},
	{"control character in a value", "authority.example; accounturi=" + acct + "\x01", issuer, "malformed value", nil},
	{"persistUntil not a number", "authority.example; accounturi=" + acct + "; persistUntil=not-a-unix-timestamp", issuer, `malformed persistUntil timestamp "not-a-unix-timestamp"`, nil},
	{"persistUntil empty", "authority.example; accounturi=" + acct + "; persistUntil=", issuer, "malformed persistUntil timestamp", nil},
	{"persistUntil overflows", "authority.example; accounturi=" + acct + "; persistUntil=99999999999999999999", issuer, "malformed persistUntil timestamp", nil},
	{"duplicate unknown tag", "authority.example; accounturi=" + acct + "; foo=1; foo=2", issuer, `duplicate parameter "foo"`, nil},
	{"duplicate tag, other case", "authority.example; accounturi=" + acct + "; AccountURI=" + other, issuer, `duplicate parameter "AccountURI"`, nil},
	{"value may hold '='", "authority.example; accounturi=https://ca.example/acct?a=b", issuer, "", func(v IssueValue) bool { return v.AccountURI == "https://ca.example/acct?a=b" }},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Parse(tc.txt)
			if v.Issuer != tc.issuer {
				t.Errorf("Parse(%q).Issuer = %q, want %q", tc.txt, v.Issuer, tc.issuer)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Parse(%q) = %v, want no error", tc.txt, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.txt, err, tc.err)
			}
			if tc.check != nil && !tc.check(v) {
				t.Errorf("Parse(%q) = %+v", tc.txt, v)
			}
		})
	}
}

// checkCases: the records at one name and what the CA (Pebble) decides.
// pebble is the problem Pebble answers: "" valid, "malformed" or
// "unauthorized"; TestE2EDNSPersistMatchesPebble replays them against it.
var checkCases = []struct {
	name     string
	wildcard bool
	records  []string
	status   Status
	pebble   string
	fix      string
}{
	{"valid", false, []string{"authority.example; accounturi=" + acct}, StatusOK, "", ""},
	{"valid wildcard", true, []string{"authority.example; accounturi=" + acct + "; policy=wildcard"}, StatusOK, "", ""},
	{"valid wildcard, policy in capitals", true, []string{"authority.example;accounturi=" + acct + ";pOlIcY=WILDCARD"}, StatusOK, "", ""},
	{"second issuer", false, []string{"ca.example.net; accounturi=" + acct}, StatusOK, "", ""},
	{"future persistUntil, unknown tags", false, []string{"authority.example; accounturi=" + acct + "; persistUntil=4102444800; foo=; bar=1"}, StatusOK, "", ""},
	{"malformed and valid: valid wins", false, []string{"authority.example; accounturi=" + acct + "; foo=1; foo=2", "authority.example; accounturi=" + acct}, StatusOK, "", ""},
	{"wrong account and valid: valid wins", false, []string{"authority.example; accounturi=" + other, "authority.example; accounturi=" + acct}, StatusOK, "", ""},
	{"no records", false, nil, StatusMissing, "unauthorized", `create TXT _validation-persist.NAME "authority.example; accounturi=` + acct + `"`},
	{"another CA's record only", false, []string{"other-ca.example; accounturi=" + acct}, StatusMissing, "unauthorized", "create TXT"},
	{"another CA's malformed record ignored", false, []string{"other-ca.example; accounturi=" + acct + ";"}, StatusMissing, "unauthorized", "create TXT"},
	{"issuer in capitals is another issuer", false, []string{"Authority.Example; accounturi=" + acct}, StatusMissing, "unauthorized", "create TXT"},
	{"dns-01 style value ignored", false, []string{"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"}, StatusMissing, "unauthorized", "create TXT"},
	{"another account", false, []string{"authority.example; accounturi=" + other}, StatusWrongAccount, "unauthorized", `replace it with TXT _validation-persist.NAME "authority.example; accounturi=` + acct + `" (a record names one account`},
	{"wildcard without policy", true, []string{"authority.example; accounturi=" + acct}, StatusNoWildcardPolicy, "unauthorized", `add policy=wildcard: replace it with TXT _validation-persist.NAME "authority.example; accounturi=` + acct + `; policy=wildcard"`},
	{"wildcard with another policy", true, []string{"authority.example; accounturi=" + acct + "; policy=notwildcard"}, StatusNoWildcardPolicy, "unauthorized", "add policy=wildcard"},
	{"expired persistUntil", false, []string{"authority.example; accounturi=" + acct + "; persistUntil=1000"}, StatusExpired, "unauthorized", `replace it with TXT _validation-persist.NAME "authority.example; accounturi=` + acct + `" (a later persistUntil, or none)`},
	{"negative persistUntil", false, []string{"authority.example; accounturi=" + acct + "; persistUntil=-1"}, StatusExpired, "unauthorized", "a later persistUntil"},
	{"nearest mismatch reported", true, []string{"authority.example; accounturi=" + other, "authority.example; accounturi=" + acct + "; policy=wildcard; persistUntil=1000"}, StatusExpired, "unauthorized", "a later persistUntil"},
	{"malformed: duplicate", false, []string{"authority.example; accounturi=" + acct + "; accounturi=" + acct}, StatusMalformed, "malformed", `replace it with TXT _validation-persist.NAME "authority.example; accounturi=` + acct + `"`},
	{"malformed beats a mismatch", false, []string{"authority.example; accounturi=" + other, "authority.example; accounturi=" + acct + "; persistUntil=soon"}, StatusMalformed, "malformed", "replace it with"},
	{"malformed: no accounturi", true, []string{"authority.example; policy=wildcard"}, StatusMalformed, "malformed", "policy=wildcard"},
	{"malformed: trailing semicolon", false, []string{"authority.example; accounturi=" + acct + ";"}, StatusMalformed, "malformed", "replace it with"},
	{"malformed: blank in value", false, []string{"authority.example; accounturi=" + acct + "; policy=wild card"}, StatusMalformed, "malformed", "replace it with"},
}

func TestCheck(t *testing.T) {
	at := time.Unix(1767225600, 0) // 2026-01-01
	exp := Expect{IssuerDomainNames: []string{issuer, issuer2}, AccountURL: acct, At: at}
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			name := "p.example"
			if tc.wildcard {
				name = "*.p.example"
			}
			v := Check(name, tc.records, exp)
			if v.Status != tc.status {
				t.Fatalf("Check = %s (%s), want %s", v.Status, v.Reason, tc.status)
			}
			if v.RecordName != "_validation-persist.p.example" || v.Name != name {
				t.Errorf("names %q %q", v.Name, v.RecordName)
			}
			err := v.Err()
			if tc.status == StatusOK {
				if err != nil || v.Fix != "" || v.Record == "" {
					t.Errorf("OK verdict: err %v, fix %q, record %q", err, v.Fix, v.Record)
				}
				return
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Err() = %v, want *RecordError", err)
			}
			fix := strings.ReplaceAll(tc.fix, "NAME", "p.example")
			if !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), name+": ") {
				t.Errorf("error %q\nwant it to name %s and contain %q", err, name, fix)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if v.Want == nil {
				t.Fatal("no record to publish")
			}
			if w := Check(name, []string{v.Want.Value}, exp); !w.OK() {
				t.Errorf("the proposed record %q is refused: %s", v.Want.Value, w.Reason)
			}
		})
	}
}

func TestCheckWarnsWithin30Days(t *testing.T) {
	at := time.Unix(1767225600, 0)
	exp := Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct, At: at}
	soon := at.Add(10 * 24 * time.Hour).Unix()
	later := at.Add(40 * 24 * time.Hour).Unix()
	for _, tc := range []struct {
		name, record string
		warn         bool
	}{
		{"in 10 days", "authority.example; accounturi=" + acct + "; persistUntil=" + itoa(soon), true},
		{"in 40 days", "authority.example; accounturi=" + acct + "; persistUntil=" + itoa(later), false},
		{"none", "authority.example; accounturi=" + acct, false},
		{"exactly now is not passed", "authority.example; accounturi=" + acct + "; persistUntil=" + itoa(at.Unix()), true},
	} {
		v := Check("p.example", []string{tc.record}, exp)
		if !v.OK() {
			t.Errorf("%s: %s %s", tc.name, v.Status, v.Reason)
			continue
		}
		if (v.Warning != "") != tc.warn {
			t.Errorf("%s: warning %q, want one: %v", tc.name, v.Warning, tc.warn)
		}
		if tc.warn && (!strings.Contains(v.Fix, "a later persistUntil") || v.Want == nil) {
			t.Errorf("%s: fix %q", tc.name, v.Fix)
		}
	}
	v := Check("p.example", []string{"authority.example; accounturi=" + acct + "; persistUntil=" + itoa(soon)}, exp)
	if !strings.Contains(v.Warning, "in 10 days") {
		t.Errorf("warning %q", v.Warning)
	}
}

func TestCheckCaseHint(t *testing.T) {
	v := Check("p.example", []string{"Authority.Example; accounturi=" + acct}, Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct, At: time.Unix(0, 0)})
	if v.Status != StatusMissing || !strings.Contains(v.Reason, "compares exactly") {
		t.Errorf("%s %q", v.Status, v.Reason)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCheckSharedWithWildcard: the base name of a requested wildcard is
// told to publish policy=wildcard, so fixing it does not break the wildcard.
func TestCheckSharedWithWildcard(t *testing.T) {
	exp := Expect{IssuerDomainNames: []string{issuer}, AccountURL: acct, At: time.Unix(1767225600, 0)}
	if v := Check("p.example", nil, exp); strings.Contains(v.Want.Value, "policy=wildcard") {
		t.Errorf("alone: %q", v.Want.Value)
	}
	exp.Wildcard = true
	if v := Check("p.example", nil, exp); v.Want.Value != issuer+"; accounturi="+acct+"; policy=wildcard" {
		t.Errorf("with its wildcard: %q", v.Want.Value)
	}
	if got := WildcardBases([]string{"a.example", "*.b.example", "*.A.Example", "bad name"}); len(got) != 2 || !got["b.example"] || !got["a.example"] {
		t.Errorf("WildcardBases = %v", got)
	}
}
