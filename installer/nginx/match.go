package nginx

import (
	"regexp"
	"strings"
)

// Match kinds in nginx's order of precedence
// (https://nginx.org/en/docs/http/server_names.html, certbot's get_best_match).
const (
	matchExact = iota
	matchWildStart
	matchWildEnd
	matchRegex
	matchNone
)

// bestMatch returns how well target matches the best of names, and that name.
func bestMatch(target string, names []string) (kind int, name string) {
	kind = matchNone
	for _, n := range names {
		n = strings.Trim(n, `"'`)
		k := matchNone
		switch {
		case exactMatch(target, n):
			k = matchExact
		case wildMatch(target, n, true):
			k = matchWildStart
		case wildMatch(target, n, false):
			k = matchWildEnd
		case regexMatch(target, n):
			k = matchRegex
		}
		if k == matchNone {
			continue
		}
		switch {
		case k < kind:
			kind, name = k, n
		case k == kind && k == matchExact && len(n) < len(name):
			name = n // example.com over .example.com
		case k == kind && (k == matchWildStart || k == matchWildEnd) && len(n) > len(name):
			name = n // the longest wildcard
		}
	}
	return kind, name
}

func exactMatch(target, name string) bool {
	t := strings.ToLower(target)
	n := strings.ToLower(name)
	return n == t || n == "."+t
}

// wildMatch: *.example.com and .example.com cover www.example.com (start);
// www.example.* covers www.example.org (end).
func wildMatch(target, name string, start bool) bool {
	if name == "*" {
		return true
	}
	parts := strings.Split(strings.ToLower(target), ".")
	mparts := strings.Split(strings.ToLower(name), ".")
	if !start {
		reverse(parts)
		reverse(mparts)
	}
	if first := mparts[0]; first != "*" && first != "" {
		return false
	}
	return strings.HasSuffix(strings.Join(parts, "."), "."+strings.Join(mparts[1:], "."))
}

func reverse(s []string) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func regexMatch(target, name string) bool {
	if len(name) < 2 || name[0] != '~' {
		return false
	}
	re, err := regexp.Compile(name[1:])
	if err != nil {
		return false // a PCRE construct Go lacks; nginx would still match it
	}
	return re.MatchString(target)
}

// inWildcardScope reports whether name is covered by the wildcard certificate
// name "*.example.com" (one label), or is the same wildcard.
func inWildcardScope(name, wildcard string) bool {
	name = strings.ToLower(strings.TrimPrefix(name, "."))
	wildcard = strings.ToLower(wildcard)
	if name == wildcard {
		return true
	}
	base := strings.TrimPrefix(wildcard, "*")
	if !strings.HasSuffix(name, base) {
		return false
	}
	label := strings.TrimSuffix(name, base)
	return label != "" && !strings.Contains(label, ".")
}

type ranked struct {
	v    *VHost
	rank int
	name string
}

// rank orders vhosts by how nginx would prefer them for target; preferSSL moves
// non-TLS blocks behind every TLS block (certbot's NO_SSL_MODIFIER).
func rank(vhosts []*VHost, target string, preferSSL bool) []ranked {
	var out []ranked
	for _, v := range vhosts {
		k, n := bestMatch(target, v.Names)
		if k == matchNone {
			continue
		}
		if preferSSL && !v.SSL {
			k += 4
		}
		out = append(out, ranked{v, k, n})
	}
	// Stable by rank: equal ranks keep nginx's order (the first regex wins).
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].rank < out[j-1].rank; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// best is certbot's _select_best_name_match: for wildcard ranks the longest name.
func best(m []ranked) *VHost {
	if len(m) == 0 {
		return nil
	}
	r := m[0].rank % 4
	if r == matchWildStart || r == matchWildEnd {
		b := m[0]
		for _, x := range m[1:] {
			if x.rank == m[0].rank && len(x.name) > len(b.name) {
				b = x
			}
		}
		return b.v
	}
	return m[0].v
}
