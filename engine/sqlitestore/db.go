//go:build !js

// Package sqlitestore keeps a replica of a Hearth schema in one SQLite file: the replicated
// tables as plain tables that applications can query, each row's column versions beside it,
// tombstones and note versions, and the merge of changes through engine.Apply. A Replica adds
// the outbox and cursor of a client; the sync server builds its tenant store on DB.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"hearth/engine"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// Options tune how a store opens its file. The zero value is a safe default.
type Options struct {
	// BusyTimeout is how long a writer waits for another process's lock (default 5s).
	BusyTimeout time.Duration
	// ReadConns caps the read-only pool (default 4).
	ReadConns int
	// Synchronous is SQLite's synchronous setting in WAL mode: NORMAL (default) survives a
	// process crash and may lose the last transactions on power loss; FULL survives both.
	Synchronous string
	// CheckpointEvery is how often a background connection moves the WAL into the database
	// file (default 1s; negative: SQLite checkpoints in the commits themselves, as it does by
	// default). See checkpoint.go.
	CheckpointEvery time.Duration
}

// DB is a SQLite file holding a replica's state. It has one writer connection, because SQLite
// allows one writer at a time, and a separate read-only pool, so that reads never queue
// behind writes.
type DB struct {
	path   string
	w      *sql.DB
	r      *sql.DB
	schema *engine.Schema

	mu    sync.Mutex
	stmts map[string]*sql.Stmt

	ck             *sql.DB // the checkpointer's connection (nil: SQLite's own checkpoints)
	ckStop, ckDone chan struct{}
	ckOnce         sync.Once
	checkpoints    atomic.Int64 // background checkpoints done, for tests
}

