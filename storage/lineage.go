package storage

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/acmectl/acmectl/internal/pemutil"
)

// Kinds are the four files of a version, in the order SaveVersion writes
// and links them.
var kinds = [4]string{"privkey", "chain", "fullchain", "cert"}

// archiveFileRE matches an archive file name, certN.pem etc. It is compiled on
// first use: a regexp compiled at package init costs every start of acmectl,
// also the ones that never read an archive.
var archiveFileRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(cert|chain|fullchain|privkey)([0-9]{1,9})\.pem$`)
})

const liveREADME = "This directory contains your keys and certificates.\n\n" +
	"`%[1]sprivkey.pem`  : the private key for your certificate.\n" +
	"`%[1]sfullchain.pem`: the certificate file used in most server software.\n" +
	"`%[1]schain.pem`    : used for OCSP stapling in Nginx >=1.3.7.\n" +
	"`%[1]scert.pem`     : will break many server configurations, and should not be used\n" +
	"                 without reading further documentation (see link below).\n\n" +
	"WARNING: DO NOT MOVE OR RENAME THESE FILES!\n" +
	"         Certbot expects these files to remain in this location in order\n" +
	"         to function properly!\n\n" +
	"We recommend not moving these files. For more information, see the Certbot\n" +
	"User Guide at https://certbot.eff.org/docs/using.html#where-are-my-certificates.\n"

// ValidLineageName refuses names that are not safe as one path component,
// saying what is wrong: empty, longer than 200 bytes, containing a slash, a
// backslash, NUL or another control character (or invalid UTF-8), starting
// with '.' (".", ".." and hidden names) or with '-'. Errors wrap ErrBadName;
// a leading '-' also wraps ErrNameIsFlag, a usage error (the CLI exits 2).
func ValidLineageName(name string) error {
	// shown is the name as an error shows it (made only for an error: every
	// listing checks every name).
	shown := func() string {
		for _, r := range name {
			if unicode.IsControl(r) || r == unicode.ReplacementChar {
				return strconv.Quote(name)
			}
		}
		return `"` + name + `"`
	}
	bad := func(why string) error { return fmt.Errorf("lineage name %s: %s: %w", shown(), why, ErrBadName) }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 200:
		return bad("longer than 200 bytes")
	case strings.ContainsRune(name, '/'):
		return bad("contains a slash ('/'); a lineage name is one directory name under live/, archive/ and renewal/")
	case strings.ContainsRune(name, '\\'):
		return bad("contains a backslash ('\\'); a lineage name is one directory name under live/, archive/ and renewal/, and a backslash separates directories where certbot runs on Windows")
	case strings.ContainsRune(name, 0):
		return bad("contains NUL")
	case name[0] == '.':
		return bad("starts with '.' (\".\", \"..\" and hidden names are refused)")
	case name[0] == '-':
		return fmt.Errorf("lineage name %s: a command line would read it as an option; start it with a letter or digit: %w", shown(), ErrNameIsFlag)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return bad("contains a control character or invalid UTF-8")
		}
	}
	return nil
}

// LineageName is the name certbot gives a new lineage before collisions:
// certName when set, else the first domain with a leading "*." removed.
func LineageName(certName string, domains []string) (string, error) {
	name := certName
	if name == "" {
		if len(domains) == 0 {
			return "", fmt.Errorf("lineage name: no --cert-name and no domain: %w", ErrBadName)
		}
		name = strings.TrimPrefix(domains[0], "*.")
	}
	if err := ValidLineageName(name); err != nil {
		return "", err
	}
	return name, nil
}

// UniqueLineageName returns LineageName(certName, domains), or with a
// "-0001" ... "-9999" suffix when renewal/<name>.conf, live/<name> or
// archive/<name> exists (util.unique_lineage_name).
func (t *Tree) UniqueLineageName(ctx context.Context, certName string, domains []string) (string, error) {
	base, err := LineageName(certName, domains)
	if err != nil {
		return "", err
	}
	for i := 0; i < 10000; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%04d", base, i)
		}
		if !t.nameTaken(name) {
			return name, nil
		}
	}
	return "", fmt.Errorf("lineage name %s: no free name up to -9999", base)
}

func (t *Tree) nameTaken(name string) bool {
	for _, p := range []string{t.RenewalConfPath(name), t.LiveDir(name), t.ArchiveDir(name)} {
		if _, err := os.Lstat(p); err == nil {
			return true
		}
	}
	return false
}

// parsedVersion is a Version checked and parsed.
type parsedVersion struct {
	cert  *x509.Certificate
	chain []byte
	key   crypto.Signer
}

func parseCertPEM(b []byte) (*x509.Certificate, error) { return pemutil.ParseCert(b) }

// ParsePrivateKeyPEM parses a PKCS#8, PKCS#1 or SEC 1 PEM private key.
func ParsePrivateKeyPEM(b []byte) (crypto.Signer, error) { return pemutil.ParsePrivateKey(b) }

func keyMatches(cert *x509.Certificate, key crypto.Signer) bool { return pemutil.KeyMatches(cert, key) }

// KeyMatchesCert reports whether key is the private key of the leaf in certPEM.
func KeyMatchesCert(certPEM, keyPEM []byte) error {
	c, err := parseCertPEM(certPEM)
	if err != nil {
		return fmt.Errorf("parse certificate: %w", err)
	}
	k, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return fmt.Errorf("parse private key: %w", err)
	}
	if !keyMatches(c, k) {
		return errors.New("private key does not match certificate")
	}
	return nil
}

func checkChain(b []byte) error { return pemutil.CheckChain(b) }

// lineageState is what the live links say.
type lineageState struct {
	archiveDir string
	links      map[string]int // kind → linked version
	current    int            // the version to use
	mixed      bool           // links disagree (a swap was interrupted)
	pending    int            // complete version newer than current, not linked
	maxVersion int            // highest version number with any file in archive
}

func (t *Tree) readState(name string, conf *RenewalConf) (*lineageState, error) {
	return t.readStateMode(name, true)
}

// readStateMode reads the links; full also parses the current version's cert
// and key (a listing only stats them).
func (t *Tree) readStateMode(name string, full bool) (*lineageState, error) {
	live := t.LiveDir(name)
	st := &lineageState{links: map[string]int{}}
	for _, k := range kinds {
		link := filepath.Join(live, k+".pem")
		target, err := os.Readlink(link)
		if err != nil {
			return nil, fmt.Errorf("lineage %s: %s: %w (%w)", name, link, ErrBroken, err)
		}
		abs := target
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(live, target)
		}
		m := archiveFileRE().FindStringSubmatch(filepath.Base(abs))
		if m == nil || m[1] != k {
			return nil, fmt.Errorf("lineage %s: %s points to %s, not %sN.pem: %w", name, link, target, k, ErrBroken)
		}
		n, _ := strconv.Atoi(m[2])
		st.links[k] = n
		dir := filepath.Dir(abs)
		if st.archiveDir == "" {
			st.archiveDir = dir
		} else if st.archiveDir != dir {
			return nil, fmt.Errorf("lineage %s: live links point into two archive dirs: %w", name, ErrBroken)
		}
	}
	lo, hi := 1<<31, 0
	for _, n := range st.links {
		lo, hi = min(lo, n), max(hi, n)
	}
	have := map[int]int{}
	var ents []os.DirEntry
	if full { // a listing needs neither the newest nor the pending version
		var err error
		if ents, err = os.ReadDir(st.archiveDir); err != nil {
			return nil, fmt.Errorf("lineage %s: archive: %w (%w)", name, ErrBroken, err)
		}
	}
	for _, e := range ents {
		if m := archiveFileRE().FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[2])
			have[n]++
			st.maxVersion = max(st.maxVersion, n)
		}
	}
	st.current = lo
	if lo != hi {
		st.mixed = true
		if t.versionComplete(st.archiveDir, hi) == nil {
			st.current = hi
		}
	}
	check := t.versionComplete
	if !full && !st.mixed {
		check = versionPresent
	}
	if err := check(st.archiveDir, st.current); err != nil {
		return nil, fmt.Errorf("lineage %s: version %d: %w (%w)", name, st.current, ErrBroken, err)
	}
	for n := st.maxVersion; full && n > st.current; n-- {
		if have[n] == 4 && t.versionComplete(st.archiveDir, n) == nil {
			st.pending = n
			break
		}
	}
	return st, nil
}

// versionPresent checks that the four files of version n exist.
func versionPresent(dir string, n int) error {
	for _, k := range kinds {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%s%d.pem", k, n))); err != nil {
			return err
		}
	}
	return nil
}

// versionComplete checks that all four files of version n exist and the key
// matches the cert.
func (t *Tree) versionComplete(dir string, n int) error {
	var certPEM, keyPEM []byte
	for _, k := range kinds {
		p := filepath.Join(dir, fmt.Sprintf("%s%d.pem", k, n))
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch k {
		case "cert":
			certPEM = b
		case "privkey":
			keyPEM = b
		}
	}
	return KeyMatchesCert(certPEM, keyPEM)
}

// LoadRenewalConf reads and parses renewal/<name>.conf; a missing one wraps
// ErrNotFound.
func (t *Tree) LoadRenewalConf(ctx context.Context, name string) (*RenewalConf, error) {
	if err := ValidLineageName(name); err != nil {
		return nil, err
	}
	return t.readConf(name)
}

func (t *Tree) readConf(name string) (*RenewalConf, error) {
	p := t.RenewalConfPath(name)
	b, err := readSmall(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lineage %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lineage %s: %w", name, err)
	}
	return parseLineageConf(p, b)
}

// LoadLineage loads the lineage's current version. When the live links
// disagree (a save died while swapping them) the newest linked version whose
// archive files are complete is used and Pending reports what RepairLineage
// would link. A missing conf wraps ErrNotFound; a dangling link, missing
// archive file or a key not matching the cert wraps ErrBroken.
func (t *Tree) LoadLineage(ctx context.Context, name string) (*Lineage, error) {
	if err := ValidLineageName(name); err != nil {
		return nil, err
	}
	conf, err := t.readConf(name)
	if err != nil {
		return nil, err
	}
	st, err := t.readState(name, conf)
	if err != nil {
		return nil, err
	}
	l := &Lineage{
		Name: name, Version: st.current, ArchiveDir: st.archiveDir, Conf: conf,
		ConfPath: t.RenewalConfPath(name),
		CertPath: filepath.Join(t.LiveDir(name), "cert.pem"), ChainPath: filepath.Join(t.LiveDir(name), "chain.pem"),
		FullchainPath: filepath.Join(t.LiveDir(name), "fullchain.pem"), KeyPath: filepath.Join(t.LiveDir(name), "privkey.pem"),
	}
	l.NeedsRepair, l.Pending = st.mixed, st.pending
	for _, k := range kinds {
		b, err := os.ReadFile(filepath.Join(st.archiveDir, fmt.Sprintf("%s%d.pem", k, st.current)))
		if err != nil {
			return nil, fmt.Errorf("lineage %s: %w (%w)", name, ErrBroken, err)
		}
		switch k {
		case "cert":
			l.CertPEM = b
		case "chain":
			l.ChainPEM = b
		case "fullchain":
			l.FullchainPEM = b
		case "privkey":
			l.KeyPEM = b
		}
	}
	if l.Cert, err = parseCertPEM(l.CertPEM); err != nil {
		return nil, fmt.Errorf("lineage %s: cert: %w (%w)", name, ErrBroken, err)
	}
	if l.Key, err = ParsePrivateKeyPEM(l.KeyPEM); err != nil {
		return nil, fmt.Errorf("lineage %s: privkey: %w (%w)", name, ErrBroken, err)
	}
	l.ARIRetryAfter = laterARI(t.ariRetries(), name, l.Cert.SerialNumber.Text(16), conf.ARIRetryAfter)
	return l, nil
}

func (t *Tree) checkVersion(v *Version) (*parsedVersion, error) {
	if v == nil {
		return nil, errors.New("no version")
	}
	c, err := parseCertPEM(v.CertPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if err := checkChain(v.ChainPEM); err != nil {
		return nil, err
	}
	pv := &parsedVersion{cert: c, chain: v.ChainPEM}
	if v.ReuseKey {
		if v.KeyPEM != nil {
			return nil, errors.New("ReuseKey with KeyPEM set")
		}
		return pv, nil
	}
	k, err := ParsePrivateKeyPEM(v.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if !keyMatches(c, k) {
		return nil, errors.New("private key does not match certificate")
	}
	pv.key = k
	return pv, nil
}

func fullchain(cert, chain []byte) []byte {
	out := append([]byte(nil), cert...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, chain...)
}

// CreateLineage writes version 1 of a new lineage: archive/<name>/*1.pem,
// live/<name>/*.pem links, the README files and renewal/<name>.conf (paths
// in conf are filled in). It wraps ErrExist when the name is taken.
// leftoverEntry matches what an interrupted CreateLineage can leave in live/<name>
// and archive/<name>.
var leftoverEntry = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^((cert|chain|fullchain|privkey)[0-9]*\.pem|README|` + regexp.QuoteMeta(tmpPrefix) + `.*)$`)
})

