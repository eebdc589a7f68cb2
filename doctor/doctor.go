package doctor

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/internal/pemutil"
	"github.com/acmectl/acmectl/manager"
	"github.com/acmectl/acmectl/storage"
)

// CATimeout bounds the GET of each CA's directory.
const CATimeout = 10 * time.Second

// Finding levels. WARN does not make a renewal fail.
const (
	OK   = "OK"
	Warn = "WARN"
	Fail = "FAIL"
)

type Finding struct {
	Level string
	Msg   string
	Fix   string // what to run or change; empty for OK
}

// Lineage is one lineage's report.
type Lineage struct {
	Name     string
	ConfPath string
	Findings []Finding
}

func (l *Lineage) add(level, msg, fix string) {
	l.Findings = append(l.Findings, Finding{Level: level, Msg: msg, Fix: fix})
}
func (l *Lineage) ok(format string, a ...any) { l.add(OK, fmt.Sprintf(format, a...), "") }

// Failed reports whether any finding is FAIL.
func (l *Lineage) Failed() bool {
	for _, f := range l.Findings {
		if f.Level == Fail {
			return true
		}
	}
	return false
}

// doctor holds one doctor run's inputs and seams.
type Doctor struct {
	// UserAgent is sent with the CA directory probe.
	UserAgent string

	configDir string
	tree      *storage.Tree
	client    *http.Client
	// Now, Access (unix.Access) and Listen (tests whether the standalone
	// port is free) are seams tests replace (another clock, another user,
	// a port in use).
	Now    func() time.Time
	Access func(path string, mode uint32) error
	Listen func(network, addr string) (net.Listener, error)
	// providers are the dns-01 providers in this build.
	providers []string

	caSeen map[string]caInfo
}

// caInfo is what one CA's directory said (once per run).
type caInfo struct {
	finding Finding
	// issuers are its dns-persist-01 issuer domain names (directory
	// issuerDomainNames, else caaIdentities).
	issuers []string
}

