package manager

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// dueInput is what renew knows about one lineage when deciding (certbot
// renewal.py should_renew / should_autorenew, 4.1+).
type dueInput struct {
	Now                 time.Time
	NotBefore, NotAfter time.Time
	Force, DryRun       bool
	// Autorenew false (autorenew = False in the conf) means never, unless forced.
	Autorenew bool
	// RenewBeforeExpiry is renew_before_expiry; HasRBE says it was set.
	RenewBeforeExpiry time.Duration
	HasRBE            bool
	// ARITime is the random point chosen in the CA's suggested window; zero
	// when the CA has no ARI or it could not be asked.
	ARITime time.Time
}

// isDue says whether a lineage should be renewed now, and why.
func isDue(in dueInput) (bool, string) {
	switch {
	case in.Force:
		return true, "renewal forced"
	case in.DryRun:
		return true, "dry run"
	case !in.Autorenew:
		return false, "autorenew is off for this certificate"
	}
	if !in.ARITime.IsZero() && in.Now.After(in.ARITime) {
		return true, "the CA's renewal window (ARI) has been reached"
	}
	if in.HasRBE {
		if in.NotAfter.Before(in.Now.Add(in.RenewBeforeExpiry)) {
			return true, "renew_before_expiry reached"
		}
		return false, "not yet due (renew_before_expiry)"
	}
	if !in.ARITime.IsZero() {
		return false, "not yet due (ARI window at " + in.ARITime.UTC().Format(time.RFC3339) + ")"
	}
	at := defaultRenewalTime(in.NotBefore, in.NotAfter)
	if !in.Now.Before(at) {
		return true, "past the default renewal point"
	}
	return false, "not yet due"
}

// defaultRenewalTime is 2/3 into the certificate's lifetime, or 1/2 when the
// lifetime is under 10 days (certbot 4.0+).
func defaultRenewalTime(notBefore, notAfter time.Time) time.Time {
	life := notAfter.Sub(notBefore)
	if life < 10*24*time.Hour {
		return notBefore.Add(life / 2)
	}
	return notBefore.Add(life * 2 / 3)
}

// ariPick picks a uniformly random time in [start, end); end <= start gives start.
func ariPick(start, end time.Time, r *rand.Rand) time.Time {
	d := end.Sub(start)
	if d <= 0 {
		return start
	}
	var n int64
	if r != nil {
		n = r.Int64N(int64(d))
	} else {
		n = rand.Int64N(int64(d))
	}
	return start.Add(time.Duration(n))
}

// parseInterval reads renew_before_expiry as certbot (parsedatetime) accepts it:
// a bare number is days; otherwise number-unit pairs ("30 days", "1 week",
// "12 hours", "1w 2d").
func parseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, fmt.Errorf("empty interval")
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("interval %q is negative", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	units := map[string]time.Duration{
		"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
		"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
		"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
		"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
		"w": 7 * 24 * time.Hour, "wk": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
		"month": 30 * 24 * time.Hour, "months": 30 * 24 * time.Hour,
		"y": 365 * 24 * time.Hour, "year": 365 * 24 * time.Hour, "years": 365 * 24 * time.Hour,
	}
	// Split "30days" into "30 days" as well.
	var toks []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		i := strings.IndexFunc(f, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i > 0 {
			toks = append(toks, f[:i], f[i:])
		} else {
			toks = append(toks, f)
		}
	}
	if len(toks)%2 != 0 {
		return 0, fmt.Errorf("interval %q: want pairs like \"30 days\"", s)
	}
	var total time.Duration
	for i := 0; i < len(toks); i += 2 {
		n, err := strconv.ParseFloat(toks[i], 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("interval %q: %q is not a number", s, toks[i])
		}
		u, ok := units[toks[i+1]]
		if !ok {
			return 0, fmt.Errorf("interval %q: unknown unit %q", s, toks[i+1])
		}
		total += time.Duration(n * float64(u))
	}
	return total, nil
}