func (t *Tree) CreateLineage(ctx context.Context, name string, v *Version, conf *RenewalConf) (*Lineage, error) {
	if err := ValidLineageName(name); err != nil {
		return nil, err
	}
	if v != nil && v.ReuseKey {
		return nil, fmt.Errorf("create lineage %s: ReuseKey needs a previous version", name)
	}
	pv, err := t.checkVersion(v)
	if err != nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, err)
	}
	unlock, err := t.lockWrite(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, err)
	}
	defer unlock()
	if _, err := os.Lstat(t.RenewalConfPath(name)); err == nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, ErrExist)
	}
	// Leftovers of a create that died before its conf (the conf is written
	// last) are cleared when everything in them is ours; anything else is an
	// operator's file and stops the create.
	for _, d := range []string{t.LiveDir(name), t.ArchiveDir(name)} {
		ents, err := os.ReadDir(d)
		if err != nil || len(ents) == 0 {
			continue
		}
		for _, e := range ents {
			if !leftoverEntry().MatchString(e.Name()) {
				return nil, fmt.Errorf("create lineage %s: %s exists and holds %s, which acmectl did not write: %w", name, d, e.Name(), ErrExist)
			}
		}
	}
	for _, d := range []string{t.LiveDir(name), t.ArchiveDir(name)} {
		if err := os.RemoveAll(d); err != nil {
			return nil, fmt.Errorf("create lineage %s: clear the leftovers of an interrupted create: %w", name, err)
		}
	}
	for _, d := range []string{"renewal", "archive", "live"} {
		if err := mkdirs(filepath.Join(t.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("create lineage %s: %w", name, err)
		}
	}
	base := filepath.Join(t.Dir, "live", "README")
	if _, err := os.Lstat(base); errors.Is(err, fs.ErrNotExist) {
		if err := writeFileAtomic(base, fmt.Appendf(nil, liveREADME, "[cert name]/"), 0o644, -1); err != nil {
			return nil, fmt.Errorf("create lineage %s: %w", name, err)
		}
	}
	for _, d := range []string{t.LiveDir(name), t.ArchiveDir(name)} {
		if err := mkdirs(d, 0o755); err != nil {
			return nil, fmt.Errorf("create lineage %s: %w", name, err)
		}
	}
	if err := t.writeVersion(t.ArchiveDir(name), 1, 0, v, pv); err != nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, err)
	}
	if err := t.linkVersion(name, t.ArchiveDir(name), 1); err != nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, err)
	}
	if err := writeFileAtomic(filepath.Join(t.LiveDir(name), "README"), fmt.Appendf(nil, liveREADME, ""), 0o644, -1); err != nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, err)
	}
	if conf == nil {
		conf = &RenewalConf{}
	}
	if err := t.writeConf(name, t.ArchiveDir(name), conf); err != nil {
		return nil, fmt.Errorf("create lineage %s: %w", name, err)
	}
	t.opts.Logger.Info("lineage created", slog.String("lineage", name))
	return t.LoadLineage(ctx, name)
}

