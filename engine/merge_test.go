package engine_test

import (
	"errors"
	"slices"
	"testing"

	"hearth/engine"
)

// mergeSchema covers every merge path: plain LWW columns of each type, a scope by id, a scope
// column with a note, and an append-only table.
var mergeSchema = engine.MustSchema(engine.Migration{Version: 1, Steps: []engine.Step{
	{AddTable: &engine.Table{Name: "items", Policy: engine.LastWriterWins, Columns: []engine.Column{
		{Name: "a", Type: engine.Text}, {Name: "b", Type: engine.Integer}, {Name: "c", Type: engine.Real}, {Name: "d", Type: engine.Blob},
	}}},
	{AddTable: &engine.Table{Name: "visits", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "id", Columns: []engine.Column{
		{Name: "status", Type: engine.Text},
	}}},
	{AddTable: &engine.Table{Name: "docs", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{
		{Name: "visit_id", Type: engine.Text}, {Name: "title", Type: engine.Text}, {Name: "body", Type: engine.Text, Note: true},
	}}},
	{AddTable: &engine.Table{Name: "log", Policy: engine.AppendOnly, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{
		{Name: "visit_id", Type: engine.Text}, {Name: "msg", Type: engine.Text}, {Name: "at", Type: engine.Integer},
	}}},
}})

func ver(ms int64, site engine.SiteID) engine.Version {
	return engine.Version{HLC: engine.NewHLC(ms, 0), Site: site}
}

// put builds an insert or update of columns given as name, value pairs.
func put(table, id, scope string, v engine.Version, kv ...any) engine.Change {
	ch := engine.Change{Table: table, ID: id, Scope: scope, HLC: v.HLC, Site: v.Site}
	for i := 0; i+1 < len(kv); i += 2 {
		ch.Cols = append(ch.Cols, kv[i].(string))
		ch.Vals = append(ch.Vals, kv[i+1])
	}
	return ch
}

// note builds an edit of a docs row's note with the versions it replaced.
func note(id string, v engine.Version, body string, bases ...engine.Version) engine.Change {
	ch := put("docs", id, "visit:v1", v, "body", body)
	ch.Bases = bases
	return ch
}

func del(table, id, scope string, v engine.Version) engine.Change {
	return engine.Change{Table: table, ID: id, Scope: scope, HLC: v.HLC, Site: v.Site, Delete: true}
}

// rowWant is the expected state of one row after a case: column values by name (unnamed
// columns must be nil) and whether it is live.
type rowWant struct {
	table, id string
	live      bool
	values    map[string]any
	tomb      engine.Version
}

func checkRow(t *testing.T, m *memTx, s *engine.Schema, w rowWant) {
	t.Helper()
	r, _ := m.row(t, s, w.table, w.id)
	if r.Live() != w.live {
		t.Errorf("%s/%s live = %v, want %v", w.table, w.id, r.Live(), w.live)
	}
	if r.Tomb != w.tomb {
		t.Errorf("%s/%s tomb = %v, want %v", w.table, w.id, r.Tomb, w.tomb)
	}
	for i, c := range s.Table(w.table).Columns {
		want := w.values[c.Name]
		if fmtValue(r.Values[i]) != fmtValue(want) {
			t.Errorf("%s/%s %s = %s, want %s", w.table, w.id, c.Name, fmtValue(r.Values[i]), fmtValue(want))
		}
	}
}

type mergeStep struct {
	ch      engine.Change
	want    engine.Result
	wantErr error
}

func ok(ch engine.Change) mergeStep               { return mergeStep{ch: ch, want: engine.Result{Changed: true}} }
func noop(ch engine.Change) mergeStep             { return mergeStep{ch: ch} }
func fails(ch engine.Change, err error) mergeStep { return mergeStep{ch: ch, wantErr: err} }