func New(configDir string, client *http.Client) (*Doctor, error) {
	fi, err := os.Stat(configDir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("doctor: no certbot configuration directory at %s (pass --config-dir)", configDir)
	}
	t, err := storage.Open(configDir, &storage.Options{NoCache: true, LockTimeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("doctor: %w", err)
	}
	return &Doctor{configDir: t.Dir, tree: t, client: client, Now: time.Now, Access: unix.Access,
		Listen: net.Listen, providers: dns01.Providers(), caSeen: map[string]caInfo{}}, nil
}

// LineageNames lists the lineages of the tree, sorted (a conf that does
// not parse still names a lineage).
func (d *Doctor) LineageNames(ctx context.Context) ([]string, error) {
	var out []string
	err := d.tree.WalkLineages(ctx, nil, func(li *storage.LineageInfo) error {
		out = append(out, li.Name)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("doctor: list renewal confs: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// Check examines one lineage.
func (d *Doctor) Check(ctx context.Context, name string) *Lineage {
	confPath := d.tree.RenewalConfPath(name)
	l := &Lineage{Name: name, ConfPath: confPath}
	reissue := fmt.Sprintf("acmectl certonly --cert-name %s -d <names> --force-renewal", name)

	data, err := os.ReadFile(confPath)
	if err != nil {
		l.add(Fail, fmt.Sprintf("cannot read %s: %v", confPath, err), "restore the file or run: acmectl delete --cert-name "+name)
		return l
	}
	conf, err := storage.ParseRenewalConf(confPath, data)
	if err != nil {
		l.add(Fail, fmt.Sprintf("renewal conf does not parse: %v", err),
			"fix that line of "+confPath+" (configobj syntax: key = value, [renewalparams]) or restore it from a backup")
		d.checkLive(ctx, l, nil, reissue)
		return l
	}
	l.ok("renewal conf parses")
	p := conf.Params
	if p.NoAutoRenew {
		l.add(Warn, "autorenew = False: renew skips this lineage", "acmectl reconfigure --cert-name "+name+" --autorenew")
	}

	cert := d.checkLive(ctx, l, conf, reissue)
	prefs := prefChalls(conf)
	persistOnly := len(prefs) == 1 && prefs[0] == "dns-persist-01"
	if persistOnly {
		d.checkUnusedAuthenticator(l, conf)
	} else {
		d.checkAuthenticator(l, conf, cert)
	}
	if !l.Failed() {
		d.checkParams(ctx, l)
	}
	d.checkHooks(l, conf)
	server, acct := d.checkAccount(ctx, l, conf)
	if server != "" {
		ca := d.checkCA(ctx, l, server)
		if contains(prefs, "dns-persist-01") && acct != nil && cert != nil {
			d.checkPersist(ctx, l, conf, cert, acct, ca)
		}
	}
	return l
}

// checkLive checks the live links, the key/certificate match, the key's
// permissions and the certificate's dates. It returns the certificate when
// it could be read.
func (d *Doctor) checkLive(ctx context.Context, l *Lineage, conf *storage.RenewalConf, reissue string) *x509.Certificate {
	live := d.tree.LiveDir(l.Name)
	paths := []struct{ kind, path string }{
		{"cert", filepath.Join(live, "cert.pem")}, {"chain", filepath.Join(live, "chain.pem")},
		{"fullchain", filepath.Join(live, "fullchain.pem")}, {"privkey", filepath.Join(live, "privkey.pem")},
	}
	// acmectl (storage) uses the tree's live/<name>/ links; certbot uses the
	// paths in the conf. They differ when a tree was moved or restored
	// elsewhere: acmectl renews, certbot (after switching back) would not.
	if conf != nil {
		for i, v := range []string{conf.Cert, conf.Chain, conf.Fullchain, conf.PrivKey} {
			if v != "" && filepath.Clean(v) != paths[i].path {
				l.add(Warn, fmt.Sprintf("renewal conf has %s = %s, but the lineage's link is %s (tree moved?); acmectl uses the link, certbot would use the conf",
					paths[i].kind, v, paths[i].path),
					"acmectl reconfigure --cert-name "+l.Name+" rewrites the paths, or edit "+l.ConfPath)
				break
			}
		}
	}
	restore := "restore archive/" + l.Name + "/ from a backup, or get a new certificate: " + reissue
	bad := false
	resolved := map[string]string{}
	for _, pp := range paths {
		fi, err := os.Lstat(pp.path)
		if err != nil {
			l.add(Fail, fmt.Sprintf("%s %s is missing", pp.kind, pp.path), restore)
			bad = true
			continue
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			l.add(Fail, fmt.Sprintf("%s %s is not a symlink into archive/ (renewal cannot update it)", pp.kind, pp.path),
				"move the file into archive/"+l.Name+"/ and link it, or get a new certificate: "+reissue)
			bad = true
			continue
		}
		target, err := filepath.EvalSymlinks(pp.path)
		if err != nil {
			t, _ := os.Readlink(pp.path)
			l.add(Fail, fmt.Sprintf("%s %s is a dangling link (-> %s)", pp.kind, pp.path, t), restore)
			bad = true
			continue
		}
		resolved[pp.kind] = target
	}
	if bad {
		return nil
	}
	l.ok("live links resolve")

	certPEM, err1 := os.ReadFile(resolved["cert"])
	keyPEM, err2 := os.ReadFile(resolved["privkey"])
	if err := errors.Join(err1, err2); err != nil {
		l.add(Fail, fmt.Sprintf("cannot read the certificate or key: %v", err), "run acmectl as root (or the owner of "+d.configDir+")")
		return nil
	}
	if fi, err := os.Stat(resolved["privkey"]); err == nil && fi.Mode().Perm()&0o004 != 0 {
		l.add(Fail, fmt.Sprintf("private key %s is readable by everyone (mode %04o)", resolved["privkey"], fi.Mode().Perm()),
			fmt.Sprintf("chmod 0600 %s   (or chgrp <group> + chmod 0640 for a web server group)", resolved["privkey"]))
	} else if err == nil {
		l.ok("private key is not world-readable (mode %04o)", fi.Mode().Perm())
	}
	if err := storage.KeyMatchesCert(certPEM, keyPEM); err != nil {
		l.add(Fail, fmt.Sprintf("private key does not match the certificate: %v", err),
			"point live/"+l.Name+"/privkey.pem at the archive key of the same version as cert.pem (ls -l "+filepath.Join(d.tree.LiveDir(l.Name))+"), or: "+reissue+" --new-key")
		return nil
	}
	l.ok("key and certificate match")
	if lin, err := d.tree.LoadLineage(ctx, l.Name); err != nil {
		l.add(Fail, fmt.Sprintf("lineage does not load: %v", err), restore)
	} else if lin.NeedsRepair {
		l.add(Warn, fmt.Sprintf("live links point at different versions; version %d is used", lin.Version), "the next renew repairs the links")
	}
	cert, err := pemutil.ParseCert(certPEM)
	if err != nil {
		l.add(Fail, fmt.Sprintf("certificate does not parse: %v", err), restore)
		return nil
	}
	left := cert.NotAfter.Sub(d.Now())
	days := int(left.Hours() / 24)
	if left <= 0 {
		l.add(Warn, fmt.Sprintf("certificate expired on %s (%d days ago)", cert.NotAfter.UTC().Format("2006-01-02"), -days),
			"renew replaces it once the problems here are fixed: acmectl renew --cert-name "+l.Name)
	} else {
		l.ok("certificate for %s valid until %s (%d days)", strings.Join(manager.CertNames(cert), ", "), cert.NotAfter.UTC().Format("2006-01-02"), days)
	}
	return cert
}

// checkAuthenticator checks the challenge method saved for the lineage.
func (d *Doctor) checkAuthenticator(l *Lineage, conf *storage.RenewalConf, cert *x509.Certificate) {
	p := conf.Params
	a := p.Authenticator
	reconf := "acmectl reconfigure --cert-name " + l.Name
	switch {
	case a == "" || a == "standalone":
		if a == "" {
			a = "standalone"
		}
		l.ok("authenticator %s is supported", a)
		port := p.HTTP01Port
		if port == 0 {
			port = 80
		}
		d.checkPort(l, p.HTTP01Address, port, p.PreHook)
	case a == "webroot":
		l.ok("authenticator webroot is supported")
		d.checkWebroot(l, conf, cert)
	case a == "manual":
		l.ok("authenticator manual is supported")
		if p.ManualAuthHook == "" {
			l.add(Warn, "manual authenticator without manual_auth_hook: an unattended renew can only succeed when the CA asks no challenge (Sectigo pre-validated domains)",
				reconf+" --manual --manual-auth-hook /path/to/auth-script")
		}
	case a == "tls-alpn" || a == "tls-alpn-01":
		l.ok("authenticator tls-alpn is supported")
	case strings.HasPrefix(a, "dns-"):
		prov := strings.TrimPrefix(a, "dns-")
		if !contains(d.providers, prov) {
			l.add(Fail, fmt.Sprintf("authenticator %s: DNS provider %q is not in this build", a, prov),
				"use the acmectl-all-dns build (make build-all-dns), or switch: "+reconf+" --dns <provider> (built in: "+strings.Join(d.providers, ", ")+")")
		} else {
			l.ok("authenticator %s is supported", a)
		}
		key := "dns_" + strings.ReplaceAll(prov, "-", "_") + "_credentials"
		if v, ok := conf.Param(key); ok && v.String() != "" {
			if _, err := dns01.LoadCredentials(v.String(), prov); err != nil {
				l.add(Fail, fmt.Sprintf("%s: %v", key, err), "create the file with the provider's credentials, mode 0600")
			} else {
				l.ok("%s %s is readable and private", key, v.String())
			}
		}
	case a == "nginx" || a == "apache":
		d.checkWebServer(l, conf, "authenticator", a)
	default:
		l.add(Fail, fmt.Sprintf("authenticator %q is unknown to acmectl", a),
			reconf+" --webroot -w DIR (or --standalone, --manual, --dns PROVIDER)")
	}
	switch in := p.Installer; in {
	case "", "null", "None":
	case "nginx", "apache":
		if in != a {
			d.checkWebServer(l, conf, "installer", in)
		} else {
			d.installerNotes(l, conf, in)
		}
	default:
		l.add(Warn, fmt.Sprintf("installer %s is a certbot plugin acmectl does not have: renewals will not reload it", in),
			reconf+" --deploy-hook 'systemctl reload "+in+"'")
	}
}

// checkPort tells whether the standalone listener could bind.
func (d *Doctor) checkPort(l *Lineage, addr string, port int, preHook string) {
	hp := net.JoinHostPort(addr, strconv.Itoa(port))
	ln, err := d.Listen("tcp", hp)
	switch {
	case err == nil:
		ln.Close()
		l.ok("port %s is free for the standalone server", hp)
	case errors.Is(err, syscall.EADDRINUSE) && preHook != "":
		l.add(Warn, fmt.Sprintf("port %s is in use now; the pre hook %q must free it", hp, preHook), "")
	case errors.Is(err, syscall.EADDRINUSE):
		l.add(Fail, fmt.Sprintf("port %s is in use (a web server?), so the standalone server cannot answer http-01", hp),
			"acmectl reconfigure --cert-name "+l.Name+" --webroot -w DOCROOT, or stop the server around renewal: --pre-hook 'systemctl stop nginx' --post-hook 'systemctl start nginx'")
	case errors.Is(err, syscall.EACCES):
		l.add(Warn, fmt.Sprintf("cannot bind %s as this user; renew must run as root", hp), "run acmectl doctor (and renew) as root")
	default:
		l.add(Warn, fmt.Sprintf("cannot test port %s: %v", hp, err), "")
	}
}

// checkWebroot checks that every webroot exists and is writable.
func (d *Doctor) checkWebroot(l *Lineage, conf *storage.RenewalConf, cert *x509.Certificate) {
	p := conf.Params
	roots := map[string]bool{}
	for _, w := range p.WebrootPath {
		roots[w] = true
	}
	mapped := map[string]bool{}
	for _, kv := range p.WebrootMap {
		roots[kv.Value] = true
		mapped[kv.Key] = true
	}
	reconf := "acmectl reconfigure --cert-name " + l.Name + " --webroot -w DOCROOT"
	if len(roots) == 0 {
		l.add(Fail, "webroot authenticator without webroot_path or [[webroot_map]]", reconf)
		return
	}
	if cert != nil && len(p.WebrootPath) == 0 {
		for _, n := range manager.CertNames(cert) {
			if !mapped[n] {
				l.add(Fail, fmt.Sprintf("%s has no webroot in [[webroot_map]]", n), reconf+" -d "+strings.Join(manager.CertNames(cert), ","))
			}
		}
	}
	for _, w := range sortedKeys(roots) {
		fi, err := os.Stat(w)
		switch {
		case err != nil:
			l.add(Fail, fmt.Sprintf("webroot %s does not exist", w),
				"mkdir -p "+w+" (and make the web server serve it), or point the lineage elsewhere: "+reconf)
			continue
		case !fi.IsDir():
			l.add(Fail, fmt.Sprintf("webroot %s is not a directory", w), reconf)
			continue
		}
		dir := w
		if fi, err := os.Stat(filepath.Join(w, ".well-known", "acme-challenge")); err == nil && fi.IsDir() {
			dir = filepath.Join(w, ".well-known", "acme-challenge")
		}
		if err := d.Access(dir, unix.W_OK|unix.X_OK); err != nil {
			l.add(Fail, fmt.Sprintf("webroot %s is not writable by uid %d: %v", dir, os.Geteuid(), err),
				"run renew as root, or: chown <renew user> "+dir)
			continue
		}
		l.ok("webroot %s exists and is writable", w)
	}
}

// checkHooks checks the saved hook commands.
func (d *Doctor) checkHooks(l *Lineage, conf *storage.RenewalConf) {
	p := conf.Params
	reconf := "acmectl reconfigure --cert-name " + l.Name
	hooks := []struct{ key, cmd, flag string }{
		{"pre_hook", p.PreHook, "--pre-hook"},
		{"post_hook", p.PostHook, "--post-hook"},
		{"renew_hook", p.RenewHook, "--deploy-hook"},
		{"manual_auth_hook", p.ManualAuthHook, "--manual-auth-hook"},
		{"manual_cleanup_hook", p.ManualCleanupHook, "--manual-cleanup-hook"},
	}
	for _, h := range hooks {
		if strings.TrimSpace(h.cmd) == "" {
			continue
		}
		if msg, fix := HookProblem(h.cmd); msg != "" {
			l.add(Fail, fmt.Sprintf("%s %q: %s", h.key, h.cmd, msg), fix+", or change it: "+reconf+" "+h.flag+" 'COMMAND'")
		} else {
			l.ok("%s %q can run", h.key, h.cmd)
		}
	}
	for _, kind := range []string{manager.HookPre, manager.HookDeploy, manager.HookPost} {
		dir := filepath.Join(d.configDir, "renewal-hooks", kind)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), "~") || e.IsDir() {
				continue
			}
			fp := filepath.Join(dir, e.Name())
			fi, err := os.Stat(fp)
			if err != nil {
				l.add(Warn, fmt.Sprintf("directory hook %s is a dangling link", fp), "rm "+fp)
				continue
			}
			if fi.Mode().Perm()&0o111 == 0 {
				l.add(Warn, fmt.Sprintf("directory hook %s is not executable and is skipped", fp), "chmod +x "+fp)
			}
		}
	}
}

// shellWords splits the start of a shell command into words (quotes
// honoured, no expansion); good enough to find the program.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case r == ';' || r == '&' || r == '|':
			if in {
				out = append(out, cur.String())
			}
			return out
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

var shellBuiltins = map[string]bool{
	"cd": true, ".": true, "source": true, "export": true, "set": true, "exit": true, ":": true, "eval": true,
	"exec": true, "true": true, "false": true, "echo": true, "printf": true, "test": true, "[": true,
	"if": true, "for": true, "while": true, "case": true, "{": true, "(": true, "!": true, "until": true,
	"command": true, "unset": true, "umask": true,
}

// HookProblem returns why a hook command cannot run ("" when it can)
// and the fix. Hooks run through /bin/sh -c; the first word that is not a
// VAR=value assignment must be a builtin, an executable file, or found in
// $PATH.
func HookProblem(cmd string) (msg, fix string) {
	words := shellWords(cmd)
	for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "=") && !strings.Contains(words[0], "/") {
		words = words[1:]
	}
	if len(words) == 0 {
		return "", ""
	}
	prog := words[0]
	if shellBuiltins[prog] {
		return "", ""
	}
	if !strings.Contains(prog, "/") {
		if _, err := exec.LookPath(prog); err != nil {
			return fmt.Sprintf("%s is not found in PATH (%s)", prog, os.Getenv("PATH")), "install " + prog + " or use its absolute path"
		}
		return "", ""
	}
	fi, err := os.Stat(prog)
	switch {
	case err != nil:
		return fmt.Sprintf("%s does not exist", prog), "restore " + prog
	case fi.IsDir():
		return fmt.Sprintf("%s is a directory", prog), "point it at the script"
	case fi.Mode().Perm()&0o111 == 0:
		return fmt.Sprintf("%s is not executable (mode %04o)", prog, fi.Mode().Perm()), "chmod +x " + prog
	}
	return "", ""
}

// checkAccount checks the account the lineage renews with and returns its
// server's directory URL ("" when the server is unusable) and the account
// (nil when none could be chosen).
func (d *Doctor) checkAccount(ctx context.Context, l *Lineage, conf *storage.RenewalConf) (string, *storage.Account) {
	p := conf.Params
	server, err := manager.ResolveServer(p.Server)
	if err != nil {
		l.add(Fail, fmt.Sprintf("server %q: %v", p.Server, err), "acmectl reconfigure --cert-name "+l.Name+" --server URL")
		return "", nil
	}
	accDir, err := d.tree.AccountsDir(server)
	if err != nil {
		l.add(Fail, fmt.Sprintf("server %q: %v", server, err), "acmectl reconfigure --cert-name "+l.Name+" --server URL")
		return "", nil
	}
	register := "acmectl register --server " + server
	if manager.ServerNeedsEAB(server) {
		register += " --eab-kid KID --eab-hmac-key-file FILE"
	}
	var acct *storage.Account
	if p.Account != "" {
		acct, err = d.tree.LoadAccount(ctx, server, p.Account)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			l.add(Fail, fmt.Sprintf("account %s for %s is not in %s", p.Account, server, accDir),
				"copy "+filepath.Join(accDir, p.Account)+" from the machine that registered it, or register a new one ("+register+") and then: acmectl reconfigure --cert-name "+l.Name+" --account NEW_ID")
		case err != nil:
			l.add(Fail, fmt.Sprintf("account %s does not load: %v", p.Account, err), "restore "+filepath.Join(accDir, p.Account)+" from a backup")
		default:
			l.ok("account %s for %s exists", p.Account, server)
		}
	} else {
		accts, errs := d.tree.ListAccounts(ctx, server)
		switch {
		case len(accts) == 1:
			acct = accts[0]
			l.ok("account %s for %s exists", acct.ID, server)
		case len(accts) > 1:
			var ids []string
			for _, a := range accts {
				ids = append(ids, a.ID)
			}
			l.add(Fail, fmt.Sprintf("%d accounts for %s and none saved for this lineage; an unattended renew cannot choose", len(accts), server),
				"acmectl reconfigure --cert-name "+l.Name+" --account ID (one of "+strings.Join(ids, ", ")+")")
		case errs != nil:
			l.add(Fail, fmt.Sprintf("accounts for %s do not load: %v", server, errs), "restore "+accDir+" from a backup")
		case manager.ServerNeedsEAB(server):
			l.add(Fail, fmt.Sprintf("no account for %s, which requires external account binding", server), register)
		default:
			l.add(Fail, fmt.Sprintf("no account for %s; an unattended renew cannot register one (terms of service, e-mail)", server),
				register+" --agree-tos -m EMAIL")
		}
	}
	// Permissions: accounts/ 0700, the key not readable by others.
	top := filepath.Join(d.configDir, "accounts")
	if fi, err := os.Stat(top); err == nil && fi.Mode().Perm()&0o077 != 0 {
		l.add(Fail, fmt.Sprintf("%s is mode %04o; account keys must be private", top, fi.Mode().Perm()), "chmod 0700 "+top)
	}
	if acct != nil {
		kp := filepath.Join(acct.Dir, "private_key.json")
		if fi, err := os.Stat(kp); err == nil && fi.Mode().Perm()&0o077 != 0 {
			l.add(Fail, fmt.Sprintf("account key %s is mode %04o", kp, fi.Mode().Perm()), "chmod 0400 "+kp)
		}
	}
	return server, acct
}

