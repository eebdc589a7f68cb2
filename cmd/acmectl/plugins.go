package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/acmectl/acmectl/challenge/dns01"
	"github.com/acmectl/acmectl/manager"
)

// runPlugins is certbot's plugins verb: the plugins acmectl has, in
// certbot's format; --authenticators/--installers filter, --init and
// --prepare add certbot's "Initialized"/"Prep" lines.
func runPlugins(_ context.Context, e *env) error {
	fmt.Fprintf(e.stdout, "%s\n", dashes)
	first := true
	for _, p := range manager.Plugins(dns01.CertbotNames()) {
		ifaces := []string{}
		if p.Authenticator {
			ifaces = append(ifaces, "Authenticator")
		}
		if p.Installer {
			ifaces = append(ifaces, "Installer")
		}
		if f := e.o.PluginsIfaces; len(f) > 0 && !slices.ContainsFunc(f, func(i string) bool { return slices.Contains(ifaces, i) }) {
			continue
		}
		if !first {
			fmt.Fprintln(e.stdout)
		}
		first = false
		fmt.Fprintf(e.stdout, "* %s\nDescription: %s\nInterfaces: %s, Plugin\nEntry point: %s = acmectl\n", p.Name, p.Description, strings.Join(ifaces, ", "), p.Name)
		if e.o.PluginsInit || e.o.PluginsPrepare {
			fmt.Fprintf(e.stdout, "Initialized: %s\n", p.Name)
		}
		if e.o.PluginsPrepare {
			fmt.Fprintln(e.stdout, "Prep: True")
		}
	}
	fmt.Fprintf(e.stdout, "%s\n", dashes)
	return nil
}

// runUpdateSymlinks is certbot's update_symlinks: every lineage's live/
// links point at the newest version in archive/ again.
func runUpdateSymlinks(ctx context.Context, e *env) error {
	st, err := openStore(e)
	if err != nil {
		return err
	}
	_, err = e.engine(st).UpdateSymlinks(ctx)
	return err
}
