package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/syncserver"
)

func runHash(ctx context.Context, c *cli, args []string) error {
	f := c.flags("hash", `Usage: hearthctl hash --dir R
       hearthctl hash --data DIR --tenant T

Prints the canonical hash of replicated state: of the local replica in R, or of tenant T's store
in a server's data directory (safe while the server runs). Replicas that converged with the
server print the same hash, whatever order changes reached them in.
`)
	dir := f.String("dir", "", "local replica directory")
	data := f.String("data", "", "the server's data directory")
	tenant := f.String("tenant", "", "tenant id (with --data)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("hash: unexpected argument %q", pos[0])
	}
	var db interface {
		Hash(context.Context) (string, error)
		Close() error
	}
	switch {
	case *dir != "" && (*data != "" || *tenant != ""):
		return usagef("hash: give either --dir or --data with --tenant, not both")
	case *dir != "":
		rep, err := openReplica(ctx, *dir, false)
		if err != nil {
			return fmt.Errorf("hash: %w", err)
		}
		db = rep
	case *data != "":
		if err := checkTenantID(*tenant); err != nil {
			return err
		}
		path := syncserver.TenantPath(*data, *tenant)
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("hash: no store for tenant %q in %s (unknown tenant, or nothing synced yet)", *tenant, *data)
			}
			return fmt.Errorf("hash: %w", err)
		}
		store, err := sqlitestore.Open(ctx, path, clinic.Schema, sqlitestore.Options{})
		if err != nil {
			return fmt.Errorf("hash: tenant %s: %w", *tenant, err)
		}
		db = store
	default:
		return usagef("hash: give --dir R, or --data DIR --tenant T")
	}
	defer db.Close()
	h, err := db.Hash(ctx)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	fmt.Fprintln(c.stdout, h)
	return nil
}
