package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metadata keys the replica keeps in its store.
const (
	metaSite     = "site_id"
	metaClock    = "clock"     // the greatest HLC issued or applied, as of the last ack or page
	metaBatches  = "batches"   // the batch-key counter, which never goes back
	metaBatch    = "batch"     // the batch in flight: "<key> <seq of its last entry>"
	metaCursor   = "cursor"    // the server's log position applied so far
	metaAcked    = "acked"     // the cursor as of the last moment the outbox was empty
	metaLastSync = "last_sync" // RFC 3339 time of the last ack or page
)

// Replica is a client's copy of a tenant: the replicated state, the outbox of local changes
// not yet acknowledged by the server, and the cursor of the server's log applied so far. It
// holds every rule of the client side of the protocol over a Store that only stores, and it is
// the SyncStore a Syncer drives.
type Replica struct {
	store  Store
	schema *Schema
	site   SiteID
	clock  *Clock

	mu       sync.Mutex
	onWrite  []func()
	onRemote []func([]Change)
	state    SyncState // kept in memory: this replica is its store's only writer
}

var _ SyncStore = (*Replica)(nil)

// ReplicaOptions tune a replica.
type ReplicaOptions struct {
	// Clock stamps local writes (default: wall time, DefaultMaxDrift).
	Clock *Clock
}

// OpenReplica opens a replica on store, which becomes the replica's. A new store gets a random
// site id. The clock is restored so that it never issues a timestamp below one the replica
// issued or applied before, even if the wall clock went back while it was closed. Changes kept
// for a newer schema are applied again: if the store was upgraded since, they now apply.
func OpenReplica(ctx context.Context, store Store, opts ReplicaOptions) (*Replica, error) {
	r := &Replica{store: store, schema: store.Schema(), clock: opts.Clock}
	if r.clock == nil {
		r.clock = NewClock(nil, 0)
	}
	err := store.Update(ctx, func(tx StoreTx) error {
		s, err := tx.Meta(metaSite)
		if err != nil {
			return err
		}
		if s == "" {
			r.site = NewSiteID()
			if err := tx.SetMeta(metaSite, r.site.String()); err != nil {
				return err
			}
		} else if r.site, err = ParseSiteID(s); err != nil {
			return fmt.Errorf("stored site id: %w", err)
		}
		last, err := metaUint(tx, metaClock)
		if err != nil {
			return err
		}
		n, newest, err := tx.OutboxStats()
		if err != nil {
			return err
		}
		r.clock.Restore(HLC(max(last, uint64(newest))))
		r.state.Pending = n
		if r.state.Cursor, err = metaUint(tx, metaCursor); err != nil {
			return err
		}
		if r.state.Acked, err = metaUint(tx, metaAcked); err != nil {
			return err
		}
		if v, err := tx.Meta(metaLastSync); err != nil {
			return err
		} else if v != "" {
			if r.state.LastSync, err = time.Parse(time.RFC3339Nano, v); err != nil {
				return fmt.Errorf("stored %s %q: %w", metaLastSync, v, err)
			}
		}
		return replayFuture(tx, r.schema)
	})
	if err != nil {
		return nil, fmt.Errorf("open replica: %w", err)
	}
	return r, nil
}

// metaUint reads a numeric metadata value (0 when unset).
func metaUint(tx StoreTx, key string) (uint64, error) {
	v, err := tx.Meta(key)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stored %s %q: %w", key, v, err)
	}
	return n, nil
}

func setMetaUint(tx StoreTx, key string, n uint64) error {
	return tx.SetMeta(key, strconv.FormatUint(n, 10))
}

// replayFuture applies again the changes kept because they named tables or columns the
// store's schema lacked. Merge is idempotent, so the parts applied before are no-ops; a change
// the schema now knows entirely leaves the queue.
func replayFuture(tx StoreTx, s *Schema) error {
	kept, err := tx.Future()
	if err != nil {
		return fmt.Errorf("read kept changes: %w", err)
	}
	for _, k := range kept {
		res, err := Apply(tx, s, &k.Change)
		if err != nil {
			return fmt.Errorf("replay kept change %s/%s: %w", k.Change.Table, k.Change.ID, err)
		}
		if !res.Future {
			if err := tx.DeleteFuture(k.Seq); err != nil {
				return err
			}
		}
	}
	return nil
}

// Store returns the replica's store.
func (r *Replica) Store() Store { return r.store }

