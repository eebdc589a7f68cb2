package manager

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/acmectl/acmectl/acme"
	"github.com/acmectl/acmectl/challenge/http01"
)

// IssueError is an issuance that failed, explained for the operator as
// certbot's auth_handler._report_failed_authzrs does, and further: one
// NameProblem per identifier that failed validation, with the CA's reason,
// then one hint per kind of failure saying what acmectl knows about it (the
// URL the CA fetched and the file written for it, what holds a port, the DNS
// record the CA looked up, which flag trusts a private CA). Err is the
// underlying error; Error() is its one-line text.
type IssueError struct {
	Lineage       string
	Authenticator string
	Problems      []NameProblem
	Hints         []string
	Err           error
}

func (e *IssueError) Error() string { return e.Err.Error() }
func (e *IssueError) Unwrap() error { return e.Err }

// Summary is the one-line error to end a report with: certbot's "Some
// challenges have failed." when names failed validation, else the error.
func (e *IssueError) Summary() string {
	if len(e.Problems) > 0 {
		return "Some challenges have failed."
	}
	return OneLine(e.Err.Error())
}

// NameProblem is why one identifier failed: the CA's problem type (without
// the urn:ietf:params:acme:error: prefix) and detail, subproblems included.
type NameProblem struct {
	Name, Type, Detail string
}

func (p NameProblem) String() string {
	if p.Type == "" {
		return p.Name + ": " + p.Detail
	}
	return p.Name + ": " + p.Type + ": " + p.Detail
}

// maxExplainFetches bounds the authorizations fetched to explain a failure.
const maxExplainFetches = 20

// explain turns an issuance error into an *IssueError when there is
// something to say beyond it; otherwise it returns err unchanged. cl may be
// nil (the failure came before any request).
func (m *Manager) explain(ctx context.Context, cl *acme.Client, c *Config, lineage string, err error) error {
	if err == nil {
		return nil
	}
	var done *IssueError
	if errors.As(err, &done) {
		return err
	}
	e := &IssueError{Lineage: lineage, Authenticator: c.Authenticator, Err: err}
	var hints hintSet
	hints.add(caTrustHint(err, c))
	hints.add(portInUseHint(err))
	fails := nameFailures(err)
	for i, f := range fails {
		e.Problems = append(e.Problems, nameProblem(f))
		var ch *acme.Challenge
		if i < maxExplainFetches && cl != nil && ctx.Err() == nil {
			ch = failedChallenge(ctx, cl, f)
		}
		hints.addChallenge(m, cl, c, f.Name, ch, e.Problems[i])
	}
	e.Hints = hints.list()
	if len(e.Problems) == 0 && len(e.Hints) == 0 {
		return err
	}
	return e
}

// nameProblem is the CA's reason for one failed identifier.
func nameProblem(f NameFailure) NameProblem {
	np := NameProblem{Name: f.Name}
	var p *acme.Problem
	if errors.As(f.Err, &p) {
		full := strings.TrimPrefix(p.Error(), "acme: ")
		np.Type, np.Detail, _ = strings.Cut(full, ": ")
		np.Type = strings.TrimSuffix(np.Type, fmt.Sprintf(" (%d)", p.Status))
		return np
	}
	msg := f.Err.Error()
	var ae *acme.AuthorizationError
	if errors.As(f.Err, &ae) && ae.Err != nil {
		msg = ae.Err.Error()
	}
	np.Detail = OneLine(msg)
	return np
}

// failedChallenge fetches the failed identifier's authorization and returns
// the challenge that failed (or the one that was attempted).
func failedChallenge(ctx context.Context, cl *acme.Client, f NameFailure) *acme.Challenge {
	var ae *acme.AuthorizationError
	if !errors.As(f.Err, &ae) || ae.URL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a, err := cl.GetAuthorization(ctx, ae.URL)
	if err != nil {
		return nil
	}
	for i := range a.Challenges {
		if a.Challenges[i].Error != nil {
			return &a.Challenges[i]
		}
	}
	for i := range a.Challenges {
		if a.Challenges[i].Status == acme.StatusInvalid || a.Challenges[i].Status == acme.StatusProcessing {
			return &a.Challenges[i]
		}
	}
	return nil
}

// hintSet keeps one hint per kind, in the order the kinds were first seen.
type hintSet struct {
	kinds []string
	text  map[string][]string
}

func (h *hintSet) add(kind, text string) {
	if text == "" {
		return
	}
	if h.text == nil {
		h.text = map[string][]string{}
	}
	if _, ok := h.text[kind]; !ok {
		h.kinds = append(h.kinds, kind)
	}
	if !contains(h.text[kind], text) {
		h.text[kind] = append(h.text[kind], text)
	}
}

