package argparse

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// reasonCodes is certbot's constants.REVOCATION_REASONS (RFC 5280 §5.3.1).
var reasonCodes = map[string]int{
	"unspecified":          0,
	"keycompromise":        1,
	"affiliationchanged":   3,
	"superseded":           4,
	"cessationofoperation": 5,
}

// challengeTypes are acme's challenges.Challenge.TYPES that
// --preferred-challenges accepts after its aliases.
var challengeTypes = []string{"dns-01", "http-01", "tls-alpn-01"}

// convert is argparse's _get_value with certbot's type functions.
func convert(o *Option, raw string) (any, error) {
	switch o.Type {
	case Int:
		n, ok := pyInt(raw)
		if !ok {
			return nil, argError(o, "invalid int value: %s", pyRepr(raw))
		}
		return n, nil
	case NonNegativeInt:
		n, ok := pyInt(raw)
		if !ok {
			return nil, argError(o, "value must be an integer")
		}
		if n < 0 {
			return nil, argError(o, "value must be non-negative")
		}
		return n, nil
	case AbsPath:
		return absPath(raw), nil
	case ReadFile:
		p := absPath(raw)
		f, err := os.Open(p)
		if err == nil {
			var fi os.FileInfo
			fi, err = f.Stat()
			if err == nil && fi.IsDir() {
				err = syscall.EISDIR
			}
			f.Close()
		}
		if err != nil {
			return nil, argError(o, "%s", strerror(err))
		}
		return p, nil
	case UserAgentComment:
		if strings.ContainsAny(raw, "()") {
			return nil, argError(o, "may not contain parentheses")
		}
	}
	return raw, nil
}

// checkChoice is argparse's _check_value; --reason's choices are
// certbot's CaseInsensitiveList.
func checkChoice(o *Option, v any) error {
	if o.Choices == nil {
		return nil
	}
	s, _ := v.(string)
	if o.Action == Reason {
		s = strings.ToLower(s)
	}
	if slices.Contains(o.Choices, s) {
		return nil
	}
	quoted := make([]string, len(o.Choices))
	for i, c := range o.Choices {
		quoted[i] = pyRepr(c)
	}
	return argError(o, "invalid choice: %s (choose from %s)", pyRepr(fmt.Sprint(v)), strings.Join(quoted, ", "))
}

// addDomains is certbot's add_domains.
func (st *state) addDomains(list string) error {
	names, err := st.splitDomains(list)
	if err != nil {
		return err
	}
	l, _ := st.res.Values["domains"].([]string)
	for _, d := range names {
		if !slices.Contains(l, d) {
			l = append(l, d)
		}
	}
	st.res.Values["domains"] = l
	st.res.Set["domains"] = true
	return nil
}

func (st *state) splitDomains(list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	check := st.p.spec.Normalize["domains"]
	if check == nil {
		check = EnforceDomainSanity
	}
	var out []string
	for _, d := range strings.Split(list, ",") {
		d, err := check(strings.TrimSpace(d))
		if err != nil {
			return nil, err
		}
		if d != "" {
			out = append(out, d)
		}
	}
	return out, nil
}

// EnforceDomainSanity is certbot's util.enforce_domain_sanity: the name in
// lower case without a trailing dot, or a *ConfigError with certbot's text.
func EnforceDomainSanity(d string) (string, error) {
	for _, r := range d {
		if r >= utf8.RuneSelf {
			return "", &ConfigError{"Non-ASCII domain names not supported. To issue for an Internationalized Domain Name, use Punycode."}
		}
	}
	d = strings.ToLower(d)
	d = strings.TrimSuffix(d, ".")
	for _, scheme := range []string{"http", "https"} {
		if strings.HasPrefix(d, scheme+"://") {
			return "", &ConfigError{fmt.Sprintf("Requested name %s appears to be a URL, not a FQDN. Try again without the leading \"%s://\".", d, scheme)}
		}
	}
	if isIPAddress(d) {
		return "", &ConfigError{fmt.Sprintf("Requested name %s is an IP address. The Let's Encrypt certificate authority will not issue certificates for a bare IP address.", d)}
	}
	msg := fmt.Sprintf("Requested domain %s is not a FQDN because", d)
	if len(d) > 255 {
		return "", &ConfigError{msg + " it is too long."}
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" {
			return "", &ConfigError{msg + " it contains an empty label."}
		}
		if len(l) > 63 {
			return "", &ConfigError{fmt.Sprintf("%s label %s is too long.", msg, l)}
		}
	}
	return d, nil
}

