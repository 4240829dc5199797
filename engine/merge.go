package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// NoteVersion is one known version of a row's Note column. A version another edit replaced is
// Superseded (its text is dropped); the versions that are not are the leaves: the greatest leaf
// is the column's value, every other leaf is a conflict for a person to resolve.
type NoteVersion struct {
	Version    Version
	Value      any // string, or nil once superseded
	Superseded bool
}

// MergeTx is the storage a merge reads and writes, inside one transaction of the store.
type MergeTx interface {
	// LoadRow returns the row's merge state with Values and Versions sized to the table's
	// columns; a row never seen returns zero versions and ok false.
	LoadRow(t *Table, id string) (r Row, ok bool, err error)
	// SaveRow stores the row: as a live row when r.Live(), otherwise as a tombstone only. It
	// may keep r's Values and Versions without copying them: the merge never touches a row
	// after saving it.
	SaveRow(t *Table, id string, r *Row) error
	// LoadNotes returns every known version of the row's Note column.
	LoadNotes(t *Table, id string) ([]NoteVersion, error)
	// SaveNotes replaces the known versions of the row's Note column.
	SaveNotes(t *Table, id string, vs []NoteVersion) error
}

// Result says what applying a change did.
type Result struct {
	// Changed is true when the store's state changed; a change that lost every column to
	// newer versions, or was applied before, leaves it unchanged.
	Changed bool
	// Future is true when the change names tables or columns this schema does not have yet
	// (it came from a newer schema); those parts were skipped and the caller keeps the change
	// to apply again after upgrading.
	Future bool
}

// Apply merges one change into the store. It is deterministic, commutative and idempotent:
// replicas that apply the same set of changes in any order, any number of times, end in the
// same state.
func Apply(tx MergeTx, s *Schema, ch *Change) (Result, error) {
	t := s.Table(ch.Table)
	if t == nil {
		return Result{Future: true}, nil
	}
	if !ValidID(ch.ID) {
		return Result{}, fmt.Errorf("%w: %s %q", ErrBadID, ch.Table, ch.ID)
	}
	row, found, err := tx.LoadRow(t, ch.ID)
	if err != nil {
		return Result{}, fmt.Errorf("load %s/%s: %w", ch.Table, ch.ID, err)
	}
	return apply(tx, t, ch, row, found)
}

// apply merges ch into row, the row's state as loaded (found: the store knows the row).
// CheckScope verifies, without applying it, that ch is a well-formed change of a known table
// whose declared scope is its row's (what Apply would refuse with ErrScope): a server checks
// this before its domain rules judge the change, so that a change pretending to be in another
// scope is refused as such and never answered with the row's contents.
func CheckScope(tx MergeTx, s *Schema, ch *Change) error {
	t := s.Table(ch.Table)
	if t == nil {
		return fmt.Errorf("%w: %q", ErrUnknownTable, ch.Table)
	}
	if !ValidID(ch.ID) {
		return fmt.Errorf("%w: %s %q", ErrBadID, ch.Table, ch.ID)
	}
	if len(ch.Cols) != len(ch.Vals) {
		return fmt.Errorf("%w: %s/%s has %d columns and %d values", ErrProtocol, ch.Table, ch.ID, len(ch.Cols), len(ch.Vals))
	}
	row, found, err := tx.LoadRow(t, ch.ID)
	if err != nil {
		return fmt.Errorf("load %s/%s: %w", ch.Table, ch.ID, err)
	}
	return checkScope(t, ch, &row, found)
}

