package main

import (
	"context"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/acmectl/acmectl/manager"
)

// clusterCommand is "acmectl cluster join|leave|status|sync": the engine's
// cluster verbs (manager/clusterverbs.go) with certbot's command line for
// their options (acmectl --help cluster).
func clusterCommand() *cli.Command {
	return &cli.Command{Name: "cluster", Usage: "share certificates among servers behind one name through etcd",
		SkipFlagParsing: true, Action: runClusterCommand}
}

func runClusterCommand(c *cli.Context) error {
	args, verbs := c.Args().Slice(), []string{}
	for _, v := range manager.ClusterVerbs {
		verbs = append(verbs, v[0])
	}
	i := firstWord(args)
	if slices.Contains(args, "-h") || slices.Contains(args, "--help") || i < 0 && len(args) == 0 {
		return runCertbot(c.Context, c.App.Writer, c.App.ErrWriter, "acmectl", []string{"--help", "cluster"}, nil, nil)
	}
	if i < 0 || !slices.Contains(verbs, args[i]) {
		return usageErrorf("cluster takes one of %s (see 'acmectl cluster --help')", strings.Join(verbs, ", "))
	}
	verb := args[i]
	return runCertbot(c.Context, c.App.Writer, c.App.ErrWriter, "acmectl", append([]string{"renew"}, slices.Delete(args, i, i+1)...), nil,
		func(ctx context.Context, e *env) error {
			st, err := openStore(e)
			if err != nil {
				return err
			}
			return e.engine(st).ClusterCommand(ctx, verb, e.stdout, e.stderr)
		})
}
