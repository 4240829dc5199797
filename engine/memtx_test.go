package engine_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"hearth/engine"
)

// memTx is an in-memory engine.MergeTx: the seam for pure merge tests. It mirrors what the
// SQLite store keeps: a live row's values and versions (with its tombstone version); apart from
// rows, the tombstone of every deleted row with its scope; and a row's note versions.
// Everything is copied in and out so that the merge cannot alias stored state.
type memTx struct {
	rows  map[rowKey]engine.Row // live rows only
	tombs map[rowKey]tombstone
	notes map[rowKey][]engine.NoteVersion
}

type tombstone struct {
	version engine.Version
	scope   string
}

type rowKey struct{ table, id string }

var _ engine.MergeTx = (*memTx)(nil)

func newMemTx() *memTx {
	return &memTx{rows: map[rowKey]engine.Row{}, tombs: map[rowKey]tombstone{}, notes: map[rowKey][]engine.NoteVersion{}}
}

func cloneValue(v any) any {
	if b, ok := v.([]byte); ok {
		return slices.Clone(b)
	}
	return v
}

func (m *memTx) LoadRow(t *engine.Table, id string) (engine.Row, bool, error) {
	n := len(t.Columns)
	r := engine.Row{Values: make([]any, n), Versions: make([]engine.Version, n)}
	k := rowKey{t.Name, id}
	if s, ok := m.rows[k]; ok {
		for i := range min(n, len(s.Values)) {
			r.Values[i], r.Versions[i] = cloneValue(s.Values[i]), s.Versions[i]
		}
		r.Tomb = s.Tomb // as the SQLite store: a live row's tombstone scope is not loaded
		return r, true, nil
	}
	if ts, ok := m.tombs[k]; ok {
		r.Tomb, r.Scope = ts.version, ts.scope
		return r, true, nil
	}
	return r, false, nil
}

func (m *memTx) SaveRow(t *engine.Table, id string, r *engine.Row) error {
	k := rowKey{t.Name, id}
	if r.Live() {
		s := engine.Row{Values: make([]any, len(r.Values)), Versions: slices.Clone(r.Versions), Tomb: r.Tomb}
		for i, v := range r.Values {
			s.Values[i] = cloneValue(v)
		}
		m.rows[k] = s
	} else {
		delete(m.rows, k)
	}
	// As the SQLite store: the tombstone is written when a delete set it (with its scope) and
	// only replaced by a different version.
	if !r.Tomb.IsZero() && r.Scope != "" && m.tombs[k].version != r.Tomb {
		m.tombs[k] = tombstone{r.Tomb, r.Scope}
	}
	return nil
}

func (m *memTx) LoadNotes(t *engine.Table, id string) ([]engine.NoteVersion, error) {
	return slices.Clone(m.notes[rowKey{t.Name, id}]), nil
}

func (m *memTx) SaveNotes(t *engine.Table, id string, vs []engine.NoteVersion) error {
	k := rowKey{t.Name, id}
	if len(vs) == 0 {
		delete(m.notes, k)
		return nil
	}
	m.notes[k] = slices.Clone(vs)
	return nil
}

// clone returns an independent copy (stored slices are never modified in place, only replaced).
func (m *memTx) clone() *memTx {
	return &memTx{rows: maps.Clone(m.rows), tombs: maps.Clone(m.tombs), notes: maps.Clone(m.notes)}
}

// applyTx applies ch as the stores do: in a transaction that is discarded on error.
func (m *memTx) applyTx(s *engine.Schema, ch *engine.Change) (engine.Result, error) {
	work := m.clone()
	res, err := engine.Apply(work, s, ch)
	if err == nil {
		*m = *work
	}
	return res, err
}

// row returns a stored row's state as LoadRow gives it.
func (m *memTx) row(tb testing.TB, s *engine.Schema, table, id string) (engine.Row, bool) {
	tb.Helper()
	t := s.Table(table)
	if t == nil {
		tb.Fatalf("no table %q", table)
	}
	r, ok, err := m.LoadRow(t, id)
	if err != nil {
		tb.Fatal(err)
	}
	return r, ok
}

// dump renders the whole store canonically, for comparing replicas.
func (m *memTx) dump() string {
	var b strings.Builder
	keys := slices.SortedFunc(maps.Keys(m.rows), cmpKey)
	for _, k := range keys {
		r := m.rows[k]
		fmt.Fprintf(&b, "%s/%s tomb=%v", k.table, k.id, r.Tomb)
		for i, v := range r.Values {
			fmt.Fprintf(&b, " [%d]=%s@%v", i, fmtValue(v), r.Versions[i])
		}
		b.WriteByte('\n')
	}
	keys = slices.SortedFunc(maps.Keys(m.tombs), cmpKey)
	for _, k := range keys {
		fmt.Fprintf(&b, "tombstone %s/%s %v in %q\n", k.table, k.id, m.tombs[k].version, m.tombs[k].scope)
	}
	keys = slices.SortedFunc(maps.Keys(m.notes), cmpKey)
	for _, k := range keys {
		fmt.Fprintf(&b, "notes %s/%s:", k.table, k.id)
		for _, n := range m.notes[k] {
			fmt.Fprintf(&b, " %v=%s", n.Version, fmtValue(n.Value))
			if n.Superseded {
				b.WriteString("(superseded)")
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func cmpKey(a, b rowKey) int {
	if c := strings.Compare(a.table, b.table); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

func fmtValue(v any) string {
	if b, ok := v.([]byte); ok {
		return fmt.Sprintf("[]byte(%q)", b)
	}
	return fmt.Sprintf("%T(%#v)", v, v)
}

// diffDumps returns the first line where two dumps differ, for a readable failure.
func diffDumps(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  want %s\n  got  %s", i+1, x, y)
		}
	}
	return "no difference"
}
