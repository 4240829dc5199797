package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hearth/engine"
)

func runGet(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("get", `Usage: hearthctl get --dir R TABLE [ID]

Prints live rows of the local replica in R as JSON lines, ordered by id: one row with ID, or
every row of TABLE. BLOB values print as base64.
`)
	dir := fs.String("dir", "", "local replica directory (required)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("get: --dir is required")
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("get: want TABLE [ID]")
	}
	t, err := lookupTable(pos[0])
	if err != nil {
		return err
	}
	rep, err := openReplica(ctx, *dir, false)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	defer rep.Close()
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	if len(pos) == 2 {
		rec, err := rep.Get(ctx, t.Name, pos[1])
		if errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("get: no row %s/%s in %s", t.Name, pos[1], *dir)
		}
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		return enc.Encode(rec)
	}
	after := ""
	for {
		recs, err := rep.List(ctx, t.Name, after, 500)
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		if len(recs) < 500 {
			return nil
		}
		after = recs[len(recs)-1]["id"].(string)
	}
}
