//go:build !js

package sqlitestore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"hearth/engine"
)

const systemDDL = `
CREATE TABLE IF NOT EXISTS _hearth_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _hearth_tombstones (
	tbl TEXT NOT NULL, id TEXT NOT NULL, hlc INTEGER NOT NULL, site INTEGER NOT NULL, scope TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (tbl, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS _hearth_tombstones_seq ON _hearth_tombstones(seq) WHERE seq > 0;
CREATE TABLE IF NOT EXISTS _hearth_notes (
	tbl TEXT NOT NULL, id TEXT NOT NULL, hlc INTEGER NOT NULL, site INTEGER NOT NULL, value TEXT, superseded INTEGER NOT NULL,
	PRIMARY KEY (tbl, id, hlc, site)) WITHOUT ROWID;
-- the leaves (versions no edit replaced): a note with two or more is in conflict
CREATE INDEX IF NOT EXISTS _hearth_notes_leaves ON _hearth_notes(tbl, id) WHERE superseded = 0;
-- changes received for tables or columns of a newer schema, applied again after upgrading
CREATE TABLE IF NOT EXISTS _hearth_future (seq INTEGER PRIMARY KEY AUTOINCREMENT, change BLOB NOT NULL);
`

// migrate brings the file to db.schema in one transaction: system tables, then each numbered
// migration the file has not seen.
func (db *DB) migrate(ctx context.Context) error {
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Tx.ExecContext(ctx, systemDDL); err != nil {
			return fmt.Errorf("create system tables: %w", err)
		}
		cur := 0
		if v, err := tx.Meta("schema_version"); err != nil {
			return err
		} else if v != "" {
			if cur, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("schema_version %q: %w", v, err)
			}
		}
		if cur > db.schema.Version() {
			return fmt.Errorf("%w: the store is at schema %d, this program knows %d: upgrade Hearth", engine.ErrSchemaVersion, cur, db.schema.Version())
		}
		covered := scopeCovered(db.schema)
		for _, m := range db.schema.Migrations()[cur:] {
			for _, st := range m.Steps {
				for _, q := range ddl(st, covered) {
					if _, err := tx.Tx.ExecContext(ctx, q); err != nil {
						return fmt.Errorf("migration %d: %s: %w", m.Version, q, err)
					}
				}
			}
		}
		// A scope column's own index is redundant once one of the schema's indexes starts
		// with it, and every write pays for it: stores made before that index came drop it.
		// Looked up first: a DROP, even of an index that is not there, costs every open a
		// schema change's work.
		for t := range covered {
			name := scopeIndex(db.schema.Table(t))
			var n int
			if err := tx.Tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil {
				return fmt.Errorf("look up index %s: %w", name, err)
			}
			if n == 0 {
				continue
			}
			if _, err := tx.Tx.ExecContext(ctx, fmt.Sprintf("DROP INDEX %q", name)); err != nil {
				return fmt.Errorf("drop redundant index of %s: %w", t, err)
			}
		}
		if cur == db.schema.Version() {
			return nil
		}
		// Changes kept for this schema are applied again by engine.OpenReplica.
		return tx.SetMeta("schema_version", strconv.Itoa(db.schema.Version()))
	})
}

// scopeCovered names the tables whose scope column leads one of the schema's indexes: their
// scope lookups use that index, so the store needs no index of the scope column alone.
func scopeCovered(s *engine.Schema) map[string]bool {
	out := map[string]bool{}
	for _, m := range s.Migrations() {
		for _, st := range m.Steps {
			if ix := st.AddIndex; ix != nil && len(ix.Columns) > 0 {
				if t := s.Table(ix.Table); t != nil && t.ScopeColumn != "" && t.ScopeColumn != "id" && ix.Columns[0] == t.ScopeColumn {
					out[t.Name] = true
				}
			}
		}
	}
	return out
}

// scopeIndex is the name of the index a table's scope column gets when no schema index
// starts with it.
func scopeIndex(t *engine.Table) string { return t.Name + "_" + t.ScopeColumn }

func ddl(st engine.Step, covered map[string]bool) []string {
	if t := st.AddTable; t != nil {
		cols := []string{`id TEXT PRIMARY KEY NOT NULL`}
		for _, c := range t.Columns {
			cols = append(cols, fmt.Sprintf("%q %s", c.Name, c.Type))
		}
		cols = append(cols, `_v BLOB NOT NULL`)
		// WITHOUT ROWID: rows are keyed by their text id, so a rowid table would keep a second
		// b-tree (the id index) and every write would touch both.
		out := []string{fmt.Sprintf("CREATE TABLE %q (%s) WITHOUT ROWID", t.Name, strings.Join(cols, ", "))}
		if t.ScopeColumn != "" && t.ScopeColumn != "id" && !covered[t.Name] {
			out = append(out, fmt.Sprintf("CREATE INDEX %q ON %q(%q)", scopeIndex(t), t.Name, t.ScopeColumn))
		}
		return out
	}
	if ix := st.AddIndex; ix != nil {
		cols := make([]string, len(ix.Columns))
		for i, c := range ix.Columns {
			cols[i] = fmt.Sprintf("%q", c)
		}
		return []string{fmt.Sprintf("CREATE INDEX IF NOT EXISTS %q ON %q(%s)", ix.Name, ix.Table, strings.Join(cols, ", "))}
	}
	a := st.AddColumn
	return []string{fmt.Sprintf("ALTER TABLE %q ADD COLUMN %q %s", a.Table, a.Column.Name, a.Column.Type)}
}
