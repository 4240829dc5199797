package syncserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hearth/engine"
	"hearth/engine/sqlitestore"
	"hearth/syncserver/token"

	"github.com/vmihailenco/msgpack/v5"
)

const tenantDDL = `
CREATE TABLE IF NOT EXISTS _server_log (
	seq INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, site INTEGER NOT NULL,
	tbl TEXT NOT NULL, rid TEXT NOT NULL, change BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS _server_log_scope ON _server_log(scope, seq);
CREATE TABLE IF NOT EXISTS _server_batches (key TEXT PRIMARY KEY, seqs BLOB NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _server_replicas (
	site INTEGER PRIMARY KEY, user TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
	cursor INTEGER NOT NULL DEFAULT 0, acked INTEGER NOT NULL DEFAULT 0, retired INTEGER NOT NULL DEFAULT 0);
`

// Tenant is one clinic's server-side store: the merged state of its replicated tables (the same
// merge every replica runs), the change log with its monotonic sequence, the idempotency record
// of pushed batches, and what each replica has acknowledged. It lives in its own SQLite file;
// nothing reads across two tenants' files.
type Tenant struct {
	ID    string
	db    *sqlitestore.DB
	hub   *hub
	now   func() time.Time
	site  engine.SiteID // the server's own site in this tenant, for writes made by requests
	clock *engine.Clock // stamps the server's own writes
	hooks Hooks

	progMu sync.Mutex
	prog   map[engine.SiteID]progress // reported since the last FlushProgress

	tail    *tail         // the newest log entries, for live sessions
	horizon atomic.Uint64 // compacted_through, as pages report it
}

// Hooks are the domain's rules and reactions that a tenant runs around its transactions.
// Every field is optional.
type Hooks struct {
	// CheckPush runs for every pushed change inside the push's transaction, before the change
	// is applied. Returning an *engine.Error refuses the whole batch with that code; rc.Write
	// records, as the server, what the change implies (an audit entry of a write).
	CheckPush func(ctx context.Context, rc *RequestContext, ch *engine.Change) error
	// Committed is told, after each commit, the changes it logged (pushed, or written by the
	// server). It runs on the committing goroutine and must return quickly.
	Committed func(t *Tenant, changes []*engine.Change)
}

// Origin is who pushes a batch: the connection's verified claims and its replica's site.
type Origin struct {
	Claims token.Claims
	Site   engine.SiteID
}

// SetHooks installs the domain's hooks; call it before the tenant serves sessions.
func (t *Tenant) SetHooks(h Hooks) { t.hooks = h }

// Clock returns the clock that stamps the server's own writes in this tenant.
func (t *Tenant) Clock() *engine.Clock { return t.clock }

// OpenTenant opens or creates a tenant's store at path.
func OpenTenant(ctx context.Context, id, path string, schema *engine.Schema, now func() time.Time) (*Tenant, error) {
	db, err := sqlitestore.Open(ctx, path, schema, sqlitestore.Options{})
	if err != nil {
		return nil, fmt.Errorf("open tenant %s: %w", id, err)
	}
	var site engine.SiteID
	err = db.Update(ctx, func(tx *sqlitestore.Tx) error {
		if _, err := tx.Tx.ExecContext(ctx, tenantDDL); err != nil {
			return err
		}
		s, err := tx.Meta("site_id")
		if err != nil {
			return err
		}
		if _, err := tx.Tx.ExecContext(ctx, chainDDL); err != nil {
			return err
		}
		if s == "" {
			site = engine.NewSiteID()
			return tx.SetMeta("site_id", site.String())
		}
		site, err = engine.ParseSiteID(s)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open tenant %s: %w", id, err)
	}
	if now == nil {
		now = time.Now
	}
	var head sql.NullInt64
	var horizon uint64
	err = db.Reader().QueryRowContext(ctx, `SELECT max(seq) FROM _server_log`).Scan(&head)
	if err == nil {
		var tx *sql.Tx
		if tx, err = db.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err == nil {
			horizon, err = metaOn(ctx, tx, "compacted_through")
			tx.Rollback()
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open tenant %s: %w", id, err)
	}
	t := &Tenant{ID: id, db: db, hub: newHub(), now: now, site: site, clock: engine.NewClock(now, 0), tail: newTail(uint64(head.Int64))}
	t.horizon.Store(horizon)
	return t, nil
}

// Close writes the progress it holds and closes the tenant's store.
func (t *Tenant) Close() error {
	return errors.Join(t.FlushProgress(context.Background()), t.db.Close())
}

// limitPages caps the store at n pages (see Options.MaxTenantPages). max_page_count is a setting
// of the connection, and the store writes through its one long-lived writer connection.
func (t *Tenant) limitPages(ctx context.Context, n int) error {
	err := t.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		_, err := tx.Tx.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n))
		return err
	})
	if err != nil {
		return fmt.Errorf("tenant %s: max pages: %w", t.ID, err)
	}
	return nil
}

