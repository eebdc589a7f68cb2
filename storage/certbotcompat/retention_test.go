package certbotcompat

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/acmectl/acmectl/internal/pebbletest"
	"github.com/acmectl/acmectl/storage"
)

// archiveVersions returns the version numbers that have a certN.pem in dir,
// and the set of all archive file names.
func archiveVersions(t *testing.T, dir string) ([]int, []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^cert(\d+)\.pem$`)
	var vs []int
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		if m := re.FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[1])
			vs = append(vs, n)
		}
	}
	sort.Ints(vs)
	return vs, names
}

// certbotPrunes reports whether the installed certbot truncates lineages
// after a renewal: certbot 2.3.0 and later (CHANGELOG 2.3.0, PR #9537,
// renewal.renew_cert calls lineage.truncate(), which keeps the current and 5
// previous versions); 2.1 (Debian bookworm) keeps every version.
func certbotPrunes(t *testing.T, version string) bool {
	v := strings.TrimSpace(strings.TrimPrefix(version, "certbot"))
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("certbot --version = %q", v)
	}
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(parts[1])
	return major > 2 || major == 2 && minor >= 3
}

// TestArchiveRetentionAgainstCertbotE2E: certbot renews one lineage six
// times (7 versions); what it leaves in archive/ is what its version does
// (2.1: all 7; 2.3+: current and 5 previous). storage then saves on top of
// that tree: by default it keeps every version (as certbot 2.1); asked to
// prune (Version.KeepVersions 6, --archive-versions 6) it keeps what
// certbot 2.3+ keeps — the current version and the 5 before it, all four
// files of each — and certbot still reads the tree.
func TestArchiveRetentionAgainstCertbotE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end (certbot + Pebble) skipped with -short")
	}
	t.Parallel()
	ctx := context.Background()
	s := pebbletest.Start(t, pebbletest.Options{})
	e := newCertbotEnv(t, s)
	srv := []string{"--server", s.DirectoryURL}
	e.run(append([]string{"register", "--agree-tos", "-m", "ops@example.com", "--no-eff-email"}, srv...)...)
	standalone := append([]string{"--standalone", "--http-01-port", fmt.Sprint(s.HTTPPort), "--http-01-address", "127.0.0.1"}, srv...)
	e.run(append([]string{"certonly", "-d", "keep.example", "--key-type", "ecdsa"}, standalone...)...)
	version := strings.TrimSpace(e.run("--version"))
	for i := 0; i < 6; i++ {
		e.run("renew", "--cert-name", "keep.example", "--force-renewal", "--no-random-sleep-on-renew")
	}
	archive := filepath.Join(e.config, "archive", "keep.example")
	got, names := archiveVersions(t, archive)
	want := []int{1, 2, 3, 4, 5, 6, 7}
	if certbotPrunes(t, version) {
		want = []int{2, 3, 4, 5, 6, 7}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s after 6 forced renewals kept versions %v, want %v (files %v)", version, got, want, names)
	}
	t.Logf("%s after 6 forced renewals: versions %v", version, got)

	tr, err := storage.Open(e.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tr.LoadLineage(ctx, "keep.example")
	if err != nil {
		t.Fatal(err)
	}
	ver := &storage.Version{CertPEM: l.CertPEM, ChainPEM: l.ChainPEM, KeyPEM: l.KeyPEM}
	if _, err := tr.SaveVersion(ctx, "keep.example", ver, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = archiveVersions(t, archive)
	if want := append(want, 8); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after storage's default save on certbot's tree: versions %v, want %v (every version kept)", got, want)
	}
	ver = &storage.Version{CertPEM: l.CertPEM, ChainPEM: l.ChainPEM, KeyPEM: l.KeyPEM, KeepVersions: 6}
	if _, err := tr.SaveVersion(ctx, "keep.example", ver, nil); err != nil {
		t.Fatal(err)
	}
	got, names = archiveVersions(t, archive)
	if want := []int{4, 5, 6, 7, 8, 9}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after storage's save with KeepVersions 6 on certbot's tree: versions %v, want %v (certbot 2.3+ truncate: current and 5 previous)", got, want)
	}
	for _, v := range got {
		for _, k := range []string{"cert", "chain", "fullchain", "privkey"} {
			if _, err := os.Stat(filepath.Join(archive, fmt.Sprintf("%s%d.pem", k, v))); err != nil {
				t.Errorf("kept version %d lacks %s: %v", v, k, err)
			}
		}
	}
	if len(names) != 4*len(got) {
		t.Errorf("archive holds %v, want exactly the four files of each kept version", names)
	}
	if c := e.certificates()["keep.example"]; c == nil {
		t.Errorf("certbot certificates no longer lists keep.example")
	}
}
