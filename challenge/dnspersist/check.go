package dnspersist

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Status is the outcome of checking one name's records.
type Status string

// Statuses, from the CA's point of view.
const (
	// StatusOK: the CA would accept a record (Warning may still say that its
	// persistUntil is near).
	StatusOK Status = "ok"
	// StatusMissing: no TXT record names one of the CA's issuer domain names.
	StatusMissing Status = "missing"
	// StatusMalformed: a record for the CA breaks the record syntax (the CA
	// answers "malformed").
	StatusMalformed Status = "malformed"
	// StatusWrongAccount: the record names another account (a new account,
	// or an account URL that changed).
	StatusWrongAccount Status = "wrong-account"
	// StatusNoWildcardPolicy: a wildcard needs policy=wildcard.
	StatusNoWildcardPolicy Status = "no-wildcard-policy"
	// StatusExpired: persistUntil has passed.
	StatusExpired Status = "expired"
	// StatusLookupFailed: the records could not be read.
	StatusLookupFailed Status = "lookup-failed"
)

// Expect is what the CA will compare a record with.
type Expect struct {
	// IssuerDomainNames are the CA's (compared exactly, as the CA does).
	IssuerDomainNames []string
	// AccountURL is the account that will ask for validation.
	AccountURL string
	// At is when the CA will validate; zero means now. persistUntil before
	// At is expired, within WarnWithin of At a warning.
	At time.Time
	// Wildcard makes the proposed record carry policy=wildcard although the
	// name checked is not a wildcard: its wildcard is requested too and
	// shares the record (CheckNames sets it).
	Wildcard bool
}

// Verdict is the check of one requested name.
type Verdict struct {
	// Name is the requested name ("*.p.example"), RecordName where its
	// record lives ("_validation-persist.p.example").
	Name       string `json:"name"`
	RecordName string `json:"record_name"`
	Status     Status `json:"status"`
	// Reason says what the CA would say, in one line.
	Reason string `json:"reason,omitempty"`
	// Record is the value that decided: the accepted one, or the one
	// closest to acceptance.
	Record string `json:"record,omitempty"`
	// Found are all TXT values at RecordName.
	Found []string `json:"found"`
	// Source says where they were read (server or resolver).
	Source string `json:"source,omitempty"`
	// PersistUntil is the accepted record's, when it has one.
	PersistUntil *time.Time `json:"persist_until,omitempty"`
	// Warning is set when the accepted record's persistUntil is within
	// WarnWithin.
	Warning string `json:"warning,omitempty"`
	// Fix says what to do, naming the record to publish; Want is that record.
	Fix  string  `json:"fix,omitempty"`
	Want *Record `json:"want,omitempty"`
}

// OK reports whether the CA would accept the name's record.
func (v Verdict) OK() bool { return v.Status == StatusOK }

// Err returns nil when OK, else a *RecordError.
func (v Verdict) Err() error {
	if v.OK() {
		return nil
	}
	return &RecordError{Verdict: v}
}

// RecordError: the CA would refuse a name's record. The message names the
// record to publish.
type RecordError struct{ Verdict Verdict }

func (e *RecordError) Error() string {
	v := e.Verdict
	msg := fmt.Sprintf("dns-persist-01: %s: %s", v.Name, v.Reason)
	if v.Fix != "" {
		msg += "; " + v.Fix
	}
	return msg
}

// rank orders failing statuses from the farthest from acceptance to the
// nearest; the nearest record is the one reported.
var rank = map[Status]int{StatusMissing: 0, StatusWrongAccount: 1, StatusNoWildcardPolicy: 2, StatusExpired: 3}

