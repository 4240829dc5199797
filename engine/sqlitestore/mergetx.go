//go:build !js

package sqlitestore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"hearth/engine"
)

// mergeTx gives engine.Apply the row-level storage it needs, on one write transaction.
//
// Rows go through a per-transaction cache: a batch's rows are fetched with one query per table
// (Prefetch), merged in memory, and written back when the transaction commits, in multi-row
// statements. One statement per row and per step was most of the cost of ingest and catch-up.
type mergeTx struct{ tx *Tx }

var _ engine.MergeTx = mergeTx{}

type rowKey struct {
	t  *engine.Table
	id string
}

type cachedRow struct {
	row   engine.Row
	found bool
	dirty bool
}

// tableSQL holds the statements for one table, built once per table.
type tableSQL struct {
	cols     string // quoted column list
	sets     string // upsert assignments
	load     string // one row and its tombstone, by id
	prefetch string // many rows and their tombstones, by a JSON array of ids; only ids found
	del      string // delete rows by a JSON array of ids

	mu     sync.Mutex
	upsert map[int]string // n-row upserts
}

var sqlCache sync.Map // *engine.Table -> *tableSQL

func statements(t *engine.Table) *tableSQL {
	if s, ok := sqlCache.Load(t); ok {
		return s.(*tableSQL)
	}
	cols := make([]string, len(t.Columns))
	rcols := make([]string, len(t.Columns))
	sets := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = fmt.Sprintf("%q", c.Name)
		rcols[i] = "r." + cols[i]
		sets[i] = fmt.Sprintf("%q = excluded.%q", c.Name, c.Name)
	}
	sel := strings.Join(rcols, ", ") + ", r._v, tb.hlc, tb.site, tb.scope"
	nulls := strings.TrimSuffix(strings.Repeat("NULL, ", len(t.Columns)+1), ", ")
	s := &tableSQL{
		cols: strings.Join(cols, ", "),
		sets: strings.Join(sets, ", "),
		// The live row if there is one, else its tombstone: UNION ALL with LIMIT 1 stops after
		// the first part finds the row. (A join from a one-row subquery costs three times as
		// much per lookup here.)
		load: fmt.Sprintf(`SELECT %s, _v, NULL, NULL, NULL FROM %q WHERE id = ?1
			UNION ALL SELECT %s, hlc, site, scope FROM _hearth_tombstones WHERE tbl = ?2 AND id = ?1 LIMIT 1`,
			strings.Join(cols, ", "), t.Name, nulls),
		// Ids the store does not know return no result row: most ids of a batch are new rows,
		// and a row of NULLs costs as much to step and scan as a row of values.
		prefetch: fmt.Sprintf(`SELECT k.value, %s FROM json_each(?) k LEFT JOIN %q r ON r.id = k.value
			LEFT JOIN _hearth_tombstones tb ON tb.tbl = ? AND tb.id = k.value
			WHERE r.id IS NOT NULL OR tb.id IS NOT NULL`, sel, t.Name),
		del:    fmt.Sprintf(`DELETE FROM %q WHERE id IN (SELECT value FROM json_each(?))`, t.Name),
		upsert: map[int]string{},
	}
	actual, _ := sqlCache.LoadOrStore(t, s)
	return actual.(*tableSQL)
}

func (s *tableSQL) upsertN(t *engine.Table, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.upsert[n]; ok {
		return q
	}
	one := "(?" + strings.Repeat(", ?", len(t.Columns)+1) + ")"
	q := fmt.Sprintf("INSERT INTO %q (id, %s, _v) VALUES %s ON CONFLICT(id) DO UPDATE SET %s, _v = excluded._v",
		t.Name, s.cols, strings.TrimSuffix(strings.Repeat(one+", ", n), ", "), s.sets)
	s.upsert[n] = q
	return q
}

