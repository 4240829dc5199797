// Package memstore is an engine.Store in memory: the reference store of the engine's tests and
// of the store conformance suite, and a store for replicas that need no persistence. It keeps
// what the SQLite store keeps, in maps, with transactions undone on error.
package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"hearth/engine"
)

// ErrClosed means the store was closed.
var ErrClosed = errors.New("memstore: store is closed")

// Data is a store's committed state. It outlives a Store: Reopen opens it again, as a process
// restart reopens a file.
type Data struct {
	mu       sync.RWMutex
	version  int                              // schema version the data was migrated to
	rows     map[string]map[string]*storedRow // table -> id -> live row
	tombs    map[rowKey]tomb
	notes    map[rowKey][]engine.NoteVersion
	meta     map[string]string
	outbox   []engine.OutboxEntry
	future   []engine.FutureEntry
	rejected []engine.RejectedChange
	seq      uint64 // last outbox or future key issued
}

type rowKey struct{ table, id string }

// storedRow is a live row, its columns by name so that a later schema's added columns load as
// NULL with a zero version.
type storedRow struct {
	vals map[string]any
	vers map[string]engine.Version
	tomb engine.Version
}

type tomb struct {
	version engine.Version
	scope   string
	seq     uint64
}

// Store is an in-memory engine.Store over Data.
type Store struct {
	d      *Data
	schema *engine.Schema
	closed bool
}

var _ engine.Store = (*Store)(nil)

// New returns an empty store of schema.
func New(schema *engine.Schema) *Store {
	s, err := Reopen(&Data{}, schema)
	if err != nil {
		panic(err) // an empty store takes any schema
	}
	return s
}

// Reopen opens d again with schema, as a restarted process reopens its file: an upgrade when
// schema is newer. It refuses data written by a newer schema.
func Reopen(d *Data, schema *engine.Schema) (*Store, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.version > schema.Version() {
		return nil, fmt.Errorf("%w: the store is at schema %d, this program knows %d: upgrade Hearth", engine.ErrSchemaVersion, d.version, schema.Version())
	}
	if d.rows == nil {
		d.rows, d.tombs, d.notes, d.meta = map[string]map[string]*storedRow{}, map[rowKey]tomb{}, map[rowKey][]engine.NoteVersion{}, map[string]string{}
	}
	d.version = schema.Version()
	return &Store{d: d, schema: schema}, nil
}

// Data returns the store's data, to Reopen after Close.
func (s *Store) Data() *Data { return s.d }

// Schema returns the store's schema.
func (s *Store) Schema() *engine.Schema { return s.schema }

// Close closes the store; its Data stays for Reopen.
func (s *Store) Close() error {
	s.d.mu.Lock()
	s.closed = true
	s.d.mu.Unlock()
	return nil
}

// Update runs fn in a transaction; its writes are undone if fn fails.
func (s *Store) Update(ctx context.Context, fn func(tx engine.StoreTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	tx := &tx{s: s}
	err := fn(tx)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		for i := len(tx.undo) - 1; i >= 0; i-- {
			tx.undo[i]()
		}
		return err
	}
	return nil
}

// View runs fn on the committed state; an Update waits until it returns.
func (s *Store) View(ctx context.Context, fn func(v engine.StoreView) error) error {
	s.d.mu.RLock()
	defer s.d.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return fn(view{s})
}

// Get returns one live row, or engine.ErrNotFound.
func (s *Store) Get(ctx context.Context, table, id string) (engine.Record, error) {
	t := s.schema.Table(table)
	if t == nil {
		return nil, fmt.Errorf("get %s: %w", table, engine.ErrUnknownTable)
	}
	s.d.mu.RLock()
	defer s.d.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	r := s.d.rows[table][id]
	if r == nil {
		return nil, fmt.Errorf("get %s/%s: %w", table, id, engine.ErrNotFound)
	}
	return record(t, id, r), nil
}

// Select returns the live rows q selects, filtering and sorting every row of its table.
func (s *Store) Select(ctx context.Context, q engine.Query) ([]engine.Record, error) {
	t, err := engine.CheckQuery(s.schema, q)
	if err != nil {
		return nil, err
	}
	if q, err = engine.NormalizeQuery(t, q); err != nil {
		return nil, err
	}
	s.d.mu.RLock()
	defer s.d.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out []engine.Record
	for id, r := range s.d.rows[t.Name] {
		if rec := record(t, id, r); q.Matches(rec) {
			out = append(out, rec)
		}
	}
	return q.Project(q.Sort(out)), nil
}

// Rejected lists the refused changes, oldest first.
func (s *Store) Rejected(ctx context.Context) ([]engine.RejectedChange, error) {
	s.d.mu.RLock()
	defer s.d.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	return slices.Clone(s.d.rejected), nil
}

func record(t *engine.Table, id string, r *storedRow) engine.Record {
	rec := engine.Record{"id": id}
	for _, c := range t.Columns {
		rec[c.Name] = clone(r.vals[c.Name])
	}
	return rec
}

func clone(v any) any {
	if b, ok := v.([]byte); ok {
		return slices.Clone(b)
	}
	return v
}

// view reads the committed state for hashing.
type view struct{ s *Store }

func (v view) Rows(t *engine.Table, fn func(id string, r *engine.Row) error) error {
	rows := v.s.d.rows[t.Name]
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		r := load(t, rows[id])
		if err := fn(id, &r); err != nil {
			return err
		}
	}
	return nil
}

func (v view) NoteLeaves(t *engine.Table, fn func(id string, n engine.NoteVersion) error) error {
	var keys []rowKey
	for k := range v.s.d.notes {
		if k.table == t.Name {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b rowKey) int { return cmp.Compare(a.id, b.id) })
	for _, k := range keys {
		for _, n := range sortedNotes(v.s.d.notes[k]) {
			if n.Superseded {
				continue
			}
			if err := fn(k.id, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v view) ConflictedNotes(t *engine.Table, fn func(id string, leaves []engine.NoteVersion) error) error {
	var ids []string
	for k := range v.s.d.notes {
		if k.table == t.Name {
			ids = append(ids, k.id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		var leaves []engine.NoteVersion
		for _, n := range v.s.d.notes[rowKey{t.Name, id}] {
			if !n.Superseded {
				leaves = append(leaves, n)
			}
		}
		if len(leaves) < 2 {
			continue
		}
		if err := fn(id, leaves); err != nil {
			return err
		}
	}
	return nil
}

func sortedNotes(vs []engine.NoteVersion) []engine.NoteVersion {
	out := slices.Clone(vs)
	slices.SortFunc(out, func(a, b engine.NoteVersion) int { return a.Version.Compare(b.Version) })
	return out
}

// load turns a stored row into the merge's Row, sized to t's columns.
func load(t *engine.Table, s *storedRow) engine.Row {
	n := len(t.Columns)
	r := engine.Row{Values: make([]any, n), Versions: make([]engine.Version, n), Tomb: s.tomb}
	for i, c := range t.Columns {
		r.Values[i], r.Versions[i] = clone(s.vals[c.Name]), s.vers[c.Name]
	}
	return r
}
