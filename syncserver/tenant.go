package syncserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"hearth/engine"
	"hearth/syncserver/token"
)

// Tenant is one clinic on the server: the rules of push, pull, overrule and compaction over
// its TenantStore (the merged state of its replicated tables, the change log, the record of
// pushed batches and what each replica has acknowledged), the in-memory tail of its log and
// the hub that wakes its live sessions. Nothing reads across two tenants' stores.
type Tenant struct {
	ID    string
	store TenantStore
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
	// is applied. Returning an *engine.Error refuses that change alone: it is not applied, the
	// ack lists it as rejected with that code, and the server overrules it by writing its own
	// state of what the change touched, so that the writer converges back; the rest of the
	// batch is applied. Any other error fails the whole push (nothing commits, the replica
	// retries). rc.Write records, as the server, what the change implies (an audit entry of a
	// write).
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

// OpenTenant serves tenant id from store, which it then owns (Close closes it; after an error
// the caller still does). now is the clock of replicas' last-seen times (nil: time.Now).
func OpenTenant(ctx context.Context, id string, store TenantStore, now func() time.Time) (*Tenant, error) {
	if now == nil {
		now = time.Now
	}
	var site engine.SiteID
	err := store.Update(ctx, func(tx StoreTx) error {
		s, err := tx.Meta("site_id")
		if err != nil {
			return err
		}
		if s == "" {
			site = engine.NewSiteID()
			return tx.SetMeta("site_id", site.String())
		}
		site, err = engine.ParseSiteID(s)
		return err
	})
	var log LogPage
	if err == nil {
		log, err = store.ReadLog(ctx, LogQuery{})
	}
	if err != nil {
		return nil, fmt.Errorf("open tenant %s: %w", id, err)
	}
	t := &Tenant{ID: id, store: store, hub: newHub(), now: now, site: site, clock: engine.NewClock(now, 0), tail: newTail(lastSeq(log))}
	t.horizon.Store(log.Horizon)
	return t, nil
}

// lastSeq is the newest sequence number the log has given, which the next entry follows. It is
// the head, unless compaction removed the newest entries: those were at or below the horizon
// (which is at most the head it was computed from), so then it is the horizon.
func lastSeq(log LogPage) uint64 { return max(log.Head, log.Horizon) }

// Close writes the progress it holds and closes the tenant's store.
func (t *Tenant) Close() error {
	return errors.Join(t.FlushProgress(context.Background()), t.store.Close())
}

// Store returns the tenant's store, for reads (rows, hash, replicas) that need no rules.
func (t *Tenant) Store() TenantStore { return t.store }

// Push applies a batch pushed by a replica exactly once: a batch key seen before returns the
// original ack and changes nothing. Every change that changed the tenant's state is appended
// to the log; the ack holds each change's sequence number (0 for those that changed nothing).
// Live sessions are woken only after the commit.
func (t *Tenant) Push(ctx context.Context, from Origin, p *engine.Push) (*engine.Ack, error) {
	key := from.Site.String() + "/" + p.Batch
	ack := &engine.Ack{Batch: p.Batch, Seqs: make([]uint64, len(p.Changes))}
	var logged []*engine.Change
	var tailed []logEntry
	err := t.store.Update(ctx, func(tx StoreTx) error {
		logged, tailed = nil, nil // a retried transaction starts over
		prev, found, err := tx.Batch(key)
		if err != nil {
			return err
		}
		if found {
			ack.Seqs, ack.Rejected = prev.Seqs, prev.Rejected
			return nil
		}
		floor, err := tx.Floor()
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
					if err := t.overrule(ctx, tx, rc, ch); err != nil {
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
		if err := t.record(ctx, tx, entries, seqs); err != nil {
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
		return tx.RecordBatch(key, *ack, t.now())
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
func (t *Tenant) record(ctx context.Context, tx StoreTx, entries []logEntry, seqs []uint64) error {
	recs := make([]LogRecord, len(entries))
	for i := range entries {
		b, err := engine.EncodeChange(entries[i].ch)
		if err != nil {
			return err
		}
		entries[i].encoded = b
		ch := entries[i].ch
		recs[i] = LogRecord{Scope: ch.Scope, Site: ch.Site, Table: ch.Table, ID: ch.ID, Encoded: b}
	}
	logged, err := tx.AppendLog(recs)
	if err != nil {
		return err
	}
	if len(logged) != len(entries) {
		return fmt.Errorf("append to log: %d sequence numbers for %d entries", len(logged), len(entries))
	}
	for i := range entries {
		entries[i].seq = logged[i]
		seqs[entries[i].index] = logged[i]
	}
	for _, e := range entries {
		if e.ch.Delete {
			if err := tx.SetTombstoneSeq(e.ch, seqs[e.index]); err != nil {
				return err
			}
		}
	}
	return t.chain(ctx, tx, entries)
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
func (t *Tenant) overrule(ctx context.Context, tx StoreTx, rc *RequestContext, ch *engine.Change) error {
	tb := t.store.Schema().Table(ch.Table)
	if tb == nil {
		return engine.ErrUnknownTable
	}
	t.clock.Observe(ch.HLC) //nolint:errcheck // the session checked the drift
	row, err := tx.Get(ctx, ch.Table, ch.ID)
	ok := err == nil
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
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

type logEntry struct {
	seq     uint64 // set by record
	index   int    // position in the pushed batch
	ch      *engine.Change
	encoded []byte
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
	log, err := t.store.ReadLog(ctx, LogQuery{After: req.Cursor, Limit: req.Limit, Scopes: req.Scopes, ExcludeSite: req.ExcludeSite})
	if err != nil {
		return nil, fmt.Errorf("pull tenant %s: %w", t.ID, err)
	}
	page := &engine.Changes{Cursor: req.Cursor, Head: log.Head, Horizon: log.Horizon, Seqs: log.Seqs}
	if log.Head <= req.Cursor {
		return page, nil
	}
	if req.Raw {
		page.Raw = log.Raw
	} else {
		for i, b := range log.Raw {
			ch, err := engine.DecodeChange(b)
			if err != nil {
				return nil, fmt.Errorf("pull tenant %s seq %d: %w", t.ID, log.Seqs[i], err)
			}
			page.Changes = append(page.Changes, ch)
		}
	}
	if n := len(log.Seqs); n > 0 {
		page.Cursor = log.Seqs[n-1]
	}
	if len(page.Seqs) == req.Limit {
		page.More = page.Cursor < log.Head
	} else {
		page.Cursor = log.Head
	}
	return page, nil
}

// Seen records that site connected as user and reports whether it had been retired, in which
// case it is taken back with its cursor reset: it must re-sync from the start. It also returns
// the compaction floor (see engine.Stale).
func (t *Tenant) Seen(ctx context.Context, site engine.SiteID, user string) (retired bool, floor engine.HLC, err error) {
	err = t.store.Update(ctx, func(tx StoreTx) error {
		var err error
		if floor, err = tx.Floor(); err != nil {
			return err
		}
		retired, err = tx.Seen(site, user, t.now())
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
	err := t.store.Update(ctx, func(tx StoreTx) error {
		for site, p := range pending {
			if err := tx.SetProgress(site, p.cursor, p.acked, time.UnixMilli(p.at)); err != nil {
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
	err := t.store.Update(ctx, func(tx StoreTx) error {
		var err error
		if res.Retired, err = tx.Retire(t.now().Add(-retention)); err != nil {
			return err
		}
		horizon, ok, err := tx.MinAcked()
		if err != nil {
			return err
		}
		if !ok { // no active replica: everything is acknowledged by all who remain
			if horizon, err = tx.Head(); err != nil {
				return err
			}
		}
		if horizon == 0 {
			return nil
		}
		res.Horizon = horizon
		res.Tombstones, err = tx.Compact(horizon)
		return err
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
		t.tail.reset(lastSeq(LogPage{Head: head, Horizon: res.Horizon}))
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
	rs, err := t.store.Replicas(ctx)
	if err != nil {
		return nil, fmt.Errorf("replicas of tenant %s: %w", t.ID, err)
	}
	return rs, nil
}

// Head returns the newest log position (0 for an empty log).
func (t *Tenant) Head(ctx context.Context) (uint64, error) {
	log, err := t.store.ReadLog(ctx, LogQuery{})
	if err != nil {
		return 0, fmt.Errorf("head of tenant %s: %w", t.ID, err)
	}
	return log.Head, nil
}