// SiteID returns the replica's site id.
func (r *Replica) SiteID() SiteID { return r.site }

// Schema returns the replica's schema.
func (r *Replica) Schema() *Schema { return r.schema }

// Clock returns the replica's clock.
func (r *Replica) Clock() *Clock { return r.clock }

// Close closes the store.
func (r *Replica) Close() error { return r.store.Close() }

// Get reads one live row (see RowReader).
func (r *Replica) Get(ctx context.Context, table, id string) (Record, error) {
	return r.store.Get(ctx, table, id)
}

// Select reads the rows a query selects (see RowReader).
func (r *Replica) Select(ctx context.Context, q Query) ([]Record, error) {
	return r.store.Select(ctx, q)
}

// OnLocalWrite registers fn to run after each committed local write (typically a sync loop's
// Notify). fn must not block.
func (r *Replica) OnLocalWrite(fn func()) {
	r.mu.Lock()
	r.onWrite = append(r.onWrite, fn)
	r.mu.Unlock()
}

// OnRemoteChanges registers fn to run after each committed page of the server's changes, with
// the page's changes (which fn must not modify): a screen refreshes when a table it shows
// changed. fn runs on the sync loop's goroutine and must not block.
func (r *Replica) OnRemoteChanges(fn func([]Change)) {
	r.mu.Lock()
	r.onRemote = append(r.onRemote, fn)
	r.mu.Unlock()
}

// Write applies mutations locally in one transaction and records them in the outbox. It
// returns the changes made, in order. Listeners run only after the commit.
func (r *Replica) Write(ctx context.Context, muts ...Mutation) ([]Change, error) {
	out := make([]Change, 0, len(muts))
	err := r.store.Update(ctx, func(tx StoreTx) error {
		out = out[:0]
		if len(muts) > 1 {
			keys := make([]Change, len(muts))
			for i, m := range muts {
				keys[i] = Change{Table: m.Table, ID: m.ID}
			}
			if err := tx.Prefetch(keys); err != nil {
				return err
			}
		}
		for _, m := range muts {
			ch, err := Local(tx, r.schema, r.clock, r.site, m)
			if err != nil {
				return err
			}
			out = append(out, ch)
		}
		return tx.AppendOutbox(out)
	})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.state.Pending += len(out)
	fns := r.onWrite
	r.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return out, nil
}

// inflight is the batch sent and not yet acknowledged: its key and the outbox position of its
// last change. Batches are always the oldest entries of the outbox, so the position says which.
type inflight struct {
	key  string
	upto uint64
}

func readInflight(tx StoreTx) (inflight, error) {
	v, err := tx.Meta(metaBatch)
	if err != nil || v == "" {
		return inflight{}, err
	}
	key, upto, ok := strings.Cut(v, " ")
	n, err := strconv.ParseUint(upto, 10, 64)
	if !ok || err != nil || key == "" {
		return inflight{}, fmt.Errorf("stored %s %q is malformed", metaBatch, v)
	}
	return inflight{key, n}, nil
}

// batchEntries returns the outbox entries of the batch in flight.
func batchEntries(tx StoreTx, b inflight) ([]OutboxEntry, error) {
	var out []OutboxEntry
	for limit := 512; ; limit *= 4 {
		all, err := tx.Outbox(limit)
		if err != nil {
			return nil, err
		}
		out = out[:0]
		for _, e := range all {
			if e.Seq > b.upto {
				return out, nil
			}
			out = append(out, e)
		}
		if len(all) < limit {
			return out, nil
		}
	}
}

// NextBatch returns the oldest unacknowledged batch: a batch sent before is returned again
// unchanged, with its original key, so that the server can recognise a retry; otherwise up to
// max outbox changes form a new batch. An empty Batch means the outbox is empty.
func (r *Replica) NextBatch(ctx context.Context, max int) (Push, error) {
	var p Push
	err := r.store.Update(ctx, func(tx StoreTx) error {
		p = Push{}
		b, err := readInflight(tx)
		if err != nil {
			return err
		}
		var entries []OutboxEntry
		if b.key != "" {
			if entries, err = batchEntries(tx, b); err != nil {
				return err
			}
		} else {
			if entries, err = tx.Outbox(max); err != nil || len(entries) == 0 {
				return err
			}
			// Keys come from a counter that never goes back, so a key is never reused for other
			// content even when the outbox is re-batched (a reused key would be acknowledged
			// with the old batch's ack, and its new changes dropped).
			n, err := metaUint(tx, metaBatches)
			if err != nil {
				return err
			}
			if err := setMetaUint(tx, metaBatches, n+1); err != nil {
				return err
			}
			b = inflight{key: fmt.Sprintf("%s-%d", r.site, n+1), upto: entries[len(entries)-1].Seq}
			if err := tx.SetMeta(metaBatch, fmt.Sprintf("%s %d", b.key, b.upto)); err != nil {
				return err
			}
		}
		p.Batch = b.key
		p.Changes = make([]Change, len(entries))
		for i, e := range entries {
			p.Changes[i] = e.Change
		}
		return nil
	})
	if err != nil {
		return Push{}, fmt.Errorf("next batch: %w", err)
	}
	return p, nil
}

