package storage

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CertbotVersion is what SaveRenewalConf writes as "version" in new confs: the
// oldest certbot whose conf dialect we write, so certbot ≥ 2.0 reads it
// without warnings.
const CertbotVersion = "2.1.0"

// KV is one key/value pair of an ordered map ([[webroot_map]]).
type KV struct{ Key, Value string }

// RenewalConf is renewal/<name>.conf (certbot storage.py,
// renewal.py). Fields mirror certbot's keys; keys this type does not know
// (plugin options such as dns_cloudflare_credentials, future certbot keys)
// are kept as read and written back unchanged, reachable through Param and
// SetParam. The zero value is an empty conf.
type RenewalConf struct {
	// Top-level keys.
	Version, ArchiveDir, Cert, PrivKey, Chain, Fullchain string
	// RenewBeforeExpiry is e.g. "30 days" ("" when unset).
	RenewBeforeExpiry string
	// Params is [renewalparams].
	Params RenewalParams
	// ARIRetryAfter is [acme_renewal_info] ari_retry_after (zero when unset),
	// stored by certbot as a naive ISO datetime in UTC.
	ARIRetryAfter time.Time

	doc *confDoc
}

// RenewalParams is [renewalparams]. Empty strings, zero ints, false bools and
// nil slices are not written (a bool that was in the file as False is
// written back as False).
type RenewalParams struct {
	Account, Server, Authenticator, Installer string
	// KeyType is "rsa" or "ecdsa"; RSAKeySize and EllipticCurve
	// ("secp256r1", ...) go with it.
	KeyType       string
	RSAKeySize    int
	EllipticCurve string
	// RenewHook is --deploy-hook (certbot saves it under this name).
	RenewHook, PreHook, PostHook      string
	ManualAuthHook, ManualCleanupHook string
	HTTP01Address                     string
	HTTP01Port                        int
	// PrefChalls is pref_challs ("http-01", "dns-01", ...).
	PrefChalls []string
	// WebrootPath is webroot_path; WebrootMap is [[webroot_map]] in file order.
	WebrootPath                                       []string
	WebrootMap                                        []KV
	PreferredChain, PreferredProfile, RequiredProfile string
	ConfigDir, WorkDir, LogsDir, UserAgent            string
	MustStaple, AllowSubsetOfNames, ReuseKey          bool
	// NoAutoRenew is "autorenew = False".
	NoAutoRenew bool
}

const (
	secParams = "renewalparams"
	secARI    = "acme_renewal_info"
	secWRMap  = "webroot_map"
)

var paramStrings = []struct {
	key string
	get func(*RenewalParams) *string
}{
	{"account", func(p *RenewalParams) *string { return &p.Account }},
	{"server", func(p *RenewalParams) *string { return &p.Server }},
	{"authenticator", func(p *RenewalParams) *string { return &p.Authenticator }},
	{"installer", func(p *RenewalParams) *string { return &p.Installer }},
	{"key_type", func(p *RenewalParams) *string { return &p.KeyType }},
	{"elliptic_curve", func(p *RenewalParams) *string { return &p.EllipticCurve }},
	{"renew_hook", func(p *RenewalParams) *string { return &p.RenewHook }},
	{"pre_hook", func(p *RenewalParams) *string { return &p.PreHook }},
	{"post_hook", func(p *RenewalParams) *string { return &p.PostHook }},
	{"manual_auth_hook", func(p *RenewalParams) *string { return &p.ManualAuthHook }},
	{"manual_cleanup_hook", func(p *RenewalParams) *string { return &p.ManualCleanupHook }},
	{"http01_address", func(p *RenewalParams) *string { return &p.HTTP01Address }},
	{"preferred_chain", func(p *RenewalParams) *string { return &p.PreferredChain }},
	{"preferred_profile", func(p *RenewalParams) *string { return &p.PreferredProfile }},
	{"required_profile", func(p *RenewalParams) *string { return &p.RequiredProfile }},
	{"config_dir", func(p *RenewalParams) *string { return &p.ConfigDir }},
	{"work_dir", func(p *RenewalParams) *string { return &p.WorkDir }},
	{"logs_dir", func(p *RenewalParams) *string { return &p.LogsDir }},
	{"user_agent", func(p *RenewalParams) *string { return &p.UserAgent }},
}

var paramInts = []struct {
	key string
	get func(*RenewalParams) *int
}{
	{"rsa_key_size", func(p *RenewalParams) *int { return &p.RSAKeySize }},
	{"http01_port", func(p *RenewalParams) *int { return &p.HTTP01Port }},
}

