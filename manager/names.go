package manager

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// idnaProfile converts user-typed names to the ASCII (punycode) form the CA
// sees, with the lookup mapping (case folding, width mapping) and strict
// hostname rules.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.StrictDomainName(true),
	idna.ValidateLabels(true),
	idna.BidiRule(),
	idna.VerifyDNSLength(true),
)

// normalizeDomain returns name in the form put in the order: lower-case
// ASCII, IDNs as punycode, no trailing dot, a leading "*." kept. Names that a
// public CA would refuse are refused here with the reason: IP addresses (use
// --ip-address), single labels, empty labels, bad characters, "*" anywhere but
// as the whole first label.
func NormalizeDomain(name string) (string, error) {
	raw := name
	name = strings.TrimSpace(name)
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return "", fmt.Errorf("empty domain name")
	}
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return "", fmt.Errorf("%q is an IP address; pass it with --ip-address", raw)
	}
	wild := false
	if strings.HasPrefix(name, "*.") {
		wild = true
		name = name[2:]
	}
	if strings.Contains(name, "*") {
		return "", fmt.Errorf("%q: a wildcard must be the whole first label (*.example.com)", raw)
	}
	// The structural rules first, so the message names the actual fault
	// rather than the IDNA library's summary of it.
	// Full stops other scripts use (UTS 46 maps them to ".") count as dots.
	if err := checkLabels(raw, strings.Split(otherDots.Replace(name), ".")); err != nil {
		return "", err
	}
	ascii, err := idnaProfile.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid domain name: %w", raw, err)
	}
	ascii = strings.ToLower(ascii)
	labels := strings.Split(ascii, ".")
	if err := checkLabels(raw, labels); err != nil {
		return "", err
	}
	if len(ascii) > 253 {
		return "", fmt.Errorf("%q is longer than 253 characters", raw)
	}
	for _, l := range labels {
		if !strings.HasPrefix(l, "xn--") {
			continue
		}
		// IDNA2008 allows letters, marks and digits; the lookup mapping lets
		// symbols such as emoji through, which CAs refuse.
		u, err := idna.ToUnicode(l)
		if err != nil {
			return "", fmt.Errorf("%q is not a valid domain name: %w", raw, err)
		}
		for _, r := range u {
			if !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) && r != '-' {
				return "", fmt.Errorf("%q is not a valid domain name: %q is not allowed in an internationalized name", raw, r)
			}
		}
	}
	if wild {
		ascii = "*." + ascii
	}
	return ascii, nil
}

// checkLabels applies the hostname rules that hold before and after punycode:
// at least two labels, none empty, none over 63 bytes, no hyphen at either end.
func checkLabels(raw string, labels []string) error {
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a fully qualified domain name (it needs at least two labels)", raw)
	}
	total := len(labels) - 1
	for _, l := range labels {
		if l == "" {
			return fmt.Errorf("%q is not a valid domain name: it has an empty label", raw)
		}
		if len(l) > 63 && isASCII(l) {
			return fmt.Errorf("%q is not a valid domain name: label %q is longer than 63 characters", raw, l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a valid domain name: label %q starts or ends with a hyphen", raw, l)
		}
		total += len(l)
	}
	if total > 253 && isASCII(strings.Join(labels, "")) {
		return fmt.Errorf("%q is longer than 253 characters", raw)
	}
	return nil
}

var otherDots = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// normalizeDomains splits comma lists, normalizes every name and drops
// duplicates, keeping the first occurrence's position (the first name names
// the lineage).
func NormalizeDomains(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, item := range in {
		for _, d := range strings.Split(item, ",") {
			if strings.TrimSpace(d) == "" {
				continue
			}
			n, err := NormalizeDomain(d)
			if err != nil {
				return nil, Usagef("--domain: %w", err)
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// normalizeIPs parses --ip-address values (comma lists allowed) into their
// canonical text form.
func NormalizeIPs(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, item := range in {
		for _, s := range strings.Split(item, ",") {
			s = strings.Trim(strings.TrimSpace(s), "[]")
			if s == "" {
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return nil, Usagef("--ip-address: %q is not an IP address", s)
			}
			n := a.Unmap().String()
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// lineageNameFor is certbot's default lineage name: the first domain without
// "*.", else the first IP address.
func lineageNameFor(domains, ips []string) string {
	if len(domains) > 0 {
		return strings.TrimPrefix(domains[0], "*.")
	}
	if len(ips) > 0 {
		return ips[0]
	}
	return ""
}

// CertNames lists a certificate's DNS names then IP addresses.
func CertNames(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// SplitNames separates DNS names and IP addresses.
func SplitNames(names []string) (domains, ips []string) {
	for _, n := range names {
		if net.ParseIP(n) != nil {
			ips = append(ips, n)
		} else {
			domains = append(domains, n)
		}
	}
	return domains, ips
}

// SameSet reports whether a and b hold the same names.
func SameSet(a, b []string) bool {
	return len(a) == len(b) && SubsetOf(a, b)
}

// SubsetOf reports whether every name of a is in b.
func SubsetOf(a, b []string) bool {
	m := map[string]bool{}
	for _, x := range b {
		m[x] = true
	}
	for _, x := range a {
		if !m[x] {
			return false
		}
	}
	return true
}

// HumanList is certbot's "a.com and b.com" / "a.com, b.com, and c.com".
func HumanList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}
