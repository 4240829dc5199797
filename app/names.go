package app

import (
	"context"

	"hearth/engine"
	"hearth/engine/clinic"
)

// names maps caregivers' user ids to the names in the staff table: screens show "Carol Chen",
// not "carol".
type names map[string]string

func staffNames(ctx context.Context, r engine.RowReader) (names, error) {
	n, err := clinic.ReadStaffNames(ctx, r)
	return names(n), err
}

// of returns id's name, or id itself for someone not (yet) in the staff table.
func (n names) of(id string) string {
	if name := n[id]; name != "" {
		return name
	}
	return id
}