// AckBatch removes an acknowledged batch from the outbox, keeps the changes the server refused
// for a person to see, and records where its deletes sit in the server's log. Acknowledging a
// batch that is not in flight (a duplicate ack) does nothing.
func (r *Replica) AckBatch(ctx context.Context, ack *Ack) error {
	var removed int
	var up update
	err := r.store.Update(ctx, func(tx StoreTx) error {
		removed, up = 0, update{}
		b, err := readInflight(tx)
		if err != nil || b.key != ack.Batch || b.key == "" {
			return err
		}
		entries, err := batchEntries(tx, b)
		if err != nil {
			return err
		}
		var newest HLC
		for _, e := range entries {
			newest = max(newest, e.Change.HLC)
		}
		if err := r.saveClock(tx, newest); err != nil {
			return err
		}
		refused := map[int]bool{}
		now := time.Now().UTC()
		for _, rj := range ack.Rejected {
			if rj.Index < 0 || rj.Index >= len(entries) || refused[rj.Index] {
				continue
			}
			refused[rj.Index] = true
			if err := tx.AddRejected(RejectedChange{Batch: ack.Batch, Change: entries[rj.Index].Change,
				Code: rj.Code, Message: rj.Message, At: now}); err != nil {
				return err
			}
		}
		seqs := make([]uint64, len(entries))
		for i, e := range entries {
			seqs[i] = e.Seq
			if e.Change.Delete && i < len(ack.Seqs) && ack.Seqs[i] > 0 && !refused[i] {
				if err := tx.SetTombstoneSeq(&entries[i].Change, ack.Seqs[i]); err != nil {
					return err
				}
			}
		}
		if err := tx.DeleteOutbox(seqs); err != nil {
			return err
		}
		if err := tx.SetMeta(metaBatch, ""); err != nil {
			return err
		}
		removed = len(entries)
		up, err = r.synced(tx, r.snapshot().Cursor)
		return err
	})
	if err != nil {
		return fmt.Errorf("ack batch %s: %w", ack.Batch, err)
	}
	if removed > 0 {
		r.record(up, -removed)
	}
	return nil
}

// snapshot returns the bookkeeping as kept in memory.
func (r *Replica) snapshot() SyncState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// update is what a committed sync transaction changed in the bookkeeping.
type update struct {
	cursor   uint64
	acked    uint64
	setAcked bool
	lastSync time.Time
}

// record records a committed update and a change of the outbox's size. The outbox size moves
// by deltas because local writes commit concurrently with the sync loop.
func (r *Replica) record(up update, pending int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.Pending += pending
	if !up.lastSync.IsZero() {
		r.state.Cursor, r.state.LastSync = up.cursor, up.lastSync
	}
	if up.setAcked {
		r.state.Acked = up.acked
	}
}

// synced records a sync (an ack or a page) with the replica at cursor: the time, and the
// cursor as acknowledged if the outbox is empty. At that moment every change this replica made
// is on the server, so none older than the cursor can still come from it: tombstone compaction
// relies on this. The outbox is read in the transaction, not from the in-memory count, which
// lags a local write that just committed.
func (r *Replica) synced(tx StoreTx, cursor uint64) (update, error) {
	up := update{cursor: cursor, lastSync: time.Now().UTC()}
	if err := tx.SetMeta(metaLastSync, up.lastSync.Format(time.RFC3339Nano)); err != nil {
		return up, err
	}
	first, err := tx.Outbox(1)
	if err != nil || len(first) > 0 {
		return up, err
	}
	up.acked, up.setAcked = cursor, true
	return up, setMetaUint(tx, metaAcked, cursor)
}