var paramBools = []struct {
	key string
	get func(*RenewalParams) *bool
	neg bool
}{
	{"must_staple", func(p *RenewalParams) *bool { return &p.MustStaple }, false},
	{"allow_subset_of_names", func(p *RenewalParams) *bool { return &p.AllowSubsetOfNames }, false},
	{"reuse_key", func(p *RenewalParams) *bool { return &p.ReuseKey }, false},
	{"autorenew", func(p *RenewalParams) *bool { return &p.NoAutoRenew }, true},
}

var paramLists = []struct {
	key string
	get func(*RenewalParams) *[]string
}{
	{"pref_challs", func(p *RenewalParams) *[]string { return &p.PrefChalls }},
	{"webroot_path", func(p *RenewalParams) *[]string { return &p.WebrootPath }},
}

var topStrings = []struct {
	key string
	get func(*RenewalConf) *string
}{
	{"version", func(c *RenewalConf) *string { return &c.Version }},
	{"archive_dir", func(c *RenewalConf) *string { return &c.ArchiveDir }},
	{"cert", func(c *RenewalConf) *string { return &c.Cert }},
	{"privkey", func(c *RenewalConf) *string { return &c.PrivKey }},
	{"chain", func(c *RenewalConf) *string { return &c.Chain }},
	{"fullchain", func(c *RenewalConf) *string { return &c.Fullchain }},
	{"renew_before_expiry", func(c *RenewalConf) *string { return &c.RenewBeforeExpiry }},
}

// ParseRenewalConf parses a renewal conf. file names the file in errors,
// which are *ConfError (file:line) for syntax and type errors.
func ParseRenewalConf(file string, data []byte) (*RenewalConf, error) {
	doc, err := parseConf(file, data)
	if err != nil {
		return nil, err
	}
	c := &RenewalConf{doc: doc}
	lineOf := func(key string) int { return findLine(data, key) }
	bad := func(key, msg string) error {
		return &ConfError{File: file, Line: lineOf(key), Msg: fmt.Sprintf("%s: %s", key, msg)}
	}
	for _, f := range topStrings {
		if v, ok := doc.root.get(f.key); ok {
			if v.List {
				// certbot tolerates a list for these only by accident; refuse.
				return nil, bad(f.key, "want a single value, got a list")
			}
			*f.get(c) = v.String()
		}
	}
	if doc.root.sub(secParams) == nil && doc.root.entry(secParams) != nil {
		return nil, bad(secParams, "want a section")
	}
	if p := doc.root.sub(secParams); p != nil {
		if err := parseParams(p, &c.Params, bad); err != nil {
			return nil, err
		}
	}
	if a := doc.root.sub(secARI); a != nil {
		if v, ok := a.get("ari_retry_after"); ok && v.String() != "" {
			t, err := parseNaiveTime(v.String())
			if err != nil {
				return nil, bad("ari_retry_after", err.Error())
			}
			c.ARIRetryAfter = t
		}
	}
	return c, nil
}

// parseParams reads [renewalparams] into params; bad builds the error for a key.
func parseParams(p *confSection, params *RenewalParams, bad func(key, msg string) error) error {
	for _, f := range paramStrings {
		if v, ok := p.get(f.key); ok {
			*f.get(params) = strings.Join(v.Items, ",")
		}
	}
	for _, f := range paramInts {
		if v, ok := p.get(f.key); ok && v.String() != "" && v.String() != "None" {
			n, err := strconv.Atoi(strings.TrimSpace(v.String()))
			if err != nil || v.List {
				return bad(f.key, fmt.Sprintf("want an integer, got %q", strings.Join(v.Items, ",")))
			}
			*f.get(params) = n
		}
	}
	for _, f := range paramBools {
		if v, ok := p.get(f.key); ok {
			b, err := parseBool(v)
			if err != nil {
				return bad(f.key, err.Error())
			}
			*f.get(params) = b != f.neg
		}
	}
	for _, f := range paramLists {
		if v, ok := p.get(f.key); ok {
			items := v.Items
			if !v.List {
				// certbot also accepts "a" or "a,b" written as one string
				items = splitComma(v.String())
			}
			*f.get(params) = append([]string{}, items...)
		}
	}
	if m := p.sub(secWRMap); m != nil {
		for _, e := range m.entries {
			params.WebrootMap = append(params.WebrootMap, KV{e.key, strings.Join(e.val.Items, ",")})
		}
	}
	return nil
}

// Summary is what a listing keeps of the conf.
func (c *RenewalConf) Summary() *ConfSummary {
	return &ConfSummary{Server: c.Params.Server, Account: c.Params.Account, Installer: c.Params.Installer, RenewBeforeExpiry: c.RenewBeforeExpiry,
		NoAutoRenew: c.Params.NoAutoRenew, ARIRetryAfter: c.ARIRetryAfter}
}

