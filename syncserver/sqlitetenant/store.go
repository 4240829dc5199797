// Package sqlitetenant keeps each tenant of the sync server in its own SQLite file, on
// engine/sqlitestore: the merged state in the same tables as every replica, and the server's
// log, batches, replicas and chain beside them. It implements syncserver.TenantStore.
package sqlitetenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hearth/engine"
	"hearth/engine/sqlitestore"
	"hearth/syncserver"
)

// The server's own tables, beside the replicated ones. Existing tenant files hold exactly
// these: change them only with a migration.
const tenantDDL = `
CREATE TABLE IF NOT EXISTS _server_log (
	seq INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, site INTEGER NOT NULL,
	tbl TEXT NOT NULL, rid TEXT NOT NULL, change BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS _server_log_scope ON _server_log(scope, seq);
CREATE TABLE IF NOT EXISTS _server_batches (key TEXT PRIMARY KEY, seqs BLOB NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _server_replicas (
	site INTEGER PRIMARY KEY, user TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
	cursor INTEGER NOT NULL DEFAULT 0, acked INTEGER NOT NULL DEFAULT 0, retired INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS _server_chain (
	link INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, rid TEXT NOT NULL, hash BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS _server_chain_row ON _server_chain(tbl, rid);
`

// Metadata keys of the compaction state, in _hearth_meta.
const (
	metaHorizon = "compacted_through"
	metaFloor   = "compact_floor"
)

// Options tune a Store. The zero value is the default.
type Options struct {
	// MaxPages, when positive, caps the file at this many SQLite pages (PRAGMA
	// max_page_count on the writer connection; never below the file's size when opened). A
	// write that would grow the file past it fails as on a full disk: for tests and drills of
	// that case without a full disk. Zero: no cap.
	MaxPages int
}

// Store is one tenant's SQLite file.
type Store struct {
	db *sqlitestore.DB
}

var (
	_ syncserver.TenantStore = (*Store)(nil)
	_ syncserver.StoreTx     = (*tx)(nil)
)

// Path is where a tenant's file lives under a server's data directory.
func Path(dataDir, id string) string { return filepath.Join(dataDir, "tenants", id+".db") }

// Opener opens each tenant in its own file under dataDir/tenants (see Path), creating it on
// first use: the server's default store.
func Opener(dataDir string, schema *engine.Schema, opts Options) syncserver.TenantOpener {
	return func(ctx context.Context, info syncserver.TenantInfo) (syncserver.TenantStore, error) {
		if err := os.MkdirAll(filepath.Join(dataDir, "tenants"), 0o700); err != nil {
			return nil, fmt.Errorf("tenant %s: %w", info.ID, err)
		}
		return Open(ctx, Path(dataDir, info.ID), schema, opts)
	}
}

