// Command renew-all renews every due lineage of a certbot tree through the
// engine's public API, reporting each lineage with its own observer.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/acmectl/acmectl/manager"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: renew-all CONFIG_DIR")
		os.Exit(2)
	}
	cfg, err := manager.LoadConfig(manager.FlagMap{"config-dir": os.Args[1], "work-dir": os.Args[1] + "/work"}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	m := &manager.Manager{Config: cfg, Observer: manager.ObserverFunc(func(e manager.Event) {
		if e.Kind == manager.EventLineageRenewed || e.Kind == manager.EventLineageSkipped || e.Kind == manager.EventLineageFailed {
			fmt.Printf("%s: %s %s %v\n", e.Lineage, e.Kind, e.Reason, e.Err)
		}
	})}
	if m.Store, err = manager.OpenTree(cfg, nil); err == nil {
		var res *manager.RenewResult
		if res, err = m.Renew(context.Background()); err == nil {
			err = res.Err()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "renew-all:", err)
		os.Exit(1)
	}
}