func findLine(data []byte, key string) int {
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, key) && strings.HasPrefix(strings.TrimSpace(l[len(key):]), "=") {
			return i + 1
		}
	}
	return 1
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseBool(v Value) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v.String())) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0", "none", "":
		return false, nil
	}
	return false, fmt.Errorf("want True or False, got %q", v.String())
}

const naiveLayout = "2006-01-02T15:04:05"

func parseNaiveTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want an ISO 8601 datetime, got %q", s)
}

// Param returns a [renewalparams] value by key, including keys RenewalConf
// has no field for (plugin options).
func (c *RenewalConf) Param(key string) (Value, bool) {
	if c.doc == nil {
		return Value{}, false
	}
	p := c.doc.root.sub(secParams)
	if p == nil {
		return Value{}, false
	}
	return p.get(key)
}

// SetParam sets a [renewalparams] key RenewalConf has no field for. Keys
// that have a field are overwritten by the field on Marshal.
func (c *RenewalConf) SetParam(key string, v Value) {
	if c.doc == nil {
		c.doc = newConfDoc()
	}
	c.doc.root.ensureSub(secParams).set(key, v)
}

// DeleteParam removes a [renewalparams] key.
func (c *RenewalConf) DeleteParam(key string) {
	if c.doc == nil {
		return
	}
	if p := c.doc.root.sub(secParams); p != nil {
		p.del(key)
	}
}

func newConfDoc() *confDoc {
	d := &confDoc{}
	d.root.entries = nil
	return d
}

// Marshal renders the conf in certbot's dialect. A conf that was parsed keeps
// its unknown keys, comments and the spelling of values that did not change.
func (c *RenewalConf) Marshal() ([]byte, error) {
	doc := c.doc
	fresh := doc == nil
	if fresh {
		doc = newConfDoc()
	} else {
		doc = doc.clone()
	}
	root := &doc.root
	for _, f := range topStrings {
		setString(root, f.key, *f.get(c))
	}
	if fresh && c.RenewBeforeExpiry == "" {
		// certbot ≤ 4.0 writes this hint; keeps the file familiar.
		if e := root.entry("version"); e != nil {
			e.comments = []string{"# renew_before_expiry = 30 days"}
		}
	}
	p := root.ensureSub(secParams)
	if fresh {
		p.comments = []string{"", "# Options used in the renewal process"}
	}
	marshalParams(p, &c.Params)
	marshalWebrootMap(p, c.Params.WebrootMap)
	marshalARI(root, c.ARIRetryAfter)
	// keep configobj's order: sections after scalars; renewalparams before
	// acme_renewal_info as certbot writes them.
	return doc.marshal()
}

// marshalParams writes the typed [renewalparams] keys into p, keeping the
// spelling of values that did not change.
func marshalParams(p *confSection, params *RenewalParams) {
	for _, f := range paramStrings {
		setString(p, f.key, *f.get(params))
	}
	for _, f := range paramInts {
		setInt(p, f.key, *f.get(params))
	}
	for _, f := range paramBools {
		setBool(p, f.key, *f.get(params) != f.neg, f.neg)
	}
	for _, f := range paramLists {
		if l := *f.get(params); l != nil {
			p.set(f.key, List(l...))
		} else {
			p.del(f.key)
		}
	}
}

func setInt(p *confSection, key string, n int) {
	if n == 0 {
		p.del(key)
		return
	}
	if v, ok := p.get(key); ok {
		if m, err := strconv.Atoi(strings.TrimSpace(v.String())); err == nil && m == n {
			return
		}
	}
	p.set(key, Scalar(strconv.Itoa(n)))
}

// setBool writes fileVal unless the file already says so, or (for a key
// not in the file) it is the default.
func setBool(p *confSection, key string, fileVal, def bool) {
	old, had := p.get(key)
	if had {
		if ob, err := parseBool(old); err == nil && ob == fileVal {
			return
		}
	} else if fileVal == def {
		return
	}
	if fileVal {
		p.set(key, Scalar("True"))
	} else {
		p.set(key, Scalar("False"))
	}
}

// marshalWebrootMap writes [[webroot_map]] in the map's order, keeping the
// entries' comments.
func marshalWebrootMap(p *confSection, wm []KV) {
	if len(wm) == 0 {
		p.delSub(secWRMap)
		return
	}
	m := p.ensureSub(secWRMap)
	var entries []*confEntry
	for _, kv := range wm {
		e := m.entry(kv.Key)
		if e == nil {
			e = &confEntry{key: kv.Key}
		}
		if !e.val.equal(Scalar(kv.Value)) {
			e.val = Scalar(kv.Value)
		}
		entries = append(entries, e)
	}
	m.entries = entries
}

