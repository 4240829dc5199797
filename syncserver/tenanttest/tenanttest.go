// Package tenanttest is the conformance suite of syncserver.TenantStore: every store (SQLite
// today, PostgreSQL later) runs Run from its own tests, so that the server behaves the same
// on each. The suite writes the clinic schema (engine/clinic) and compares hashes with a real
// SQLite replica fed the same changes.
package tenanttest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/syncserver"
)

// NewStore creates a new, empty store of schema for one test, and returns a function that
// opens it: called again after the previous store was closed, it opens the same data, which
// is how the suite checks what survives a reopen. Stores left open are closed by the suite.
type NewStore func(t *testing.T, schema *engine.Schema) (open func(t *testing.T) syncserver.TenantStore)

// Run runs the conformance suite against the stores newStore creates.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) syncserver.TenantStore)
	}{
		{"BatchRecordedOnce", testBatchRecordedOnce},
		{"PushRetriedAfterReopen", testPushRetriedAfterReopen},
		{"LogSequence", testLogSequence},
		{"PullPages", testPullPages},
		{"Replicas", testReplicas},
		{"Compaction", testCompaction},
		{"Chain", testChain},
		{"ReadsInTransaction", testReadsInTransaction},
		{"HashMatchesReplica", testHashMatchesReplica},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opener := newStore(t, clinic.Schema)
			var last *closeOnce
			t.Cleanup(func() {
				if last != nil {
					last.Close()
				}
			})
			tt.run(t, func(t *testing.T) syncserver.TenantStore {
				t.Helper()
				last = &closeOnce{TenantStore: opener(t)}
				return last
			})
		})
	}
}

// closeOnce lets the suite close at cleanup a store the test left open.
type closeOnce struct {
	syncserver.TenantStore
	once sync.Once
	err  error
}