func apply(tx MergeTx, t *Table, ch *Change, row Row, found bool) (Result, error) {
	if ch.Site == 0 || ch.HLC == 0 {
		return Result{}, fmt.Errorf("%w: change to %s/%s has no version", ErrProtocol, ch.Table, ch.ID)
	}
	// The shape first: everything after indexes Vals by the position of a name in Cols.
	if !ch.Delete && (len(ch.Cols) == 0 || len(ch.Cols) != len(ch.Vals)) {
		return Result{}, fmt.Errorf("%w: change to %s/%s has %d columns and %d values", ErrProtocol, ch.Table, ch.ID, len(ch.Cols), len(ch.Vals))
	}
	if err := checkScope(t, ch, &row, found); err != nil {
		return Result{}, err
	}
	v := ch.Version()
	var res Result
	if ch.Delete {
		if t.Policy == AppendOnly {
			return Result{}, fmt.Errorf("delete %s/%s: %w", ch.Table, ch.ID, ErrAppendOnly)
		}
		if !row.Tomb.Less(v) {
			return res, nil
		}
		row.Tomb = v
		row.Scope = ch.Scope
		for i := range row.Versions {
			if !v.Less(row.Versions[i]) {
				row.Values[i], row.Versions[i] = nil, Version{}
			}
		}
		if t.NoteCol() >= 0 {
			if _, err := mergeNote(tx, t, ch.ID, &row, nil, nil); err != nil {
				return Result{}, err
			}
		}
		res.Changed = true
	} else {
		if t.Policy == AppendOnly && found {
			if slices.ContainsFunc(row.Versions, func(x Version) bool { return !x.IsZero() && x != v }) {
				return Result{}, fmt.Errorf("change %s/%s: %w", ch.Table, ch.ID, ErrAppendOnly)
			}
		}
		for k, name := range ch.Cols {
			i := t.Col(name)
			if i < 0 {
				res.Future = true
				continue
			}
			val, err := NormalizeValue(t.Columns[i].Type, ch.Vals[k])
			if err != nil {
				return Result{}, fmt.Errorf("%s.%s of %s: %w", ch.Table, name, ch.ID, err)
			}
			if i == t.NoteCol() {
				changed, err := mergeNote(tx, t, ch.ID, &row, &NoteVersion{Version: v, Value: val}, ch.Bases)
				if err != nil {
					return Result{}, err
				}
				if changed {
					res.Changed = true
				}
				continue
			}
			if row.Tomb.Less(v) && row.Versions[i].Less(v) {
				row.Values[i], row.Versions[i] = val, v
				res.Changed = true
			}
		}
		if len(ch.Bases) > 0 && t.NoteCol() < 0 {
			return Result{}, fmt.Errorf("%w: change to %s/%s has note bases but the table has no note column", ErrProtocol, ch.Table, ch.ID)
		}
		if len(ch.Bases) > 0 && !slices.Contains(ch.Cols, t.Columns[t.NoteCol()].Name) {
			return Result{}, fmt.Errorf("%w: change to %s/%s has note bases but no note", ErrProtocol, ch.Table, ch.ID)
		}
	}
	if res.Changed {
		restoreScope(t, &row, ch.Scope)
		if err := tx.SaveRow(t, ch.ID, &row); err != nil {
			return Result{}, fmt.Errorf("save %s/%s: %w", ch.Table, ch.ID, err)
		}
	}
	return res, nil
}

