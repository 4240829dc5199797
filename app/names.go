package app

import (
	"context"
	"database/sql"
	"fmt"
)

// names maps caregivers' user ids to the names in the staff table: screens show "Carol Chen",
// not "carol".
type names map[string]string

func staffNames(ctx context.Context, db *sql.DB) (names, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, name FROM staff`)
	if err != nil {
		return nil, fmt.Errorf("read staff names: %w", err)
	}
	defer rows.Close()
	out := names{}
	for rows.Next() {
		var id string
		var name sql.NullString
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		if name.String != "" {
			out[id] = name.String
		}
	}
	return out, rows.Err()
}

// of returns id's name, or id itself for someone not (yet) in the staff table.
func (n names) of(id string) string {
	if name := n[id]; name != "" {
		return name
	}
	return id
}