func (t *Tree) writeConf(name, archiveDir string, conf *RenewalConf) error {
	return t.writeConfMode(name, archiveDir, conf, true)
}

// writeConfMode writes the conf; durable also fsyncs the directory after the
// rename (without, a crash may keep the old conf, never a partial one).
func (t *Tree) writeConfMode(name, archiveDir string, conf *RenewalConf, durable bool) error {
	c, b, mode, err := t.confBytes(name, archiveDir, conf)
	if err != nil {
		return err
	}
	p := t.RenewalConfPath(name)
	write := writeFileAtomic
	if !durable {
		write = writeFileRenamed
	}
	if err := write(p, b, mode, -1); err != nil {
		return err
	}
	*conf = c
	conf.doc = nil
	if nc, err := ParseRenewalConf(p, b); err == nil {
		*conf = *nc
	}
	return nil
}

// confBytes is the conf as written: conf with archiveDir and the live paths
// filled in, its text, and the file mode (the old file's, as certbot keeps
// it; 0644 for a new one).
func (t *Tree) confBytes(name, archiveDir string, conf *RenewalConf) (RenewalConf, []byte, os.FileMode, error) {
	c := *conf
	c.ArchiveDir = archiveDir
	live := t.LiveDir(name)
	c.Cert, c.PrivKey = filepath.Join(live, "cert.pem"), filepath.Join(live, "privkey.pem")
	c.Chain, c.Fullchain = filepath.Join(live, "chain.pem"), filepath.Join(live, "fullchain.pem")
	if c.Version == "" {
		c.Version = CertbotVersion
	}
	b, err := c.Marshal()
	if err != nil {
		return c, nil, 0, fmt.Errorf("renewal conf: %w", err)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(t.RenewalConfPath(name)); err == nil {
		mode = fi.Mode().Perm() // certbot copies the old file's permissions
	}
	return c, b, mode, nil
}

// privkeyMode is certbot's compute_private_key_mode: 0600 plus the previous
// key's group rwx and other-read bits; gid is the previous key's group.
func privkeyMode(prev string) (os.FileMode, int) {
	fi, err := os.Stat(prev)
	if err != nil {
		return 0o600, -1
	}
	gid := -1
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		gid = int(s.Gid)
	}
	return 0o600 | fi.Mode().Perm()&0o074, gid
}

