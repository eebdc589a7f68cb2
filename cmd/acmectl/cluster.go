package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/internal/clusterexec"
	"github.com/acmectl/acmectl/manager"
)

// clusterCommand is "acmectl cluster join|leave|status|sync": the engine's
// cluster verbs, their options certbot's command line (acmectl cluster --help).
func clusterCommand() *cli.Command {
	return &cli.Command{Name: "cluster", Usage: "share certificates among servers behind one name through etcd", SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if err := clusterexec.HandOver(); err != nil { // a build without the cluster runs the cluster's build
				return err
			}
			verb, args := manager.ClusterArgs(cmdParser(), c.Args().Slice())
			return runCertbot(c.Context, c.App.Writer, c.App.ErrWriter, "acmectl", args, nil, "", func(ctx context.Context, e *env) error {
				st, err := openStore(e)
				if err != nil {
					return err
				}
				return e.engine(st).ClusterCommand(ctx, verb, e.stdout, e.stderr)
			})
		}}
}
