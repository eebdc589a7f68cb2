package http01

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// WebrootArgs builds the name → webroot map with certbot's rules, from the -w
// and -d flags in command-line order plus --webroot-map:
//
//   - each -w applies to the -d flags that follow it, up to the next -w;
//   - -d flags before the first -w take the last -w given, but then only one
//     -w is allowed ("If you specify multiple webroot paths, one of them must
//     precede all domain flags");
//   - names not matched by any -w get the last -w;
//   - --webroot-map JSON ({"a.com,www.a.com": "/www/a"}) implies -d for its
//     names and takes precedence over -w / -d.
//
// The zero value is ready to use. Feed it with AddWebroot, AddDomains and AddMap
// in the order the flags appeared (ScanWebrootArgs does that from argv).
type WebrootArgs struct {
	paths         []string
	domains       []string
	seen          map[string]bool
	fromFlags     map[string]string // -w/-d assignments made when a later -w was seen
	fromMap       map[string]string
	domainBeforeW bool
}

// AddWebroot records one -w PATH. Whether the path exists is checked by
// NewWebroot, not here.
func (a *WebrootArgs) AddWebroot(path string) error {
	if path == "" {
		return errors.New("webroot: empty -w/--webroot-path")
	}
	if a.domainBeforeW {
		return errors.New("webroot: if you specify multiple webroot paths, one of them must precede all domain flags")
	}
	if len(a.paths) > 0 {
		prev := a.paths[len(a.paths)-1]
		for _, d := range a.domains {
			if _, ok := a.fromFlags[d]; !ok {
				if a.fromFlags == nil {
					a.fromFlags = map[string]string{}
				}
				a.fromFlags[d] = prev
			}
		}
	} else if len(a.domains) > 0 {
		a.domainBeforeW = true
	}
	a.paths = append(a.paths, path)
	return nil
}

// AddDomains records one -d value, which may be a comma-separated list.
func (a *WebrootArgs) AddDomains(list string) {
	for _, d := range strings.Split(list, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if a.seen == nil {
			a.seen = map[string]bool{}
		}
		if !a.seen[d] {
			a.seen[d] = true
			a.domains = append(a.domains, d)
		}
	}
}

// AddMap records one --webroot-map JSON object; its keys are comma-separated
// name lists. Later maps override earlier ones for the same name.
func (a *WebrootArgs) AddMap(js string) error {
	var m map[string]string
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		return fmt.Errorf("webroot: --webroot-map is not a JSON object of strings: %w", err)
	}
	for names, root := range m {
		if root == "" {
			return fmt.Errorf("webroot: --webroot-map gives an empty path for %q", names)
		}
		for _, d := range strings.Split(names, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "" {
				continue
			}
			a.AddDomains(d)
			if a.fromMap == nil {
				a.fromMap = map[string]string{}
			}
			a.fromMap[d] = root
		}
	}
	return nil
}

// Domains returns every name from -d and --webroot-map, in first-seen order.
func (a *WebrootArgs) Domains() []string { return append([]string(nil), a.domains...) }

// Map returns the name → webroot map. It fails when some name has no webroot.
func (a *WebrootArgs) Map() (map[string]string, error) {
	out := map[string]string{}
	for _, d := range a.domains {
		switch {
		case a.fromMap[d] != "":
			out[d] = a.fromMap[d]
		case a.fromFlags[d] != "":
			out[d] = a.fromFlags[d]
		case len(a.paths) > 0:
			out[d] = a.paths[len(a.paths)-1]
		default:
			return nil, fmt.Errorf("webroot: no webroot for %s; give -w PATH before -d %s, or --webroot-map", d, d)
		}
	}
	return out, nil
}

// ScanWebrootArgs reads -w/--webroot-path, -d/--domain/--domains/--ip-address and
// --webroot-map from argv (in any of the forms "-w X", "-wX", "--webroot-path X",
// "--webroot-path=X") in order, and returns the result. It stops at "--". Other
// arguments are ignored, so it can be given the whole os.Args[1:]; a flag value
// that happens to look like "-w" is the caller's problem, as with certbot.
func ScanWebrootArgs(argv []string) (*WebrootArgs, error) {
	a := &WebrootArgs{}
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if arg == "--" {
			break
		}
		name, val, hasVal := arg, "", false
		if strings.HasPrefix(arg, "--") {
			name, val, hasVal = strings.Cut(arg, "=")
		} else if len(arg) > 2 && (strings.HasPrefix(arg, "-w") || strings.HasPrefix(arg, "-d")) {
			name, val, hasVal = arg[:2], arg[2:], true
		}
		var kind string
		switch name {
		case "-w", "--webroot-path":
			kind = "w"
		case "-d", "--domain", "--domains", "--ip-address":
			kind = "d"
		case "--webroot-map":
			kind = "m"
		default:
			continue
		}
		if !hasVal {
			if i+1 >= len(argv) {
				return nil, fmt.Errorf("webroot: %s needs a value", name)
			}
			i++
			val = argv[i]
		}
		var err error
		switch kind {
		case "w":
			err = a.AddWebroot(val)
		case "d":
			a.AddDomains(val)
		case "m":
			err = a.AddMap(val)
		}
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}