// checkCA GETs the CA's directory (once per server per run).
func (d *Doctor) checkCA(ctx context.Context, l *Lineage, server string) caInfo {
	ca, ok := d.caSeen[server]
	if !ok {
		ca = d.probeCA(ctx, server)
		d.caSeen[server] = ca
	}
	l.Findings = append(l.Findings, ca.finding)
	return ca
}

func (d *Doctor) probeCA(ctx context.Context, server string) caInfo {
	f, dir := d.fetchDirectory(ctx, server)
	info := caInfo{finding: f}
	if dir != nil {
		info.issuers = dir.Meta.IssuerDomainNames
		if len(info.issuers) == 0 {
			info.issuers = dir.Meta.CAAIdentities
		}
	}
	return info
}

// directory is the part of an ACME directory doctor reads.
type directory struct {
	NewNonce string `json:"newNonce"`
	NewOrder string `json:"newOrder"`
	Meta     struct {
		CAAIdentities     []string `json:"caaIdentities"`
		IssuerDomainNames []string `json:"issuerDomainNames"`
	} `json:"meta"`
}

func (d *Doctor) fetchDirectory(ctx context.Context, server string) (Finding, *directory) {
	ctx, cancel := context.WithTimeout(ctx, CATimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server, nil)
	if err != nil {
		return nilDir(Finding{Fail, fmt.Sprintf("CA directory %s: %v", server, err), "fix the server URL in the renewal conf"})
	}
	req.Header.Set("User-Agent", d.UserAgent)
	resp, err := d.client.Do(req)
	if err != nil {
		var ua x509.UnknownAuthorityError
		var ha x509.HostnameError
		switch {
		case errors.As(err, &ua), errors.As(err, &ha), strings.Contains(err.Error(), "certificate"):
			return nilDir(Finding{Fail, fmt.Sprintf("CA directory %s: TLS: %v", server, err),
				"pass --ca-bundle FILE (or set REQUESTS_CA_BUNDLE) with the root that signs the CA's HTTPS certificate"})
		}
		return nilDir(Finding{Fail, fmt.Sprintf("CA directory %s does not answer: %v", server, err),
			"check DNS, the firewall and the proxy (HTTPS_PROXY) for this host; the CA may be down"})
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nilDir(Finding{Fail, fmt.Sprintf("CA directory %s answers HTTP %d", server, resp.StatusCode),
			"check the server URL in the renewal conf (Sectigo's is https://acme.sectigo.com/v2/OV, without /directory)"})
	}
	var dir directory
	if err := json.Unmarshal(body, &dir); err != nil || dir.NewNonce == "" || dir.NewOrder == "" {
		return nilDir(Finding{Fail, fmt.Sprintf("%s is not an ACME directory (no newNonce/newOrder)", server),
			"check the server URL in the renewal conf"})
	}
	return Finding{OK, fmt.Sprintf("CA directory %s answers", server), ""}, &dir
}

