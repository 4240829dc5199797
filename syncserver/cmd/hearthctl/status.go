package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// replicaStatus is what hearthctl status reports.
type replicaStatus struct {
	Site      string `json:"site"`
	Schema    int    `json:"schema"`
	Server    string `json:"server,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
	Cursor    uint64 `json:"cursor"`
	Acked     uint64 `json:"acked"`
	Pending   int    `json:"pending"`
	LastSync  string `json:"last_sync,omitempty"` // RFC 3339; empty if never
	Conflicts int    `json:"conflicts"`
}

func runStatus(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("status", `Usage: hearthctl status --dir R [--json]

Shows the local replica's site id, schema version, where it syncs, the server log cursor it has
applied, its pending (unsent or unacknowledged) changes, its last sync and how many note
conflicts wait for a person.
`)
	dir := fs.String("dir", "", "local replica directory (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("status: unexpected argument %q", pos[0])
	}
	if *dir == "" {
		return usagef("status: --dir is required")
	}
	rep, err := openReplica(ctx, *dir, false)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	defer rep.Close()
	cfg, err := loadConfig(*dir)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	st, err := rep.State(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	conflicts, err := rep.Conflicts(ctx, "")
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	s := replicaStatus{Site: rep.SiteID().String(), Schema: rep.Schema().Version(), Server: cfg.Server, Tenant: cfg.Tenant,
		Cursor: st.Cursor, Acked: st.Acked, Pending: st.Pending, Conflicts: len(conflicts)}
	if !st.LastSync.IsZero() {
		s.LastSync = st.LastSync.UTC().Format(time.RFC3339)
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(s)
	}
	orNone := func(v, none string) string {
		if v == "" {
			return none
		}
		return v
	}
	fmt.Fprintf(c.stdout, "site:       %s\nschema:     %d\nserver:     %s\ntenant:     %s\ncursor:     %d\npending:    %d\nlast sync:  %s\nconflicts:  %d\n",
		s.Site, s.Schema, orNone(s.Server, "(not set)"), orNone(s.Tenant, "(not set)"), s.Cursor, s.Pending, orNone(s.LastSync, "never"), s.Conflicts)
	return nil
}