// ApplyRemote applies one page of the server's log and stores its cursor in the same
// transaction, so that a crash leaves either the whole page applied or none of it. Changes for
// a newer schema are applied for what this one knows and kept to apply again after an upgrade;
// a page's horizon compacts the tombstones every replica has. The cursor never goes back: a
// page older than what was applied (a late duplicate) changes nothing, merge being idempotent.
func (r *Replica) ApplyRemote(ctx context.Context, page *Changes) error {
	var up update
	err := r.store.Update(ctx, func(tx StoreTx) error {
		if err := tx.Prefetch(page.Changes); err != nil {
			return err
		}
		for i := range page.Changes {
			ch := &page.Changes[i]
			if err := r.clock.Observe(ch.HLC); err != nil && !errors.Is(err, ErrClockSkew) {
				return err
			}
			res, err := Apply(tx, r.schema, ch)
			if err != nil {
				return fmt.Errorf("apply %s/%s: %w", ch.Table, ch.ID, err)
			}
			if res.Future {
				if err := tx.AddFuture(ch); err != nil {
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
		cursor := max(r.snapshot().Cursor, page.Cursor)
		if err := setMetaUint(tx, metaCursor, cursor); err != nil {
			return err
		}
		if err := r.saveClock(tx, r.clock.Last()); err != nil {
			return err
		}
		var err error
		up, err = r.synced(tx, cursor)
		return err
	})
	if err != nil {
		return fmt.Errorf("apply page to cursor %d: %w", page.Cursor, err)
	}
	r.record(up, 0)
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
func (r *Replica) State(ctx context.Context) (SyncState, error) { return r.snapshot(), nil }

// Reset drops the replicated state and the cursor but keeps the outbox: what a replica does
// when the server says it was retired and must re-sync from the start. ReplayOutbox, after the
// fresh copy is pulled, puts the replica's unsent work back on top of it.
func (r *Replica) Reset(ctx context.Context) error {
	err := r.store.Update(ctx, func(tx StoreTx) error {
		if err := tx.Clear(); err != nil {
			return err
		}
		if err := setMetaUint(tx, metaCursor, 0); err != nil {
			return err
		}
		return setMetaUint(tx, metaAcked, 0)
	})
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	r.mu.Lock()
	r.state.Cursor, r.state.Acked = 0, 0
	r.mu.Unlock()
	return nil
}

// ReplayOutbox applies the outbox again on a freshly pulled copy. A change the server would
// drop (Stale: an old update of a row whose deletion was compacted) is dropped here too, so
// the deleted row is not resurrected on either side. Batches are formed afresh.
func (r *Replica) ReplayOutbox(ctx context.Context, floor HLC) error {
	var dropped int
	err := r.store.Update(ctx, func(tx StoreTx) error {
		all, err := tx.Outbox(0)
		if err != nil {
			return err
		}
		var drop []uint64
		for _, e := range all {
			t := r.schema.Table(e.Change.Table)
			if t == nil {
				return fmt.Errorf("replay %s/%s: %w", e.Change.Table, e.Change.ID, ErrUnknownTable)
			}
			_, known, err := tx.LoadRow(t, e.Change.ID)
			if err != nil {
				return err
			}
			if Stale(&e.Change, floor, known) {
				drop = append(drop, e.Seq)
				continue
			}
			if _, err := Apply(tx, r.schema, &e.Change); err != nil {
				return fmt.Errorf("replay %s/%s: %w", e.Change.Table, e.Change.ID, err)
			}
		}
		if err := tx.DeleteOutbox(drop); err != nil {
			return err
		}
		dropped = len(drop)
		return tx.SetMeta(metaBatch, "")
	})
	if err != nil {
		return fmt.Errorf("replay outbox: %w", err)
	}
	r.record(update{}, -dropped)
	return nil
}

// Rejected lists the local changes the server's rules refused, oldest first.
func (r *Replica) Rejected(ctx context.Context) ([]RejectedChange, error) {
	out, err := r.store.Rejected(ctx)
	if err != nil {
		return nil, fmt.Errorf("rejected changes: %w", err)
	}
	return out, nil
}

// saveClock records the clock in the store if it moved past what is recorded. It runs when a
// batch is acknowledged and when a page is applied, not on every write: a write's timestamp is
// in its outbox entry until then, and OpenReplica restores the clock from both.
func (r *Replica) saveClock(tx StoreTx, c HLC) error {
	old, err := metaUint(tx, metaClock)
	if err != nil || uint64(c) <= old {
		return err
	}
	return setMetaUint(tx, metaClock, uint64(c))
}
