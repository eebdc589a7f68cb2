package nginx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acmectl/acmectl/installer"
	"github.com/acmectl/acmectl/internal/b64url"
)

// Present implements installer.Installer: it records the challenge.
func (n *Nginx) Present(ctx context.Context, domain, token, keyAuth string) error {
	if !b64url.IsToken(token, 1, 1024) || strings.ContainsAny(keyAuth, "\"'\\;{} \t\r\n$") {
		return fmt.Errorf("nginx: refusing a malformed challenge token or key authorization for %s", domain)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.applied {
		return errors.New("nginx: a challenge was presented after the configuration was written; present all before waiting")
	}
	n.pending = append(n.pending, challenge{domain, token, keyAuth})
	return nil
}

// Wait implements installer.Installer. The first call writes every presented
// challenge (certbot's NginxHttp01.perform), tests and reloads; every call then
// waits until nginx answers its token locally.
func (n *Nginx) Wait(ctx context.Context, domain, token, keyAuth string) error {
	n.mu.Lock()
	if !n.applied {
		n.applied = true
		n.applyErr = n.apply(ctx)
	}
	err, probe := n.applyErr, n.probes[token]
	n.mu.Unlock()
	if err != nil {
		return err
	}
	if probe == "" {
		return nil
	}
	start := time.Now()
	defer func() {
		n.cfg.Logger.Debug("nginx answers the challenge", slog.String("identifier", domain), slog.Duration("waited", time.Since(start)))
	}()
	if err := selfCheck(ctx, probe, domain, token, keyAuth, 10*time.Second); err != nil {
		n.cfg.Logger.Warn("nginx does not answer the challenge locally yet; the CA may fail to validate", slog.String("identifier", domain), slog.String("error", err.Error()))
	}
	return nil
}

// CleanUp implements installer.Installer: when the last challenge is gone the
// temporary checkpoint is reverted and nginx reloaded.
func (n *Nginx) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pending = slices.DeleteFunc(n.pending, func(c challenge) bool { return c.token == token && c.domain == domain })
	if len(n.pending) > 0 || !n.applied {
		return nil
	}
	n.applied, n.applyErr = false, nil
	clear(n.probes)
	if err := n.rev.RevertTemporary(); err != nil {
		return fmt.Errorf("nginx: remove the challenge configuration: %w", err)
	}
	if err := n.load(); err != nil {
		return err
	}
	return n.Reload(ctx)
}

func (n *Nginx) challengePath(token string) string { return "/.well-known/acme-challenge/" + token }

// apply is certbot's NginxHttp01._mod_config plus the reload of perform.
func (n *Nginx) apply(ctx context.Context) error {
	fail := func(err error) error {
		if rerr := n.rev.RevertTemporary(); rerr != nil {
			err = fmt.Errorf("%w (and reverting failed: %v)", err, rerr)
		}
		_ = n.load()
		return err
	}
	if err := n.includeChallenges(); err != nil {
		return err
	}
	var extra strings.Builder
	for _, c := range n.pending {
		if err := n.addChallenge(&extra, c); err != nil {
			return fail(err)
		}
	}
	if err := n.rev.AddNewFiles(true, n.ChallengeFile()); err != nil {
		return fail(fmt.Errorf("nginx: %w", err))
	}
	if err := installer.WriteFile(n.ChallengeFile(), []byte(extra.String()), 0o644); err != nil {
		return fail(fmt.Errorf("nginx: write %s: %w", n.ChallengeFile(), err))
	}
	if err := n.write(true, "HTTP Challenge\n"); err != nil {
		return fail(err)
	}
	if err := n.Reload(ctx); err != nil {
		err = fail(err)
		if rerr := n.Reload(context.WithoutCancel(ctx)); rerr != nil {
			n.cfg.Logger.Error("nginx reload after reverting the challenge failed", slog.String("error", rerr.Error()))
		}
		return err
	}
	return nil
}

// includeChallenges puts the include of the challenge file into the http
// block and raises server_names_hash_bucket_size to at least 128 (certbot
// issue #5199: long challenge server names).
func (n *Nginx) includeChallenges() error {
	main := n.tree.Files[n.tree.Main]
	var http *Directive
	for _, d := range main.Block.Items {
		if d.Name() == "http" && d.Block != nil {
			http = d
			break
		}
	}
	if http == nil {
		return fmt.Errorf("nginx: could not find an http block to include the challenges in %s", n.MainFile())
	}
	hv := &VHost{Dir: http}
	inc := newDirective(main, "include", n.ChallengeFile())
	inc.Trailer = ""
	if findIn(http.Block, "include", func(x *Directive) bool { return sameWords(x, inc) }) < 0 {
		insert(hv, inc, true)
	}
	if !n.raiseHashBucket() {
		b := newDirective(main, "server_names_hash_bucket_size", "128")
		b.Trailer = ""
		insert(hv, b, true)
	}
	return nil
}

// raiseHashBucket sets every main- or http-level server_names_hash_bucket_size
// below 128 to 128 and reports whether there was one.
func (n *Nginx) raiseHashBucket() bool {
	found := false
	for _, f := range n.tree.Files {
		for _, d := range f.Block.Items {
			blk := []*Directive{d}
			if d.Name() == "http" && d.Block != nil {
				blk = d.Block.Items
			}
			for _, x := range blk {
				if x.Name() == "server_names_hash_bucket_size" && len(x.Args()) == 1 {
					if v, _ := strconv.Atoi(x.Args()[0]); v < 128 {
						x.Words = []Word{x.Words[0], {Pre: " ", Raw: "128"}}
					}
					found = true
				}
			}
		}
	}
	return found
}