// mergeNote folds an incoming note version (nil for a delete) with its change's bases into the
// row's known note versions and sets the Note column to the greatest leaf.
func mergeNote(tx MergeTx, t *Table, id string, row *Row, in *NoteVersion, bases []Version) (bool, error) {
	notes, err := tx.LoadNotes(t, id)
	if err != nil {
		return false, fmt.Errorf("load notes of %s/%s: %w", t.Name, id, err)
	}
	changed := false
	find := func(v Version) int {
		return slices.IndexFunc(notes, func(n NoteVersion) bool { return n.Version == v })
	}
	for _, b := range bases {
		if b.IsZero() || !row.Tomb.Less(b) {
			continue // a base the tombstone already outlives would only be pruned again
		}
		if j := find(b); j < 0 {
			notes = append(notes, NoteVersion{Version: b, Superseded: true})
			changed = true
		} else if !notes[j].Superseded {
			notes[j].Superseded, notes[j].Value = true, nil
			changed = true
		}
	}
	if in != nil && find(in.Version) < 0 && row.Tomb.Less(in.Version) {
		notes = append(notes, *in)
		changed = true
	}
	kept := notes[:0]
	for _, n := range notes {
		if row.Tomb.Less(n.Version) {
			kept = append(kept, n)
		} else {
			changed = true
		}
	}
	notes = kept
	if !changed {
		return false, nil
	}
	sort.Slice(notes, func(a, b int) bool { return notes[a].Version.Less(notes[b].Version) })
	i := t.NoteCol()
	row.Values[i], row.Versions[i] = nil, Version{}
	for _, n := range notes {
		if !n.Superseded {
			row.Values[i], row.Versions[i] = n.Value, n.Version
		}
	}
	if err := tx.SaveNotes(t, id, notes); err != nil {
		return false, fmt.Errorf("save notes of %s/%s: %w", t.Name, id, err)
	}
	return true, nil
}

// Stale reports whether a change must be dropped rather than applied: an update, at or below
// the compaction floor, of a row the store does not know. Such a row was deleted and its
// tombstone compacted once every active replica had it; applying the update would bring back
// part of a deleted row. The server and a re-syncing replica apply the same rule.
func Stale(ch *Change, floor HLC, known bool) bool {
	return floor > 0 && ch.HLC <= floor && !ch.Create && !known
}

// Conflicts returns the leaves of a row's note versions other than the winner: the versions
// that lost to a concurrent edit and wait for a person to resolve them.
func Conflicts(notes []NoteVersion, current Version) []NoteVersion {
	var out []NoteVersion
	for _, n := range notes {
		if !n.Superseded && n.Version != current {
			out = append(out, n)
		}
	}
	return out
}

// restoreScope gives a row that a write revived after a delete its scope column back. The
// scope column is the row's identity (rows never move between scopes), so it must not die with
// the delete; it gets the tombstone's version, so replicas that saw the delete and the revival
// in either order store the same value and version.
func restoreScope(t *Table, row *Row, fallback string) {
	i := t.Col(t.ScopeColumn)
	if i < 0 || row.Tomb.IsZero() || row.Tomb.Less(row.Versions[i]) || !row.Live() {
		return
	}
	scope := row.Scope
	if scope == "" {
		scope = fallback
	}
	row.Values[i], row.Versions[i] = strings.TrimPrefix(scope, t.ScopeKind+":"), row.Tomb
}

// checkScope verifies that a change's declared scope is the scope of the row it touches and
// that a write does not move a row from one scope to another.
func checkScope(t *Table, ch *Change, row *Row, found bool) error {
	want := ""
	switch {
	case t.ScopeColumn == "":
		want, _ = t.ScopeOf(nil) // the table's fixed scope
	case t.ScopeColumn == "id":
		want, _ = t.ScopeOf(ch.ID)
	default:
		i := t.Col(t.ScopeColumn)
		if found && row.Values[i] != nil {
			want, _ = t.ScopeOf(row.Values[i])
		} else if row.Scope != "" {
			want = row.Scope
		}
		if k := slices.Index(ch.Cols, t.ScopeColumn); k >= 0 && !ch.Delete {
			s, err := t.ScopeOf(ch.Vals[k])
			if err != nil {
				return err
			}
			if want != "" && s != want {
				return fmt.Errorf("%w: %s/%s cannot move from %s to %s", ErrScope, ch.Table, ch.ID, want, s)
			}
			want = s
		}
	}
	if want != "" && ch.Scope != want {
		return fmt.Errorf("%w: change to %s/%s declares scope %q, the row is in %q", ErrScope, ch.Table, ch.ID, ch.Scope, want)
	}
	if want == "" && ch.Scope == "" {
		return fmt.Errorf("%w: change to %s/%s has no scope", ErrScope, ch.Table, ch.ID)
	}
	return nil
}