// Open opens or creates the tenant file at path and migrates it to schema.
func Open(ctx context.Context, path string, schema *engine.Schema, opts Options) (*Store, error) {
	db, err := sqlitestore.Open(ctx, path, schema, sqlitestore.Options{})
	if err != nil {
		return nil, err
	}
	err = db.Update(ctx, func(tx *sqlitestore.Tx) error {
		if _, err := tx.Tx.ExecContext(ctx, tenantDDL); err != nil {
			return err
		}
		if opts.MaxPages > 0 {
			// A setting of the connection: the store writes through its one long-lived writer.
			_, err := tx.Tx.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", opts.MaxPages))
			return err
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// DB returns the underlying SQLite store, for tools and tests that read the file directly.
func (s *Store) DB() *sqlitestore.DB { return s.db }

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Schema returns the schema the file was migrated to.
func (s *Store) Schema() *engine.Schema { return s.db.Schema() }

// Get reads a committed live row, or engine.ErrNotFound.
func (s *Store) Get(ctx context.Context, table, id string) (engine.Record, error) {
	return s.db.Get(ctx, table, id)
}

// Select reads committed live rows.
func (s *Store) Select(ctx context.Context, q engine.Query) ([]engine.Record, error) {
	return s.db.Select(ctx, q)
}

// Hash hashes the live rows in the scopes grants accepts (sqlitestore.DB.HashFor).
func (s *Store) Hash(ctx context.Context, grants func(scope string) bool) (string, error) {
	return s.db.HashFor(ctx, grants)
}

// Update runs fn in one write transaction of the file's one writer.
func (s *Store) Update(ctx context.Context, fn func(syncserver.StoreTx) error) error {
	return s.db.Update(ctx, func(stx *sqlitestore.Tx) error { return fn(&tx{Tx: stx}) })
}

// ReadLog reads a page of the log in one read transaction of the read pool.
func (s *Store) ReadLog(ctx context.Context, q syncserver.LogQuery) (syncserver.LogPage, error) {
	var page syncserver.LogPage
	rtx, err := s.db.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return page, fmt.Errorf("read log: %w", err)
	}
	defer rtx.Rollback()
	var head sql.NullInt64
	if err := rtx.QueryRowContext(ctx, `SELECT max(seq) FROM _server_log`).Scan(&head); err != nil {
		return page, fmt.Errorf("read log: head: %w", err)
	}
	page.Head = uint64(head.Int64)
	if page.Horizon, err = metaUint(ctx, rtx, metaHorizon); err != nil {
		return page, fmt.Errorf("read log: horizon: %w", err)
	}
	if q.Limit <= 0 || page.Head <= q.After {
		return page, nil
	}
	query := `SELECT seq, change FROM _server_log WHERE seq > ?`
	args := []any{int64(q.After)}
	if q.ExcludeSite != 0 {
		query += ` AND site != ?`
		args = append(args, int64(q.ExcludeSite))
	}
	if where, wargs := scopeFilter(q.Scopes); where != "" {
		query += ` AND ` + where
		args = append(args, wargs...)
	}
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, q.Limit)
	rows, err := rtx.QueryContext(ctx, query, args...)
	if err != nil {
		return page, fmt.Errorf("read log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return page, fmt.Errorf("read log: %w", err)
		}
		page.Seqs = append(page.Seqs, uint64(seq))
		page.Raw = append(page.Raw, b)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("read log: %w", err)
	}
	return page, nil
}

// scopeFilter returns the SQL condition that selects log entries in scopes (exact scopes and
// "kind:*" patterns), or "" when scopes include every scope.
func scopeFilter(scopes []string) (string, []any) {
	var exact, patterns []any
	for _, s := range scopes {
		switch {
		case s == engine.AllScopes:
			return "", nil
		case strings.HasSuffix(s, ":*"):
			patterns = append(patterns, s) // GLOB's "*" is the pattern's: ids hold no glob characters
		default:
			exact = append(exact, s)
		}
	}
	var terms []string
	if len(exact) > 0 {
		terms = append(terms, `scope IN (`+strings.TrimSuffix(strings.Repeat("?,", len(exact)), ",")+`)`)
	}
	for range patterns {
		terms = append(terms, `scope GLOB ?`)
	}
	if len(terms) == 0 {
		return "0", nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", append(exact, patterns...)
}

// Replicas lists the replicas in the order they were first seen.
func (s *Store) Replicas(ctx context.Context) ([]syncserver.ReplicaInfo, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT site, user, first_seen, last_seen, cursor, acked, retired FROM _server_replicas ORDER BY first_seen`)
	if err != nil {
		return nil, fmt.Errorf("replicas: %w", err)
	}
	defer rows.Close()
	var out []syncserver.ReplicaInfo
	for rows.Next() {
		var r syncserver.ReplicaInfo
		var site, first, last, cursor, acked int64
		if err := rows.Scan(&site, &r.User, &first, &last, &cursor, &acked, &r.Retired); err != nil {
			return nil, fmt.Errorf("replicas: %w", err)
		}
		r.Site, r.Cursor, r.Acked = engine.SiteID(site), uint64(cursor), uint64(acked)
		r.FirstSeen, r.LastSeen = timeOf(first), timeOf(last)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Chain walks the chain's links and counts the chained tables' rows in one read transaction.
func (s *Store) Chain(ctx context.Context, fn func(syncserver.ChainLink) error) (map[string]syncserver.ChainedRows, error) {
	rtx, err := s.db.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("chain: %w", err)
	}
	defer rtx.Rollback()
	linked := map[string]int{}
	if err := s.walkChain(ctx, rtx, linked, fn); err != nil {
		return nil, err
	}
	out := map[string]syncserver.ChainedRows{}
	for _, tb := range s.db.Schema().Tables() {
		if !tb.Chained {
			continue
		}
		var c syncserver.ChainedRows
		if err := rtx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %q`, tb.Name)).Scan(&c.Count); err != nil {
			return nil, fmt.Errorf("chain: count %s: %w", tb.Name, err)
		}
		if c.Count != linked[tb.Name] {
			err := rtx.QueryRowContext(ctx, fmt.Sprintf(`SELECT id FROM %q WHERE id NOT IN (SELECT rid FROM _server_chain WHERE tbl = ?) LIMIT 1`, tb.Name), tb.Name).Scan(&c.Unlinked)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("chain: unlinked %s: %w", tb.Name, err)
			}
		}
		out[tb.Name] = c
	}
	return out, nil
}

func (s *Store) walkChain(ctx context.Context, rtx *sql.Tx, linked map[string]int, fn func(syncserver.ChainLink) error) error {
	rows, err := rtx.QueryContext(ctx, `SELECT link, tbl, rid, hash FROM _server_chain ORDER BY link`)
	if err != nil {
		return fmt.Errorf("chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l syncserver.ChainLink
		if err := rows.Scan(&l.Link, &l.Table, &l.Row, &l.Hash); err != nil {
			return fmt.Errorf("chain: %w", err)
		}
		if tb := s.db.Schema().Table(l.Table); tb != nil {
			if l.Record, err = readRow(ctx, rtx, tb, l.Row); err != nil {
				return err
			}
			if l.Record != nil {
				linked[l.Table]++
			}
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	return rows.Err()
}

// readRow reads one stored row's columns by name, or nil if there is none.
func readRow(ctx context.Context, rtx *sql.Tx, tb *engine.Table, id string) (engine.Record, error) {
	cols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		cols[i] = fmt.Sprintf("%q", c.Name)
	}
	vals := make([]any, len(tb.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := rtx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %q WHERE id = ?`, strings.Join(cols, ", "), tb.Name), id).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", tb.Name, id, err)
	}
	rec := make(engine.Record, len(vals)+1)
	rec["id"] = id
	for i, c := range tb.Columns {
		rec[c.Name] = vals[i]
	}
	return rec, nil
}