// DB returns the tenant's store, for reads and hashing.
func (t *Tenant) DB() *sqlitestore.DB { return t.db }

// Push applies a batch pushed by a replica exactly once: a batch key seen before returns the
// original ack and changes nothing. Every change that changed the tenant's state is appended
// to the log; the ack holds each change's sequence number (0 for those that changed nothing).
// Live sessions are woken only after the commit.
func (t *Tenant) Push(ctx context.Context, from Origin, p *engine.Push) (*engine.Ack, error) {
	key := from.Site.String() + "/" + p.Batch
	ack := &engine.Ack{Batch: p.Batch, Seqs: make([]uint64, len(p.Changes))}
	var logged []*engine.Change
	var tailed []logEntry
	err := t.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		logged, tailed = nil, nil // a retried transaction starts over
		var prev []byte
		err := tx.QueryRow(`SELECT seqs FROM _server_batches WHERE key = ?`, key).Scan(&prev)
		if err == nil {
			return decodeStoredAck(prev, ack)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		floor, err := compactFloor(tx)
		if err != nil {
			return err
		}
		if err := tx.Prefetch(p.Changes); err != nil {
			return err
		}
		rc := &RequestContext{Claims: from.Claims, Site: from.Site, tx: tx, tenant: t}
		overruled := map[int]int{} // refused change -> the server's write that answers it
		var entries []logEntry
		for i := range p.Changes {
			ch := &p.Changes[i]
			if floor > 0 && ch.HLC <= floor && !ch.Create {
				known, err := tx.Known(ch.Table, ch.ID)
				if err != nil {
					return fmt.Errorf("change %d: %w", i, err)
				}
				if engine.Stale(ch, floor, known) {
					continue
				}
			}
			if t.hooks.CheckPush != nil {
				// The rules judge only changes that are what they claim to be.
				if err := tx.CheckScope(ch); err != nil {
					return fmt.Errorf("change %d (%s/%s): %w", i, ch.Table, ch.ID, err)
				}
				err := t.hooks.CheckPush(ctx, rc, ch)
				var rule *engine.Error
				if errors.As(err, &rule) {
					// The rules refuse this change: it is not applied, and the server writes
					// its own values over what it touched, so the writer converges back.
					ack.Rejected = append(ack.Rejected, engine.Rejection{Index: i, Code: rule.Code, Message: rule.Message})
					before := len(rc.changes)
					if err := t.overrule(tx, rc, ch); err != nil {
						return fmt.Errorf("change %d (%s/%s): overrule: %w", i, ch.Table, ch.ID, err)
					}
					if len(rc.changes) > before {
						overruled[i] = before
					}
					continue
				}
				if err != nil {
					return fmt.Errorf("change %d (%s/%s): %w", i, ch.Table, ch.ID, err)
				}
			}
			res, err := tx.Apply(ch)
			if err != nil {
				return fmt.Errorf("change %d (%s/%s): %w", i, ch.Table, ch.ID, err)
			}
			if res.Future {
				return fmt.Errorf("change %d (%s/%s): %w or column", i, ch.Table, ch.ID, engine.ErrUnknownTable)
			}
			if !res.Changed {
				continue
			}
			entries = append(entries, logEntry{index: i, ch: ch})
		}
		// The server's own writes (from CheckPush) follow the batch in the log.
		for i := range rc.changes {
			entries = append(entries, logEntry{index: len(p.Changes) + i, ch: &rc.changes[i]})
		}
		seqs := make([]uint64, len(p.Changes)+len(rc.changes))
		if err := t.record(tx, entries, seqs); err != nil {
			return err
		}
		copy(ack.Seqs, seqs)
		// A refused change's sequence number is that of the server's answer to it, so that the
		// writer waits for it like for its own changes.
		for i, k := range overruled {
			ack.Seqs[i] = seqs[len(p.Changes)+k]
		}
		for _, e := range entries {
			logged = append(logged, e.ch)
		}
		tailed = entries
		b, err := encodeStoredAck(ack)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO _server_batches (key, seqs, at) VALUES (?, ?, ?)`, key, b, t.now().UnixMilli())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("push batch %s to tenant %s: %w", p.Batch, t.ID, err)
	}
	for _, ch := range p.Changes {
		t.clock.Observe(ch.HLC) //nolint:errcheck // the session checked the drift
	}
	t.committed(tailed, logged)
	return ack, nil
}

// record logs entries (writing each one's sequence number into seqs at its index), numbers
// the tombstones among them and links the rows of chained tables.
func (t *Tenant) record(tx *sqlitestore.Tx, entries []logEntry, seqs []uint64) error {
	for i := range entries {
		b, err := engine.EncodeChange(entries[i].ch)
		if err != nil {
			return err
		}
		entries[i].encoded = b
	}
	if err := appendLog(tx, entries, seqs); err != nil {
		return err
	}
	for i := range entries {
		entries[i].seq = seqs[entries[i].index]
	}
	for _, e := range entries {
		if e.ch.Delete {
			if err := tx.SetTombstoneSeq(e.ch, seqs[e.index]); err != nil {
				return err
			}
		}
	}
	return t.chain(tx, entries)
}

// committed adds a commit's log entries to the tail, wakes live sessions and tells the
// domain's hook, after a commit that logged changes.
func (t *Tenant) committed(entries []logEntry, logged []*engine.Change) {
	if len(logged) == 0 {
		return
	}
	t.tail.add(entries)
	t.hub.notify()
	if t.hooks.Committed != nil {
		t.hooks.Committed(t, logged)
	}
}

// overrule answers a refused change by restating the server's state of what it touched, with
// the server's clock (which has observed the change's): the refused write then loses
// everywhere, its writer's replica included. A row the server has never stored is deleted,
// unless its table is append-only: such a row stays on its writer's replica alone.
func (t *Tenant) overrule(tx *sqlitestore.Tx, rc *RequestContext, ch *engine.Change) error {
	tb := t.db.Schema().Table(ch.Table)
	if tb == nil {
		return engine.ErrUnknownTable
	}
	t.clock.Observe(ch.HLC) //nolint:errcheck // the session checked the drift
	row, ok, err := tx.Row(ch.Table, ch.ID)
	if err != nil {
		return err
	}
	switch {
	case ok:
		cols := ch.Cols
		if ch.Delete {
			cols = nil // a refused delete: restate every column, which revives the row
			for _, c := range tb.Columns {
				cols = append(cols, c.Name)
			}
		}
		vals := map[string]any{}
		for _, c := range cols {
			if tb.Col(c) >= 0 && c != tb.ScopeColumn {
				vals[c] = row[c]
			}
		}
		if len(vals) == 0 {
			return nil
		}
		return rc.Write(engine.Mutation{Table: ch.Table, ID: ch.ID, Values: vals})
	case tb.Policy == engine.AppendOnly || ch.Delete:
		return nil
	}
	del := engine.Change{Table: ch.Table, ID: ch.ID, Scope: ch.Scope, HLC: t.clock.Now(), Site: t.site, Delete: true}
	if _, err := tx.Apply(&del); err != nil {
		return err
	}
	rc.changes = append(rc.changes, del)
	return nil
}

// encodeStoredAck and decodeStoredAck keep a batch's ack for a retried push. Batches stored
// before acks carried rejections hold only the sequence numbers.
func encodeStoredAck(ack *engine.Ack) ([]byte, error) {
	if len(ack.Rejected) == 0 {
		return msgpack.Marshal(ack.Seqs)
	}
	return msgpack.Marshal(ack)
}

func decodeStoredAck(b []byte, ack *engine.Ack) error {
	if err := msgpack.Unmarshal(b, &ack.Seqs); err == nil {
		return nil
	}
	var stored engine.Ack
	if err := msgpack.Unmarshal(b, &stored); err != nil {
		return fmt.Errorf("stored ack: %w", err)
	}
	ack.Seqs, ack.Rejected = stored.Seqs, stored.Rejected
	return nil
}

type logEntry struct {
	seq     uint64 // set by record
	index   int    // position in the pushed batch
	ch      *engine.Change
	encoded []byte
}

// appendLog appends entries to the log in multi-row inserts and writes each one's sequence
// number into seqs. Within one insert the log's AUTOINCREMENT key gives consecutive numbers,
// and this transaction is the only writer, so the last id tells them all.
func appendLog(tx *sqlitestore.Tx, entries []logEntry, seqs []uint64) error {
	for len(entries) > 0 {
		n := 1 // a few fixed sizes, so that few statements are prepared
		switch {
		case len(entries) >= 64:
			n = 64
		case len(entries) >= 8:
			n = 8
		}
		q := `INSERT INTO _server_log (scope, site, tbl, rid, change) VALUES (?, ?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?, ?)`, n-1)
		args := make([]any, 0, 5*n)
		for _, e := range entries[:n] {
			args = append(args, e.ch.Scope, int64(e.ch.Site), e.ch.Table, e.ch.ID, e.encoded)
		}
		r, err := tx.Exec(q, args...)
		if err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
		last, err := r.LastInsertId()
		if err != nil {
			return err
		}
		for k, e := range entries[:n] {
			seqs[e.index] = uint64(last) - uint64(n-1-k)
		}
		entries = entries[n:]
	}
	return nil
}

func compactFloor(tx *sqlitestore.Tx) (engine.HLC, error) {
	v, err := tx.Meta("compact_floor")
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return engine.HLC(n), err
}

// PullRequest selects a page of the log.
type PullRequest struct {
	Cursor      uint64
	Limit       int
	Scopes      []string      // scopes to return; containing engine.AllScopes means all
	ExcludeSite engine.SiteID // leave out this site's own changes (it has them)
	Raw         bool          // return the stored encodings (Changes.Raw) rather than decoded changes
}

// Pull returns up to Limit changes after Cursor in the requested scopes. The page's cursor is
// the last change returned, or the head of the log when the page ends it, so that a replica
// whose scopes see little of the log still moves its cursor forward.
func (t *Tenant) Pull(ctx context.Context, req PullRequest) (*engine.Changes, error) {
	if page, ok := t.tail.pull(req, t.horizon.Load()); ok {
		return page, nil
	}
	return t.pullStore(ctx, req)
}

// pullStore is Pull from the store.
func (t *Tenant) pullStore(ctx context.Context, req PullRequest) (*engine.Changes, error) {
	tx, err := t.db.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("pull tenant %s: %w", t.ID, err)
	}
	defer tx.Rollback()
	var head sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(seq) FROM _server_log`).Scan(&head); err != nil {
		return nil, fmt.Errorf("pull tenant %s: %w", t.ID, err)
	}
	page := &engine.Changes{Cursor: req.Cursor, Head: uint64(head.Int64)}
	if horizon, err := metaOn(ctx, tx, "compacted_through"); err == nil {
		page.Horizon = horizon
	} else {
		return nil, err
	}
	if !head.Valid || uint64(head.Int64) <= req.Cursor {
		return page, nil
	}
	q := `SELECT seq, change FROM _server_log WHERE seq > ?`
	args := []any{int64(req.Cursor)}
	if req.ExcludeSite != 0 {
		q += ` AND site != ?`
		args = append(args, int64(req.ExcludeSite))
	}
	if where, wargs := scopeFilter(req.Scopes); where != "" {
		q += ` AND ` + where
		args = append(args, wargs...)
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, req.Limit)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pull tenant %s: %w", t.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return nil, err
		}
		if req.Raw {
			page.Raw = append(page.Raw, b)
		} else {
			ch, err := engine.DecodeChange(b)
			if err != nil {
				return nil, fmt.Errorf("pull tenant %s seq %d: %w", t.ID, seq, err)
			}
			page.Changes = append(page.Changes, ch)
		}
		page.Seqs = append(page.Seqs, uint64(seq))
		page.Cursor = uint64(seq)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Seqs) == req.Limit {
		page.More = page.Cursor < uint64(head.Int64)
	} else {
		page.Cursor = uint64(head.Int64)
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

func metaOn(ctx context.Context, tx *sql.Tx, key string) (uint64, error) {
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM _hearth_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(v, 10, 64)
}

// Seen records that site connected as user and reports whether it had been retired, in which
// case it is taken back with its cursor reset: it must re-sync from the start. It also returns
// the compaction floor (see engine.Stale).
func (t *Tenant) Seen(ctx context.Context, site engine.SiteID, user string) (retired bool, floor engine.HLC, err error) {
	now := t.now().UnixMilli()
	err = t.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		var err error
		if floor, err = compactFloor(tx); err != nil {
			return err
		}
		var r int
		err = tx.QueryRow(`SELECT retired FROM _server_replicas WHERE site = ?`, int64(site)).Scan(&r)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(`INSERT INTO _server_replicas (site, user, first_seen, last_seen) VALUES (?, ?, ?, ?)`, int64(site), user, now, now)
			return err
		case err != nil:
			return err
		}
		retired = r != 0
		_, err = tx.Exec(`UPDATE _server_replicas SET user = ?, last_seen = ?, retired = 0,
			cursor = CASE WHEN retired THEN 0 ELSE cursor END, acked = CASE WHEN retired THEN 0 ELSE acked END WHERE site = ?`,
			user, now, int64(site))
		return err
	})
	if err != nil {
		return false, 0, fmt.Errorf("record replica %s of tenant %s: %w", site, t.ID, err)
	}
	return retired, floor, nil
}

