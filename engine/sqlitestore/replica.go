//go:build !js

package sqlitestore

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
)

const replicaDDL = `
CREATE TABLE IF NOT EXISTS _hearth_outbox (seq INTEGER PRIMARY KEY, batch TEXT, hlc INTEGER NOT NULL, change BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS _hearth_outbox_batch ON _hearth_outbox(batch) WHERE batch IS NOT NULL;
-- local changes the server's rules refused (see engine.Ack.Rejected), kept for a person to see
CREATE TABLE IF NOT EXISTS _hearth_rejected (seq INTEGER PRIMARY KEY, batch TEXT NOT NULL, code TEXT NOT NULL,
	message TEXT NOT NULL, change BLOB NOT NULL, at INTEGER NOT NULL);
`

// Replica is a client's store: the replicated state, plus the outbox of local changes not yet
// acknowledged by the server and the cursor of the server's log applied so far.
type Replica struct {
	*DB
	site  engine.SiteID
	clock *engine.Clock

	mu       sync.Mutex
	onWrite  []func()
	onRemote []func([]engine.Change)

	pending atomic.Int64 // outbox size, kept in memory: counting the table on every status is O(n)
}

// saveClock records the clock in the store, if it moved past what is recorded. It runs when a
// batch is acknowledged and when a page is applied, not on every write: a write's timestamp is
// in its outbox row until then, and OpenReplica restores the clock from both.
func saveClock(tx *Tx, c engine.HLC) error {
	v, err := tx.Meta("clock")
	if err != nil {
		return err
	}
	if old, _ := strconv.ParseUint(v, 10, 64); uint64(c) <= old {
		return nil
	}
	return tx.SetMeta("clock", strconv.FormatUint(uint64(c), 10))
}

// ReplicaOptions tune a replica.
type ReplicaOptions struct {
	Options
	// Clock stamps local writes (default: wall time, engine.DefaultMaxDrift).
	Clock *engine.Clock
}

// OpenReplica opens or creates a replica store at path. A new store gets a random site id.
func OpenReplica(ctx context.Context, path string, schema *engine.Schema, opts ReplicaOptions) (*Replica, error) {
	db, err := Open(ctx, path, schema, opts.Options)
	if err != nil {
		return nil, err
	}
	r := &Replica{DB: db, clock: opts.Clock}
	if r.clock == nil {
		r.clock = engine.NewClock(nil, 0)
	}
	err = db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Tx.ExecContext(ctx, replicaDDL); err != nil {
			return fmt.Errorf("create outbox: %w", err)
		}
		s, err := tx.Meta("site_id")
		if err != nil {
			return err
		}
		if s == "" {
			r.site = engine.NewSiteID()
			return tx.SetMeta("site_id", r.site.String())
		}
		r.site, err = engine.ParseSiteID(s)
		if err != nil {
			return err
		}
		// Never issue a timestamp below one this replica already issued or applied, even if the
		// wall clock went back while it was closed: the last is either recorded or in the outbox.
		var n uint64
		if last, err := tx.Meta("clock"); err != nil {
			return err
		} else if last != "" {
			if n, err = strconv.ParseUint(last, 10, 64); err != nil {
				return fmt.Errorf("stored clock %q: %w", last, err)
			}
		}
		var pending sql.NullInt64
		if err := tx.QueryRow(`SELECT max(hlc) FROM _hearth_outbox`).Scan(&pending); err != nil {
			return err
		}
		r.clock.Restore(engine.HLC(max(n, uint64(pending.Int64))))
		return nil
	})
	if err == nil {
		var n int64
		err = db.w.QueryRowContext(ctx, `SELECT count(*) FROM _hearth_outbox`).Scan(&n)
		r.pending.Store(n)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open replica %s: %w", path, err)
	}
	return r, nil
}

// SiteID returns the replica's site id.
func (r *Replica) SiteID() engine.SiteID { return r.site }

// Clock returns the replica's clock.
func (r *Replica) Clock() *engine.Clock { return r.clock }

// OnLocalWrite registers fn to run after each committed local write (typically a sync
// loop's Notify). fn must not block.
func (r *Replica) OnLocalWrite(fn func()) {
	r.mu.Lock()
	r.onWrite = append(r.onWrite, fn)
	r.mu.Unlock()
}

