package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"hearth/engine"
	"hearth/engine/clinic"
)

// writeChecked holds mutations to the clinic's rules (as the server will) before writing
// them, so that a refused action says why at once instead of being undone after a sync.
func (a *App) writeChecked(ctx context.Context, l *live, id Identity, muts ...engine.Mutation) error {
	act := actor(l, id)
	look := func(table, rid string) (clinic.Row, bool, error) {
		rec, err := l.rep.Get(ctx, table, rid)
		if errors.Is(err, engine.ErrNotFound) {
			return nil, false, nil
		}
		return clinic.Row(rec), err == nil, err
	}
	for _, m := range muts {
		current, ok, err := look(m.Table, m.ID)
		if err != nil {
			return fmt.Errorf("read %s: %w", m.Table, err)
		}
		if !ok {
			current = nil
		}
		ch := provisional(m)
		if err := clinic.CheckWrite(act, &ch, current, look); err != nil {
			return err
		}
	}
	return a.write(ctx, l, muts...)
}

// provisional is the change a mutation will become, as far as the rules look at it.
func provisional(m engine.Mutation) engine.Change {
	ch := engine.Change{Table: m.Table, ID: m.ID, Delete: m.Delete}
	cols := make([]string, 0, len(m.Values))
	for c := range m.Values {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	for _, c := range cols {
		ch.Cols = append(ch.Cols, c)
		ch.Vals = append(ch.Vals, m.Values[c])
	}
	return ch
}