// Open opens or creates the store at path and migrates it to schema. It refuses a store
// written by a newer schema.
func Open(ctx context.Context, path string, schema *engine.Schema, opts Options) (*DB, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if opts.Synchronous == "" {
		opts.Synchronous = "NORMAL"
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = time.Second
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
	q.Set("_synchronous", opts.Synchronous)
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{path: path, w: w, schema: schema, stmts: map[string]*sql.Stmt{}}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if opts.CheckpointEvery > 0 {
		cq := url.Values{}
		cq.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
		cq.Set("_synchronous", opts.Synchronous)
		if err := db.startCheckpoints(path, cq, opts.CheckpointEvery); err != nil {
			w.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	rq := url.Values{}
	rq.Set("mode", "ro")
	rq.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
	r, err := sql.Open("sqlite3", "file:"+path+"?"+rq.Encode())
	if err != nil {
		db.stopCheckpoints()
		w.Close()
		return nil, fmt.Errorf("open %s read-only: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns) // keep them: closing and reopening SQLite connections under load costs more
	db.r = r
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.mu.Lock()
	for _, s := range db.stmts {
		s.Close()
	}
	db.stmts = nil
	db.mu.Unlock()
	return errors.Join(db.stopCheckpoints(), db.r.Close(), db.w.Close())
}

// Path returns the file the store lives in.
func (db *DB) Path() string { return db.path }

// Schema returns the schema the store was migrated to.
func (db *DB) Schema() *engine.Schema { return db.schema }

// Reader returns the read-only pool, for queries of the replicated tables.
func (db *DB) Reader() *sql.DB { return db.r }

// Tx is one write transaction of a store.
type Tx struct {
	*sql.Tx
	db         *DB
	ctx        context.Context
	cache      map[string]*sql.Stmt
	fresh      []string // queries first seen in this transaction, prepared on the pool after it
	rows       map[rowKey]*cachedRow
	dirty      []rowKey
	notes      map[rowKey]*cachedNotes
	dirtyNotes []rowKey
}

// Update runs fn in one write transaction, committed when fn returns nil. Cancelling ctx
// aborts the transaction before it commits; statements themselves run uncancellable, because
// a cancellable context costs a goroutine per statement in database/sql and the driver.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	run := context.WithoutCancel(ctx)
	stx, err := db.w.BeginTx(run, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: stx, db: db, ctx: run, cache: map[string]*sql.Stmt{}, rows: map[rowKey]*cachedRow{}, notes: map[rowKey]*cachedNotes{}}
	defer func() { db.promote(tx.fresh) }()
	if err := fn(tx); err != nil {
		stx.Rollback()
		return err
	}
	if err := tx.flush(); err != nil {
		stx.Rollback()
		return err
	}
	if err := ctx.Err(); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// promote prepares queries on the writer pool once its one connection is free again, so that
// later transactions reuse the prepared statement instead of preparing it each time. (Preparing
// on the pool while a transaction holds the connection would wait forever.)
func (db *DB) promote(queries []string) {
	for _, q := range queries {
		db.mu.Lock()
		_, done := db.stmts[q]
		closed := db.stmts == nil
		db.mu.Unlock()
		if done || closed {
			continue
		}
		// Not under db.mu: Prepare waits for the writer connection, and a transaction that holds
		// it may need db.mu in Stmt.
		ps, err := db.w.Prepare(q)
		if err != nil {
			continue // the query works unprepared-per-transaction; nothing is lost
		}
		db.mu.Lock()
		if _, dup := db.stmts[q]; dup || db.stmts == nil {
			ps.Close()
		} else {
			db.stmts[q] = ps
		}
		db.mu.Unlock()
	}
}

// Stmt returns query prepared for this transaction, reusing the pool's prepared statement.
func (tx *Tx) Stmt(query string) (*sql.Stmt, error) {
	if s, ok := tx.cache[query]; ok {
		return s, nil
	}
	tx.db.mu.Lock()
	ps, ok := tx.db.stmts[query]
	tx.db.mu.Unlock()
	var s *sql.Stmt
	if ok {
		s = tx.Tx.StmtContext(tx.ctx, ps)
	} else {
		var err error
		if s, err = tx.Tx.PrepareContext(tx.ctx, query); err != nil {
			return nil, fmt.Errorf("prepare %q: %w", query, err)
		}
		tx.fresh = append(tx.fresh, query)
	}
	tx.cache[query] = s
	return s, nil
}

// Exec runs a cached statement.
func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	s, err := tx.Stmt(query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(tx.ctx, args...)
}

// QueryRow runs a cached single-row query.
func (tx *Tx) QueryRow(query string, args ...any) *sql.Row {
	s, err := tx.Stmt(query)
	if err != nil {
		return tx.Tx.QueryRowContext(tx.ctx, query, args...) // reports the same error on Scan
	}
	return s.QueryRowContext(tx.ctx, args...)
}

// CheckScope checks a change's table, id and scope without applying it (see engine.CheckScope).
func (tx *Tx) CheckScope(ch *engine.Change) error {
	return engine.CheckScope(mergeTx{tx}, tx.db.schema, ch)
}

// Apply merges a change into the store (see engine.Apply).
func (tx *Tx) Apply(ch *engine.Change) (engine.Result, error) {
	return engine.Apply(mergeTx{tx}, tx.db.schema, ch)
}

// storedChange is a change kept in one of the store's queues (outbox, future) with its key.
type storedChange struct {
	seq int64
	ch  engine.Change
}

// readChanges runs query, which selects (seq, encoded change) rows, and decodes them all before
// returning, so that the caller may write to the same tables while going through them.
func (tx *Tx) readChanges(query string, args ...any) ([]storedChange, error) {
	s, err := tx.Stmt(query)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(tx.ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedChange
	for rows.Next() {
		var sc storedChange
		var b []byte
		if err := rows.Scan(&sc.seq, &b); err != nil {
			return nil, err
		}
		if sc.ch, err = engine.DecodeChange(b); err != nil {
			return nil, fmt.Errorf("stored change %d: %w", sc.seq, err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// Row reads a live row inside the transaction (seeing this transaction's own writes).
func (tx *Tx) Row(table, id string) (Record, bool, error) {
	t := tx.db.schema.Table(table)
	if t == nil {
		return nil, false, fmt.Errorf("%s: %w", table, engine.ErrUnknownTable)
	}
	r, found, err := mergeTx{tx}.LoadRow(t, id)
	if err != nil || !found || !r.Live() {
		return nil, false, err
	}
	rec := Record{"id": id}
	for i, c := range t.Columns {
		rec[c.Name] = r.Values[i]
	}
	return rec, true, nil
}

// Local applies a mutation made by this store's owner, stamped with clk and site, and returns
// the change (see engine.Local). The caller records the change wherever it must go.
func (tx *Tx) Local(clk *engine.Clock, site engine.SiteID, m engine.Mutation) (engine.Change, error) {
	return engine.Local(mergeTx{tx}, tx.db.schema, clk, site, m)
}

// Known reports whether the store holds anything of a row: the row, or its tombstone.
func (tx *Tx) Known(table, id string) (bool, error) {
	t := tx.db.schema.Table(table)
	if t == nil {
		return false, fmt.Errorf("%s: %w", table, engine.ErrUnknownTable)
	}
	_, found, err := mergeTx{tx}.LoadRow(t, id)
	return found, err
}

// Meta reads a value of the store's key-value metadata; missing keys read as "".
func (tx *Tx) Meta(key string) (string, error) {
	var v string
	err := tx.QueryRow(`SELECT value FROM _hearth_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta writes a value of the store's key-value metadata.
func (tx *Tx) SetMeta(key, value string) error {
	_, err := tx.Exec(`INSERT INTO _hearth_meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// SetTombstoneSeq records the log position of the tombstone that ch (a delete) left, if it is
// still the row's tombstone, so that it can be compacted once every replica has it.
func (tx *Tx) SetTombstoneSeq(ch *engine.Change, seq uint64) error {
	_, err := tx.Exec(`UPDATE _hearth_tombstones SET seq = ? WHERE tbl = ? AND id = ? AND hlc = ? AND site = ?`,
		int64(seq), ch.Table, ch.ID, int64(ch.HLC), int64(ch.Site))
	return err
}

// CompactTombstones drops tombstones whose log position is at or below horizon.
func (tx *Tx) CompactTombstones(horizon uint64) (int64, error) {
	res, err := tx.Exec(`DELETE FROM _hearth_tombstones WHERE seq > 0 AND seq <= ?`, int64(horizon))
	if err != nil {
		return 0, fmt.Errorf("compact tombstones: %w", err)
	}
	return res.RowsAffected()
}

// Query runs a read query inside the transaction, after writing out the rows this transaction
// has changed so far, so that the query sees them.
func (tx *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if err := tx.flush(); err != nil {
		return nil, err
	}
	s, err := tx.Stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(tx.ctx, args...)
}