// OnRemoteChanges registers fn to run after each committed page of the server's changes, with
// the page's changes (which fn must not modify): a screen refreshes when a table it shows
// changed. fn runs on the sync loop's goroutine and must not block.
func (r *Replica) OnRemoteChanges(fn func([]engine.Change)) {
	r.mu.Lock()
	r.onRemote = append(r.onRemote, fn)
	r.mu.Unlock()
}

// Write applies mutations locally in one transaction and records them in the outbox. It
// returns the changes made, in order.
func (r *Replica) Write(ctx context.Context, muts ...engine.Mutation) ([]engine.Change, error) {
	out := make([]engine.Change, 0, len(muts))
	err := r.Update(ctx, func(tx *Tx) error {
		if len(muts) > 1 {
			keys := make([]engine.Change, len(muts))
			for i, m := range muts {
				keys[i] = engine.Change{Table: m.Table, ID: m.ID}
			}
			if err := tx.Prefetch(keys); err != nil {
				return err
			}
		}
		encoded := make([][]byte, 0, len(muts))
		for _, m := range muts {
			ch, err := engine.Local(mergeTx{tx}, r.schema, r.clock, r.site, m)
			if err != nil {
				return err
			}
			b, err := engine.EncodeChange(&ch)
			if err != nil {
				return err
			}
			encoded = append(encoded, b)
			out = append(out, ch)
		}
		return appendOutbox(tx, out, encoded)
	})
	if err != nil {
		return nil, err
	}
	r.pending.Add(int64(len(out)))
	r.mu.Lock()
	fns := r.onWrite
	r.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return out, nil
}

// appendOutbox inserts encoded changes into the outbox, several rows per statement.
func appendOutbox(tx *Tx, chs []engine.Change, encoded [][]byte) error {
	for len(encoded) > 0 {
		n := chunk(len(encoded))
		q := `INSERT INTO _hearth_outbox (hlc, change) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, n-1)
		args := make([]any, 0, 2*n)
		for i, b := range encoded[:n] {
			args = append(args, int64(chs[i].HLC), b)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		chs, encoded = chs[n:], encoded[n:]
	}
	return nil
}

// NextBatch returns the oldest unacknowledged batch: a batch sent before is returned again
// unchanged, with its original key, so that the server can recognise a retry; otherwise up to
// max outbox changes form a new batch. An empty Batch means the outbox is empty.
func (r *Replica) NextBatch(ctx context.Context, max int) (engine.Push, error) {
	var p engine.Push
	err := r.Update(ctx, func(tx *Tx) error {
		// At most one batch is formed at a time, so any assigned row names it; the partial
		// index finds it without scanning the outbox.
		err := tx.QueryRow(`SELECT batch FROM _hearth_outbox WHERE batch IS NOT NULL LIMIT 1`).Scan(&p.Batch)
		if errors.Is(err, sql.ErrNoRows) {
			var first int64
			err = tx.QueryRow(`SELECT seq FROM _hearth_outbox ORDER BY seq LIMIT 1`).Scan(&first)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			// Keys come from a counter that never goes back, so a key is never reused for other
			// content even when the outbox is re-batched (a reused key would be acknowledged
			// with the old batch's ack, and its new changes dropped).
			n, err := tx.Meta("batches")
			if err != nil {
				return err
			}
			next, _ := strconv.ParseUint(n, 10, 64)
			next++
			if err := tx.SetMeta("batches", strconv.FormatUint(next, 10)); err != nil {
				return err
			}
			p.Batch = fmt.Sprintf("%s-%d", r.site, next)
			_, err = tx.Exec(`UPDATE _hearth_outbox SET batch = ? WHERE seq IN (SELECT seq FROM _hearth_outbox ORDER BY seq LIMIT ?)`, p.Batch, max)
		}
		if err != nil {
			return err
		}
		p.Changes, err = batchChanges(tx, p.Batch)
		return err
	})
	if err != nil {
		return engine.Push{}, fmt.Errorf("next batch: %w", err)
	}
	return p, nil
}

func batchChanges(tx *Tx, batch string) ([]engine.Change, error) {
	stored, err := tx.readChanges(`SELECT seq, change FROM _hearth_outbox WHERE batch = ? ORDER BY seq`, batch)
	out := make([]engine.Change, len(stored))
	for i, sc := range stored {
		out[i] = sc.ch
	}
	return out, err
}

// AckBatch removes an acknowledged batch from the outbox and records where its deletes sit in
// the server's log. Acknowledging an unknown batch (a duplicate ack) does nothing.
func (r *Replica) AckBatch(ctx context.Context, ack *engine.Ack) error {
	var removed int64
	err := r.Update(ctx, func(tx *Tx) error {
		chs, err := batchChanges(tx, ack.Batch)
		if err != nil {
			return err
		}
		var newest engine.HLC
		for i := range chs {
			newest = max(newest, chs[i].HLC)
		}
		if err := saveClock(tx, newest); err != nil {
			return err
		}
		for _, rj := range ack.Rejected {
			if rj.Index < 0 || rj.Index >= len(chs) {
				continue
			}
			b, err := engine.EncodeChange(&chs[rj.Index])
			if err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO _hearth_rejected (batch, code, message, change, at) VALUES (?, ?, ?, ?, ?)`,
				ack.Batch, rj.Code, rj.Message, b, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		refused := map[int]bool{}
		for _, rj := range ack.Rejected {
			refused[rj.Index] = true
		}
		for i := range chs {
			if chs[i].Delete && i < len(ack.Seqs) && ack.Seqs[i] > 0 && !refused[i] {
				if err := tx.SetTombstoneSeq(&chs[i], ack.Seqs[i]); err != nil {
					return err
				}
			}
		}
		res, err := tx.Exec(`DELETE FROM _hearth_outbox WHERE batch = ?`, ack.Batch)
		if err != nil {
			return err
		}
		if removed, err = res.RowsAffected(); err != nil {
			return err
		}
		if err := tx.SetMeta("last_sync", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		return markAcked(tx)
	})
	if err != nil {
		return fmt.Errorf("ack batch %s: %w", ack.Batch, err)
	}
	r.pending.Add(-removed)
	return nil
}

