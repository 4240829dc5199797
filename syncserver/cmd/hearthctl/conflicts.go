package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// conflictLine is one unresolved note version, as hearthctl conflicts prints it.
type conflictLine struct {
	Table   string `json:"table"`
	ID      string `json:"id"`
	Version string `json:"version"` // the losing version
	Current string `json:"current"` // the version the note shows, which it lost to
	Text    string `json:"text"`
}

func runConflicts(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("conflicts", `Usage: hearthctl conflicts --dir R [TABLE]

Lists unresolved note conflicts of the local replica as JSON lines: versions of a note that
lost to a concurrent edit and are kept until a person resolves them, by writing the merged
text with hearthctl put --resolve.
`)
	dir := fs.String("dir", "", "local replica directory (required)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("conflicts: --dir is required")
	}
	table := ""
	switch len(pos) {
	case 0:
	case 1:
		t, err := lookupTable(pos[0])
		if err != nil {
			return err
		}
		table = t.Name
	default:
		return usagef("conflicts: want at most one TABLE")
	}
	rep, err := openReplica(ctx, *dir, false)
	if err != nil {
		return fmt.Errorf("conflicts: %w", err)
	}
	defer rep.Close()
	cs, err := rep.Conflicts(ctx, table)
	if err != nil {
		return fmt.Errorf("conflicts: %w", err)
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	for _, cf := range cs {
		if err := enc.Encode(conflictLine{Table: cf.Table, ID: cf.ID, Version: cf.Version.String(),
			Current: cf.Current.String(), Text: cf.Text}); err != nil {
			return err
		}
	}
	return nil
}
