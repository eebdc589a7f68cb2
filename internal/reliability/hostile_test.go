package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/hostileca"
)

// hostileCases are the misbehaviours and the error text each must produce.
var hostileCases = []struct {
	b    hostileca.Behavior
	want string // substring of the one-line error
}{
	{hostileca.TokenSlash, "token"},
	{hostileca.TokenParent, "token"},
	{hostileca.TokenDotDot, "token"},
	{hostileca.TokenNUL, "token"},
	{hostileca.TokenAbsolute, "token"},
	{hostileca.ExtraAuthz, "not requested"},
	{hostileca.ExtraOrderName, "not requested"},
	{hostileca.CertOtherNames, "refused"},
	{hostileca.CertOtherKey, "not for the requested key"},
	{hostileca.HugeChain, "refused"},
	{hostileca.GarbageCert, "not PEM"},
	{hostileca.RedirectDirectory, "redirect"},
	{hostileca.RedirectNewAccount, "redirect"},
	{hostileca.RedirectNewOrder, "redirect"},
	{hostileca.RedirectCert, "redirect"},
}

// certAffecting: every behaviour but a redirected newAccount also applies to
// a renewal of an existing lineage (its account already exists).
func certAffecting(b hostileca.Behavior) bool { return b != hostileca.RedirectNewAccount }

// TestHostileCA points acmectl at a fake CA that misbehaves (internal/hostileca)
// and checks that certonly, and renew of an existing lineage, refuse with a
// clear one-line error naming the problem; that nothing is written outside
// the tree (the webroot's parent, the webroot and the working directory stay
// as they were) and nothing is saved in it; that a redirect to another host
// is not followed (the other host sees no request). An honest run first proves
// the fake CA is good enough to issue through.
func TestHostileCA(t *testing.T) {
	t.Parallel()
	ca, err := hostileca.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := hostileca.Start(ca)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	peer, err := hostileca.Start(ca) // an honest CA on another port: where the redirects point
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	srv.SetPeer(peer.URL)

	// webroot returns a webroot inside a parent directory the test watches.
	webroot := func(t *testing.T) (parent, root string) {
		parent = t.TempDir()
		root = filepath.Join(parent, "www")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		return parent, root
	}
	certonly := func(b *box, root, name string) result {
		return b.run("certonly", "-n", "--agree-tos", "-m", "h@example.com", "--server", srv.DirectoryURL,
			"--cert-name", name, "--webroot", "-w", root, "-d", name+".example.com")
	}
	noEscape := func(t *testing.T, b *box, parent, root string) {
		t.Helper()
		ents, _ := os.ReadDir(parent)
		if len(ents) != 1 || ents[0].Name() != "www" {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("the webroot's parent holds %v, want only www", names)
		}
		checkEmptyDir(t, root, "webroot")
		checkEmptyDir(t, b.cwd, "working directory")
		if _, err := os.Lstat(hostileca.Tokens[hostileca.TokenAbsolute]); err == nil {
			t.Errorf("%s was written", hostileca.Tokens[hostileca.TokenAbsolute])
		}
	}

	t.Run("honest", func(t *testing.T) {
		srv.SetBehavior(hostileca.Honest)
		b := newBox(t, ca.Bundle)
		parent, root := webroot(t)
		r := certonly(b, root, "honest")
		if r.code != 0 {
			t.Fatalf("the fake CA must issue when honest: %s", r)
		}
		mustWhole(t, b.config)
		noEscape(t, b, parent, root)
	})

	// A certificate naming more than was asked (our key, every requested
	// name, plus another) is accepted with a warning (issue 15 item 8:
	// resellers' Sectigo products add www. or the base name); a missing name
	// or another key stays refused (above and below).
	t.Run(string(hostileca.CertExtraName), func(t *testing.T) {
		srv.SetBehavior(hostileca.CertExtraName)
		defer srv.SetBehavior(hostileca.Honest)
		b := newBox(t, ca.Bundle)
		parent, root := webroot(t)
		r := certonly(b, root, "extra")
		if r.code != 0 {
			t.Fatalf("a superset of the requested names must be accepted: %s", r)
		}
		if !strings.Contains(r.stderr, "Warning: ") || !strings.Contains(r.stderr, hostileca.ForeignName) {
			t.Errorf("no warning naming %s:\n%s", hostileca.ForeignName, r.stderr)
		}
		mustWhole(t, b.config)
		noEscape(t, b, parent, root)
	})

	renewBox := newBox(t, ca.Bundle)
	renewParent, renewRoot := webroot(t)
	srv.SetBehavior(hostileca.Honest)
	if r := certonly(renewBox, renewRoot, "lineage"); r.code != 0 {
		t.Fatalf("setup: %s", r)
	}

	refused := 0
	for _, tc := range hostileCases {
		t.Run(string(tc.b), func(t *testing.T) {
			peerBefore := len(peer.Requests())
			srv.SetBehavior(tc.b)
			defer srv.SetBehavior(hostileca.Honest)

			b := newBox(t, ca.Bundle)
			parent, root := webroot(t)
			r := certonly(b, root, "victim")
			msg := cleanError(t, r)
			if r.code == 0 {
				t.Errorf("certonly against a CA doing %s succeeded:\n%s", tc.b, r)
			} else {
				refused++
				if !strings.Contains(msg, tc.want) {
					t.Errorf("certonly: error should say %q:\n%s", tc.want, msg)
				}
			}
			for k := range snapshot(t, b.config) {
				if !strings.HasPrefix(k, "accounts/") {
					t.Errorf("certonly saved %s", k)
				}
			}
			noEscape(t, b, parent, root)

			if certAffecting(tc.b) {
				before := snapshotOf(t, renewBox.config, "accounts", "archive", "live")
				r := renewBox.run("renew", "--force-renewal", "--no-random-sleep-on-renew")
				cleanError(t, r)
				if r.code == 0 {
					t.Errorf("renew against a CA doing %s succeeded:\n%s", tc.b, r)
				} else {
					refused++
					if !strings.Contains(r.stderr, tc.want) {
						t.Errorf("renew: output should say %q:\n%s", tc.want, r.stderr)
					}
				}
				after := snapshotOf(t, renewBox.config, "accounts", "archive", "live")
				if adv := checkAdvance(t, before, after); len(adv) > 0 {
					t.Errorf("renew saved a new version of %v", adv)
				}
				mustWhole(t, renewBox.config)
				noEscape(t, renewBox, renewParent, renewRoot)
			}
			if n := len(peer.Requests()) - peerBefore; n > 0 {
				t.Errorf("acmectl followed the redirect: the other host got %d requests (%v)", n, peer.Requests()[peerBefore:])
			}
		})
	}
	t.Logf("hostile CA: %d behaviours, %d refusals (certonly and renew)", len(hostileCases), refused)
}