// markAcked records the cursor as acknowledged when the outbox is empty: at that moment every
// change this replica made is on the server, so none older than the cursor can still come.
func markAcked(tx *Tx) error {
	var pending int
	if err := tx.QueryRow(`SELECT count(*) FROM (SELECT 1 FROM _hearth_outbox LIMIT 1)`).Scan(&pending); err != nil {
		return err
	}
	if pending > 0 {
		return nil
	}
	c, err := tx.Meta("cursor")
	if err != nil {
		return err
	}
	return tx.SetMeta("acked", c)
}

// ApplyRemote applies one page of the server's log and stores its cursor in the same
// transaction, so that a crash leaves either the whole page applied or none of it.
func (r *Replica) ApplyRemote(ctx context.Context, page *engine.Changes) error {
	err := r.Update(ctx, func(tx *Tx) error {
		if err := tx.Prefetch(page.Changes); err != nil {
			return err
		}
		for i := range page.Changes {
			ch := &page.Changes[i]
			if err := r.clock.Observe(ch.HLC); err != nil && !errors.Is(err, engine.ErrClockSkew) {
				return err
			}
			res, err := tx.Apply(ch)
			if err != nil {
				return fmt.Errorf("apply %s/%s: %w", ch.Table, ch.ID, err)
			}
			if res.Future {
				b, err := engine.EncodeChange(ch)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(`INSERT INTO _hearth_future (change) VALUES (?)`, b); err != nil {
					return err
				}
			}
			if ch.Delete && i < len(page.Seqs) {
				if err := tx.SetTombstoneSeq(ch, page.Seqs[i]); err != nil {
					return err
				}
			}
		}
		if page.Horizon > 0 {
			if _, err := tx.CompactTombstones(page.Horizon); err != nil {
				return err
			}
		}
		if err := tx.SetMeta("cursor", strconv.FormatUint(page.Cursor, 10)); err != nil {
			return err
		}
		if err := saveClock(tx, r.clock.Last()); err != nil {
			return err
		}
		if err := tx.SetMeta("last_sync", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		return markAcked(tx)
	})
	if err != nil {
		return fmt.Errorf("apply page to cursor %d: %w", page.Cursor, err)
	}
	if len(page.Changes) > 0 {
		r.mu.Lock()
		fns := r.onRemote
		r.mu.Unlock()
		for _, fn := range fns {
			fn(page.Changes)
		}
	}
	return nil
}

// State returns the replica's sync bookkeeping.
func (r *Replica) State(ctx context.Context) (engine.SyncState, error) {
	var st engine.SyncState
	rows, err := r.r.QueryContext(ctx, `SELECT key, value FROM _hearth_meta WHERE key IN ('cursor', 'acked', 'last_sync')`)
	if err != nil {
		return st, fmt.Errorf("sync state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return st, err
		}
		switch k {
		case "cursor":
			st.Cursor, err = strconv.ParseUint(v, 10, 64)
		case "acked":
			st.Acked, err = strconv.ParseUint(v, 10, 64)
		case "last_sync":
			st.LastSync, err = time.Parse(time.RFC3339Nano, v)
		}
		if err != nil {
			return st, fmt.Errorf("sync state %s=%q: %w", k, v, err)
		}
	}
	st.Pending = int(r.pending.Load())
	return st, rows.Err()
}

// Reset drops the replicated state and the cursor but keeps the outbox: what a replica does
// when the server says it was retired and must re-sync from the start. ReplayOutbox, after the
// fresh copy is pulled, puts the replica's unsent work back on top of it.
func (r *Replica) Reset(ctx context.Context) error {
	return r.Update(ctx, func(tx *Tx) error {
		for _, t := range r.schema.Tables() {
			if _, err := tx.Tx.ExecContext(ctx, fmt.Sprintf("DELETE FROM %q", t.Name)); err != nil {
				return fmt.Errorf("reset %s: %w", t.Name, err)
			}
		}
		for _, q := range []string{`DELETE FROM _hearth_tombstones`, `DELETE FROM _hearth_notes`, `DELETE FROM _hearth_future`,
			`DELETE FROM _hearth_meta WHERE key IN ('cursor', 'acked')`} {
			if _, err := tx.Tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("reset: %w", err)
			}
		}
		return nil
	})
}

