package engine

import (
	"fmt"
	"sort"
)

// Mutation is a local write to one row, as an application asks for it.
type Mutation struct {
	Table string
	ID    string
	// Values sets columns by name; ignored for a delete.
	Values map[string]any
	Delete bool
	// Resolve marks a note edit that settles a conflict: it replaces every current version of
	// the note rather than only the one on screen.
	Resolve bool
}

// Local turns a mutation into a change stamped with the replica's clock and site, merges it
// into the store through tx and returns it for the outbox. A Note column edit records the
// version it replaced, so that a concurrent edit elsewhere is detected and kept.
func Local(tx MergeTx, s *Schema, clk *Clock, site SiteID, m Mutation) (Change, error) {
	t := s.Table(m.Table)
	if t == nil {
		return Change{}, fmt.Errorf("write %s: %w", m.Table, ErrUnknownTable)
	}
	if !ValidID(m.ID) {
		return Change{}, fmt.Errorf("write %s: %w %q", m.Table, ErrBadID, m.ID)
	}
	row, found, err := tx.LoadRow(t, m.ID)
	if err != nil {
		return Change{}, fmt.Errorf("write %s/%s: %w", m.Table, m.ID, err)
	}
	live := found && row.Live()
	ch := Change{Table: m.Table, ID: m.ID, Site: site, Delete: m.Delete, Create: !found && !m.Delete}
	if m.Delete {
		if t.Policy == AppendOnly {
			return Change{}, fmt.Errorf("delete %s/%s: %w", m.Table, m.ID, ErrAppendOnly)
		}
		if !live {
			return Change{}, fmt.Errorf("delete %s/%s: %w", m.Table, m.ID, ErrNotFound)
		}
	} else {
		if len(m.Values) == 0 {
			return Change{}, fmt.Errorf("write %s/%s: no columns given", m.Table, m.ID)
		}
		if t.Policy == AppendOnly && found {
			return Change{}, fmt.Errorf("write %s/%s: %w", m.Table, m.ID, ErrAppendOnly)
		}
		for name := range m.Values {
			ch.Cols = append(ch.Cols, name)
		}
		sort.Strings(ch.Cols)
		for _, name := range ch.Cols {
			i := t.Col(name)
			if i < 0 {
				return Change{}, fmt.Errorf("write %s/%s: %w %q", m.Table, m.ID, ErrUnknownColumn, name)
			}
			val, err := NormalizeValue(t.Columns[i].Type, m.Values[name])
			if err != nil {
				return Change{}, fmt.Errorf("write %s.%s of %s: %w", m.Table, name, m.ID, err)
			}
			ch.Vals = append(ch.Vals, val)
			if i == t.NoteCol() {
				if ch.Bases, err = noteBases(tx, t, m, &row); err != nil {
					return Change{}, err
				}
			}
		}
	}
	ch.Scope, err = localScope(t, &ch, &row, found)
	if err != nil {
		return Change{}, fmt.Errorf("write %s/%s: %w", m.Table, m.ID, err)
	}
	ch.HLC = clk.Now()
	if _, err := apply(tx, t, &ch, row, found); err != nil {
		return Change{}, err
	}
	return ch, nil
}

func noteBases(tx MergeTx, t *Table, m Mutation, row *Row) ([]Version, error) {
	if !m.Resolve {
		if v := row.Versions[t.NoteCol()]; !v.IsZero() {
			return []Version{v}, nil
		}
		return nil, nil
	}
	notes, err := tx.LoadNotes(t, m.ID)
	if err != nil {
		return nil, fmt.Errorf("resolve %s/%s: %w", m.Table, m.ID, err)
	}
	var bases []Version
	for _, n := range notes {
		if !n.Superseded {
			bases = append(bases, n.Version)
		}
	}
	return bases, nil
}

// localScope derives a new change's scope from the row, or from the values being written.
func localScope(t *Table, ch *Change, row *Row, found bool) (string, error) {
	switch t.ScopeColumn {
	case "":
		return t.ScopeOf(nil) // the table's fixed scope
	case "id":
		return t.ScopeOf(ch.ID)
	}
	for k, name := range ch.Cols {
		if name == t.ScopeColumn {
			return t.ScopeOf(ch.Vals[k])
		}
	}
	if i := t.Col(t.ScopeColumn); found && row.Values[i] != nil {
		return t.ScopeOf(row.Values[i])
	}
	if row.Scope != "" {
		return row.Scope, nil
	}
	return "", fmt.Errorf("%w: a new row needs %s.%s", ErrBadValue, t.Name, t.ScopeColumn)
}
