package main

// acmectl cluster join|leave|status|sync: the front-end of the engine's
// cluster verbs (manager/clusterverbs.go); every flag is the table's.

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/acmectl/acmectl/manager"
)

var clusterVerbs = []string{"join", "leave", "status", "sync"}

func runCluster(ctx context.Context, e *env) error {
	if len(e.args) != 1 || !contains(clusterVerbs, e.args[0]) {
		return usageErrorf("cluster takes one of %s (see acmectl cluster --help)", strings.Join(clusterVerbs, ", "))
	}
	st, err := openStore(e)
	if err != nil {
		return err
	}
	m, lines := e.engine(st), func(ls []string) { e.printf("%s", strings.Join(append(ls, ""), "\n")) }
	switch e.args[0] {
	case "join":
		res, err := m.ClusterJoin(ctx)
		if res != nil {
			lines(res.Summary())
		}
		return err
	case "leave":
		rep, err := m.ClusterLeave(ctx)
		if rep != nil {
			lines([]string{"Handed back to this node's own renewal: " + strings.Join(append(rep.HandedBack, "none")[:max(1, len(rep.HandedBack))], ", ")})
		}
		return err
	case "status":
		cs, err := m.ClusterStatus(ctx)
		if cs != nil && e.o.JSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(cs)
		} else if cs != nil {
			cs.WriteText(e.stdout, e.now())
		}
		return err
	}
	if e.o.Watch {
		return m.ClusterWatch(ctx, func(r *manager.ClusterSyncResult, err error) {
			if err != nil {
				e.errorf("cluster sync: %s\n", oneLine(err.Error()))
			}
			lines(r.Lines(false))
		})
	}
	r, err := m.ClusterSync(ctx)
	lines(r.Lines(true))
	return err
}

// clusterArgs moves cluster's verb after the flags (urfave/cli stops at the
// first argument): "cluster join -n --store X" → "cluster -n --store X join".
func clusterArgs(args []string) []string {
	if len(args) < 3 || args[1] != "cluster" {
		return args
	}
	var flags, words []string
	for i := 2; i < len(args); i++ {
		switch a, name := args[i], strings.TrimLeft(args[i], "-"); {
		case a == "--":
			words = append(words, args[i+1:]...)
			i = len(args)
		case !strings.HasPrefix(a, "-") || a == "-":
			words = append(words, a)
		case manager.ParamByName[name] != nil && manager.ParamByName[name].Kind != manager.KindBool && manager.ParamByName[name].Kind != manager.KindCount && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
		default:
			flags = append(flags, a)
		}
	}
	return append(append(append([]string{}, args[:2]...), flags...), words...)
}