// Progress records what a replica has applied and acknowledged. It is kept in memory and
// written with everyone else's by FlushProgress (the server does every second): a write
// transaction per page per replica would take the tenant's one writer from the pushes and
// requests. What a crash loses is a second of acknowledgements, which only delays compaction.
func (t *Tenant) Progress(ctx context.Context, site engine.SiteID, p *engine.Progress) error {
	t.progMu.Lock()
	defer t.progMu.Unlock()
	if t.prog == nil {
		t.prog = map[engine.SiteID]progress{}
	}
	old := t.prog[site]
	t.prog[site] = progress{cursor: p.Cursor, acked: max(old.acked, p.Acked), at: t.now().UnixMilli()}
	return nil
}

type progress struct {
	cursor, acked uint64
	at            int64 // Unix ms
}

// FlushProgress writes the progress recorded since the last flush in one transaction.
func (t *Tenant) FlushProgress(ctx context.Context) error {
	t.progMu.Lock()
	pending := t.prog
	t.prog = nil
	t.progMu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := t.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		for site, p := range pending {
			if _, err := tx.Exec(`UPDATE _server_replicas SET cursor = ?, acked = max(acked, ?), last_seen = ? WHERE site = ?`,
				int64(p.cursor), int64(p.acked), p.at, int64(site)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.progMu.Lock() // keep it for the next flush, unless newer progress came meanwhile
		for site, p := range pending {
			if _, newer := t.prog[site]; !newer {
				if t.prog == nil {
					t.prog = map[engine.SiteID]progress{}
				}
				t.prog[site] = p
			}
		}
		t.progMu.Unlock()
		return fmt.Errorf("record progress in tenant %s: %w", t.ID, err)
	}
	return nil
}

// CompactResult reports what a compaction did.
type CompactResult struct {
	Retired    int64  // replicas unseen past the retention horizon, now retired
	Horizon    uint64 // log position every active replica has acknowledged
	Tombstones int64  // tombstones dropped, with the log history of their rows
}

// Compact retires replicas unseen for longer than retention (a patient's browser may never
// come back), then drops the tombstones every remaining replica has acknowledged, along with
// the log entries of those deleted rows. A retired replica that returns re-syncs from the
// start. Updates older than the newest compacted tombstone are refused from then on for rows
// the server no longer knows, so that a returning replica cannot resurrect a deleted row.
func (t *Tenant) Compact(ctx context.Context, retention time.Duration) (CompactResult, error) {
	var res CompactResult
	if err := t.FlushProgress(ctx); err != nil {
		return res, err
	}
	err := t.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		r, err := tx.Exec(`UPDATE _server_replicas SET retired = 1 WHERE retired = 0 AND last_seen < ?`, t.now().Add(-retention).UnixMilli())
		if err != nil {
			return err
		}
		if res.Retired, err = r.RowsAffected(); err != nil {
			return err
		}
		var horizon, head sql.NullInt64
		if err := tx.QueryRow(`SELECT min(acked) FROM _server_replicas WHERE retired = 0`).Scan(&horizon); err != nil {
			return err
		}
		if err := tx.QueryRow(`SELECT max(seq) FROM _server_log`).Scan(&head); err != nil {
			return err
		}
		if !horizon.Valid {
			horizon = head // no active replica: everything is acknowledged by all who remain
		}
		if !horizon.Valid || horizon.Int64 == 0 {
			return nil
		}
		res.Horizon = uint64(horizon.Int64)
		var floor sql.NullInt64
		if err := tx.QueryRow(`SELECT max(hlc) FROM _hearth_tombstones WHERE seq > 0 AND seq <= ?`, horizon.Int64).Scan(&floor); err != nil {
			return err
		}
		// A row's history up to its delete goes; writes after the delete (which revived some
		// columns) stay.
		if _, err := tx.Exec(`DELETE FROM _server_log WHERE seq <= ? AND EXISTS (SELECT 1 FROM _hearth_tombstones t
			WHERE t.tbl = _server_log.tbl AND t.id = _server_log.rid AND t.seq > 0 AND t.seq <= ? AND _server_log.seq <= t.seq)`,
			horizon.Int64, horizon.Int64); err != nil {
			return fmt.Errorf("compact log: %w", err)
		}
		// Notes of deleted rows are already gone (merge prunes them); drop the tombstones.
		if res.Tombstones, err = tx.CompactTombstones(res.Horizon); err != nil {
			return err
		}
		if floor.Valid {
			old, err := compactFloor(tx)
			if err != nil {
				return err
			}
			if engine.HLC(floor.Int64) > old {
				if err := tx.SetMeta("compact_floor", strconv.FormatInt(floor.Int64, 10)); err != nil {
					return err
				}
			}
		}
		return tx.SetMeta("compacted_through", strconv.FormatUint(res.Horizon, 10))
	})
	if err != nil {
		return res, fmt.Errorf("compact tenant %s: %w", t.ID, err)
	}
	if res.Horizon > 0 {
		// Compaction removed history the tail may hold: start the tail afresh at the head.
		head, err := t.Head(ctx)
		if err != nil {
			return res, err
		}
		t.horizon.Store(max(t.horizon.Load(), res.Horizon))
		t.tail.reset(head)
	}
	return res, nil
}