// Check decides, as the CA would, whether one of txts (the TXT values at
// the name's record, character-strings joined) proves name for exp. It
// follows Pebble's order: records whose issuer is not the CA's are ignored;
// the first acceptable record wins; otherwise a malformed record for the CA
// is reported before a mismatch (account, policy, persistUntil), and a
// mismatch before "missing".
func Check(name string, txts []string, exp Expect) Verdict {
	at := exp.At
	if at.IsZero() {
		at = time.Now()
	}
	base, wildcard, err := SplitWildcard(name)
	v := Verdict{Name: name, Found: append([]string{}, txts...)}
	if err != nil {
		v.Status, v.Reason = StatusLookupFailed, err.Error()
		return v
	}
	if wildcard {
		v.Name = "*." + base
	}
	v.RecordName = Label + "." + base
	if err := CheckIssuerDomainNames(exp.IssuerDomainNames); err != nil {
		v.Status, v.Reason = StatusLookupFailed, err.Error()
		return v
	}

	var malformed, near []string
	var nearValue IssueValue
	var malformedRecord, nearRecord string
	nearStatus := StatusMissing
	for _, txt := range txts {
		iv, err := Parse(txt)
		if !slices.Contains(exp.IssuerDomainNames, iv.Issuer) {
			continue
		}
		if err == nil && iv.AccountURI == "" {
			err = fmt.Errorf("missing mandatory accounturi parameter")
		}
		if err != nil {
			malformed = append(malformed, fmt.Sprintf("record %q is malformed: %v", txt, err))
			if malformedRecord == "" {
				malformedRecord = txt
			}
			continue
		}
		st, reason := judge(iv, wildcard, exp.AccountURL, at)
		if st == StatusOK {
			v.Status, v.Record, v.Reason = StatusOK, txt, ""
			if iv.HasPersistUntil {
				pu := iv.PersistUntil
				v.PersistUntil = &pu
				if left := pu.Sub(at); left < WarnWithin {
					v.Warning = fmt.Sprintf("persistUntil %s is in %s: renewals fail after it", pu.Format(time.RFC3339), roundDays(left))
					v.Want = v.want(exp, iv, wildcard, at)
					v.Fix = fmt.Sprintf("publish %s with a later persistUntil, or none", v.Want.describe())
				}
			}
			return v
		}
		near = append(near, reason)
		if rank[st] > rank[nearStatus] || nearRecord == "" {
			nearStatus, nearValue, nearRecord = st, iv, txt
		}
	}
	switch {
	case len(malformed) > 0:
		v.Status, v.Reason, v.Record = StatusMalformed, strings.Join(malformed, "; "), malformedRecord
		v.Want = v.want(exp, IssueValue{}, wildcard, at)
		v.Fix = "replace it with " + v.Want.describe()
	case len(near) > 0:
		v.Status, v.Reason, v.Record = nearStatus, strings.Join(near, "; "), nearRecord
		v.Want = v.want(exp, nearValue, wildcard, at)
		switch nearStatus {
		case StatusWrongAccount:
			v.Fix = "replace it with " + v.Want.describe() + " (a record names one account: a new account, or one whose URL changed, needs a new record)"
		case StatusNoWildcardPolicy:
			v.Fix = "add policy=wildcard: replace it with " + v.Want.describe()
		case StatusExpired:
			v.Fix = "replace it with " + v.Want.describe() + " (a later persistUntil, or none)"
		}
	default:
		v.Status = StatusMissing
		v.Reason = fmt.Sprintf("no TXT record at %s names the CA (%s)", v.RecordName, strings.Join(exp.IssuerDomainNames, ", "))
		if hint := caseHint(txts, exp.IssuerDomainNames); hint != "" {
			v.Reason += "; " + hint
		}
		v.Want = v.want(exp, IssueValue{}, wildcard, at)
		v.Fix = "create " + v.Want.describe()
	}
	return v
}

// judge compares a well-formed record for the CA with the request.
func judge(iv IssueValue, wildcard bool, accountURL string, at time.Time) (Status, string) {
	switch {
	case iv.AccountURI != accountURL:
		return StatusWrongAccount, fmt.Sprintf("the record names account %s, not %s", iv.AccountURI, accountURL)
	case wildcard && !iv.Wildcard():
		return StatusNoWildcardPolicy, fmt.Sprintf("the record has no policy=wildcard, which a wildcard needs (policy %q)", iv.Policy)
	case iv.HasPersistUntil && at.After(iv.PersistUntil):
		return StatusExpired, fmt.Sprintf("the record's persistUntil %s has passed", iv.PersistUntil.Format(time.RFC3339))
	}
	return StatusOK, ""
}

// want composes the record that would be accepted, keeping what the near
// record had that still holds (its issuer, policy=wildcard, a persistUntil
// not yet within WarnWithin).
func (v Verdict) want(exp Expect, near IssueValue, wildcard bool, at time.Time) *Record {
	p := Params{Issuer: exp.IssuerDomainNames[0], AccountURI: exp.AccountURL, Wildcard: wildcard || exp.Wildcard || near.Wildcard()}
	if slices.Contains(exp.IssuerDomainNames, near.Issuer) {
		p.Issuer = near.Issuer
	}
	if near.HasPersistUntil && near.PersistUntil.Sub(at) >= WarnWithin {
		p.PersistUntil = near.PersistUntil
	}
	val, err := p.Value()
	if err != nil {
		val = "(" + err.Error() + ")"
	}
	return &Record{Name: v.RecordName, Type: "TXT", Value: val, For: []string{v.Name}}
}

// describe names a record in prose: TXT <name> "<value>".
func (r *Record) describe() string { return "TXT " + r.Name + " " + quoteTXT(r.Value) }

// caseHint notices a record whose issuer matches one of the CA's only when
// case is ignored (the CA compares exactly).
func caseHint(txts, issuers []string) string {
	for _, txt := range txts {
		iv, _ := Parse(txt)
		for _, is := range issuers {
			if iv.Issuer != is && strings.EqualFold(strings.TrimSuffix(iv.Issuer, "."), is) {
				return fmt.Sprintf("record %q names %q, which the CA compares exactly with %q", txt, iv.Issuer, is)
			}
		}
	}
	return ""
}

func roundDays(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%d days", int(math.Round(d.Hours()/24)))
}