// scanRow decodes the columns of a load or prefetch result (after the id, for prefetch).
type scanRow struct {
	vals  []any
	vb    []byte
	hlc   sql.NullInt64
	site  sql.NullInt64
	scope sql.NullString
	dest  []any
}

func newScanRow(t *engine.Table, withKey *string) *scanRow {
	s := &scanRow{vals: make([]any, len(t.Columns))}
	if withKey != nil {
		s.dest = append(s.dest, withKey)
	}
	for i := range s.vals {
		s.dest = append(s.dest, &s.vals[i])
	}
	s.dest = append(s.dest, &s.vb, &s.hlc, &s.site, &s.scope)
	return s
}

func (s *scanRow) row(t *engine.Table) (engine.Row, bool, error) {
	n := len(t.Columns)
	r := engine.Row{Values: make([]any, n), Versions: make([]engine.Version, n)}
	if s.vb != nil {
		var err error
		for i, c := range t.Columns {
			if r.Values[i], err = engine.NormalizeValue(c.Type, s.vals[i]); err != nil {
				return r, false, fmt.Errorf("stored %s.%s: %w", t.Name, c.Name, err)
			}
		}
		r.Tomb, r.Versions, err = engine.DecodeVersions(s.vb, n)
		return r, true, err
	}
	if !s.hlc.Valid {
		return r, false, nil
	}
	r.Tomb = engine.Version{HLC: engine.HLC(s.hlc.Int64), Site: engine.SiteID(s.site.Int64)}
	r.Scope = s.scope.String
	return r, true, nil
}

func copyRow(r engine.Row) engine.Row {
	r.Values = append([]any(nil), r.Values...)
	r.Versions = append([]engine.Version(nil), r.Versions...)
	return r
}

func (m mergeTx) LoadRow(t *engine.Table, id string) (engine.Row, bool, error) {
	key := rowKey{t, id}
	if c, ok := m.tx.rows[key]; ok {
		if c.row.Values == nil { // known to be unknown (Prefetch): nothing to copy
			n := len(t.Columns)
			return engine.Row{Values: make([]any, n), Versions: make([]engine.Version, n)}, false, nil
		}
		return copyRow(c.row), c.found, nil
	}
	sr := newScanRow(t, nil)
	err := m.tx.QueryRow(statements(t).load, id, t.Name).Scan(sr.dest...)
	if errors.Is(err, sql.ErrNoRows) {
		n := len(t.Columns)
		m.tx.rows[key] = &cachedRow{}
		return engine.Row{Values: make([]any, n), Versions: make([]engine.Version, n)}, false, nil
	}
	if err != nil {
		return engine.Row{}, false, err
	}
	r, found, err := sr.row(t)
	if err != nil {
		return r, false, err
	}
	m.tx.rows[key] = &cachedRow{row: copyRow(r), found: found}
	return r, found, nil
}