func TestApply(t *testing.T) {
	const clinic = engine.ClinicScope
	tests := []struct {
		name  string
		steps []mergeStep
		rows  []rowWant
		// commutes: every permutation of the successful steps ends in the same state.
		commutes bool
	}{
		{
			name: "newer write wins per column",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(10, 1), "a", "x", "b", int64(1))),
				ok(put("items", "r1", clinic, ver(20, 2), "a", "y")),
				ok(put("items", "r1", clinic, ver(15, 3), "a", "z", "c", 2.5)), // a loses, c is new
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, values: map[string]any{"a": "y", "b": int64(1), "c": 2.5}}},
			commutes: true,
		},
		{
			name: "older write loses every column",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(20, 1), "a", "new", "b", int64(2))),
				noop(put("items", "r1", clinic, ver(10, 2), "a", "old", "b", int64(1))),
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, values: map[string]any{"a": "new", "b": int64(2)}}},
			commutes: true,
		},
		{
			name: "equal HLC broken by site id",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(10, 2), "a", "two")),
				noop(put("items", "r1", clinic, ver(10, 1), "a", "one")),
				ok(put("items", "r1", clinic, ver(10, 3), "a", "three")),
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, values: map[string]any{"a": "three"}}},
			commutes: true,
		},
		{
			name: "logical counter orders within a millisecond",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, engine.Version{HLC: engine.NewHLC(10, 1), Site: 1}, "a", "later")),
				noop(put("items", "r1", clinic, engine.Version{HLC: engine.NewHLC(10, 0), Site: 9}, "a", "earlier")),
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, values: map[string]any{"a": "later"}}},
			commutes: true,
		},
		{
			name: "values are normalized",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(10, 1), "a", []byte("text"), "b", int8(-5), "c", uint16(3), "d", "blob")),
			},
			rows: []rowWant{{table: "items", id: "r1", live: true, values: map[string]any{"a": "text", "b": int64(-5), "c": float64(3), "d": []byte("blob")}}},
		},
		{
			name: "writing nil is a value like any other",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(10, 1), "a", "x", "b", int64(1))),
				ok(put("items", "r1", clinic, ver(20, 1), "a", nil)),
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, values: map[string]any{"b": int64(1)}}},
			commutes: true,
		},
		{
			name: "delete beats older writes",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(10, 1), "a", "x", "b", int64(1))),
				ok(put("items", "r1", clinic, ver(15, 2), "c", 1.5)),
				ok(del("items", "r1", clinic, ver(20, 3))),
			},
			rows:     []rowWant{{table: "items", id: "r1", live: false, tomb: ver(20, 3)}},
			commutes: true,
		},
		{
			name: "delete loses to newer writes: only they revive",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(10, 1), "a", "x", "b", int64(1))),
				ok(put("items", "r1", clinic, ver(30, 2), "b", int64(2))),
				ok(del("items", "r1", clinic, ver(20, 3))),
				ok(put("items", "r1", clinic, ver(25, 1), "c", 9.5)),
				noop(put("items", "r1", clinic, ver(19, 1), "d", []byte{1})), // older than the delete
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, tomb: ver(20, 3), values: map[string]any{"b": int64(2), "c": 9.5}}},
			commutes: true,
		},
		{
			name: "delete at an equal HLC ordered by site",
			steps: []mergeStep{
				ok(put("items", "r1", clinic, ver(20, 5), "a", "x")),
				ok(del("items", "r1", clinic, ver(20, 4))), // tombstone recorded, loses to the write
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, tomb: ver(20, 4), values: map[string]any{"a": "x"}}},
			commutes: true,
		},
		{
			name: "older delete is ignored",
			steps: []mergeStep{
				ok(del("items", "r1", clinic, ver(20, 1))),
				noop(del("items", "r1", clinic, ver(10, 2))),
			},
			rows:     []rowWant{{table: "items", id: "r1", live: false, tomb: ver(20, 1)}},
			commutes: true,
		},
		{
			name: "delete of a row never seen keeps a tombstone",
			steps: []mergeStep{
				ok(del("items", "r1", clinic, ver(20, 1))),
				noop(put("items", "r1", clinic, ver(10, 2), "a", "late create")),
			},
			rows:     []rowWant{{table: "items", id: "r1", live: false, tomb: ver(20, 1)}},
			commutes: true,
		},
		{
			name: "append-only accepts an exact duplicate",
			steps: []mergeStep{
				ok(put("log", "l1", "visit:v1", ver(10, 1), "visit_id", "v1", "msg", "hello", "at", int64(5))),
				noop(put("log", "l1", "visit:v1", ver(10, 1), "visit_id", "v1", "msg", "hello", "at", int64(5))),
			},
			rows:     []rowWant{{table: "log", id: "l1", live: true, values: map[string]any{"visit_id": "v1", "msg": "hello", "at": int64(5)}}},
			commutes: true,
		},
		{
			name: "append-only refuses an update",
			steps: []mergeStep{
				ok(put("log", "l1", "visit:v1", ver(10, 1), "visit_id", "v1", "msg", "hello")),
				fails(put("log", "l1", "visit:v1", ver(20, 1), "msg", "edited"), engine.ErrAppendOnly),
				fails(put("log", "l1", "visit:v1", ver(5, 2), "msg", "older"), engine.ErrAppendOnly),
			},
			rows: []rowWant{{table: "log", id: "l1", live: true, values: map[string]any{"visit_id": "v1", "msg": "hello"}}},
		},
		{
			name: "append-only refuses a delete",
			steps: []mergeStep{
				ok(put("log", "l1", "visit:v1", ver(10, 1), "visit_id", "v1", "msg", "hello")),
				fails(del("log", "l1", "visit:v1", ver(20, 1)), engine.ErrAppendOnly),
				fails(del("log", "l2", "visit:v1", ver(20, 1)), engine.ErrAppendOnly),
			},
			rows: []rowWant{{table: "log", id: "l1", live: true, values: map[string]any{"visit_id": "v1", "msg": "hello"}}},
		},
		{
			name: "unknown column is kept for the future, the rest applies",
			steps: []mergeStep{
				{ch: put("items", "r1", clinic, ver(10, 1), "a", "x", "zz", int64(1)), want: engine.Result{Changed: true, Future: true}},
				{ch: put("items", "r1", clinic, ver(20, 1), "zz", int64(2)), want: engine.Result{Future: true}},
			},
			rows:     []rowWant{{table: "items", id: "r1", live: true, values: map[string]any{"a": "x"}}},
			commutes: true,
		},
		{
			name: "unknown table is kept for the future",
			steps: []mergeStep{
				{ch: put("later", "r1", clinic, ver(10, 1), "a", "x"), want: engine.Result{Future: true}},
				{ch: del("later", "r1", clinic, ver(20, 1)), want: engine.Result{Future: true}},
			},
		},
		{
			name: "scope by id",
			steps: []mergeStep{
				ok(put("visits", "v1", "visit:v1", ver(10, 1), "status", "waiting")),
				fails(put("visits", "v1", "visit:v2", ver(20, 1), "status", "done"), engine.ErrScope),
				fails(put("visits", "v1", clinic, ver(20, 1), "status", "done"), engine.ErrScope),
				fails(del("visits", "v1", "", ver(20, 1)), engine.ErrScope),
				ok(del("visits", "v1", "visit:v1", ver(30, 1))),
			},
			rows: []rowWant{{table: "visits", id: "v1", live: false, tomb: ver(30, 1)}},
		},
		{
			name: "clinic-wide table refuses a visit scope",
			steps: []mergeStep{
				fails(put("items", "r1", "visit:v1", ver(10, 1), "a", "x"), engine.ErrScope),
				fails(put("items", "r1", "", ver(10, 1), "a", "x"), engine.ErrScope),
				fails(del("items", "r1", "visit:v1", ver(10, 1)), engine.ErrScope),
			},
		},
		{
			name: "scope column: declared scope must match",
			steps: []mergeStep{
				fails(put("docs", "d1", "visit:v2", ver(10, 1), "visit_id", "v1", "title", "t"), engine.ErrScope),
				fails(put("docs", "d1", clinic, ver(10, 1), "visit_id", "v1", "title", "t"), engine.ErrScope),
				fails(put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", int64(1), "title", "t"), engine.ErrBadValue),
				fails(put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", "bad id", "title", "t"), engine.ErrBadValue),
				ok(put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", "v1", "title", "t")),
				ok(put("docs", "d1", "visit:v1", ver(20, 1), "title", "t2")), // scope from the stored row
				fails(put("docs", "d1", "visit:v2", ver(30, 1), "title", "t3"), engine.ErrScope),
				fails(del("docs", "d1", "visit:v2", ver(30, 1)), engine.ErrScope),
			},
			rows: []rowWant{{table: "docs", id: "d1", live: true, values: map[string]any{"visit_id": "v1", "title": "t2"}}},
		},
		{
			name: "a row cannot move to another scope",
			steps: []mergeStep{
				ok(put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", "v1", "title", "t")),
				fails(put("docs", "d1", "visit:v2", ver(20, 1), "visit_id", "v2"), engine.ErrScope),
				fails(put("docs", "d1", "visit:v1", ver(20, 1), "visit_id", "v2"), engine.ErrScope),
				ok(put("docs", "d1", "visit:v1", ver(20, 1), "visit_id", "v1")), // same scope again is fine
			},
			rows: []rowWant{{table: "docs", id: "d1", live: true, values: map[string]any{"visit_id": "v1", "title": "t"}}},
		},
		{
			name: "a change that arrives before its row needs a declared scope",
			steps: []mergeStep{
				fails(put("docs", "d1", "", ver(20, 1), "title", "t"), engine.ErrScope),
				// The scope cannot be checked yet; it is checked when the insert arrives.
				ok(put("docs", "d1", "visit:v1", ver(20, 1), "title", "t")),
				ok(put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", "v1", "title", "old")),
			},
			rows: []rowWant{{table: "docs", id: "d1", live: true, values: map[string]any{"visit_id": "v1", "title": "t"}}},
		},
		{
			name: "a revived row gets its scope column back",
			steps: []mergeStep{
				ok(put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", "v1", "title", "t")),
				ok(del("docs", "d1", "visit:v1", ver(20, 2))),
				ok(put("docs", "d1", "visit:v1", ver(30, 1), "title", "back")),
			},
			rows:     []rowWant{{table: "docs", id: "d1", live: true, tomb: ver(20, 2), values: map[string]any{"visit_id": "v1", "title": "back"}}},
			commutes: true,
		},
		{
			name: "a deleted row keeps its scope",
			steps: []mergeStep{
				ok(put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", "v1", "title", "t")),
				ok(del("docs", "d1", "visit:v1", ver(20, 2))),
				fails(put("docs", "d1", "visit:v2", ver(30, 1), "visit_id", "v2", "title", "moved"), engine.ErrScope),
				fails(put("docs", "d1", "visit:v2", ver(30, 1), "title", "moved"), engine.ErrScope),
			},
			rows: []rowWant{{table: "docs", id: "d1", tomb: ver(20, 2)}},
		},
		{
			name: "malformed changes",
			steps: []mergeStep{
				fails(put("items", "", clinic, ver(10, 1), "a", "x"), engine.ErrBadID),
				fails(put("items", "a b", clinic, ver(10, 1), "a", "x"), engine.ErrBadID),
				fails(put("items", "r1", clinic, ver(10, 0), "a", "x"), engine.ErrProtocol),
				fails(put("items", "r1", clinic, engine.Version{Site: 1}, "a", "x"), engine.ErrProtocol),
				fails(put("items", "r1", clinic, ver(10, 1)), engine.ErrProtocol),
				fails(engine.Change{Table: "items", ID: "r1", Scope: clinic, HLC: engine.NewHLC(10, 0), Site: 1, Cols: []string{"a", "b"}, Vals: []any{"x"}}, engine.ErrProtocol),
				fails(put("items", "r1", clinic, ver(10, 1), "a", int64(5)), engine.ErrBadValue),
				fails(put("items", "r1", clinic, ver(10, 1), "a", "ok", "c", "not a number"), engine.ErrBadValue),
				fails(engine.Change{Table: "items", ID: "r1", Scope: clinic, HLC: engine.NewHLC(10, 0), Site: 1, Cols: []string{"a"}, Vals: []any{"x"}, Bases: []engine.Version{ver(5, 1)}}, engine.ErrProtocol),
				fails(func() engine.Change {
					ch := put("docs", "d1", "visit:v1", ver(10, 1), "visit_id", "v1", "title", "x")
					ch.Bases = []engine.Version{ver(5, 1)}
					return ch
				}(), engine.ErrProtocol),
			},
			// Nothing of the refused changes was stored.
			rows: []rowWant{{table: "items", id: "r1"}, {table: "docs", id: "d1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemTx()
			var applied []engine.Change
			for i, st := range tt.steps {
				before := m.dump()
				ch := st.ch
				res, err := m.applyTx(mergeSchema, &ch)
				if st.wantErr != nil {
					if !errors.Is(err, st.wantErr) {
						t.Fatalf("step %d: Apply = %+v, %v; want %v", i, res, err, st.wantErr)
					}
					if after := m.dump(); after != before {
						t.Fatalf("step %d: a refused change altered the store: %s", i, diffDumps(before, after))
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: Apply: %v", i, err)
				}
				if res != st.want {
					t.Errorf("step %d: Apply = %+v, want %+v", i, res, st.want)
				}
				if !res.Changed && m.dump() != before {
					t.Errorf("step %d: Apply reported no change but changed the store: %s", i, diffDumps(before, m.dump()))
				}
				applied = append(applied, st.ch)
			}
			for _, w := range tt.rows {
				checkRow(t, m, mergeSchema, w)
			}
			final := m.dump()

			// Idempotent: applying everything again changes nothing.
			for i := range applied {
				ch := applied[i]
				res, err := m.applyTx(mergeSchema, &ch)
				if err != nil || res.Changed {
					t.Fatalf("re-applying change %d: %+v, %v; want unchanged", i, res, err)
				}
			}
			if got := m.dump(); got != final {
				t.Fatalf("re-applying changed the store: %s", diffDumps(final, got))
			}

			if !tt.commutes {
				return
			}
			forEachPermutation(len(applied), func(order []int) {
				p := newMemTx()
				for _, i := range order {
					ch := applied[i]
					if _, err := p.applyTx(mergeSchema, &ch); err != nil {
						t.Fatalf("order %v: change %d: %v", order, i, err)
					}
				}
				if got := p.dump(); got != final {
					t.Fatalf("order %v ends elsewhere: %s", order, diffDumps(final, got))
				}
			})
		})
	}
}

// forEachPermutation calls f with every ordering of 0..n-1 (Heap's algorithm).
func forEachPermutation(n int, f func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			f(slices.Clone(p))
			return
		}
		for i := 0; i < k-1; i++ {
			gen(k - 1)
			if k%2 == 0 {
				p[i], p[k-1] = p[k-1], p[i]
			} else {
				p[0], p[k-1] = p[k-1], p[0]
			}
		}
		gen(k - 1)
	}
	gen(n)
}

func TestApplyDoesNotAliasChange(t *testing.T) {
	m := newMemTx()
	blob := []byte("abc")
	ch := put("items", "r1", engine.ClinicScope, ver(10, 1), "d", blob)
	if _, err := m.applyTx(mergeSchema, &ch); err != nil {
		t.Fatal(err)
	}
	blob[0] = 'X'
	r, _ := m.row(t, mergeSchema, "items", "r1")
	if got := r.Values[3].([]byte); string(got) != "abc" {
		t.Fatalf("stored blob changed with the caller's slice: %q", got)
	}
}

// noteState is a docs row's note as a reader sees it: the value, its version and the conflicts.
type noteState struct {
	value     any
	version   engine.Version
	conflicts []engine.Version
}

func readNote(t *testing.T, m *memTx, id string) noteState {
	t.Helper()
	tb := mergeSchema.Table("docs")
	r, _ := m.row(t, mergeSchema, "docs", id)
	notes, err := m.LoadNotes(tb, id)
	if err != nil {
		t.Fatal(err)
	}
	st := noteState{value: r.Values[tb.NoteCol()], version: r.Versions[tb.NoteCol()]}
	for _, c := range engine.Conflicts(notes, st.version) {
		st.conflicts = append(st.conflicts, c.Version)
		if c.Value == nil {
			t.Errorf("conflict %v has no text", c.Version)
		}
	}
	// The value is always the greatest leaf, never a superseded version.
	for _, n := range notes {
		if !n.Superseded && st.version.Less(n.Version) {
			t.Errorf("leaf %v is newer than the value's version %v", n.Version, st.version)
		}
		if n.Superseded && n.Value != nil {
			t.Errorf("superseded version %v keeps its text", n.Version)
		}
	}
	return st
}

func checkNote(t *testing.T, got noteState, value any, version engine.Version, conflicts ...engine.Version) {
	t.Helper()
	if fmtValue(got.value) != fmtValue(value) || got.version != version {
		t.Errorf("note = %s@%v, want %s@%v", fmtValue(got.value), got.version, fmtValue(value), version)
	}
	if !slices.Equal(got.conflicts, conflicts) {
		t.Errorf("conflicts = %v, want %v", got.conflicts, conflicts)
	}
}

func TestNoteConflicts(t *testing.T) {
	base := put("docs", "n1", "visit:v1", ver(10, 1), "visit_id", "v1", "body", "base")
	fromB := note("n1", ver(20, 2), "from B", ver(10, 1))
	fromC := note("n1", ver(20, 3), "from C", ver(10, 1)) // same HLC as B: site 3 wins
	// B edits again, having seen only its own version: its bases include the conflict leaf.
	againB := note("n1", ver(30, 2), "B again", ver(20, 2))
	// Someone who saw every leaf merges them.
	merged := note("n1", ver(40, 1), "merged", ver(20, 3), ver(30, 2))

	tests := []struct {
		name      string
		changes   []engine.Change
		value     string
		version   engine.Version
		conflicts []engine.Version
	}{
		{"sequential edits never conflict", []engine.Change{base, fromB}, "from B", ver(20, 2), nil},
		{"concurrent edits: greatest wins, the other is a conflict", []engine.Change{base, fromB, fromC}, "from C", ver(20, 3), []engine.Version{ver(20, 2)}},
		{"an edit based on the conflict leaf supersedes it", []engine.Change{base, fromB, fromC, againB}, "B again", ver(30, 2), []engine.Version{ver(20, 3)}},
		{"an edit based on every leaf settles the conflict", []engine.Change{base, fromB, fromC, againB, merged}, "merged", ver(40, 1), nil},
		{"a concurrent edit older than the winner is still kept", []engine.Change{base, fromC, note("n1", ver(15, 9), "slow", ver(10, 1))}, "from C", ver(20, 3), []engine.Version{ver(15, 9)}},
		{"an edit that saw nothing conflicts with the base", []engine.Change{base, note("n1", ver(12, 4), "blind")}, "blind", ver(12, 4), []engine.Version{ver(10, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want string
			forEachPermutation(len(tt.changes), func(order []int) {
				m := newMemTx()
				for _, i := range order {
					ch := tt.changes[i]
					if _, err := m.applyTx(mergeSchema, &ch); err != nil {
						t.Fatalf("order %v: change %d: %v", order, i, err)
					}
				}
				checkNote(t, readNote(t, m, "n1"), tt.value, tt.version, tt.conflicts...)
				// Idempotent, and every order ends in the same state.
				for _, ch := range tt.changes {
					if res, err := m.applyTx(mergeSchema, &ch); err != nil || res.Changed {
						t.Fatalf("order %v: re-applying %v: %+v, %v", order, ch.Version(), res, err)
					}
				}
				if want == "" {
					want = m.dump()
				} else if got := m.dump(); got != want {
					t.Fatalf("order %v ends elsewhere: %s", order, diffDumps(want, got))
				}
			})
		})
	}
}

func TestNoteEditsThroughLocal(t *testing.T) {
	const siteA, siteB, siteC engine.SiteID = 1, 2, 3
	wall := newFakeWall(100)
	clk := engine.NewClock(wall.Now, 0)
	local := func(m *memTx, site engine.SiteID, mu engine.Mutation) engine.Change {
		t.Helper()
		ch, err := engine.Local(m, mergeSchema, clk, site, mu)
		if err != nil {
			t.Fatalf("Local(%+v): %v", mu, err)
		}
		return ch
	}
	apply := func(m *memTx, chs ...engine.Change) {
		t.Helper()
		for _, ch := range chs {
			if _, err := m.applyTx(mergeSchema, &ch); err != nil {
				t.Fatalf("Apply %v: %v", ch.Version(), err)
			}
		}
	}

	a, b, c := newMemTx(), newMemTx(), newMemTx()
	create := local(a, siteA, engine.Mutation{Table: "docs", ID: "n1", Values: map[string]any{"visit_id": "v1", "body": "base"}})
	if !create.Create || create.Scope != "visit:v1" || len(create.Bases) != 0 {
		t.Fatalf("create = %+v", create)
	}
	apply(b, create)
	apply(c, create)

	// Sequential edits on one replica: each replaces the one before, no conflict.
	e1 := local(a, siteA, engine.Mutation{Table: "docs", ID: "n1", Values: map[string]any{"body": "edit 1"}})
	if !slices.Equal(e1.Bases, []engine.Version{create.Version()}) || e1.Create {
		t.Fatalf("edit bases = %v, want [%v]", e1.Bases, create.Version())
	}
	e2 := local(a, siteA, engine.Mutation{Table: "docs", ID: "n1", Values: map[string]any{"body": "edit 2"}})
	checkNote(t, readNote(t, a, "n1"), "edit 2", e2.Version())

	// B and C edit the base concurrently with A.
	eb := local(b, siteB, engine.Mutation{Table: "docs", ID: "n1", Values: map[string]any{"body": "B's"}})
	ec := local(c, siteC, engine.Mutation{Table: "docs", ID: "n1", Values: map[string]any{"body": "C's", "title": "t"}})
	apply(a, eb, ec)
	apply(b, e1, e2, ec)
	apply(c, e2, eb, e1) // another order
	leaves := []engine.Version{e2.Version(), eb.Version(), ec.Version()}
	slices.SortFunc(leaves, func(x, y engine.Version) int {
		if x.Less(y) {
			return -1
		}
		return 1
	})
	winner := leaves[2]
	for name, m := range map[string]*memTx{"A": a, "B": b, "C": c} {
		got := readNote(t, m, "n1")
		if got.version != winner || len(got.conflicts) != 2 {
			t.Fatalf("replica %s: note %v with conflicts %v; want %v winning over two", name, got.version, got.conflicts, winner)
		}
	}
	if a.dump() != b.dump() || a.dump() != c.dump() {
		t.Fatalf("replicas differ: %s / %s", diffDumps(a.dump(), b.dump()), diffDumps(a.dump(), c.dump()))
	}

	// An ordinary edit on A replaces only the version on screen: the conflicts stay.
	plain := local(a, siteA, engine.Mutation{Table: "docs", ID: "n1", Values: map[string]any{"body": "plain"}})
	if !slices.Equal(plain.Bases, []engine.Version{winner}) {
		t.Fatalf("plain edit bases = %v, want [%v]", plain.Bases, winner)
	}
	checkNote(t, readNote(t, a, "n1"), "plain", plain.Version(), leaves[:2]...)

	// Resolving on B supersedes every leaf B knows, including A's plain edit once it arrives.
	apply(b, plain)
	resolve := local(b, siteB, engine.Mutation{Table: "docs", ID: "n1", Values: map[string]any{"body": "resolved"}, Resolve: true})
	wantBases := []engine.Version{leaves[0], leaves[1], plain.Version()}
	if !slices.Equal(resolve.Bases, wantBases) {
		t.Fatalf("resolve bases = %v, want %v", resolve.Bases, wantBases)
	}
	checkNote(t, readNote(t, b, "n1"), "resolved", resolve.Version())
	apply(a, resolve)
	apply(c, resolve, plain) // C gets the resolution before the edit it superseded
	for name, m := range map[string]*memTx{"A": a, "B": b, "C": c} {
		checkNote(t, readNote(t, m, "n1"), "resolved", resolve.Version())
		if name != "B" && m.dump() != b.dump() {
			t.Fatalf("replica %s differs from B: %s", name, diffDumps(b.dump(), m.dump()))
		}
	}
}

func TestNoteAndDelete(t *testing.T) {
	base := put("docs", "n1", "visit:v1", ver(10, 1), "visit_id", "v1", "body", "base")
	fromB := note("n1", ver(20, 2), "from B", ver(10, 1))
	fromC := note("n1", ver(20, 3), "from C", ver(10, 1))
	gone := del("docs", "n1", "visit:v1", ver(25, 1))
	// B, not having seen the delete, edits its version again: it outlives the delete alone.
	later := note("n1", ver(30, 2), "after delete", ver(20, 2))
	// An edit older than the delete that arrives late is dropped.
	stale := note("n1", ver(22, 4), "stale", ver(20, 3))

	tests := []struct {
		name    string
		changes []engine.Change
		live    bool
		value   any
		version engine.Version
	}{
		{"delete drops every note version", []engine.Change{base, fromB, fromC, gone}, false, nil, engine.Version{}},
		{"a stale edit stays deleted", []engine.Change{base, fromB, fromC, gone, stale}, false, nil, engine.Version{}},
		{"a newer edit revives the note without old conflicts", []engine.Change{base, fromB, fromC, gone, later}, true, "after delete", ver(30, 2)},
		{"all together", []engine.Change{base, fromB, fromC, gone, later, stale}, true, "after delete", ver(30, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want string
			forEachPermutation(len(tt.changes), func(order []int) {
				m := newMemTx()
				for _, i := range order {
					ch := tt.changes[i]
					if _, err := m.applyTx(mergeSchema, &ch); err != nil {
						t.Fatalf("order %v: change %d: %v", order, i, err)
					}
				}
				r, _ := m.row(t, mergeSchema, "docs", "n1")
				if r.Live() != tt.live || r.Tomb != gone.Version() {
					t.Fatalf("order %v: live %v tomb %v", order, r.Live(), r.Tomb)
				}
				checkNote(t, readNote(t, m, "n1"), tt.value, tt.version)
				// A revived row gets its scope column back, at the tombstone's version.
				if r.Live() && (r.Values[0] != "v1" || r.Versions[0] != gone.Version()) {
					t.Errorf("revived visit_id = %v@%v, want v1@%v", r.Values[0], r.Versions[0], gone.Version())
				}
				for _, ch := range tt.changes {
					if res, err := m.applyTx(mergeSchema, &ch); err != nil || res.Changed {
						t.Fatalf("order %v: re-applying %v: %+v, %v", order, ch.Version(), res, err)
					}
				}
				if want == "" {
					want = m.dump()
				} else if got := m.dump(); got != want {
					t.Fatalf("order %v ends elsewhere: %s", order, diffDumps(want, got))
				}
			})
		})
	}
}

// errAnyError in a table of cases means "some error, no particular sentinel".
var errAnyError = errors.New("any error")

func TestLocal(t *testing.T) {
	wall := newFakeWall(1000)
	clk := engine.NewClock(wall.Now, 0)
	m := newMemTx()
	const site engine.SiteID = 7

	tests := []struct {
		name    string
		mu      engine.Mutation
		wantErr error
		check   func(t *testing.T, ch engine.Change)
	}{
		{"unknown table", engine.Mutation{Table: "nope", ID: "x", Values: map[string]any{"a": "x"}}, engine.ErrUnknownTable, nil},
		{"bad id", engine.Mutation{Table: "items", ID: "a/b", Values: map[string]any{"a": "x"}}, engine.ErrBadID, nil},
		{"unknown column", engine.Mutation{Table: "items", ID: "r1", Values: map[string]any{"zz": "x"}}, engine.ErrUnknownColumn, nil},
		{"bad value", engine.Mutation{Table: "items", ID: "r1", Values: map[string]any{"b": "x"}}, engine.ErrBadValue, nil},
		{"no values", engine.Mutation{Table: "items", ID: "r1"}, errAnyError, nil},
		{"delete of a missing row", engine.Mutation{Table: "items", ID: "r1", Delete: true}, engine.ErrNotFound, nil},
		{"new row without its scope", engine.Mutation{Table: "docs", ID: "d1", Values: map[string]any{"title": "x"}}, engine.ErrBadValue, nil},
		{"insert", engine.Mutation{Table: "items", ID: "r1", Values: map[string]any{"b": 3, "a": "x"}}, nil, func(t *testing.T, ch engine.Change) {
			if !ch.Create || ch.Scope != engine.ClinicScope || ch.Site != site || ch.HLC != engine.NewHLC(1000, 0) {
				t.Errorf("change = %+v", ch)
			}
			if !slices.Equal(ch.Cols, []string{"a", "b"}) || ch.Vals[1] != int64(3) {
				t.Errorf("columns %v values %v: want sorted names and normalized values", ch.Cols, ch.Vals)
			}
		}},
		{"update", engine.Mutation{Table: "items", ID: "r1", Values: map[string]any{"a": "y"}}, nil, func(t *testing.T, ch engine.Change) {
			if ch.Create || ch.HLC != engine.NewHLC(1000, 1) {
				t.Errorf("change = %+v", ch)
			}
		}},
		{"delete", engine.Mutation{Table: "items", ID: "r1", Delete: true, Values: map[string]any{"a": "ignored"}}, nil, func(t *testing.T, ch engine.Change) {
			if !ch.Delete || ch.Create || len(ch.Cols) != 0 {
				t.Errorf("change = %+v", ch)
			}
		}},
		{"delete twice", engine.Mutation{Table: "items", ID: "r1", Delete: true}, engine.ErrNotFound, nil},
		{"revive", engine.Mutation{Table: "items", ID: "r1", Values: map[string]any{"c": 1.5}}, nil, func(t *testing.T, ch engine.Change) {
			if ch.Create {
				t.Errorf("a row with a tombstone is not new: %+v", ch)
			}
		}},
		{"visit scope by id", engine.Mutation{Table: "visits", ID: "v1", Values: map[string]any{"status": "waiting"}}, nil, func(t *testing.T, ch engine.Change) {
			if ch.Scope != "visit:v1" {
				t.Errorf("scope = %q", ch.Scope)
			}
		}},
		{"scope from the values", engine.Mutation{Table: "docs", ID: "d1", Values: map[string]any{"visit_id": "v1", "title": "x"}}, nil, func(t *testing.T, ch engine.Change) {
			if ch.Scope != "visit:v1" {
				t.Errorf("scope = %q", ch.Scope)
			}
		}},
		{"scope from the row", engine.Mutation{Table: "docs", ID: "d1", Values: map[string]any{"title": "y"}}, nil, func(t *testing.T, ch engine.Change) {
			if ch.Scope != "visit:v1" {
				t.Errorf("scope = %q", ch.Scope)
			}
		}},
		{"moving scope", engine.Mutation{Table: "docs", ID: "d1", Values: map[string]any{"visit_id": "v2"}}, engine.ErrScope, nil},
		{"append", engine.Mutation{Table: "log", ID: "l1", Values: map[string]any{"visit_id": "v1", "msg": "hi"}}, nil, nil},
		{"append-only update", engine.Mutation{Table: "log", ID: "l1", Values: map[string]any{"msg": "edit"}}, engine.ErrAppendOnly, nil},
		{"append-only delete", engine.Mutation{Table: "log", ID: "l1", Delete: true}, engine.ErrAppendOnly, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := m.dump()
			work := m.clone()
			ch, err := engine.Local(work, mergeSchema, clk, site, tt.mu)
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAnyError && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Local = %+v, %v; want %v", ch, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Local: %v", err)
			}
			*m = *work
			if m.dump() == before {
				t.Fatal("Local did not apply its change to the store")
			}
			// The returned change is what other replicas apply: it must be valid there too.
			other := m.clone()
			if res, err := other.applyTx(mergeSchema, &ch); err != nil || res.Changed {
				t.Fatalf("re-applying the local change: %+v, %v", res, err)
			}
			if tt.check != nil {
				tt.check(t, ch)
			}
		})
	}
}