// writeVersion writes archive files of version n; prev is the version the
// key is reused from or whose key mode is carried over (0: none). When a
// write fails (a full disk, EIO) the files of version n written so far are
// removed again: a version is in archive/ whole or not at all.
func (t *Tree) writeVersion(dir string, n, prev int, v *Version, pv *parsedVersion) (err error) {
	removeTemps(dir)
	file := func(k string, m int) string { return filepath.Join(dir, fmt.Sprintf("%s%d.pem", k, m)) }
	defer func() {
		if err != nil {
			removeVersion(dir, n)
		}
	}()
	// a dead writer's partial files of this version go first
	for _, k := range kinds {
		os.Remove(file(k, n))
	}
	if v.ReuseKey {
		old := file("privkey", prev)
		target := filepath.Base(old)
		if l, err := os.Readlink(old); err == nil {
			target = l
		}
		if err := symlinkAtomic(target, file("privkey", n)); err != nil {
			return err
		}
	} else {
		mode, gid := os.FileMode(0o600), -1
		if prev > 0 {
			mode, gid = privkeyMode(file("privkey", prev))
		}
		if err := writeFileRenamed(file("privkey", n), v.KeyPEM, mode, gid); err != nil {
			return err
		}
	}
	if err := writeFileRenamed(file("chain", n), v.ChainPEM, 0o644, -1); err != nil {
		return err
	}
	if err := writeFileRenamed(file("fullchain", n), fullchain(v.CertPEM, v.ChainPEM), 0o644, -1); err != nil {
		return err
	}
	if err := writeFileRenamed(file("cert", n), v.CertPEM, 0o644, -1); err != nil {
		return err
	}
	return syncDir(dir)
}

