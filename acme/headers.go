package acme

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter parses a Retry-After value (RFC 9110 §10.2.3): delta-seconds or
// an HTTP-date, relative to now. Negative results are clamped to 0. ok is false
// when the value is absent or malformed.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, true
		}
		const maxSeconds = int64(365 * 24 * 3600)
		if n > maxSeconds {
			n = maxSeconds
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// ParseLinks returns the target URLs of Link header values with the given rel
// (RFC 8288), e.g. rel="alternate" certificate chains (§7.4.2) or rel="up".
// Malformed entries are skipped.
func ParseLinks(values []string, rel string) []string {
	var out []string
	for _, v := range values {
		for len(v) > 0 {
			v = strings.TrimLeft(v, " \t,")
			if !strings.HasPrefix(v, "<") {
				// Skip to the next entry.
				i := strings.IndexByte(v, ',')
				if i < 0 {
					break
				}
				v = v[i+1:]
				continue
			}
			end := strings.IndexByte(v, '>')
			if end < 0 {
				break
			}
			target := v[1:end]
			v = v[end+1:]
			// Parameters up to the next comma that is not inside quotes.
			var params string
			inQuote := false
			i := 0
			for ; i < len(v); i++ {
				ch := v[i]
				if ch == '"' {
					inQuote = !inQuote
				} else if ch == ',' && !inQuote {
					break
				}
			}
			params, v = v[:i], v[i:]
			if linkHasRel(params, rel) {
				out = append(out, target)
			}
		}
	}
	return out
}

func linkHasRel(params, rel string) bool {
	for _, p := range strings.Split(params, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		for _, r := range strings.Fields(val) {
			if strings.EqualFold(r, rel) {
				return true
			}
		}
	}
	return false
}
