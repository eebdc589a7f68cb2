package manager

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	// Only what the CA reported is a name's problem; a failure on this side
	// (no solver, a port held, a hook that failed) stays the error line.
	fails := slices.DeleteFunc(nameFailures(err), func(f NameFailure) bool {
		var ae *acme.AuthorizationError
		return errors.As(f.Err, &ae) && ae.Local
	})
	for i, f := range fails {
		e.Problems = append(e.Problems, nameProblem(f))
		var ch *acme.Challenge
		if i < maxExplainFetches && cl != nil && ctx.Err() == nil {
			ch = failedChallenge(ctx, cl, f)
		}
		hints.addChallenge(m, cl, c, f.Name, ch, e.Problems[i])
	}
	e.Hints = hints.list(c)
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

// hintSet collects what the hints say, per kind, and renders one hint per
// kind: a sentence, then one indented line per name where names differ.
type hintSet struct {
	first   []string // hints known before the names (CA trust, port in use)
	refused map[int][]string
	caPorts []int
	webroot []string
	dns     []string
	lookup  []string // names the CA could not resolve (a dns problem on http-01/tls-alpn-01)
	manual  string
	stand   bool
}

func (h *hintSet) add(_, text string) {
	if text != "" && !contains(h.first, text) {
		h.first = append(h.first, text)
	}
}

// addChallenge records what the authenticator did for one failed name.
func (h *hintSet) addChallenge(_ *Manager, cl *acme.Client, c *Config, name string, ch *acme.Challenge, np NameProblem) {
	typ := ""
	if ch != nil {
		typ = ch.Type
	}
	port := caPort(np.Detail)
	if (typ == acme.ChallengeHTTP01 || strings.Contains(np.Detail, "http://")) && !containsInt(h.caPorts, port) {
		h.caPorts = append(h.caPorts, port)
	}
	refused := np.Type == "connection" && strings.Contains(strings.ToLower(np.Detail), "refused")
	switch {
	case typ != acme.ChallengeDNS01 && lookupFailed(np):
		h.lookup = append(h.lookup, name)
	case c.Authenticator == "standalone":
		h.stand = true
	case refused:
		if h.refused == nil {
			h.refused = map[int][]string{}
		}
		if !contains(h.refused[port], name) {
			h.refused[port] = append(h.refused[port], name)
		}
	case c.Authenticator == "webroot" && ch != nil && typ == acme.ChallengeHTTP01:
		h.webroot = append(h.webroot, webrootLine(c, name, ch.Token, port))
	case c.Authenticator == "webroot":
		h.webroot = append(h.webroot, name+": no challenge file was fetched")
	case c.Authenticator == "manual":
		h.manual = manualHint(typ)
	}
	if typ == acme.ChallengeDNS01 && c.Authenticator != "manual" {
		h.dns = append(h.dns, dnsLine(cl, name, ch.Token))
	}
}

