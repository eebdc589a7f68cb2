package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/acmectl/acmectl/storage"
)

// runReconfigure changes a lineage's renewal parameters: the new options are
// proven by a dry-run issuance against the lineage's CA (nothing is saved but
// the renewal conf, and only when that succeeds).
func runReconfigure(ctx context.Context, e *env) error {
	o := e.o
	if o.certName == "" {
		return errNeedFlag("no certificate chosen", "--cert-name NAME")
	}
	if len(o.domains) > 0 {
		return usageErrorf("reconfigure does not change a certificate's names; use certonly --cert-name %s -d ...", o.certName)
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	unlock, err := st.LockLineage(ctx, o.certName)
	if err != nil {
		return err
	}
	defer unlock()
	l, err := st.LoadLineage(ctx, o.certName)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no certificate found with name %s (see 'acmectl certificates')", o.certName)
		}
		return err
	}
	lo, err := lineageOptions(o, l)
	if err != nil {
		return err
	}
	lo.dryRun = true
	h := newHooks(o.configDir, o.noDirHooks, e.stderr, e.log)
	h.Pre(ctx, lo.preHook)
	h.AddPost(lo.postHook)
	fmt.Fprintln(e.stderr, "Simulating a renewal with the new options against", lo.server)
	res, err := obtain(ctx, e, st, &issuePlan{o: lo, name: l.Name, domains: lo.domains, ips: lo.ips, existing: l})
	if err != nil {
		h.Post(ctx, nil, certNames(l.Cert))
		return fmt.Errorf("the new options failed a test issuance; nothing was changed: %w", err)
	}
	if o.runDeployHooks {
		h.Deploy(ctx, lo.deployHook, res.liveDir, res.names)
	}
	h.Post(ctx, res.names, nil)
	saved := *lo
	saved.dryRun = false
	conf := renewalConf(&saved, l.Conf, res.accountID)
	if err := st.SaveRenewalConf(ctx, l.Name, conf); err != nil {
		return fmt.Errorf("save renewal options of %s: %w", l.Name, err)
	}
	e.printf("Successfully updated configuration.\nChanges will apply when the certificate renews.\n")
	return nil
}