func (t *Tree) linkVersion(name, archiveDir string, n int) error {
	live := t.LiveDir(name)
	removeTemps(live)
	rel, err := filepath.Rel(live, archiveDir)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	target := func(k string) string { return filepath.Join(rel, fmt.Sprintf("%s%d.pem", k, n)) }
	if err := t.swapLiveDir(name, target); err == nil {
		return nil
	} else if !errors.Is(err, errNoExchange) {
		return err
	}
	// Fallback (no renameat2 exchange here, or files of the operator's in
	// live/<name>): swap each link by renaming a temporary link over it. A
	// crash between two swaps leaves mixed links, which LoadLineage detects
	// and the next save repairs.
	for _, k := range kinds {
		if err := symlinkAtomic(target(k), filepath.Join(live, k+".pem")); err != nil {
			return err
		}
	}
	return syncDir(live)
}

// errNoExchange: the whole-directory swap is not possible; swap link by link.
var errNoExchange = errors.New("storage: live directory cannot be swapped whole")

// swapLiveDir makes all four live links of a lineage change at one instant: it
// builds a complete live directory beside the current one and exchanges the two
// with renameat2(RENAME_EXCHANGE), so a web server reloading at any moment (or a
// crash at any point) sees the old set or the new set, never a key of one
// version with the certificate of another. It is used only when live/<name>
// holds nothing but what acmectl and certbot put there.
func (t *Tree) swapLiveDir(name string, target func(kind string) string) error {
	live := t.LiveDir(name)
	parent := filepath.Dir(live)
	fi, err := os.Stat(live)
	if err != nil {
		return errNoExchange
	}
	ents, err := os.ReadDir(live)
	if err != nil {
		return errNoExchange
	}
	readme := fmt.Appendf(nil, liveREADME, "")
	for _, e := range ents {
		switch {
		case e.Name() == "README":
			if b, err := os.ReadFile(filepath.Join(live, "README")); err == nil {
				readme = b
			}
		case e.Type()&fs.ModeSymlink != 0 && slices.Contains(kinds[:], strings.TrimSuffix(e.Name(), ".pem")) && strings.HasSuffix(e.Name(), ".pem"):
		default:
			return errNoExchange
		}
	}
	prefix := tmpPrefix + "live-" + name + "-"
	removeTempDirs(parent, prefix)
	tmp := filepath.Join(parent, prefix+randHex())
	if err := os.Mkdir(tmp, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	defer os.RemoveAll(tmp) // after the exchange it holds the old links
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		_ = os.Lchown(tmp, int(st.Uid), int(st.Gid))
	}
	for _, k := range kinds {
		if err := os.Symlink(target(k), filepath.Join(tmp, k+".pem")); err != nil {
			return fmt.Errorf("link: %w", err)
		}
	}
	if err := writeFileRenamed(filepath.Join(tmp, "README"), readme, 0o644, -1); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	if err := renameExchange(tmp, live); err != nil {
		return errNoExchange
	}
	return syncDir(parent)
}