// ReplayOutbox applies the outbox again on a freshly pulled copy. A change the server would
// drop (engine.Stale: an old update of a row whose deletion was compacted) is dropped here too,
// so the deleted row is not resurrected on either side. Batches are formed afresh.
func (r *Replica) ReplayOutbox(ctx context.Context, floor engine.HLC) error {
	var dropped int64
	err := r.Update(ctx, func(tx *Tx) error {
		all, err := tx.readChanges(`SELECT seq, change FROM _hearth_outbox ORDER BY seq`)
		if err != nil {
			return err
		}
		for _, e := range all {
			known, err := tx.Known(e.ch.Table, e.ch.ID)
			if err != nil {
				return err
			}
			if engine.Stale(&e.ch, floor, known) {
				if _, err := tx.Exec(`DELETE FROM _hearth_outbox WHERE seq = ?`, e.seq); err != nil {
					return err
				}
				dropped++
				continue
			}
			if _, err := tx.Apply(&e.ch); err != nil {
				return fmt.Errorf("replay %s/%s: %w", e.ch.Table, e.ch.ID, err)
			}
		}
		_, err = tx.Exec(`UPDATE _hearth_outbox SET batch = NULL`)
		return err
	})
	if err == nil {
		r.pending.Add(-dropped)
	}
	return err
}

// RejectedChange is a local change the server's rules refused, kept for a person to see (and
// redo properly: a refused change is not retried).
type RejectedChange struct {
	Change  engine.Change
	Code    string
	Message string
	At      time.Time
}

// Rejected lists the refused changes, oldest first.
func (r *Replica) Rejected(ctx context.Context) ([]RejectedChange, error) {
	rows, err := r.r.QueryContext(ctx, `SELECT code, message, change, at FROM _hearth_rejected ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("rejected changes: %w", err)
	}
	defer rows.Close()
	var out []RejectedChange
	for rows.Next() {
		var rc RejectedChange
		var b []byte
		var at int64
		if err := rows.Scan(&rc.Code, &rc.Message, &b, &at); err != nil {
			return nil, err
		}
		if rc.Change, err = engine.DecodeChange(b); err != nil {
			return nil, fmt.Errorf("rejected change: %w", err)
		}
		rc.At = time.UnixMilli(at).UTC()
		out = append(out, rc)
	}
	return out, rows.Err()
}
