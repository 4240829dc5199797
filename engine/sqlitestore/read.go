//go:build !js

package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"hearth/engine"
)

// Record is one row as applications see it: its id and column values by name.
type Record = engine.Record

// Get returns one live row, or engine.ErrNotFound.
func (db *DB) Get(ctx context.Context, table, id string) (Record, error) {
	recs, err := db.query(ctx, table, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("get %s/%s: %w", table, id, engine.ErrNotFound)
	}
	return recs[0], nil
}

// List returns up to limit live rows of a table ordered by id, starting after the id after
// ("" for the first page).
func (db *DB) List(ctx context.Context, table, after string, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.query(ctx, table, "WHERE id > ? ORDER BY id LIMIT ?", after, limit)
}

func (db *DB) query(ctx context.Context, table, where string, args ...any) ([]Record, error) {
	return db.queryCols(ctx, table, nil, where, args...)
}

func (db *DB) queryCols(ctx context.Context, table string, cols []int, where string, args ...any) ([]Record, error) {
	return queryRecords(db.schema, func(q string, args ...any) (*sql.Rows, error) { return db.r.QueryContext(ctx, q, args...) },
		table, cols, where, args...)
}

// queryRecords reads the live rows of table that the clauses in where select, through run:
// the columns at the indexes cols (nil: every column).
func queryRecords(s *engine.Schema, run func(string, ...any) (*sql.Rows, error), table string, cols []int, where string, args ...any) ([]Record, error) {
	t := s.Table(table)
	if t == nil {
		return nil, fmt.Errorf("read %s: %w", table, engine.ErrUnknownTable)
	}
	if cols == nil {
		cols = engine.QueryColumns(t, engine.Query{})
	}
	sel := "id"
	for _, i := range cols {
		sel += fmt.Sprintf(", %q", t.Columns[i].Name)
	}
	rows, err := run(fmt.Sprintf("SELECT %s FROM %q %s", sel, t.Name, where), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	var out []Record
	var id string
	vals := make([]any, len(cols))
	dest := []any{&id}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		rec := make(Record, 1+len(cols))
		rec["id"] = id
		for k, i := range cols {
			c := t.Columns[i]
			if rec[c.Name], err = engine.NormalizeValue(c.Type, vals[k]); err != nil {
				return nil, fmt.Errorf("read %s.%s: %w", table, c.Name, err)
			}
			vals[k] = nil
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Conflict is a version of a note that lost to a concurrent edit (see engine.Conflict).
type Conflict = engine.Conflict

// Conflicts lists the unresolved note conflicts of a table ("" for every table).
func (db *DB) Conflicts(ctx context.Context, table string) ([]Conflict, error) {
	return engine.ListConflicts(ctx, db, table)
}

// Hash returns the canonical hash of the replicated state (see engine.Hash).
func (db *DB) Hash(ctx context.Context) (string, error) { return engine.Hash(ctx, db, nil) }

// HashFor is Hash over the rows in the scopes that grants accepts (nil: every scope): what a
// replica with those grants holds, to compare it with the server's whole store.
func (db *DB) HashFor(ctx context.Context, grants func(scope string) bool) (string, error) {
	return engine.Hash(ctx, db, grants)
}

// View runs fn on a snapshot of the committed state: one read-only transaction of the read pool.
func (db *DB) View(ctx context.Context, fn func(v engine.StoreView) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	defer tx.Rollback()
	return fn(view{ctx, tx})
}

// view reads one snapshot for hashing.
type view struct {
	ctx context.Context
	tx  *sql.Tx
}

func (v view) Rows(t *engine.Table, fn func(id string, r *engine.Row) error) error {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = fmt.Sprintf("%q", c.Name)
	}
	rows, err := v.tx.QueryContext(v.ctx, fmt.Sprintf("SELECT id, %s, _v FROM %q ORDER BY id", strings.Join(cols, ", "), t.Name))
	if err != nil {
		return err
	}
	defer rows.Close()
	var id string
	var vb []byte
	vals := make([]any, len(t.Columns))
	dest := []any{&id}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	dest = append(dest, &vb)
	r := engine.Row{Values: make([]any, len(t.Columns))}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i, c := range t.Columns {
			if r.Values[i], err = engine.NormalizeValue(c.Type, vals[i]); err != nil {
				return fmt.Errorf("stored %s.%s of %s: %w", t.Name, c.Name, id, err)
			}
		}
		if r.Tomb, r.Versions, err = engine.DecodeVersions(vb, len(t.Columns)); err != nil {
			return err
		}
		if err := fn(id, &r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (v view) NoteLeaves(t *engine.Table, fn func(id string, n engine.NoteVersion) error) error {
	rows, err := v.tx.QueryContext(v.ctx, `SELECT id, hlc, site, value FROM _hearth_notes WHERE tbl = ? AND superseded = 0 ORDER BY id`, t.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var hlc, site int64
		var val sql.NullString
		if err := rows.Scan(&id, &hlc, &site, &val); err != nil {
			return err
		}
		n := engine.NoteVersion{Version: engine.Version{HLC: engine.HLC(hlc), Site: engine.SiteID(site)}}
		if val.Valid {
			n.Value = val.String
		}
		if err := fn(id, n); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (v view) ConflictedNotes(t *engine.Table, fn func(id string, leaves []engine.NoteVersion) error) error {
	// A note in conflict has two leaves or more: the leaves' partial index finds those rows
	// without reading every note of a clinic with years of them.
	rows, err := v.tx.QueryContext(v.ctx, `SELECT id, hlc, site, value FROM _hearth_notes WHERE tbl = ?1 AND superseded = 0
		AND id IN (SELECT id FROM _hearth_notes WHERE tbl = ?1 AND superseded = 0 GROUP BY id HAVING count(*) > 1)
		ORDER BY id`, t.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	var row string
	var leaves []engine.NoteVersion
	for rows.Next() {
		var id string
		var hlc, site int64
		var val sql.NullString
		if err := rows.Scan(&id, &hlc, &site, &val); err != nil {
			return err
		}
		if id != row && len(leaves) > 0 {
			if err := fn(row, leaves); err != nil {
				return err
			}
			leaves = nil
		}
		row = id
		n := engine.NoteVersion{Version: engine.Version{HLC: engine.HLC(hlc), Site: engine.SiteID(site)}}
		if val.Valid {
			n.Value = val.String
		}
		leaves = append(leaves, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(leaves) > 0 {
		return fn(row, leaves)
	}
	return nil
}
