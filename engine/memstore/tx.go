package memstore

import (
	"fmt"
	"maps"
	"slices"

	"hearth/engine"
)

// tx is one transaction: it writes the data in place and keeps how to undo each write.
type tx struct {
	s    *Store
	undo []func()
}

var _ engine.StoreTx = (*tx)(nil)

// set writes m[k] = v, keeping how to undo it.
func set[K comparable, V any](t *tx, m map[K]V, k K, v V) {
	old, had := m[k]
	t.undo = append(t.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
	m[k] = v
}

// del deletes m[k], keeping how to undo it.
func del[K comparable, V any](t *tx, m map[K]V, k K) {
	old, had := m[k]
	if !had {
		return
	}
	t.undo = append(t.undo, func() { m[k] = old })
	delete(m, k)
}

// replace sets *p = v, keeping how to undo it. Stored slices are never changed in place, only
// replaced, so the old header stays valid.
func replace[V any](t *tx, p *[]V, v []V) {
	old := *p
	t.undo = append(t.undo, func() { *p = old })
	*p = v
}

func (t *tx) data() *Data { return t.s.d }

func (t *tx) LoadRow(tb *engine.Table, id string) (engine.Row, bool, error) {
	d := t.data()
	if s := d.rows[tb.Name][id]; s != nil {
		return load(tb, s), true, nil // as the SQLite store: a live row's tombstone scope is not loaded
	}
	n := len(tb.Columns)
	r := engine.Row{Values: make([]any, n), Versions: make([]engine.Version, n)}
	if ts, ok := d.tombs[rowKey{tb.Name, id}]; ok {
		r.Tomb, r.Scope = ts.version, ts.scope
		return r, true, nil
	}
	return r, false, nil
}

func (t *tx) SaveRow(tb *engine.Table, id string, r *engine.Row) error {
	d := t.data()
	rows := d.rows[tb.Name]
	if rows == nil {
		rows = map[string]*storedRow{}
		set(t, d.rows, tb.Name, rows)
	}
	if r.Live() {
		s := &storedRow{vals: map[string]any{}, vers: map[string]engine.Version{}, tomb: r.Tomb}
		for i, c := range tb.Columns {
			if r.Values[i] != nil || !r.Versions[i].IsZero() {
				s.vals[c.Name], s.vers[c.Name] = clone(r.Values[i]), r.Versions[i]
			}
		}
		set(t, rows, id, s)
	} else {
		del(t, rows, id)
	}
	// As the SQLite store: the tombstone is written when a delete set it (with its scope), and
	// replaced (its log position forgotten) only by a different version.
	k := rowKey{tb.Name, id}
	if !r.Tomb.IsZero() && r.Scope != "" && d.tombs[k].version != r.Tomb {
		set(t, d.tombs, k, tomb{version: r.Tomb, scope: r.Scope})
	}
	return nil
}

func (t *tx) LoadNotes(tb *engine.Table, id string) ([]engine.NoteVersion, error) {
	return slices.Clone(t.data().notes[rowKey{tb.Name, id}]), nil
}

func (t *tx) SaveNotes(tb *engine.Table, id string, vs []engine.NoteVersion) error {
	k := rowKey{tb.Name, id}
	if len(vs) == 0 {
		del(t, t.data().notes, k)
		return nil
	}
	set(t, t.data().notes, k, slices.Clone(vs))
	return nil
}

func (t *tx) Prefetch([]engine.Change) error { return nil } // every row is at hand

func (t *tx) Meta(key string) (string, error) { return t.data().meta[key], nil }

func (t *tx) SetMeta(key, value string) error {
	set(t, t.data().meta, key, value)
	return nil
}

func (t *tx) AppendOutbox(chs []engine.Change) error {
	d := t.data()
	out := d.outbox // appending past the old length leaves the undo's header intact
	seq := d.seq
	for _, ch := range chs {
		seq++
		out = append(out, engine.OutboxEntry{Seq: seq, Change: ch})
	}
	t.setSeq(seq)
	replace(t, &d.outbox, out)
	return nil
}

func (t *tx) setSeq(seq uint64) {
	d := t.data()
	old := d.seq
	t.undo = append(t.undo, func() { d.seq = old })
	d.seq = seq
}

func (t *tx) Outbox(limit int) ([]engine.OutboxEntry, error) {
	out := t.data().outbox
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), nil
}

func (t *tx) DeleteOutbox(seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	drop := map[uint64]bool{}
	for _, s := range seqs {
		drop[s] = true
	}
	d := t.data()
	replace(t, &d.outbox, slices.DeleteFunc(slices.Clone(d.outbox), func(e engine.OutboxEntry) bool { return drop[e.Seq] }))
	return nil
}

func (t *tx) OutboxStats() (int, engine.HLC, error) {
	var newest engine.HLC
	for _, e := range t.data().outbox {
		newest = max(newest, e.Change.HLC)
	}
	return len(t.data().outbox), newest, nil
}

func (t *tx) SetTombstoneSeq(ch *engine.Change, seq uint64) error {
	k := rowKey{ch.Table, ch.ID}
	ts, ok := t.data().tombs[k]
	if ok && ts.version == ch.Version() {
		ts.seq = seq
		set(t, t.data().tombs, k, ts)
	}
	return nil
}

func (t *tx) CompactTombstones(horizon uint64) (int64, error) {
	d := t.data()
	var n int64
	for _, k := range slices.Collect(maps.Keys(d.tombs)) {
		if s := d.tombs[k].seq; s > 0 && s <= horizon {
			del(t, d.tombs, k)
			n++
		}
	}
	return n, nil
}

func (t *tx) AddFuture(ch *engine.Change) error {
	d := t.data()
	t.setSeq(d.seq + 1)
	replace(t, &d.future, append(d.future, engine.FutureEntry{Seq: d.seq, Change: *ch}))
	return nil
}

func (t *tx) Future() ([]engine.FutureEntry, error) { return slices.Clone(t.data().future), nil }

func (t *tx) DeleteFuture(seq uint64) error {
	d := t.data()
	replace(t, &d.future, slices.DeleteFunc(slices.Clone(d.future), func(e engine.FutureEntry) bool { return e.Seq == seq }))
	return nil
}

func (t *tx) AddRejected(rc engine.RejectedChange) error {
	d := t.data()
	replace(t, &d.rejected, append(d.rejected, rc))
	return nil
}

func (t *tx) Clear() error {
	d := t.data()
	for _, tb := range t.s.schema.Tables() {
		if _, ok := d.rows[tb.Name]; ok {
			set(t, d.rows, tb.Name, map[string]*storedRow{})
		}
	}
	for k := range maps.Clone(d.tombs) {
		del(t, d.tombs, k)
	}
	for k := range maps.Clone(d.notes) {
		del(t, d.notes, k)
	}
	replace(t, &d.future, nil)
	return nil
}

// String names the store in test failures.
func (s *Store) String() string { return fmt.Sprintf("memstore(schema %d)", s.schema.Version()) }
