package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/acmectl/acmectl/storage"
)

// runCertonly obtains a certificate into a lineage (new, or a new version of
// the lineage with the same names / --cert-name), or from --csr into plain
// files. It never installs anything.
func runCertonly(ctx context.Context, e *env) error {
	o := e.o
	if o.csr != "" {
		return certonlyCSR(ctx, e)
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}

	// Which lineage: --cert-name, or the one with the same names.
	var existing *storage.Lineage
	if o.certName != "" {
		l, err := st.LoadLineage(ctx, o.certName)
		switch {
		case err == nil:
			existing = l
		case errors.Is(err, storage.ErrNotFound):
		default:
			return fmt.Errorf("load certificate %s: %w", o.certName, err)
		}
		if existing != nil && len(o.domains)+len(o.ips) == 0 {
			o.domains, o.ips = splitNames(certNames(existing.Cert))
		}
	}
	if len(o.domains)+len(o.ips) == 0 {
		if !e.interactive() {
			return errNeedFlag("no domain names were given", "--domain NAME")
		}
		ans, err := e.ask("Please enter the domain name(s) you would like on your certificate (comma and/or space separated): ")
		if err != nil {
			return err
		}
		if o.domains, err = normalizeDomains(strings.Fields(strings.ReplaceAll(ans, ",", " "))); err != nil {
			return err
		}
		if len(o.domains) == 0 {
			return errors.New("no domain names were given")
		}
	}
	if o.authenticator == "" {
		if !e.interactive() {
			return errNeedFlag("no way to answer the CA's challenges was chosen", "--standalone, --webroot -w PATH, --manual --manual-auth-hook CMD, --dns PROVIDER or --tls-alpn")
		}
		ans, err := e.ask("How would you like to authenticate with the ACME CA?\n1: Spin up a temporary webserver (standalone)\n2: Place files in webroot directory (webroot)\nSelect the appropriate number [1-2] then [enter]: ")
		if err != nil {
			return err
		}
		switch ans {
		case "1":
			o.authenticator = "standalone"
		case "2":
			root, err := e.ask("Input the webroot for " + strings.Join(o.domains, ", ") + ": ")
			if err != nil {
				return err
			}
			o.authenticator = "webroot"
			o.webrootMap = map[string]string{}
			for _, d := range o.domains {
				o.webrootMap[d] = root
			}
		default:
			return errors.New("no authenticator chosen")
		}
	}
	names := append(append([]string(nil), o.domains...), o.ips...)

	// Without --cert-name, a lineage with the same names (or a subset) is
	// the one to renew or expand; --cert-name always names the lineage.
	if existing == nil && !o.duplicate && o.certName == "" {
		if l, subset, err := findLineageByNames(ctx, st, names); err != nil {
			return err
		} else if l != nil && !subset {
			existing = l
		} else if l != nil && subset {
			if !o.expand {
				if !e.interactive() {
					return errNeedFlag(fmt.Sprintf("certificate %s has a subset of the requested names", l.Name), "--expand (or --cert-name NAME / --duplicate)")
				}
				ok, err := e.confirm(fmt.Sprintf("You have an existing certificate (%s) that contains a portion of the domains you requested. Expand it with the new names?", l.Name), true)
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("user chose not to expand the certificate")
				}
			}
			existing = l
		}
	}
	name := o.certName
	if existing != nil {
		name = existing.Name
	}
	if name == "" || (existing == nil && o.duplicate) {
		name, err = st.UniqueLineageName(ctx, o.certName, names)
		if err != nil {
			return &usageError{err}
		}
	}

	if existing != nil && existing.Cert != nil && sameSet(certNames(existing.Cert), names) && !o.force && !o.dryRun {
		due, _ := isDue(dueInput{Now: e.now(), NotBefore: existing.Cert.NotBefore, NotAfter: existing.Cert.NotAfter, Autorenew: true})
		if !due || o.keep {
			if o.keep || !e.interactive() {
				e.printf("Certificate not yet due for renewal; no action taken.\n")
				return nil
			}
			ok, err := e.confirm("You have an existing certificate that has exactly the same domains or certificate name you requested and isn't close to expiry. Renew & replace the certificate (may be subject to CA rate limits)?", false)
			if err != nil {
				return err
			}
			if !ok {
				e.printf("Certificate not yet due for renewal; no action taken.\n")
				return nil
			}
		}
	}

	unlock, err := st.LockLineage(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	if existing != nil {
		// Re-read under the lock: another run may have renewed it.
		if l, err := st.LoadLineage(ctx, name); err == nil {
			existing = l
		}
	}

	h := newHooks(o.configDir, o.noDirHooks, e.stderr, e.log)
	h.Pre(ctx, o.preHook)
	h.AddPost(o.postHook)
	res, err := obtain(ctx, e, st, &issuePlan{o: o, name: name, domains: o.domains, ips: o.ips, existing: existing})
	if err != nil {
		h.Post(ctx, nil, names)
		return err
	}
	if !o.dryRun || o.runDeployHooks {
		h.Deploy(ctx, o.deployHook, res.liveDir, res.names)
	}
	h.Post(ctx, res.names, nil)
	if o.dryRun {
		e.printf("The dry run was successful.\n")
		return nil
	}
	e.printf("\nSuccessfully received certificate.\nCertificate is saved at: %s\nKey is saved at:         %s\nThis certificate expires on %s.\nThese files will be updated when the certificate renews.\n",
		res.fullchain, res.privkey, res.cert.NotAfter.UTC().Format("2006-01-02"))
	if n := h.Failures(); n > 0 {
		return fmt.Errorf("the certificate was saved, but %d hook(s) failed", n)
	}
	return nil
}

// findLineageByNames returns the lineage whose certificate has exactly names
// (subset false) or a strict subset of them (subset true).
func findLineageByNames(ctx context.Context, st storage.Storage, names []string) (*storage.Lineage, bool, error) {
	var exact, subsetName string
	errFound := errors.New("found")
	err := st.WalkLineages(ctx, nil, func(li *storage.LineageInfo) error {
		if li.Err != nil {
			return nil
		}
		if sameSet(li.Domains, names) {
			exact = li.Name
			return errFound
		}
		if subsetName == "" && subsetOf(li.Domains, names) {
			subsetName = li.Name
		}
		return nil
	})
	if err != nil && err != errFound {
		return nil, false, fmt.Errorf("list certificates: %w", err)
	}
	if exact != "" {
		l, err := st.LoadLineage(ctx, exact)
		if err != nil {
			return nil, false, err
		}
		return l, false, nil
	}
	if subsetName != "" {
		l, err := st.LoadLineage(ctx, subsetName)
		if err != nil {
			return nil, false, err
		}
		return l, true, nil
	}
	return nil, false, nil
}

// certonlyCSR obtains a certificate for a CSR and writes --cert-path,
// --chain-path and --fullchain-path (no lineage, as certbot does).
func certonlyCSR(ctx context.Context, e *env) error {
	return certonlyFromCSR(ctx, e)
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
