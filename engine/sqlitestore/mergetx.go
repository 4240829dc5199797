//go:build !js

package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"hearth/engine"
)

// mergeTx gives engine.Apply the row-level storage it needs, on one write transaction.
type mergeTx struct{ tx *Tx }

var _ engine.MergeTx = mergeTx{}

// tableSQL holds the statements for one table, built once per table.
type tableSQL struct {
	load, upsert, del string
}

var sqlCache sync.Map // *engine.Table -> *tableSQL

func statements(t *engine.Table) *tableSQL {
	if s, ok := sqlCache.Load(t); ok {
		return s.(*tableSQL)
	}
	cols := make([]string, len(t.Columns))
	marks := make([]string, len(t.Columns))
	sets := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = fmt.Sprintf("%q", c.Name)
		marks[i] = "?"
		sets[i] = fmt.Sprintf("%q = excluded.%q", c.Name, c.Name)
	}
	s := &tableSQL{
		load: fmt.Sprintf("SELECT %s, _v FROM %q WHERE id = ?", strings.Join(cols, ", "), t.Name),
		upsert: fmt.Sprintf("INSERT INTO %q (id, %s, _v) VALUES (?, %s, ?) ON CONFLICT(id) DO UPDATE SET %s, _v = excluded._v",
			t.Name, strings.Join(cols, ", "), strings.Join(marks, ", "), strings.Join(sets, ", ")),
		del: fmt.Sprintf("DELETE FROM %q WHERE id = ?", t.Name),
	}
	sqlCache.Store(t, s)
	return s
}

func (m mergeTx) LoadRow(t *engine.Table, id string) (engine.Row, bool, error) {
	n := len(t.Columns)
	r := engine.Row{Values: make([]any, n), Versions: make([]engine.Version, n)}
	dest := make([]any, n+1)
	for i := range r.Values {
		dest[i] = &r.Values[i]
	}
	var vb []byte
	dest[n] = &vb
	err := m.tx.QueryRow(statements(t).load, id).Scan(dest...)
	switch {
	case err == nil:
		for i, c := range t.Columns {
			if r.Values[i], err = engine.NormalizeValue(c.Type, r.Values[i]); err != nil {
				return r, false, fmt.Errorf("stored %s.%s: %w", t.Name, c.Name, err)
			}
		}
		r.Tomb, r.Versions, err = engine.DecodeVersions(vb, n)
		return r, true, err
	case !errors.Is(err, sql.ErrNoRows):
		return r, false, err
	}
	var hlc, site int64
	err = m.tx.QueryRow(`SELECT hlc, site, scope FROM _hearth_tombstones WHERE tbl = ? AND id = ?`, t.Name, id).Scan(&hlc, &site, &r.Scope)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	r.Tomb = engine.Version{HLC: engine.HLC(hlc), Site: engine.SiteID(site)}
	return r, err == nil, err
}

func (m mergeTx) SaveRow(t *engine.Table, id string, r *engine.Row) error {
	s := statements(t)
	if r.Live() {
		args := make([]any, 0, len(r.Values)+2)
		args = append(args, id)
		args = append(args, r.Values...)
		args = append(args, engine.EncodeVersions(r.Tomb, r.Versions))
		if _, err := m.tx.Exec(s.upsert, args...); err != nil {
			return err
		}
	} else if _, err := m.tx.Exec(s.del, id); err != nil {
		return err
	}
	// A live row's tombstone was written when the delete was applied (Scope is only set then,
	// or when the row was loaded as a tombstone); writing it again would bring back a
	// tombstone that compaction removed.
	if r.Tomb.IsZero() || r.Scope == "" {
		return nil
	}
	_, err := m.tx.Exec(`INSERT INTO _hearth_tombstones (tbl, id, hlc, site, scope) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(tbl, id) DO UPDATE SET hlc = excluded.hlc, site = excluded.site, scope = excluded.scope, seq = 0
		WHERE hlc != excluded.hlc OR site != excluded.site`,
		t.Name, id, int64(r.Tomb.HLC), int64(r.Tomb.Site), r.Scope)
	return err
}

func (m mergeTx) LoadNotes(t *engine.Table, id string) ([]engine.NoteVersion, error) {
	s, err := m.tx.Stmt(`SELECT hlc, site, value, superseded FROM _hearth_notes WHERE tbl = ? AND id = ?`)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(m.tx.ctx, t.Name, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.NoteVersion
	for rows.Next() {
		var hlc, site int64
		var n engine.NoteVersion
		var val sql.NullString
		if err := rows.Scan(&hlc, &site, &val, &n.Superseded); err != nil {
			return nil, err
		}
		n.Version = engine.Version{HLC: engine.HLC(hlc), Site: engine.SiteID(site)}
		if val.Valid {
			n.Value = val.String
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (m mergeTx) SaveNotes(t *engine.Table, id string, vs []engine.NoteVersion) error {
	if _, err := m.tx.Exec(`DELETE FROM _hearth_notes WHERE tbl = ? AND id = ?`, t.Name, id); err != nil {
		return err
	}
	for _, n := range vs {
		if _, err := m.tx.Exec(`INSERT INTO _hearth_notes (tbl, id, hlc, site, value, superseded) VALUES (?, ?, ?, ?, ?, ?)`,
			t.Name, id, int64(n.Version.HLC), int64(n.Version.Site), n.Value, n.Superseded); err != nil {
			return err
		}
	}
	return nil
}