func (h *hintSet) list() []string {
	var out []string
	for _, k := range h.kinds {
		parts := h.text[k]
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// addChallenge adds the hint for one failed identifier, by what the
// authenticator did for it.
func (h *hintSet) addChallenge(m *Manager, cl *acme.Client, c *Config, name string, ch *acme.Challenge, np NameProblem) {
	typ := ""
	if ch != nil {
		typ = ch.Type
	}
	if np.Type == "connection" && strings.Contains(strings.ToLower(np.Detail), "refused") {
		h.add("refused", refusedHint(name, caPort(np.Detail)))
	}
	switch {
	case c.Authenticator == "webroot" && ch != nil && typ == acme.ChallengeHTTP01:
		h.add("webroot", webrootHint(c, name, ch.Token, np.Detail))
	case c.Authenticator == "webroot":
		h.add("webroot", "The Certificate Authority failed to download the temporary challenge files created by acmectl. "+
			"Ensure that the listed domains serve their content from the provided --webroot-path/-w and that files created there can be downloaded from the internet.")
	case c.Authenticator == "standalone":
		addr := fmt.Sprintf("port %d", c.HTTP01Port)
		if c.HTTP01Addr != "" {
			addr = fmt.Sprintf("%s:%d", c.HTTP01Addr, c.HTTP01Port)
		}
		h.add("standalone", "The Certificate Authority failed to download the challenge files from the temporary standalone webserver started by acmectl on "+addr+
			". Ensure that the listed domains point to this machine and that it can accept inbound connections from the internet.")
	case c.Authenticator == "manual":
		h.add("manual", manualHint(typ))
	}
	if typ == acme.ChallengeDNS01 {
		h.add("dns", dnsHint(cl, name, ch.Token))
	}
}

// webrootHint names the URL the CA fetched and the file acmectl wrote for it.
func webrootHint(c *Config, name, token, detail string) string {
	url := "http://" + name + acme.HTTP01ResourcePath(token)
	if p := caPort(detail); p != 80 {
		url = fmt.Sprintf("http://%s:%d%s", name, p, acme.HTTP01ResourcePath(token))
	}
	root := c.WebrootMap[name]
	if root == "" {
		return fmt.Sprintf("The CA fetched %s; acmectl had no webroot for %s.", url, name)
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	file := filepath.Join(root, ".well-known", "acme-challenge", token)
	return fmt.Sprintf("For %s the CA fetched %s; acmectl wrote that file as %s (removed again afterwards): make sure %s serves /.well-known/acme-challenge/ from %s.",
		name, url, file, name, root)
}

// manualHint is certbot's manual plugin hint (plugins/manual.py auth_hint).
func manualHint(typ string) string {
	res := "challenge files"
	dns := ""
	if typ == acme.ChallengeDNS01 {
		res, dns = "DNS TXT records", " and that it waits a sufficient duration of time for DNS propagation"
	}
	return "The Certificate Authority failed to verify the " + res + " created by the --manual-auth-hook. Ensure that this hook is functioning correctly" + dns + "."
}

// dnsHint names the TXT record the CA looked up and the value it wanted.
func dnsHint(cl *acme.Client, name, token string) string {
	rec := acme.DNS01TXTRecordName(strings.TrimPrefix(name, "*."))
	want := ""
	if cl != nil && cl.Key != nil {
		if ka, err := acme.KeyAuthorization(cl.Key.Public(), token); err == nil {
			want = " " + strconv.Quote(acme.DNS01TXTRecordValue(ka))
		}
	}
	return fmt.Sprintf("For %s the CA looked up the TXT record %s and did not find the value%s: check that the DNS provider published it there and that every authoritative server answers it (dig +short TXT %s @each NS).",
		name, rec, want, rec)
}

// refusedHint says what listens on the port the CA could not connect to.
func refusedHint(name string, port int) string {
	pid, proc := http01.PortHolder(port)
	if pid == 0 {
		return fmt.Sprintf("The CA's connection to port %d of %s was refused: nothing on this host listens on port %d (or %s points to another host): start the web server that serves it, or use --standalone.", port, name, port, name)
	}
	return fmt.Sprintf("The CA's connection to port %d of %s was refused, although %s (pid %d) listens on port %d here: check that %s points to this host and that no firewall rejects port %d.", port, name, proc, pid, port, name, port)
}

// portInUseHint explains a standalone listener whose port is taken.
func portInUseHint(err error) (string, string) {
	var pe *http01.PortInUseError
	if !errors.As(err, &pe) {
		return "", ""
	}
	holder := "another process"
	if pe.PID != 0 {
		holder = fmt.Sprintf("%s (pid %d)", pe.Process, pe.PID)
	}
	stop := ""
	if pe.Process != "" {
		stop = fmt.Sprintf(" (--pre-hook 'systemctl stop %s' --post-hook 'systemctl start %s')", pe.Process, pe.Process)
	}
	return "port", fmt.Sprintf("Port %d, which the standalone server needs, is held by %s: stop it while the certificate is obtained%s, or let it serve the challenge with --webroot -w ITS_DOCUMENT_ROOT.", pe.Port, holder, stop)
}

// caTrustHint explains a CA whose HTTPS certificate this host does not trust.
func caTrustHint(err error, c *Config) (string, string) {
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		return "", ""
	}
	return "ca", fmt.Sprintf("The HTTPS certificate of %s is not signed by a root this host trusts: if the CA uses a private root, pass it with --ca-bundle FILE (or set %s).", c.Server, EnvCABundle)
}

var caPortRE = regexp.MustCompile(`https?://[^/\s"']+:(\d+)/`)

// caPort is the port in the URL the CA quotes in detail, else 80.
func caPort(detail string) int {
	if m := caPortRE.FindStringSubmatch(detail); m != nil {
		if p, err := strconv.Atoi(m[1]); err == nil {
			return p
		}
	}
	return http01.DefaultPort
}