// removeTempDirs deletes directories (and files) with prefix that a dead
// writer left in dir.
func removeTempDirs(dir, prefix string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// SaveVersion writes version N+1 of an existing lineage (N the highest
// version in archive/), swaps the live links to it and rewrites the renewal
// conf (conf nil keeps the current one, with paths refreshed). Every older
// version stays in archive/, as certbot 2.1 keeps them, unless
// v.KeepVersions asks for pruning (see Version.KeepVersions for what is
// never removed). With v.ReuseKey the new privkey file is a symlink to the
// previous key. A lineage left half-linked by a dead writer is repaired first.
func (t *Tree) SaveVersion(ctx context.Context, name string, v *Version, conf *RenewalConf) (*Lineage, error) {
	if err := ValidLineageName(name); err != nil {
		return nil, err
	}
	pv, err := t.checkVersion(v)
	if err != nil {
		return nil, fmt.Errorf("save lineage %s: %w", name, err)
	}
	unlock, err := t.lockWrite(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("save lineage %s: %w", name, err)
	}
	defer unlock()
	old, err := t.repairLocked(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("save lineage %s: %w", name, err)
	}
	st, err := t.readState(name, old.Conf)
	if err != nil {
		return nil, fmt.Errorf("save lineage %s: %w", name, err)
	}
	if v.ReuseKey && !keyMatches(pv.cert, old.Key) {
		return nil, fmt.Errorf("save lineage %s: reuse key: previous key does not match the new certificate", name)
	}
	pinned := t.pins(ctx, name, st.archiveDir)
	n := t.removeIncomplete(name, st, pinned) + 1
	if err := t.writeVersion(st.archiveDir, n, st.current, v, pv); err != nil {
		return nil, fmt.Errorf("save lineage %s: %w", name, err)
	}
	if err := t.linkVersion(name, st.archiveDir, n); err != nil {
		return nil, fmt.Errorf("save lineage %s: %w", name, err)
	}
	if conf == nil {
		conf = old.Conf
	}
	if err := t.writeConf(name, st.archiveDir, conf); err != nil {
		return nil, fmt.Errorf("save lineage %s: %w", name, err)
	}
	t.prune(name, st.archiveDir, n, v.KeepVersions, pinned)
	t.opts.Logger.Info("lineage saved", slog.String("lineage", name), slog.Int("version", n))
	return t.LoadLineage(ctx, name)
}

// removeVersion deletes every file of version n in dir (and the temporary
// files of a write that failed), then syncs dir; errors are ignored: what
// stays is found again by the next save (removeIncomplete).
func removeVersion(dir string, n int) {
	for _, k := range kinds {
		os.Remove(filepath.Join(dir, fmt.Sprintf("%s%d.pem", k, n)))
	}
	removeTemps(dir)
	_ = syncDir(dir)
}

// removeIncomplete deletes the versions above the current one that lack one
// of their four files — what a writer that died or hit a full disk left, a
// key without its certificate — unless pinned (pins), and returns the
// highest version number left in archive/. A complete version that was
// never linked (certbot's pending deployment) stays.
func (t *Tree) removeIncomplete(name string, st *lineageState, pinned func(int) bool) int {
	ents, err := os.ReadDir(st.archiveDir)
	if err != nil {
		return st.maxVersion
	}
	have := map[int]int{}
	for _, e := range ents {
		if m := archiveFileRE().FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[2])
			have[n]++
		}
	}
	top := st.current
	for n, c := range have {
		switch {
		case n <= st.current:
		case c < len(kinds) && !pinned(n):
			removeVersion(st.archiveDir, n)
			t.opts.Logger.Info("incomplete version removed", slog.String("lineage", name), slog.Int("version", n))
		default:
			top = max(top, n)
		}
	}
	return top
}