// Prefetch loads the rows that changes touch into the transaction's cache, one query per
// table, so that applying them reads no row one at a time.
func (tx *Tx) Prefetch(changes []engine.Change) error {
	ids := map[*engine.Table][]string{}
	for i := range changes {
		t := tx.db.schema.Table(changes[i].Table)
		if t == nil {
			continue
		}
		if _, ok := tx.rows[rowKey{t, changes[i].ID}]; !ok {
			ids[t] = append(ids[t], changes[i].ID)
		}
	}
	for t, list := range ids {
		arr, err := json.Marshal(list)
		if err != nil {
			return err
		}
		s, err := tx.Stmt(statements(t).prefetch)
		if err != nil {
			return err
		}
		rows, err := s.QueryContext(tx.ctx, string(arr), t.Name)
		if err != nil {
			return fmt.Errorf("prefetch %s: %w", t.Name, err)
		}
		var id string
		sr := newScanRow(t, &id)
		for rows.Next() {
			if err := rows.Scan(sr.dest...); err != nil {
				rows.Close()
				return fmt.Errorf("prefetch %s: %w", t.Name, err)
			}
			r, found, err := sr.row(t)
			if err != nil {
				rows.Close()
				return err
			}
			tx.rows[rowKey{t, id}] = &cachedRow{row: r, found: found}
			sr.vb = nil
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("prefetch %s: %w", t.Name, err)
		}
		// The ids the query did not return are unknown to the store: cached as such, so that
		// applying their changes reads nothing either. (Most ids of a catch-up are new rows;
		// LoadRow makes their empty row when asked, rather than one here and a copy there.)
		for _, id := range list {
			if _, ok := tx.rows[rowKey{t, id}]; !ok {
				tx.rows[rowKey{t, id}] = &cachedRow{}
			}
		}
		if t.NoteCol() >= 0 {
			if err := tx.loadNotes(t, list); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m mergeTx) SaveRow(t *engine.Table, id string, r *engine.Row) error {
	key := rowKey{t, id}
	c := m.tx.rows[key]
	if c == nil {
		c = &cachedRow{}
		m.tx.rows[key] = c
	}
	// Kept without a copy (MergeTx allows it): LoadRow hands out copies of the cache, and the
	// merge is done with r. One row copy less per change is a tenth of catch-up's allocation.
	c.row, c.found = *r, true
	if !c.dirty {
		c.dirty = true
		m.tx.dirty = append(m.tx.dirty, key)
	}
	// A live row's tombstone was written when the delete was applied (Scope is only set then,
	// or when the row was loaded as a tombstone); writing it again would bring back a
	// tombstone that compaction removed. Tombstones are rare: they are written at once.
	if r.Tomb.IsZero() || r.Scope == "" {
		return nil
	}
	_, err := m.tx.Exec(`INSERT INTO _hearth_tombstones (tbl, id, hlc, site, scope) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(tbl, id) DO UPDATE SET hlc = excluded.hlc, site = excluded.site, scope = excluded.scope, seq = 0
		WHERE hlc != excluded.hlc OR site != excluded.site`,
		t.Name, id, int64(r.Tomb.HLC), int64(r.Tomb.Site), r.Scope)
	return err
}

// flush writes the rows changed in this transaction: live rows as multi-row upserts, rows
// that died as one delete per table.
func (tx *Tx) flush() error {
	if err := tx.flushNotes(); err != nil {
		return err
	}
	if len(tx.dirty) == 0 {
		return nil
	}
	live := map[*engine.Table][]rowKey{}
	dead := map[*engine.Table][]string{}
	var order []*engine.Table
	for _, k := range tx.dirty {
		if _, seen := live[k.t]; !seen {
			if _, seen := dead[k.t]; !seen {
				order = append(order, k.t)
			}
		}
		c := tx.rows[k]
		c.dirty = false
		if c.row.Live() {
			live[k.t] = append(live[k.t], k)
		} else {
			dead[k.t] = append(dead[k.t], k.id)
		}
	}
	tx.dirty = tx.dirty[:0]
	for _, t := range order {
		s := statements(t)
		keys := live[t]
		for len(keys) > 0 {
			n := chunk(len(keys))
			args := make([]any, 0, n*(len(t.Columns)+2))
			for _, k := range keys[:n] {
				r := tx.rows[k].row
				args = append(args, k.id)
				args = append(args, r.Values...)
				args = append(args, engine.EncodeVersions(r.Tomb, r.Versions))
			}
			if _, err := tx.Exec(s.upsertN(t, n), args...); err != nil {
				return fmt.Errorf("write %s: %w", t.Name, err)
			}
			keys = keys[n:]
		}
		if ids := dead[t]; len(ids) > 0 {
			arr, err := json.Marshal(ids)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(s.del, string(arr)); err != nil {
				return fmt.Errorf("delete from %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// chunk picks how many of n rows the next statement writes: a few fixed sizes, so that each
// table needs only a few prepared statements.
func chunk(n int) int {
	for _, c := range []int{128, 32, 8} {
		if n >= c {
			return c
		}
	}
	return 1
}

// cachedNotes are a row's note versions as this transaction sees them.
type cachedNotes struct {
	vs    []engine.NoteVersion
	dirty bool
}

func (m mergeTx) LoadNotes(t *engine.Table, id string) ([]engine.NoteVersion, error) {
	key := rowKey{t, id}
	if c, ok := m.tx.notes[key]; ok {
		return append([]engine.NoteVersion(nil), c.vs...), nil
	}
	if err := m.tx.loadNotes(t, []string{id}); err != nil {
		return nil, err
	}
	return append([]engine.NoteVersion(nil), m.tx.notes[key].vs...), nil
}

// loadNotes reads the note versions of rows into the cache, one query for all of them.
func (tx *Tx) loadNotes(t *engine.Table, ids []string) error {
	arr, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	s, err := tx.Stmt(`SELECT id, hlc, site, value, superseded FROM _hearth_notes WHERE tbl = ? AND id IN (SELECT value FROM json_each(?))`)
	if err != nil {
		return err
	}
	rows, err := s.QueryContext(tx.ctx, t.Name, string(arr))
	if err != nil {
		return fmt.Errorf("load notes of %s: %w", t.Name, err)
	}
	defer rows.Close()
	for _, id := range ids {
		tx.notes[rowKey{t, id}] = &cachedNotes{}
	}
	for rows.Next() {
		var id string
		var hlc, site int64
		var n engine.NoteVersion
		var val sql.NullString
		if err := rows.Scan(&id, &hlc, &site, &val, &n.Superseded); err != nil {
			return err
		}
		n.Version = engine.Version{HLC: engine.HLC(hlc), Site: engine.SiteID(site)}
		if val.Valid {
			n.Value = val.String
		}
		c := tx.notes[rowKey{t, id}]
		c.vs = append(c.vs, n)
	}
	return rows.Err()
}

func (m mergeTx) SaveNotes(t *engine.Table, id string, vs []engine.NoteVersion) error {
	key := rowKey{t, id}
	c := m.tx.notes[key]
	if c == nil {
		c = &cachedNotes{}
		m.tx.notes[key] = c
	}
	c.vs = append([]engine.NoteVersion(nil), vs...)
	if !c.dirty {
		c.dirty = true
		m.tx.dirtyNotes = append(m.tx.dirtyNotes, key)
	}
	return nil
}

// flushNotes replaces the stored note versions of the rows whose notes changed.
func (tx *Tx) flushNotes() error {
	byTable := map[*engine.Table][]string{}
	var order []*engine.Table
	var rows []any
	for _, k := range tx.dirtyNotes {
		if _, ok := byTable[k.t]; !ok {
			order = append(order, k.t)
		}
		byTable[k.t] = append(byTable[k.t], k.id)
		c := tx.notes[k]
		c.dirty = false
		for _, n := range c.vs {
			rows = append(rows, k.t.Name, k.id, int64(n.Version.HLC), int64(n.Version.Site), n.Value, n.Superseded)
		}
	}
	tx.dirtyNotes = tx.dirtyNotes[:0]
	for _, t := range order {
		arr, err := json.Marshal(byTable[t])
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM _hearth_notes WHERE tbl = ? AND id IN (SELECT value FROM json_each(?))`, t.Name, string(arr)); err != nil {
			return fmt.Errorf("write notes of %s: %w", t.Name, err)
		}
	}
	const cols = 6
	for len(rows) > 0 {
		n := chunk(len(rows) / cols)
		q := `INSERT INTO _hearth_notes (tbl, id, hlc, site, value, superseded) VALUES (?, ?, ?, ?, ?, ?)` +
			strings.Repeat(`, (?, ?, ?, ?, ?, ?)`, n-1)
		if _, err := tx.Exec(q, rows[:n*cols]...); err != nil {
			return fmt.Errorf("write notes: %w", err)
		}
		rows = rows[n*cols:]
	}
	return nil
}