// ReplicaInfo is what the server knows of one replica of a tenant.
type ReplicaInfo struct {
	Site      engine.SiteID
	User      string
	FirstSeen time.Time
	LastSeen  time.Time
	Cursor    uint64 // last log position it reported applied
	Acked     uint64 // log position it has acknowledged (see engine.Progress)
	Retired   bool
}

// Replicas lists the tenant's replicas.
func (t *Tenant) Replicas(ctx context.Context) ([]ReplicaInfo, error) {
	if err := t.FlushProgress(ctx); err != nil {
		return nil, err
	}
	rows, err := t.db.Reader().QueryContext(ctx, `SELECT site, user, first_seen, last_seen, cursor, acked, retired FROM _server_replicas ORDER BY first_seen`)
	if err != nil {
		return nil, fmt.Errorf("replicas of tenant %s: %w", t.ID, err)
	}
	defer rows.Close()
	var out []ReplicaInfo
	for rows.Next() {
		var r ReplicaInfo
		var site, first, last, cursor, acked int64
		if err := rows.Scan(&site, &r.User, &first, &last, &cursor, &acked, &r.Retired); err != nil {
			return nil, err
		}
		r.Site, r.Cursor, r.Acked = engine.SiteID(site), uint64(cursor), uint64(acked)
		r.FirstSeen, r.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Head returns the newest log position (0 for an empty log).
func (t *Tenant) Head(ctx context.Context) (uint64, error) {
	var head sql.NullInt64
	if err := t.db.Reader().QueryRowContext(ctx, `SELECT max(seq) FROM _server_log`).Scan(&head); err != nil {
		return 0, fmt.Errorf("head of tenant %s: %w", t.ID, err)
	}
	return uint64(head.Int64), nil
}