// pins returns the rule that keeps a version of name out of every removal
// besides the live links (prune reads those itself): the version whose
// private key is the key of the lineage's recorded in-flight order
// (LoadInFlight: the order the next run collects, also after a full disk
// stopped its save), and every version Options.KeepVersion reports. Answers
// are cached for one save.
func (t *Tree) pins(ctx context.Context, name, dir string) func(int) bool {
	type publicKey interface{ Equal(crypto.PublicKey) bool }
	var inFlight publicKey
	if r, err := t.LoadInFlight(ctx, name); err == nil {
		if k, err := ParsePrivateKeyPEM(r.KeyPEM); err == nil {
			inFlight, _ = k.Public().(publicKey)
		}
	}
	cache := map[int]bool{}
	return func(n int) bool {
		p, ok := cache[n]
		if ok {
			return p
		}
		p = t.opts.KeepVersion != nil && t.opts.KeepVersion(name, n)
		if !p && inFlight != nil {
			if b, err := readSmall(filepath.Join(dir, fmt.Sprintf("privkey%d.pem", n))); err == nil {
				if k, err := ParsePrivateKeyPEM(b); err == nil {
					p = inFlight.Equal(k.Public())
				}
			}
		}
		cache[n] = p
		return p
	}
}

// liveVersions are the versions name's live/ links point at.
func (t *Tree) liveVersions(name string) map[int]bool {
	live := map[int]bool{}
	for _, k := range kinds {
		if target, err := os.Readlink(filepath.Join(t.LiveDir(name), k+".pem")); err == nil {
			if m := archiveFileRE().FindStringSubmatch(filepath.Base(target)); m != nil {
				n, _ := strconv.Atoi(m[2])
				live[n] = true
			}
		}
	}
	return live
}

// prune removes the versions older than the newest keep (the current one
// included; keep <= 0 keeps every version) — certbot 2.3+'s
// RenewableCert.truncate keeps the current and 5 previous, keep = 6 — except
// a version a live/ link points at, the versions pinned (pins) and a
// privkey file a kept symlink points at (reuse-key links of older
// certbots).
func (t *Tree) prune(name, dir string, current, keep int, pinned func(int) bool) {
	if keep <= 0 {
		return
	}
	cut := current - keep + 1
	live := t.liveVersions(name)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	keepKey := map[string]bool{}
	var del []string
	for _, e := range ents {
		m := archiveFileRE().FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		if n >= cut || live[n] || pinned(n) {
			if m[1] == "privkey" {
				if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil {
					keepKey[filepath.Base(l)] = true
				}
			}
			continue
		}
		del = append(del, e.Name())
	}
	removed := 0
	for _, f := range del {
		if keepKey[f] {
			continue
		}
		if os.Remove(filepath.Join(dir, f)) == nil {
			removed++
		}
	}
	_ = syncDir(dir)
	if removed > 0 {
		t.opts.Logger.Info("old versions pruned", slog.String("lineage", name), slog.Int("keep", keep), slog.Int("files_removed", removed))
	}
}

// RepairLineage finishes an interrupted save: links that disagree are all
// pointed at the newest complete linked version, temp files are removed.
// A complete version that was written but never linked is left alone
// (certbot's has_pending_deployment; the next save writes after it).
func (t *Tree) RepairLineage(ctx context.Context, name string) (*Lineage, error) {
	if err := ValidLineageName(name); err != nil {
		return nil, err
	}
	unlock, err := t.lockWrite(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("repair lineage %s: %w", name, err)
	}
	defer unlock()
	return t.repairLocked(ctx, name)
}