// lookupFailed reports whether the CA could not resolve the name it was to
// connect to: Let's Encrypt's "dns" problem ("DNS problem: NXDOMAIN looking
// up A for ..."), Pebble's "could not resolve URL".
func lookupFailed(np NameProblem) bool {
	d := strings.ToLower(np.Detail)
	return np.Type == "dns" || strings.Contains(d, "could not resolve") || strings.Contains(d, "no such host") || strings.Contains(d, "dns problem")
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// list renders the hints.
func (h *hintSet) list(c *Config) []string {
	out := append([]string(nil), h.first...)
	if h.stand {
		out = append(out, standaloneHint(c, h.caPorts))
	}
	ports := make([]int, 0, len(h.refused))
	for p := range h.refused {
		ports = append(ports, p)
	}
	sort.Ints(ports)
	for _, p := range ports {
		out = append(out, refusedHint(h.refused[p], p))
	}
	if len(h.webroot) > 0 {
		out = append(out, "The Certificate Authority could not download the challenge files acmectl wrote into the webroot: "+
			"make sure each name serves /.well-known/acme-challenge/ from its --webroot-path/-w directory and that files created there can be downloaded from the internet:\n  "+
			strings.Join(h.webroot, "\n  "))
	}
	if len(h.dns) > 0 {
		out = append(out, "The Certificate Authority did not find the TXT records acmectl published: check that the DNS provider holds them and that every authoritative server answers them (dig +short TXT NAME @each-NS), or give it more time (--dns-propagation-seconds):\n  "+
			strings.Join(h.dns, "\n  "))
	}
	if len(h.lookup) > 0 {
		out = append(out, "The Certificate Authority could not resolve "+strings.Join(h.lookup, ", ")+
			" to connect to it: check that each name has an A or AAAA record that public DNS serves (dig +short A NAME; dig +short AAAA NAME).")
	}
	if h.manual != "" {
		out = append(out, h.manual)
	}
	return out
}

// standaloneHint is certbot's standalone hint (plugins/standalone.py
// auth_hint), plus the port the CA really connected to when it is not the
// one the server listened on.
func standaloneHint(c *Config, caPorts []int) string {
	addr := fmt.Sprintf("port %d", c.HTTP01Port)
	if c.HTTP01Addr != "" {
		addr = fmt.Sprintf("%s:%d", c.HTTP01Addr, c.HTTP01Port)
	}
	s := "The Certificate Authority failed to download the challenge files from the temporary standalone webserver started by acmectl on " + addr +
		". Ensure that the listed domains point to this machine and that it can accept inbound connections from the internet."
	for _, p := range caPorts {
		if p != c.HTTP01Port {
			s += fmt.Sprintf(" The CA connected to port %d, not %d: pass --http-01-port %d, or forward port %d to port %d.", p, c.HTTP01Port, p, p, c.HTTP01Port)
		}
	}
	return s
}

// webrootLine names the URL the CA fetched for name and the file acmectl
// wrote for it.
func webrootLine(c *Config, name, token string, port int) string {
	url := "http://" + name + acme.HTTP01ResourcePath(token)
	if port != http01.DefaultPort {
		url = fmt.Sprintf("http://%s:%d%s", name, port, acme.HTTP01ResourcePath(token))
	}
	root := c.WebrootMap[name]
	if root == "" {
		return fmt.Sprintf("%s: the CA fetched %s; acmectl had no webroot for it", name, url)
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return fmt.Sprintf("%s: the CA fetched %s, written to %s", name, url, filepath.Join(root, ".well-known", "acme-challenge", token))
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

// dnsLine names the TXT record the CA looked up for name and the value it
// wanted.
func dnsLine(cl *acme.Client, name, token string) string {
	rec := acme.DNS01TXTRecordName(strings.TrimPrefix(name, "*."))
	want := ""
	if cl != nil && cl.Key != nil {
		if ka, err := acme.KeyAuthorization(cl.Key.Public(), token); err == nil {
			want = " " + strconv.Quote(acme.DNS01TXTRecordValue(ka))
		}
	}
	return fmt.Sprintf("%s: the CA looked up %s TXT%s", name, rec, want)
}

// refusedHint says what listens on the port the CA could not connect to.
func refusedHint(names []string, port int) string {
	list := strings.Join(names, ", ")
	pid, proc := http01.PortHolder(port)
	if pid == 0 {
		return fmt.Sprintf("The CA's connection to port %d was refused for %s: nothing on this host listens on port %d (or the names point to another host): start the web server that serves them, or use --standalone.", port, list, port)
	}
	return fmt.Sprintf("The CA's connection to port %d was refused for %s, although %s (pid %d) listens on port %d here: check that the names point to this host and that no firewall rejects port %d.", port, list, proc, pid, port, port)
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

var caPortRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://[^/\s"']+:(\d+)/`) })

// caPort is the port in the URL the CA quotes in detail, else 80.
func caPort(detail string) int {
	if m := caPortRE().FindStringSubmatch(detail); m != nil {
		if p, err := strconv.Atoi(m[1]); err == nil {
			return p
		}
	}
	return http01.DefaultPort
}