// marshalARI writes [acme_renewal_info] ari_retry_after (removing the
// section when it would be empty).
func marshalARI(root *confSection, at time.Time) {
	if at.IsZero() {
		if a := root.sub(secARI); a != nil {
			a.del("ari_retry_after")
			if len(a.entries) == 0 && len(a.subs) == 0 {
				root.delSub(secARI)
			}
		}
		return
	}
	a := root.ensureSub(secARI)
	old, ok := a.get("ari_retry_after")
	if t, err := parseNaiveTime(old.String()); !ok || err != nil || !t.Equal(at) {
		a.set("ari_retry_after", Scalar(at.UTC().Format(naiveLayout)))
	}
}

func setString(s *confSection, key, v string) {
	if v == "" {
		s.del(key)
		return
	}
	if old, ok := s.get(key); ok && strings.Join(old.Items, ",") == v {
		return
	}
	s.set(key, Scalar(v))
}

func (d *confDoc) clone() *confDoc {
	n := &confDoc{trailing: append([]string(nil), d.trailing...)}
	n.root = *cloneSection(&d.root)
	return n
}

func cloneSection(s *confSection) *confSection {
	n := &confSection{comments: append([]string(nil), s.comments...), name: s.name, depth: s.depth, inline: s.inline}
	for _, e := range s.entries {
		ce := *e
		ce.comments = append([]string(nil), e.comments...)
		ce.val = Value{Items: append([]string(nil), e.val.Items...), List: e.val.List}
		n.entries = append(n.entries, &ce)
	}
	for _, c := range s.subs {
		n.subs = append(n.subs, cloneSection(c))
	}
	return n
}

// parseLineageConf parses a lineage's conf as read from disk and refuses one that
// cannot describe a lineage: empty (what a full disk or a crash of another tool
// leaves) or without the four live paths certbot always writes. Renewing from
// such a file would fall back to defaults (another CA, another key type).
func parseLineageConf(file string, data []byte) (*RenewalConf, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ConfError{File: file, Line: 1, Msg: "the file is empty (truncated?): restore it from a backup, or delete the lineage and issue it again"}
	}
	c, err := ParseRenewalConf(file, data)
	if err != nil {
		return nil, err
	}
	for _, k := range []struct{ key, val string }{{"cert", c.Cert}, {"privkey", c.PrivKey}, {"chain", c.Chain}, {"fullchain", c.Fullchain}} {
		if strings.TrimSpace(k.val) == "" {
			return nil, &ConfError{File: file, Line: 1, Msg: fmt.Sprintf("required key %q is missing (truncated or hand-edited?)", k.key)}
		}
	}
	return c, nil
}

// ParamValue returns the [renewalparams] value of key, whether RenewalParams
// has a field for it or not: a field's value when set (a non-empty string, a
// non-zero int, a non-nil list; a bool always, as True or False), else the
// entry as read. The engine's parameter table reads every key through it.
func (c *RenewalConf) ParamValue(key string) (Value, bool) {
	p := &c.Params
	for _, f := range paramStrings {
		if f.key == key {
			v := *f.get(p)
			return Scalar(v), v != ""
		}
	}
	for _, f := range paramInts {
		if f.key == key {
			n := *f.get(p)
			return Scalar(strconv.Itoa(n)), n != 0
		}
	}
	for _, f := range paramBools {
		if f.key == key {
			if *f.get(p) != f.neg {
				return Scalar("True"), true
			}
			return Scalar("False"), true
		}
	}
	for _, f := range paramLists {
		if f.key == key {
			l := *f.get(p)
			return List(l...), l != nil
		}
	}
	return c.Param(key)
}

// SetParamValue sets key in [renewalparams]: the RenewalParams field when
// there is one, else the raw entry. A zero Value (no items, not a list)
// removes the key.
func (c *RenewalConf) SetParamValue(key string, v Value) {
	p := &c.Params
	zero := len(v.Items) == 0 && !v.List
	for _, f := range paramStrings {
		if f.key == key {
			*f.get(p) = strings.Join(v.Items, ",")
			return
		}
	}
	for _, f := range paramInts {
		if f.key == key {
			n, _ := strconv.Atoi(strings.TrimSpace(v.String()))
			*f.get(p) = n
			return
		}
	}
	for _, f := range paramBools {
		if f.key == key {
			b, _ := parseBool(v)
			*f.get(p) = b != f.neg
			return
		}
	}
	for _, f := range paramLists {
		if f.key == key {
			*f.get(p) = nil
			if !zero {
				*f.get(p) = append([]string{}, v.Items...)
			}
			return
		}
	}
	if zero {
		c.DeleteParam(key)
		return
	}
	c.SetParam(key, v)
}
