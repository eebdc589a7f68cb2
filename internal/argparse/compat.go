package argparse

import "strings"

// PrefixConflicts lists the abbreviations of base's long options that
// argparse resolves to one option string in base but not to the same one in
// ext: adding options to certbot's spec (acmectl's own --renew-before-expiry,
// --autorenew, ...) must not make an abbreviation a certbot user types
// ambiguous or point it elsewhere. Each entry is "prefix: base → ext".
func PrefixConflicts(base, ext *Parser) []string {
	var out []string
	for _, f := range base.flagOrder {
		if !strings.HasPrefix(f, "--") {
			continue
		}
		for n := 3; n < len(f); n++ {
			prefix := f[:n]
			if _, exact := base.byFlag[prefix]; exact {
				continue
			}
			bm := base.optionTuples(prefix)
			if len(bm) != 1 || bm[0].flag != f {
				continue
			}
			if _, exact := ext.byFlag[prefix]; exact {
				out = append(out, prefix+": "+f+" → exact option "+prefix)
				continue
			}
			em := ext.optionTuples(prefix)
			if len(em) == 1 && em[0].flag == f {
				continue
			}
			names := make([]string, len(em))
			for i, m := range em {
				names[i] = m.flag
			}
			out = append(out, prefix+": "+f+" → "+strings.Join(names, ", "))
		}
	}
	return out
}