func (c *closeOnce) Close() error {
	c.once.Do(func() { c.err = c.TenantStore.Close() })
	return c.err
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// update runs fn in a write transaction of st and fails the test on error.
func update(t *testing.T, st syncserver.TenantStore, fn func(tx syncserver.StoreTx) error) {
	t.Helper()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func closeStore(t *testing.T, st syncserver.TenantStore) {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// history makes changes with increasing clocks, from one site.
type history struct {
	clk  *engine.Clock
	site engine.SiteID
}

func newHistory() *history {
	ms := t0.UnixMilli()
	return &history{clk: engine.NewClock(func() time.Time { ms++; return time.UnixMilli(ms) }, 0), site: engine.NewSiteID()}
}

func (h *history) patient(id, name string) engine.Change {
	return engine.Change{Table: "patients", ID: id, Scope: engine.ClinicScope, HLC: h.clk.Now(), Site: h.site, Create: true,
		Cols: []string{"given_name"}, Vals: []any{name}}
}

func (h *history) rename(id, name string) engine.Change {
	return engine.Change{Table: "patients", ID: id, Scope: engine.ClinicScope, HLC: h.clk.Now(), Site: h.site,
		Cols: []string{"given_name"}, Vals: []any{name}}
}

func (h *history) del(id string) engine.Change {
	return engine.Change{Table: "patients", ID: id, Scope: engine.ClinicScope, HLC: h.clk.Now(), Site: h.site, Delete: true}
}

func (h *history) chat(visit, body string) engine.Change {
	return engine.Change{Table: "chat_messages", ID: engine.NewID(), Scope: clinic.VisitScope + ":" + visit, HLC: h.clk.Now(), Site: h.site,
		Create: true, Cols: []string{"visit_id", "body"}, Vals: []any{visit, body}}
}

func (h *history) note(visit, id, body string) engine.Change {
	return engine.Change{Table: "visit_notes", ID: id, Scope: clinic.VisitScope + ":" + visit, HLC: h.clk.Now(), Site: h.site,
		Create: true, Cols: []string{"visit_id", "body"}, Vals: []any{visit, body}}
}

// applyAndLog merges changes and logs the ones that changed the state, recording each
// delete's log position, as the server does; it returns the sequence number of each change
// (0 for one not logged).
func applyAndLog(tx syncserver.StoreTx, changes []engine.Change) ([]uint64, error) {
	out := make([]uint64, len(changes))
	for i := range changes {
		ch := &changes[i]
		res, err := tx.Apply(ch)
		if err != nil {
			return nil, fmt.Errorf("apply %d: %w", i, err)
		}
		if !res.Changed {
			continue
		}
		b, err := engine.EncodeChange(ch)
		if err != nil {
			return nil, err
		}
		seqs, err := tx.AppendLog([]syncserver.LogRecord{{Scope: ch.Scope, Site: ch.Site, Table: ch.Table, ID: ch.ID, Encoded: b}})
		if err != nil {
			return nil, err
		}
		out[i] = seqs[0]
		if ch.Delete {
			if err := tx.SetTombstoneSeq(ch, seqs[0]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func testBatchRecordedOnce(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	st := open(t)
	want := engine.Ack{Batch: "b1", Seqs: []uint64{3, 0, 4},
		Rejected: []engine.Rejection{{Index: 1, Code: engine.CodeForbidden, Message: "not yours"}}}
	plain := engine.Ack{Batch: "b2", Seqs: []uint64{5}}
	update(t, st, func(tx syncserver.StoreTx) error {
		if _, ok, err := tx.Batch("site/b1"); err != nil || ok {
			return fmt.Errorf("an unrecorded batch: found %v, %v", ok, err)
		}
		if err := tx.RecordBatch("site/b1", want, t0); err != nil {
			return err
		}
		return tx.RecordBatch("site/b2", plain, t0)
	})
	// A batch recorded in a transaction that fails is not recorded.
	failed := errors.New("rolled back")
	if err := st.Update(context.Background(), func(tx syncserver.StoreTx) error {
		if err := tx.RecordBatch("site/b3", plain, t0); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("update: %v, want the function's error", err)
	}
	for round := range 2 {
		update(t, st, func(tx syncserver.StoreTx) error {
			for key, ack := range map[string]engine.Ack{"site/b1": want, "site/b2": plain} {
				got, ok, err := tx.Batch(key)
				if err != nil || !ok {
					return fmt.Errorf("round %d: batch %s: found %v, %v", round, key, ok, err)
				}
				if !reflect.DeepEqual(got.Seqs, ack.Seqs) || !reflect.DeepEqual(got.Rejected, ack.Rejected) {
					return fmt.Errorf("round %d: batch %s: %+v, want %+v", round, key, got, ack)
				}
			}
			if _, ok, err := tx.Batch("site/b3"); err != nil || ok {
				return fmt.Errorf("round %d: the rolled-back batch: found %v, %v", round, ok, err)
			}
			return nil
		})
		closeStore(t, st)
		st = open(t)
	}
	if err := st.Update(context.Background(), func(tx syncserver.StoreTx) error {
		return tx.RecordBatch("site/b1", plain, t0)
	}); err == nil {
		t.Fatal("a batch key was recorded twice")
	}
}

// testPushRetriedAfterReopen pushes a batch, reopens the store, and pushes it again: the retry
// gets the original ack and logs nothing.
func testPushRetriedAfterReopen(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	ctx := context.Background()
	h := newHistory()
	p := &engine.Push{Batch: "1", Changes: []engine.Change{h.patient(engine.NewID(), "Ada"), h.chat("v1", "hi")}}
	from := syncserver.Origin{Site: h.site}
	tn, err := syncserver.OpenTenant(ctx, "t", open(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := tn.Push(ctx, from, p)
	if err != nil {
		t.Fatal(err)
	}
	head, err := tn.Head(ctx)
	if err != nil || head == 0 {
		t.Fatalf("head %d, %v", head, err)
	}
	if err := tn.Close(); err != nil {
		t.Fatal(err)
	}
	if tn, err = syncserver.OpenTenant(ctx, "t", open(t), nil); err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	again, err := tn.Push(ctx, from, p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Fatalf("retried push: %+v, want the first ack %+v", again, first)
	}
	if h2, err := tn.Head(ctx); err != nil || h2 != head {
		t.Fatalf("head %d after the retry, want %d (%v)", h2, head, err)
	}
}

// testLogSequence checks that sequence numbers strictly increase, also across multi-entry
// appends and reopens, and are never given again, even once the newest entries were compacted.
func testLogSequence(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	st := open(t)
	h := newHistory()
	var all []uint64
	appendN := func(n int) {
		t.Helper()
		recs := make([]syncserver.LogRecord, n)
		for i := range recs {
			ch := h.patient(engine.NewID(), "x")
			b, err := engine.EncodeChange(&ch)
			if err != nil {
				t.Fatal(err)
			}
			recs[i] = syncserver.LogRecord{Scope: ch.Scope, Site: ch.Site, Table: ch.Table, ID: ch.ID, Encoded: b}
		}
		update(t, st, func(tx syncserver.StoreTx) error {
			seqs, err := tx.AppendLog(recs)
			if err != nil {
				return err
			}
			if len(seqs) != n {
				return fmt.Errorf("%d sequence numbers for %d entries", len(seqs), n)
			}
			all = append(all, seqs...)
			return nil
		})
	}
	for _, n := range []int{1, 3, 70, 9} {
		appendN(n)
	}
	closeStore(t, st)
	st = open(t)
	appendN(5)
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("sequence number %d follows %d", all[i], all[i-1])
		}
	}
	// Delete a row as the newest entry, compact it away, reopen: the next number is still new.
	id := engine.NewID()
	var last uint64
	update(t, st, func(tx syncserver.StoreTx) error {
		seqs, err := applyAndLog(tx, []engine.Change{h.patient(id, "Gone"), h.del(id)})
		last = seqs[1]
		return err
	})
	update(t, st, func(tx syncserver.StoreTx) error {
		n, err := tx.Compact(last)
		if err == nil && n != 1 {
			err = fmt.Errorf("compacted %d tombstones, want 1", n)
		}
		return err
	})
	closeStore(t, st)
	st = open(t)
	update(t, st, func(tx syncserver.StoreTx) error {
		seqs, err := applyAndLog(tx, []engine.Change{h.patient(engine.NewID(), "After")})
		if err == nil && seqs[0] <= last {
			err = fmt.Errorf("sequence number %d given after %d was compacted", seqs[0], last)
		}
		return err
	})
}

// testPullPages pulls pages of a known log through a Tenant on the store: scopes, an
// excluded site, limits, the cursor and head, decoded and raw.
func testPullPages(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	ctx := context.Background()
	a, b := newHistory(), newHistory()
	tn, err := syncserver.OpenTenant(ctx, "t", open(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	p1 := &engine.Push{Batch: "1", Changes: []engine.Change{a.patient(engine.NewID(), "Ada"), a.patient(engine.NewID(), "Bo")}}
	p2 := &engine.Push{Batch: "1", Changes: []engine.Change{b.chat("va", "one"), b.chat("va", "two"), b.chat("vb", "three")}}
	var seqs []uint64 // clinic, clinic, visit:va, visit:va, visit:vb
	for _, p := range []struct {
		site engine.SiteID
		push *engine.Push
	}{{a.site, p1}, {b.site, p2}} {
		ack, err := tn.Push(ctx, syncserver.Origin{Site: p.site}, p.push)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Seqs...)
	}
	if err := tn.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened, the tenant's in-memory tail is empty: pages come from the store.
	if tn, err = syncserver.OpenTenant(ctx, "t", open(t), nil); err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	head := seqs[4]
	tests := []struct {
		name    string
		req     syncserver.PullRequest
		want    []int // indexes into seqs
		cursor  uint64
		more    bool
		headRaw bool
	}{
		{"all", syncserver.PullRequest{Scopes: []string{engine.AllScopes}}, []int{0, 1, 2, 3, 4}, head, false, false},
		{"exact scope", syncserver.PullRequest{Scopes: []string{engine.ClinicScope}}, []int{0, 1}, head, false, false},
		{"one visit", syncserver.PullRequest{Scopes: []string{"visit:va"}}, []int{2, 3}, head, false, false},
		{"kind pattern", syncserver.PullRequest{Scopes: []string{"visit:*"}}, []int{2, 3, 4}, head, false, false},
		{"two scopes", syncserver.PullRequest{Scopes: []string{"visit:vb", engine.ClinicScope}}, []int{0, 1, 4}, head, false, false},
		{"no scope", syncserver.PullRequest{}, nil, head, false, false},
		{"other scope", syncserver.PullRequest{Scopes: []string{clinic.AuditScope}}, nil, head, false, false},
		{"excluded site", syncserver.PullRequest{Scopes: []string{engine.AllScopes}, ExcludeSite: a.site}, []int{2, 3, 4}, head, false, false},
		{"limit", syncserver.PullRequest{Scopes: []string{engine.AllScopes}, Limit: 2}, []int{0, 1}, seqs[1], true, false},
		{"limit at the end", syncserver.PullRequest{Scopes: []string{engine.AllScopes}, Limit: 2, Cursor: seqs[2]}, []int{3, 4}, head, false, false},
		{"after a cursor", syncserver.PullRequest{Scopes: []string{"visit:*"}, Cursor: seqs[2]}, []int{3, 4}, head, false, false},
		{"at the head", syncserver.PullRequest{Scopes: []string{engine.AllScopes}, Cursor: head}, nil, head, false, false},
		{"raw", syncserver.PullRequest{Scopes: []string{engine.AllScopes}, Raw: true}, []int{0, 1, 2, 3, 4}, head, false, true},
	}
	changes := append(slices.Clone(p1.Changes), p2.Changes...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			if req.Limit == 0 {
				req.Limit = 100
			}
			page, err := tn.Pull(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			var want []uint64
			for _, i := range tt.want {
				want = append(want, seqs[i])
			}
			if !slices.Equal(page.Seqs, want) || page.Cursor != tt.cursor || page.More != tt.more || page.Head != head {
				t.Fatalf("page: seqs %v cursor %d more %v head %d; want %v, %d, %v, %d", page.Seqs, page.Cursor, page.More, page.Head, want, tt.cursor, tt.more, head)
			}
			got := page.Changes
			if tt.headRaw {
				if len(page.Changes) != 0 || len(page.Raw) != len(want) {
					t.Fatalf("raw page: %d changes, %d raw, want 0 and %d", len(page.Changes), len(page.Raw), len(want))
				}
				got = nil
				for _, b := range page.Raw {
					ch, err := engine.DecodeChange(b)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, ch)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d changes for %d sequence numbers", len(got), len(want))
			}
			for k, i := range tt.want {
				if got[k].ID != changes[i].ID || got[k].HLC != changes[i].HLC || got[k].Scope != changes[i].Scope {
					t.Fatalf("change %d: %s/%s, want %s/%s", k, got[k].Table, got[k].ID, changes[i].Table, changes[i].ID)
				}
			}
		})
	}
}

func testReplicas(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	st := open(t)
	ctx := context.Background()
	s1, s2, s3 := engine.NewSiteID(), engine.NewSiteID(), engine.NewSiteID()
	update(t, st, func(tx syncserver.StoreTx) error {
		if _, ok, err := tx.MinAcked(); err != nil || ok {
			return fmt.Errorf("no replica: min acked found %v, %v", ok, err)
		}
		for i, s := range []engine.SiteID{s1, s2, s3} {
			retired, err := tx.Seen(s, fmt.Sprint("user", i), t0.Add(time.Duration(i)*time.Hour))
			if err != nil || retired {
				return fmt.Errorf("new replica %d: retired %v, %v", i, retired, err)
			}
		}
		if err := tx.SetProgress(s1, 10, 8, t0.Add(3*time.Hour)); err != nil {
			return err
		}
		if err := tx.SetProgress(s1, 12, 5, t0.Add(4*time.Hour)); err != nil { // acked never goes back
			return err
		}
		if err := tx.SetProgress(s2, 4, 4, t0.Add(time.Hour)); err != nil {
			return err
		}
		return tx.SetProgress(engine.NewSiteID(), 1, 1, t0) // unknown: ignored
	})
	closeStore(t, st)
	st = open(t)
	rs, err := st.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Site != s1 || rs[1].Site != s2 || rs[2].Site != s3 {
		t.Fatalf("replicas %+v, want s1, s2, s3 in the order first seen", rs)
	}
	if r := rs[0]; r.User != "user0" || r.Cursor != 12 || r.Acked != 8 || !r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(t0.Add(4*time.Hour)) || r.Retired {
		t.Fatalf("replica 1: %+v", r)
	}
	update(t, st, func(tx syncserver.StoreTx) error {
		if m, ok, err := tx.MinAcked(); err != nil || !ok || m != 0 {
			return fmt.Errorf("min acked %d, %v, %v; want 0 (s3 acknowledged nothing)", m, ok, err)
		}
		n, err := tx.Retire(t0.Add(2 * time.Hour)) // s2 (last seen at 1h); not s1 (4h) nor s3 (2h)
		if err != nil || n != 1 {
			return fmt.Errorf("retired %d, %v; want 1", n, err)
		}
		if err := tx.SetProgress(s3, 6, 6, t0.Add(5*time.Hour)); err != nil {
			return err
		}
		if m, ok, err := tx.MinAcked(); err != nil || !ok || m != 6 {
			return fmt.Errorf("min acked %d, %v, %v; want 6 (s2 retired)", m, ok, err)
		}
		retired, err := tx.Seen(s2, "user1b", t0.Add(6*time.Hour))
		if err != nil || !retired {
			return fmt.Errorf("returning retired replica: retired %v, %v", retired, err)
		}
		return nil
	})
	rs, err = st.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[1]; r.User != "user1b" || r.Cursor != 0 || r.Acked != 0 || r.Retired || !r.LastSeen.Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("replica taken back: %+v, want its cursor and acknowledgement reset", r)
	}
}

// testCompaction checks that Compact drops the tombstones at or below the horizon and their
// rows' history up to the delete, keeps later writes, records the horizon, and raises the
// floor only.
func testCompaction(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	ctx := context.Background()
	st := open(t)
	h := newHistory()
	p1, p2, p3, keep := engine.NewID(), engine.NewID(), engine.NewID(), engine.NewID()
	// An old clock, for a delete whose clock is older than the floor when it is compacted.
	old := &history{clk: engine.NewClock(func() time.Time { return t0.Add(-time.Hour) }, 0), site: h.site}
	var seqs []uint64
	changes := []engine.Change{
		h.patient(p1, "One"), h.patient(p2, "Two"), h.patient(keep, "Kept"), // 0 1 2
		h.rename(p1, "Uno"), h.del(p1), h.rename(p1, "Back"), // 3 4 5: p1 deleted, then revived
		old.patient(p3, "Three"), old.del(p3), // 6 7: p3 deleted with an old clock
		h.del(p2), // 8
	}
	update(t, st, func(tx syncserver.StoreTx) error {
		var err error
		seqs, err = applyAndLog(tx, changes)
		return err
	})
	logged := func() []uint64 {
		t.Helper()
		page, err := st.ReadLog(ctx, syncserver.LogQuery{Limit: 100, Scopes: []string{engine.AllScopes}})
		if err != nil {
			t.Fatal(err)
		}
		return page.Seqs
	}
	floor := func() engine.HLC {
		t.Helper()
		var f engine.HLC
		update(t, st, func(tx syncserver.StoreTx) error {
			var err error
			f, err = tx.Floor()
			return err
		})
		return f
	}
	if f := floor(); f != 0 {
		t.Fatalf("floor %v before any compaction", f)
	}
	compact := func(horizon uint64, want int64) {
		t.Helper()
		update(t, st, func(tx syncserver.StoreTx) error {
			n, err := tx.Compact(horizon)
			if err == nil && n != want {
				err = fmt.Errorf("compact through %d: %d tombstones, want %d", horizon, n, want)
			}
			return err
		})
	}
	compact(seqs[4], 1) // p1's delete only
	if got, want := logged(), []uint64{seqs[1], seqs[2], seqs[5], seqs[6], seqs[7], seqs[8]}; !slices.Equal(got, want) {
		t.Fatalf("log after compacting through %d: %v, want %v", seqs[4], got, want)
	}
	if rec, err := st.Get(ctx, "patients", p1); err != nil || rec["given_name"] != "Back" {
		t.Fatalf("p1 revived after its delete: %v, %v", rec, err)
	}
	if f := floor(); f != changes[4].HLC {
		t.Fatalf("floor %v, want p1's delete %v", f, changes[4].HLC)
	}
	closeStore(t, st)
	st = open(t)
	compact(seqs[7], 1) // p3's delete, older than the floor
	if got, want := logged(), []uint64{seqs[1], seqs[2], seqs[5], seqs[8]}; !slices.Equal(got, want) {
		t.Fatalf("log after compacting through %d: %v, want %v", seqs[7], got, want)
	}
	if f := floor(); f != changes[4].HLC {
		t.Fatalf("floor %v after compacting an older delete, want it unchanged at %v", f, changes[4].HLC)
	}
	compact(seqs[8], 1) // p2's delete
	if got, want := logged(), []uint64{seqs[2], seqs[5]}; !slices.Equal(got, want) {
		t.Fatalf("log after compacting through %d: %v, want %v", seqs[8], got, want)
	}
	if f := floor(); f != changes[8].HLC {
		t.Fatalf("floor %v, want p2's delete %v", f, changes[8].HLC)
	}
	// The head is the newest entry left in the log; the horizon is the last one compacted through.
	page, err := st.ReadLog(ctx, syncserver.LogQuery{})
	if err != nil || page.Horizon != seqs[8] || page.Head != seqs[5] || len(page.Seqs) != 0 {
		t.Fatalf("head and horizon: %+v, %v; want head %d, horizon %d, no entries", page, err, seqs[5], seqs[8])
	}
	update(t, st, func(tx syncserver.StoreTx) error {
		for _, id := range []string{p2, p3} {
			if known, err := tx.Known("patients", id); err != nil || known {
				return fmt.Errorf("%s: known %v after its tombstone was compacted (%v)", id, known, err)
			}
		}
		if known, err := tx.Known("patients", keep); err != nil || !known {
			return fmt.Errorf("a live row: known %v, %v", known, err)
		}
		return nil
	})
	compact(seqs[8], 0) // again: nothing left to drop
}

func testChain(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	ctx := context.Background()
	st := open(t)
	clk, site := engine.NewClock(nil, 0), engine.NewSiteID()
	var ids []string
	update(t, st, func(tx syncserver.StoreTx) error {
		if h, err := tx.LastLink(); err != nil || h != nil {
			return fmt.Errorf("empty chain: last link %x, %v", h, err)
		}
		for i := range 2 {
			ch, err := tx.Local(clk, site, clinic.AuditEntry{Actor: fmt.Sprint("a", i), Action: clinic.ActionRead, At: t0}.Mutation())
			if err != nil {
				return err
			}
			ids = append(ids, ch.ID)
		}
		if err := tx.AppendLink("audit_events", ids[0], []byte("h1")); err != nil {
			return err
		}
		h, err := tx.LastLink()
		if err == nil && string(h) != "h1" {
			err = fmt.Errorf("last link %q, want h1", h)
		}
		return err
	})
	walk := func() ([]syncserver.ChainLink, map[string]syncserver.ChainedRows) {
		t.Helper()
		var links []syncserver.ChainLink
		rows, err := st.Chain(ctx, func(l syncserver.ChainLink) error { links = append(links, l); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return links, rows
	}
	links, rows := walk()
	if len(links) != 1 || links[0].Link != 1 || links[0].Table != "audit_events" || links[0].Row != ids[0] || string(links[0].Hash) != "h1" ||
		links[0].Record == nil || links[0].Record["actor"] != "a0" {
		t.Fatalf("links %+v", links)
	}
	if r := rows["audit_events"]; r.Count != 2 || r.Unlinked != ids[1] {
		t.Fatalf("chained rows %+v, want 2 with %s unlinked", r, ids[1])
	}
	closeStore(t, st)
	st = open(t)
	update(t, st, func(tx syncserver.StoreTx) error { return tx.AppendLink("audit_events", ids[1], []byte("h2")) })
	links, rows = walk()
	if len(links) != 2 || links[1].Link != 2 || links[1].Row != ids[1] || rows["audit_events"] != (syncserver.ChainedRows{Count: 2}) {
		t.Fatalf("links %+v, rows %+v", links, rows)
	}
	stop := errors.New("stop")
	if _, err := st.Chain(ctx, func(syncserver.ChainLink) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("a walk that fn stops: %v", err)
	}
	if err := st.Update(ctx, func(tx syncserver.StoreTx) error { return tx.AppendLink("audit_events", ids[0], []byte("h3")) }); err == nil {
		t.Fatal("a row was linked twice")
	}
}

func testReadsInTransaction(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	ctx := context.Background()
	st := open(t)
	clk, site := engine.NewClock(nil, 0), engine.NewSiteID()
	id := engine.NewID()
	byBirth := engine.Query{Table: "patients", Where: []engine.Cond{{Col: "birth_date", Op: engine.Eq, Value: "1990-01-02"}}}
	write := func(tx syncserver.StoreTx) error {
		if _, err := tx.Local(clk, site, engine.Mutation{Table: "patients", ID: id, Values: map[string]any{"given_name": "Ada", "birth_date": "1990-01-02"}}); err != nil {
			return err
		}
		if rec, err := tx.Get(ctx, "patients", id); err != nil || rec["given_name"] != "Ada" {
			return fmt.Errorf("get inside the transaction: %v, %v", rec, err)
		}
		if recs, err := tx.Select(ctx, byBirth); err != nil || len(recs) != 1 || recs[0]["id"] != id {
			return fmt.Errorf("select inside the transaction: %v, %v", recs, err)
		}
		if _, err := st.Get(ctx, "patients", id); !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("a committed read saw an uncommitted row: %v", err)
		}
		return nil
	}
	rollback := errors.New("rolled back")
	if err := st.Update(ctx, func(tx syncserver.StoreTx) error {
		if err := write(tx); err != nil {
			return err
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "patients", id); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("a rolled-back row: %v", err)
	}
	update(t, st, write)
	if rec, err := st.Get(ctx, "patients", id); err != nil || rec["given_name"] != "Ada" {
		t.Fatalf("committed: %v, %v", rec, err)
	}
	if recs, err := st.Select(ctx, byBirth); err != nil || len(recs) != 1 {
		t.Fatalf("committed select: %v, %v", recs, err)
	}
	update(t, st, func(tx syncserver.StoreTx) error {
		if _, err := tx.Local(clk, site, engine.Mutation{Table: "patients", ID: id, Delete: true}); err != nil {
			return err
		}
		if _, err := tx.Get(ctx, "patients", id); !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("a row deleted in the transaction: %v", err)
		}
		return nil
	})
	if _, err := st.Select(ctx, engine.Query{Table: "nope"}); !errors.Is(err, engine.ErrUnknownTable) {
		t.Fatalf("unknown table: %v", err)
	}
}

// testHashMatchesReplica feeds the same changes to the store and to SQLite replicas (one
// with everything, one with a single visit's scope), and compares their hashes.
func testHashMatchesReplica(t *testing.T, open func(t *testing.T) syncserver.TenantStore) {
	ctx := context.Background()
	st := open(t)
	a, b := newHistory(), newHistory()
	p, n := engine.NewID(), engine.NewID()
	changes := []engine.Change{
		a.patient(p, "Ada"), a.patient(engine.NewID(), "Bo"), b.rename(p, "Ade"),
		a.chat("va", "hello"), b.chat("vb", "other visit"),
		a.note("va", n, "first"), b.note("va", n, "concurrent"), // a note conflict: both versions kept
	}
	gone := engine.NewID()
	changes = append(changes, a.patient(gone, "Gone"), b.del(gone))
	update(t, st, func(tx syncserver.StoreTx) error { _, err := applyAndLog(tx, changes); return err })

	inVisit := func(scope string) bool { return scope == "visit:va" }
	for _, c := range []struct {
		name   string
		grants func(string) bool
	}{{"whole", nil}, {"visit", inVisit}} {
		db, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "replica.db"), clinic.Schema, sqlitestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Update(ctx, func(tx *sqlitestore.Tx) error {
			for i := len(changes) - 1; i >= 0; i-- { // another order: merge commutes
				if c.grants != nil && !c.grants(changes[i].Scope) {
					continue
				}
				if _, err := tx.Apply(&changes[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want, err := db.Hash(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Hash(ctx, c.grants)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: store hash %s, replica %s", c.name, got, want)
		}
	}
}
