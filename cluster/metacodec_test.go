package cluster

import (
	"reflect"
	"testing"
	"time"
)

func TestMetaCodecRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	for _, m := range []*Meta{
		{},
		{Name: "example.com", Version: 7, Domains: []string{"example.com", "www.example.com", "192.0.2.1"}, Serial: "fa12",
			AuthorityKeyID: []byte{1, 2, 3}, NotBefore: now, NotAfter: now.Add(time.Hour), KeyID: "ab", Server: "https://ca/dir",
			Account: "acct", NoAutoRenew: true, RenewBeforeExpiry: "30 days", ARIStart: now, ARIEnd: now.Add(2 * time.Hour),
			ARIRetryAfter: now.Add(3 * time.Hour), Failures: 2, LastError: "boom: ✗", FailedAt: now, RenewedBy: "web1",
			RenewedAt: now, SettingsRev: 4, CommitID: "c0ffee"},
	} {
		var got Meta
		if err := decodeMeta(encodeMeta(m), &got); err != nil {
			t.Fatalf("decode(encode(%+v)): %v", m, err)
		}
		if len(m.Domains) == 0 {
			m.Domains = []string{}
		}
		if !reflect.DeepEqual(&got, m) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, *m)
		}
	}
	good := encodeMeta(&Meta{Name: "x", Domains: []string{"x"}})
	for name, b := range map[string][]byte{
		"empty": nil, "other format": append([]byte{'{'}, good[1:]...), "truncated": good[:len(good)-1],
		"trailing": append(append([]byte(nil), good...), 0), "huge length": {metaFormat, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if err := decodeMeta(b, &Meta{}); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodeMeta: a corrupt record never panics, and what decodes
// re-encodes to the same bytes.
func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(&Meta{Name: "example.com", Version: 2, Domains: []string{"example.com"}, NotAfter: time.Unix(1e9, 0)}))
	f.Add([]byte{metaFormat, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Meta
		if decodeMeta(b, &m) != nil {
			return
		}
		var m2 Meta
		if err := decodeMeta(encodeMeta(&m), &m2); err != nil || !reflect.DeepEqual(m, m2) {
			t.Errorf("re-encode: %v\n%+v\n%+v", err, m, m2)
		}
	})
}
