package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ActiveCronLines returns the lines of a crontab that are neither blank,
// comments nor NAME=value assignments: the job lines.
func ActiveCronLines(data string) []string {
	var out []string
	for _, l := range strings.Split(data, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if i := strings.IndexAny(t, "= \t"); i > 0 && t[i] == '=' {
			continue // NAME=value
		}
		out = append(out, l)
	}
	return out
}

// commentOut comments out every job line of a crontab.
func commentOut(data string) string {
	lines := strings.Split(data, "\n")
	active := map[string]bool{}
	for _, l := range ActiveCronLines(data) {
		active[l] = true
	}
	for i, l := range lines {
		if active[l] {
			lines[i] = "#acmectl-disabled# " + l
		}
	}
	return strings.Join(lines, "\n")
}

// CronEntry is one parsed crontab job line.
type CronEntry struct {
	// Minute, Hour, Dom, Month and Dow hold the allowed values (index = value;
	// Dow 0 and 7 are Sunday).
	Minute, Hour, Dom, Month, Dow []bool
	domStar, dowStar              bool
	// User is the user field (system crontabs only).
	User string
	// Command is the rest of the line, as written.
	Command string
}

var cronNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
}

// timeField is one of the five time fields: where it goes, its range, and
// where a leading * is remembered (cron's day-of-month/day-of-week rule).
type timeField struct {
	dst    *[]bool
	lo, hi int
	star   *bool
	name   string
}

func (e *CronEntry) timeFields() []timeField {
	return []timeField{
		{&e.Minute, 0, 59, nil, "minute"},
		{&e.Hour, 0, 23, nil, "hour"},
		{&e.Dom, 1, 31, &e.domStar, "day of month"},
		{&e.Month, 1, 12, nil, "month"},
		{&e.Dow, 0, 7, &e.dowStar, "day of week"},
	}
}

// ParseCronLine parses a crontab job line: five time fields, a user field
// when withUser (/etc/cron.d, /etc/crontab), and the command.
func ParseCronLine(line string, withUser bool) (*CronEntry, error) {
	f := strings.Fields(line)
	want, what := 6, "5 time fields and a command"
	if withUser {
		want, what = 7, "5 time fields, a user and a command"
	}
	if len(f) < want {
		return nil, fmt.Errorf("cron line %q: want %s", line, what)
	}
	e := &CronEntry{}
	for i, fd := range e.timeFields() {
		v, err := cronField(f[i], fd.lo, fd.hi)
		if err != nil {
			return nil, fmt.Errorf("cron line %q: %s field: %w", line, fd.name, err)
		}
		*fd.dst = v
		if fd.star != nil {
			*fd.star = strings.HasPrefix(f[i], "*")
		}
	}
	if e.Dow[7] {
		e.Dow[0] = true
	}
	rest := f[5:]
	if withUser {
		e.User = f[5]
		rest = f[6:]
		if strings.ContainsAny(e.User, "=/") {
			return nil, fmt.Errorf("cron line %q: user field %q is not a user name", line, e.User)
		}
	}
	// Keep the command as written (after the fields).
	idx := 0
	for _, w := range f[:len(f)-len(rest)] {
		idx = strings.Index(line[idx:], w) + idx + len(w)
	}
	e.Command = strings.TrimSpace(line[idx:])
	return e, nil
}

// cronField parses one time field: lists of *, N, N-M, each with /STEP.
func cronField(s string, lo, hi int) ([]bool, error) {
	out := make([]bool, hi+1)
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad step %q", stepS)
			}
			step = n
		}
		a, b, err := cronRange(rng, lo, hi, hasStep)
		if err != nil {
			return nil, err
		}
		for v := a; v <= b; v += step {
			out[v] = true
		}
	}
	return out, nil
}

// cronRange parses "*", "N-M" or "N" (which runs to hi with a step).
func cronRange(rng string, lo, hi int, hasStep bool) (int, int, error) {
	num := func(v string) (int, error) {
		if n, ok := cronNames[strings.ToLower(v)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a number from %d to %d", v, lo, hi)
		}
		return n, nil
	}
	switch {
	case rng == "*":
		return lo, hi, nil
	case strings.Contains(rng, "-"):
		x, y, _ := strings.Cut(rng, "-")
		a, err := num(x)
		if err != nil {
			return 0, 0, err
		}
		b, err := num(y)
		if err != nil {
			return 0, 0, err
		}
		if a > b {
			return 0, 0, fmt.Errorf("range %q runs backwards", rng)
		}
		return a, b, nil
	}
	n, err := num(rng)
	if err != nil {
		return 0, 0, err
	}
	if hasStep {
		return n, hi, nil
	}
	return n, n, nil
}

// Next returns the first minute after now the entry fires (cron's rule:
// when both day fields are restricted, either may match). It looks at most
// a little over four years ahead; false when the entry never fires.
func (e *CronEntry) Next(now time.Time) (time.Time, bool) {
	t := now.Truncate(time.Minute).Add(time.Minute)
	end := now.AddDate(4, 1, 0)
	for t.Before(end) {
		if !e.Month[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
			continue
		}
		dom, dow := e.Dom[t.Day()], e.Dow[int(t.Weekday())]
		dayOK := dom && dow
		if !e.domStar && !e.dowStar {
			dayOK = dom || dow
		}
		if !dayOK {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
			continue
		}
		if !e.Hour[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
			continue
		}
		if e.Minute[t.Minute()] {
			return t, true
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}, false
}
