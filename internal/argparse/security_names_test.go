package argparse

import "testing"

// acmectl's own renew options of issue 16 (manager.Params: --renew-deadline,
// --archive-versions) must leave every abbreviation certbot resolves as it
// is (--keep-archive-versions would have taken "--keep-" from
// --keep-until-expiring, --run-deadline "--run" from --run-deploy-hooks).
func TestIssue16OptionsKeepCertbotAbbreviations(t *testing.T) {
	base := MustNew(Certbot())
	for _, f := range []string{"--renew-deadline", "--archive-versions"} {
		spec := Certbot()
		spec.Options = append(spec.Options, Option{Flags: []string{f}, Dest: f[2:], Action: Store})
		if got := PrefixConflicts(base, MustNew(spec)); len(got) != 0 {
			t.Errorf("%s breaks certbot abbreviations: %q", f, got)
		}
	}
	spec := Certbot()
	spec.Options = append(spec.Options, Option{Flags: []string{"--keep-archive-versions"}, Dest: "x", Action: Store})
	if got := PrefixConflicts(base, MustNew(spec)); len(got) == 0 {
		t.Errorf("PrefixConflicts found no conflict for --keep-archive-versions (--keep- is --keep-until-expiring's)")
	}
}