// addChallenge serves one challenge: a location in every block answering the
// name on the http and https ports, or a server block of its own in the
// challenge file when no plain block answers it.
func (n *Nginx) addChallenge(extra *strings.Builder, c challenge) error {
	port := strconv.Itoa(n.cfg.HTTPPort)
	httpV, httpsV, err := n.authVHosts(c.domain)
	if err != nil {
		return err
	}
	if len(httpV) == 0 {
		n.newChallengeBlock(extra, c)
		n.probes[c.token] = probeAddr(n.plainAddrs(port), port)
	}
	for _, v := range append(httpV, httpsV...) {
		loc := n.location(v.Dir.File, c, indent(v.Dir.Block, lineIndent(v.Dir)))
		insert(v, loc, false)
		rw := newDirective(v.Dir.File, "rewrite", "^(/.well-known/acme-challenge/.*)", "$1", "break")
		if findIn(v.Dir.Block, "rewrite", func(x *Directive) bool { return sameWords(x, rw) }) < 0 {
			insert(v, rw, true)
		}
	}
	if len(httpV) > 0 {
		n.probes[c.token] = probeAddr(httpV[0].Addrs, port)
	}
	return nil
}

// authVHosts is certbot's choose_auth_vhosts: matching blocks on the http port
// (plain) and the https port (TLS); with no plain one, a copy of the default
// server of the http port.
func (n *Nginx) authVHosts(domain string) (httpV, httpsV []*VHost, err error) {
	all := n.tree.VHosts()
	hp, sp := strconv.Itoa(n.cfg.HTTPPort), strconv.Itoa(n.cfg.HTTPSPort)
	for _, m := range rank(all, domain, true) {
		if m.v.listening(hp, false) {
			httpV = append(httpV, m.v)
		}
		if m.v.listening(sp, true) {
			httpsV = append(httpsV, m.v)
		}
	}
	if len(httpV) == 0 {
		if v, err := n.fromDefault(domain, hp, false); err == nil {
			httpV = []*VHost{v}
		}
	}
	return httpV, httpsV, nil
}

// location is certbot's _location_directive_for_achall.
func (n *Nginx) location(f *File, c challenge, ind string) *Directive {
	dt := newDirective(f, "default_type", "text/plain")
	dt.Trailer, dt.Pre = "", "\n"+ind+"    "
	ret := newDirective(f, "return", "200", c.keyAuth)
	ret.Trailer, ret.Pre = "", "\n"+ind+"    "
	return &Directive{File: f, Words: []Word{{Raw: "location"}, {Pre: " ", Raw: "="}, {Pre: " ", Raw: n.challengePath(c.token)}},
		Gap: " ", Block: &Block{Items: []*Directive{dt, ret}, Tail: "\n" + ind}, Trailer: Managed}
}

// plainAddrs are the addresses plain-HTTP blocks listen on for port.
func (n *Nginx) plainAddrs(port string) []Addr {
	var out []Addr
	seen := map[string]bool{}
	for _, v := range n.tree.VHosts() {
		for _, a := range v.Addrs {
			if a.Port == port && !a.SSL && !seen[a.key()] {
				seen[a.key()] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// newChallengeBlock is certbot's _make_server_block, listening where the other
// plain blocks of the port listen (certbot: the port on all addresses).
func (n *Nginx) newChallengeBlock(sb *strings.Builder, c challenge) {
	port := strconv.Itoa(n.cfg.HTTPPort)
	sb.WriteString("server {\n")
	addrs := n.plainAddrs(port)
	if len(addrs) == 0 {
		fmt.Fprintf(sb, "    listen %s;\n", port)
	}
	for _, a := range addrs {
		if a.Host == "" {
			fmt.Fprintf(sb, "    listen %s;\n", port)
		} else {
			fmt.Fprintf(sb, "    listen %s:%s;\n", a.Host, port)
		}
	}
	fmt.Fprintf(sb, "    server_name %s;\n", c.domain)
	fmt.Fprintf(sb, "    root %s;\n", filepath.Join(n.cfg.WorkDir, "http_01_nonexistent"))
	fmt.Fprintf(sb, "    location = %s {\n        default_type text/plain;\n        return 200 %s;\n    }\n}\n", n.challengePath(c.token), c.keyAuth)
}

func probeAddr(addrs []Addr, port string) string {
	for _, a := range addrs {
		if a.Port != port || a.SSL {
			continue
		}
		switch a.Host {
		case "":
			return "127.0.0.1:" + port
		case "[::]":
			return "[::1]:" + port
		}
		return net.JoinHostPort(strings.Trim(a.Host, "[]"), port)
	}
	if len(addrs) == 0 {
		return "127.0.0.1:" + port
	}
	return ""
}

// selfCheck asks the server at addr for the token with Host: domain until it
// answers keyAuth.
func selfCheck(ctx context.Context, addr, domain, token, keyAuth string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{Proxy: nil}}
	var last error
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return last
		case <-t.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/.well-known/acme-challenge/"+token, nil)
		req.Host = domain
		resp, err := hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(b)) == keyAuth {
				return nil
			}
			last = fmt.Errorf("GET %s (Host %s): %s", req.URL, domain, resp.Status)
		} else {
			last = err
		}
		t.Reset(50 * time.Millisecond)
	}
}
