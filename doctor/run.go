package doctor

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
)

// RunOptions are what one "acmectl doctor" run was asked.
type RunOptions struct {
	// CertName limits the run to one lineage ("" for all).
	CertName string
	// Quiet shows only the lineages that would fail, and no Footer.
	Quiet bool
	// DryRun, when not nil, also runs renew --dry-run for each lineage
	// whose checks passed.
	DryRun *DryRunOptions
	// Footer, when not nil, gives the report's last line (who renews on
	// this host).
	Footer func() string
}

// Run checks the tree, then every lineage (or o.CertName), and writes the
// report to w. It returns Summary's error (nil when every renewal should
// work), or an error naming the lineage when o.CertName is not one.
func (d *Doctor) Run(ctx context.Context, w io.Writer, o RunOptions) error {
	WriteTreeReport(w, d.configDir, d.TreeFindings())
	names, err := d.LineageNames(ctx)
	if err != nil {
		return err
	}
	if o.CertName != "" {
		if !slices.Contains(names, o.CertName) {
			return fmt.Errorf("doctor: no certificate named %s in %s (see acmectl certificates)", o.CertName, filepath.Join(d.configDir, "renewal"))
		}
		names = []string{o.CertName}
	}
	if len(names) == 0 {
		if !o.Quiet {
			fmt.Fprintf(w, "No certificates in %s.\n", d.configDir)
		}
		return nil
	}
	var ls, shown []*Lineage
	for _, n := range names {
		l := d.Check(ctx, n)
		if o.DryRun != nil && !l.Failed() {
			d.DryRun(ctx, l, *o.DryRun)
		}
		ls = append(ls, l)
		if !o.Quiet || l.Failed() {
			shown = append(shown, l)
		}
	}
	WriteReport(w, shown)
	if !o.Quiet && o.Footer != nil {
		fmt.Fprintf(w, "\n%s\n", o.Footer())
	}
	return Summary(ls)
}
