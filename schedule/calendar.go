package schedule

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// UnitValue returns the last value of key in a unit file ("" when absent).
func UnitValue(unit, key string) string {
	v := ""
	for _, l := range strings.Split(unit, "\n") {
		l = strings.TrimSpace(l)
		if k, val, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			v = strings.TrimSpace(val)
		}
	}
	return v
}

// parseSystemdTime parses systemctl show's NextElapseUSecRealtime: a
// timestamp ("Sat 2026-11-28 12:19:40 UTC") or microseconds since the epoch.
func parseSystemdTime(v string) (time.Time, bool) {
	if v == "" || v == "0" || v == "n/a" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMicro(n), true
	}
	for _, layout := range []string{"Mon 2006-01-02 15:04:05 MST", "Mon 2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// nextCalendar computes the next elapse of a simple OnCalendar expression of
// the form "*-*-* H[,H...]:MM[:SS]" (what Install writes), in now's location.
func nextCalendar(expr string, now time.Time) (time.Time, error) {
	hours, min, sec, err := parseCalendar(expr)
	if err != nil {
		return time.Time{}, err
	}
	for d := 0; d < 2; d++ {
		day := now.AddDate(0, 0, d)
		for _, h := range hours {
			t := time.Date(day.Year(), day.Month(), day.Day(), h, min, sec, 0, now.Location())
			if t.After(now) {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("OnCalendar %q: no next time", expr)
}

// parseCalendar reads "*-*-* H[,H...]:MM[:SS]": the sorted hours, the minute
// and the second.
func parseCalendar(expr string) (hours []int, min, sec int, err error) {
	f := strings.Fields(expr)
	if len(f) != 2 || f[0] != "*-*-*" {
		return nil, 0, 0, fmt.Errorf("OnCalendar %q: only *-*-* H,H:MM:SS is understood", expr)
	}
	parts := strings.Split(f[1], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, 0, 0, fmt.Errorf("OnCalendar %q: bad time", expr)
	}
	min, err1 := strconv.Atoi(parts[1])
	var err2 error
	if len(parts) == 3 {
		sec, err2 = strconv.Atoi(parts[2])
	}
	if err1 != nil || err2 != nil || min < 0 || min > 59 || sec < 0 || sec > 59 {
		return nil, 0, 0, fmt.Errorf("OnCalendar %q: bad minute or second", expr)
	}
	for _, h := range strings.Split(parts[0], ",") {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 || n > 23 {
			return nil, 0, 0, fmt.Errorf("OnCalendar %q: bad hour %q", expr, h)
		}
		hours = append(hours, n)
	}
	sort.Ints(hours)
	return hours, min, sec, nil
}