func nilDir(f Finding) (Finding, *directory) { return f, nil }

// TreeFindings checks the tree as a whole: each directory of it (or above
// it) that users other than its owner may write is a WARN with its fix
// (chmod o-w PATH) — any local user could swap keys, confs or hooks there
// for the root process that renews. None means nothing to report.
func (d *Doctor) TreeFindings() []Finding {
	dirs, err := d.tree.OtherWritableDirs()
	if err != nil {
		return []Finding{{Warn, fmt.Sprintf("could not check the permissions of %s: %v", d.configDir, err), "run doctor as root"}}
	}
	var out []Finding
	for _, w := range dirs {
		out = append(out, Finding{Warn, fmt.Sprintf("%s is writable by other users (%s): they could replace keys, confs or hooks root uses", w.Path, w.Mode), w.Fix})
	}
	return out
}

// WriteTreeReport prints the tree's findings as one block before the
// lineages (nothing when there are none).
func WriteTreeReport(w io.Writer, configDir string, fs []Finding) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(w, "%s (configuration directory):\n", configDir)
	for _, f := range fs {
		fmt.Fprintf(w, "  %-4s  %s\n        fix: %s\n", f.Level, f.Msg, f.Fix)
	}
	fmt.Fprintln(w)
}

// WriteReport prints one block per lineage.
func WriteReport(w io.Writer, ls []*Lineage) {
	for i, l := range ls {
		if i > 0 {
			fmt.Fprintln(w)
		}
		verdict := "renewal should work"
		if l.Failed() {
			verdict = "renewal would FAIL"
		}
		fmt.Fprintf(w, "%s (%s): %s\n", l.Name, l.ConfPath, verdict)
		for _, f := range l.Findings {
			fmt.Fprintf(w, "  %-4s  %s\n", f.Level, f.Msg)
			if f.Fix != "" && f.Level != OK {
				fmt.Fprintf(w, "        fix: %s\n", f.Fix)
			}
		}
	}
}

// Summary is the command's error when any lineage would fail.
func Summary(ls []*Lineage) error {
	var failed []string
	for _, l := range ls {
		if l.Failed() {
			failed = append(failed, l.Name)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("doctor: %d of %d certificates would fail to renew: %s", len(failed), len(ls), strings.Join(failed, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