// isIPAddress is certbot's util.is_ipaddress (inet_pton for IPv4 or IPv6).
func isIPAddress(s string) bool {
	if strings.Contains(s, "%") {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// addIPs is certbot 5.3's _IPAddressAction (PR #10495): each address of a
// comma list normalized as Python's ipaddress does, duplicates dropped.
func (st *state) addIPs(o *Option, list string) error {
	l, _ := st.res.Values[o.Dest].([]string)
	check := st.p.spec.Normalize[o.Dest]
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		var n string
		if check != nil {
			var err error
			if n, err = check(s); err != nil {
				return err
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return &ConfigError{fmt.Sprintf("Requested IP address %s is not a valid IP address.", s)}
			}
			n = a.Unmap().String()
		}
		if n != "" && !slices.Contains(l, n) {
			l = append(l, n)
		}
	}
	st.res.Values[o.Dest] = l
	return nil
}

// prefChallenges is _PrefChallAction with parse_preferred_challenges.
func (st *state) prefChallenges(o *Option, list string) error {
	var challs, bad []string
	for _, c := range strings.Split(list, ",") {
		c = strings.TrimSpace(c)
		switch c {
		case "dns":
			c = "dns-01"
		case "http":
			c = "http-01"
		}
		challs = append(challs, c)
		if !slices.Contains(challengeTypes, c) && !slices.Contains(st.p.spec.ExtraChallenges, c) {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		return argError(o, "Unrecognized challenges: %s", strings.Join(bad, ", "))
	}
	l, _ := st.res.Values[o.Dest].([]string)
	st.res.Values[o.Dest] = append(l, challs...)
	return nil
}

// webrootPath is the webroot plugin's _WebrootPathAction.
func (st *state) webrootPath(o *Option, dir string) error {
	if st.domainBeforeWebroot {
		return &ConfigError{"If you specify multiple webroot paths, one of them must precede all domain flags"}
	}
	paths, _ := st.res.Values[o.Dest].([]string)
	domains, _ := st.res.Values["domains"].([]string)
	if len(paths) > 0 {
		m, _ := st.res.Values["webroot_map"].(map[string]string)
		if m == nil {
			m = map[string]string{}
		}
		for _, d := range domains {
			if _, ok := m[d]; !ok {
				m[d] = paths[len(paths)-1]
				st.res.Set["webroot_map"] = true
			}
		}
		st.res.Values["webroot_map"] = m
	} else if len(domains) > 0 {
		st.domainBeforeWebroot = true
	}
	abs, err := validateWebroot(dir)
	if err != nil {
		return err
	}
	st.res.Values[o.Dest] = append(paths, abs)
	return nil
}

// webrootMap is _WebrootMapAction: {"a.com,b.com": "/dir", ...}; the names
// are added to the domains as -d does, in the object's order.
func (st *state) webrootMap(raw string) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return &ConfigError{fmt.Sprintf("--webroot-map: not a JSON object: %s", raw)}
	}
	m, _ := st.res.Values["webroot_map"].(map[string]string)
	if m == nil {
		m = map[string]string{}
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return &ConfigError{fmt.Sprintf("--webroot-map: %v", err)}
		}
		var dir string
		if err := dec.Decode(&dir); err != nil {
			return &ConfigError{fmt.Sprintf("--webroot-map: %v", err)}
		}
		abs, err := validateWebroot(dir)
		if err != nil {
			return err
		}
		names, err := st.splitDomains(kt.(string))
		if err != nil {
			return webrootMapError(err)
		}
		if err := st.addDomains(kt.(string)); err != nil {
			return webrootMapError(err)
		}
		for _, d := range names {
			m[d] = abs
		}
	}
	if _, err := dec.Token(); err != nil {
		return &ConfigError{fmt.Sprintf("--webroot-map: %v", err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &ConfigError{fmt.Sprintf("--webroot-map: extra data after the JSON object: %s", raw)}
	}
	st.res.Values["webroot_map"] = m
	st.res.Set["webroot_map"] = true
	return nil
}

// webrootMapError names --webroot-map in a name's error when the caller
// checks names (Spec.Normalize); certbot's own errors stay as they are.
func webrootMapError(err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("--webroot-map: %w", err)
}

// validateWebroot is the webroot plugin's _validate_webroot.
func validateWebroot(dir string) (string, error) {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return "", &ConfigError{dir + " does not exist or is not a directory"}
	}
	return absPath(dir), nil
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// strerror is Python's OSError.strerror for err.
func strerror(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
	case errors.Is(err, fs.ErrNotExist):
		errno = syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		errno = syscall.EACCES
	default:
		return err.Error()
	}
	s := errno.Error()
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// pyInt is Python's int(str) for ASCII input: surrounding white space, an
// optional sign, digits with single underscores between them.
func pyInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || body[0] == '_' || body[len(body)-1] == '_' || strings.Contains(body, "__") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	return n, err == nil
}

// pyRepr is Python's repr() of a str.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