func (t *Tree) repairLocked(ctx context.Context, name string) (*Lineage, error) {
	conf, err := t.readConf(name)
	if err != nil {
		return nil, err
	}
	st, err := t.readState(name, conf)
	if err != nil {
		return nil, err
	}
	removeTemps(st.archiveDir)
	removeTemps(t.LiveDir(name))
	if st.mixed {
		if err := t.linkVersion(name, st.archiveDir, st.current); err != nil {
			return nil, err
		}
		t.opts.Logger.Info("lineage repaired", slog.String("lineage", name), slog.Int("version", st.current))
	}
	return t.LoadLineage(ctx, name)
}

// SaveRenewalConf rewrites renewal/<name>.conf (paths refreshed). The
// lineage must exist.
func (t *Tree) SaveRenewalConf(ctx context.Context, name string, conf *RenewalConf) error {
	if err := ValidLineageName(name); err != nil {
		return err
	}
	unlock, err := t.lockWrite(ctx, name)
	if err != nil {
		return fmt.Errorf("save renewal conf %s: %w", name, err)
	}
	defer unlock()
	if _, err := os.Stat(t.RenewalConfPath(name)); err != nil {
		return fmt.Errorf("save renewal conf %s: %w", name, ErrNotFound)
	}
	if err := t.rewriteConf(name, conf, true); err != nil {
		return fmt.Errorf("save renewal conf %s: %w", name, err)
	}
	return nil
}

// rewriteConf writes an existing lineage's conf, keeping its archive_dir
// (archive/<name> when it has none). The caller holds the write locks.
func (t *Tree) rewriteConf(name string, conf *RenewalConf, durable bool) error {
	dir := conf.ArchiveDir
	if dir == "" {
		dir = t.ArchiveDir(name)
	}
	return t.writeConfMode(name, dir, conf, durable)
}

// SetARIRetryAfter records in renewal/<name>.conf ([acme_renewal_info]
// ari_retry_after) when to ask the CA for the lineage's renewal window next,
// reading the conf under the lineage's lock. The directory is not fsynced:
// a crash may lose the new time (the CA is then asked again), never the conf.
func (t *Tree) SetARIRetryAfter(ctx context.Context, name string, at time.Time) error {
	if err := ValidLineageName(name); err != nil {
		return err
	}
	unlock, err := t.lockWrite(ctx, name)
	if err != nil {
		return fmt.Errorf("save ari_retry_after %s: %w", name, err)
	}
	defer unlock()
	conf, err := t.readConf(name)
	if err != nil {
		return fmt.Errorf("save ari_retry_after: %w", err)
	}
	conf.ARIRetryAfter = at.UTC().Truncate(time.Second)
	if err := t.rewriteConf(name, conf, false); err != nil {
		return fmt.Errorf("save ari_retry_after %s: %w", name, err)
	}
	return nil
}

// DeleteLineage removes renewal/<name>.conf, live/<name> and
// archive/<name> (certbot delete's order), so a crash midway leaves a
// lineage that is no longer listed.
func (t *Tree) DeleteLineage(ctx context.Context, name string) error {
	if err := ValidLineageName(name); err != nil {
		return err
	}
	unlock, err := t.lockWrite(ctx, name)
	if err != nil {
		return fmt.Errorf("delete lineage %s: %w", name, err)
	}
	defer unlock()
	conf, err := t.readConf(name)
	if errors.Is(err, ErrNotFound) && !t.nameTaken(name) {
		return fmt.Errorf("delete lineage %s: %w", name, ErrNotFound)
	}
	archive := t.ArchiveDir(name)
	if conf != nil && conf.ArchiveDir != "" && filepath.Base(conf.ArchiveDir) == name {
		archive = conf.ArchiveDir
	}
	if err := os.Remove(t.RenewalConfPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete lineage %s: %w", name, err)
	}
	_ = syncDir(filepath.Join(t.Dir, "renewal"))
	for _, d := range []string{t.LiveDir(name), archive} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("delete lineage %s: %w", name, err)
		}
	}
	return nil
}

// keyTypeOf names the public key type as certbot certificates prints it.
func keyTypeOf(pub crypto.PublicKey) (string, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return "unknown", 0
}
