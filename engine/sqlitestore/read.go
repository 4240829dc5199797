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
	return queryRecords(db.schema, func(q string, args ...any) (*sql.Rows, error) { return db.r.QueryContext(ctx, q, args...) },
		table, where, args...)
}

// queryRecords reads the live rows of table that the clauses in where select, through run.
func queryRecords(s *engine.Schema, run func(string, ...any) (*sql.Rows, error), table, where string, args ...any) ([]Record, error) {
	t := s.Table(table)
	if t == nil {
		return nil, fmt.Errorf("read %s: %w", table, engine.ErrUnknownTable)
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = fmt.Sprintf("%q", c.Name)
	}
	rows, err := run(fmt.Sprintf("SELECT id, %s FROM %q %s", strings.Join(cols, ", "), t.Name, where), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var id string
		vals := make([]any, len(t.Columns))
		dest := []any{&id}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		rec := Record{"id": id}
		for i, c := range t.Columns {
			if rec[c.Name], err = engine.NormalizeValue(c.Type, vals[i]); err != nil {
				return nil, fmt.Errorf("read %s.%s: %w", table, c.Name, err)
			}
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Conflict is a version of a note that lost to a concurrent edit and waits for a person.
type Conflict struct {
	Table   string
	ID      string
	Version engine.Version
	Text    string
	// Current is the version the note shows now, which this one lost to.
	Current engine.Version
}

// Conflicts lists the unresolved note conflicts of a table ("" for every table).
func (db *DB) Conflicts(ctx context.Context, table string) ([]Conflict, error) {
	var out []Conflict
	for _, t := range db.schema.Tables() {
		if t.NoteCol() < 0 || (table != "" && t.Name != table) {
			continue
		}
		// A note in conflict has two leaves or more (the winner is always one of them):
		// find those through the leaves' index first, so that a clinic with years of notes
		// does not join and decode every note to find the few in conflict.
		rows, err := db.r.QueryContext(ctx, fmt.Sprintf(`SELECT n.id, n.hlc, n.site, n.value, t._v FROM _hearth_notes n JOIN %q t ON t.id = n.id
			WHERE n.tbl = ?1 AND n.superseded = 0
			AND n.id IN (SELECT id FROM _hearth_notes WHERE tbl = ?1 AND superseded = 0 GROUP BY id HAVING count(*) > 1)
			ORDER BY n.id, n.hlc, n.site`, t.Name), t.Name)
		if err != nil {
			return nil, fmt.Errorf("conflicts of %s: %w", t.Name, err)
		}
		for rows.Next() {
			var c Conflict
			var hlc, site int64
			var text sql.NullString
			var vb []byte
			if err := rows.Scan(&c.ID, &hlc, &site, &text, &vb); err != nil {
				rows.Close()
				return nil, err
			}
			_, vers, err := engine.DecodeVersions(vb, len(t.Columns))
			if err != nil {
				rows.Close()
				return nil, err
			}
			c.Table, c.Text, c.Current = t.Name, text.String, vers[t.NoteCol()]
			c.Version = engine.Version{HLC: engine.HLC(hlc), Site: engine.SiteID(site)}
			if c.Version != c.Current {
				out = append(out, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
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
