package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"hearth/syncserver"
	"hearth/syncserver/sqlitedir"
)

const tenantHelp = `Usage: hearthctl tenant create --data DIR --id ID [--name NAME] [--region R] [--node N]
       hearthctl tenant list --data DIR [--json]

Manages the tenant directory (DIR/directory.db) of a sync server's data directory. It is safe
to run while the server runs; the server opens a new tenant's store on its first connection.

Subcommands:
  create   add a tenant (a clinic)
  list     list tenants
`

func runTenant(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usagef("tenant: want a subcommand: create or list (see hearthctl tenant --help)")
	}
	switch args[0] {
	case "create":
		return runTenantCreate(ctx, c, args[1:])
	case "list":
		return runTenantList(ctx, c, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.stdout, tenantHelp)
		return flag.ErrHelp
	}
	return usagef("tenant: unknown subcommand %q: want create or list", args[0])
}

// dataDirFlag adds --data, which defaults to $HEARTH_DATA and then to the server's default.
func dataDirFlag(c *cli, fs *flagSet) *string {
	return fs.String("data", c.envOr("HEARTH_DATA", "./hearth-data"), "the server's data directory (env HEARTH_DATA)")
}

func runTenantCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("tenant create", `Usage: hearthctl tenant create --data DIR --id ID [--name NAME] [--region R] [--node N]

Adds a tenant to the server's directory and prints its id. Ids are 1-63 lowercase letters,
digits and dashes. The data directory is created if it does not exist.
`)
	data := dataDirFlag(c, fs)
	id := fs.String("id", "", "tenant id, e.g. clinic-a (required)")
	name := fs.String("name", "", "display name (default: the id)")
	region := fs.String("region", "local", "region the tenant's data lives in")
	node := fs.String("node", "local", "server node that serves the tenant")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tenant create: unexpected argument %q", pos[0])
	}
	if *id == "" {
		return usagef("tenant create: --id is required")
	}
	if err := checkTenantID(*id); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("tenant create: data directory: %w", err)
	}
	dir, err := sqlitedir.OpenDirectory(ctx, sqlitedir.Path(*data))
	if err != nil {
		return fmt.Errorf("tenant create: %w", err)
	}
	defer dir.Close()
	info := syncserver.TenantInfo{ID: *id, Name: *name, Region: *region, Node: *node}
	if err := dir.Create(ctx, info); err != nil {
		if errors.Is(err, syncserver.ErrTenantExists) {
			return fmt.Errorf("tenant %q already exists in %s", *id, *data)
		}
		return fmt.Errorf("tenant create: %w", err)
	}
	fmt.Fprintln(c.stdout, *id)
	return nil
}

// openExistingDirectory opens DATA/directory.db, refusing to create one in a mistyped path.
func openExistingDirectory(ctx context.Context, data string) (*syncserver.Directory, error) {
	path := sqlitedir.Path(data)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no tenant directory at %s: start hearth-server with --data %s or run hearthctl tenant create", path, data)
		}
		return nil, err
	}
	return sqlitedir.OpenDirectory(ctx, path)
}

func runTenantList(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("tenant list", `Usage: hearthctl tenant list --data DIR [--json]

Lists the tenants of a server's data directory: a table, or JSON lines with --json.
`)
	data := dataDirFlag(c, fs)
	asJSON := fs.Bool("json", false, "print JSON lines")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tenant list: unexpected argument %q", pos[0])
	}
	dir, err := openExistingDirectory(ctx, *data)
	if err != nil {
		return fmt.Errorf("tenant list: %w", err)
	}
	defer dir.Close()
	ts, err := dir.List(ctx)
	if err != nil {
		return fmt.Errorf("tenant list: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		for _, t := range ts {
			if err := enc.Encode(t); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tREGION\tNODE\tCREATED")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Region, t.Node, t.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
