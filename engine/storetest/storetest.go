// Package storetest is the conformance suite every engine.Store runs, in the style of
// litestream's backend tests: SQLite on the desktop, memory in tests and, next, IndexedDB in the
// browser. A store is done when it passes it. The suite drives each store through
// engine.Replica, the way the sync loop does, and compares it with the in-memory reference
// store fed the same history.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/memstore"
)

// Backend makes the stores under test.
type Backend struct {
	// New returns an empty store migrated to schema, and a function that reopens the same
	// storage after the store was closed (a restart, or a crash between transactions), with a
	// schema that may be newer (an upgrade).
	New func(t testing.TB, schema *engine.Schema) (engine.Store, Reopen)
}

// Reopen reopens a closed store's storage with schema.
type Reopen func(schema *engine.Schema) (engine.Store, error)

// Memory is the Backend of the in-memory reference store.
var Memory = Backend{New: func(t testing.TB, schema *engine.Schema) (engine.Store, Reopen) {
	s := memstore.New(schema)
	return s, func(schema *engine.Schema) (engine.Store, error) { return memstore.Reopen(s.Data(), schema) }
}}

// Run runs every test of the suite against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"WriteIsAtomic", testWriteIsAtomic},
		{"BatchKeysNeverReused", testBatchKeysNeverReused},
		{"DuplicateAndUnknownAcks", testDuplicateAndUnknownAcks},
		{"AckedOnlyWhenOutboxEmpty", testAcked},
		{"RejectionsKept", testRejectionsKept},
		{"PageIsAtomic", testPageIsAtomic},
		{"CursorNeverGoesBack", testCursorNeverGoesBack},
		{"FutureChangesAfterUpgrade", testFuture},
		{"CompactionHorizon", testCompaction},
		{"ResetAndReplay", testResetAndReplay},
		{"ClockRestored", testClockRestored},
		{"HashAcrossStores", testHashAcrossStores},
		{"Select", testSelect},
		{"NoteConflicts", testConflicts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, b) })
	}
}

// Schema is the suite's schema: a clinic-scoped table of every column type, a table scoped by
// its id, a note table scoped by a column, an append-only table, and an index.
var Schema = engine.MustSchema(engine.Migration{Version: 1, Steps: []engine.Step{
	{AddTable: &engine.Table{Name: "items", Policy: engine.LastWriterWins, Columns: []engine.Column{
		{Name: "a", Type: engine.Text}, {Name: "b", Type: engine.Integer}, {Name: "c", Type: engine.Real}, {Name: "d", Type: engine.Blob},
	}}},
	{AddTable: &engine.Table{Name: "visits", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "id", Columns: []engine.Column{
		{Name: "status", Type: engine.Text}, {Name: "region", Type: engine.Text},
	}}},
	{AddTable: &engine.Table{Name: "docs", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{
		{Name: "visit_id", Type: engine.Text}, {Name: "title", Type: engine.Text}, {Name: "body", Type: engine.Text, Note: true},
	}}},
	{AddTable: &engine.Table{Name: "log", Policy: engine.AppendOnly, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{
		{Name: "visit_id", Type: engine.Text}, {Name: "msg", Type: engine.Text}, {Name: "at", Type: engine.Integer},
	}}},
	{AddIndex: &engine.Index{Name: "items_a", Table: "items", Columns: []string{"a", "b"}}},
}})

// upgraded is Schema plus a column and a table, for the upgrade test.
var upgraded = engine.MustSchema(engine.Migration{Version: 1, Steps: []engine.Step{
	{AddTable: &engine.Table{Name: "items", Policy: engine.LastWriterWins, Columns: []engine.Column{
		{Name: "a", Type: engine.Text}, {Name: "b", Type: engine.Integer}, {Name: "c", Type: engine.Real}, {Name: "d", Type: engine.Blob},
	}}},
	{AddTable: &engine.Table{Name: "visits", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "id", Columns: []engine.Column{
		{Name: "status", Type: engine.Text}, {Name: "region", Type: engine.Text},
	}}},
	{AddTable: &engine.Table{Name: "docs", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{
		{Name: "visit_id", Type: engine.Text}, {Name: "title", Type: engine.Text}, {Name: "body", Type: engine.Text, Note: true},
	}}},
	{AddTable: &engine.Table{Name: "log", Policy: engine.AppendOnly, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{
		{Name: "visit_id", Type: engine.Text}, {Name: "msg", Type: engine.Text}, {Name: "at", Type: engine.Integer},
	}}},
	{AddIndex: &engine.Index{Name: "items_a", Table: "items", Columns: []string{"a", "b"}}},
}}, engine.Migration{Version: 2, Steps: []engine.Step{
	{AddColumn: &engine.AddColumn{Table: "items", Column: engine.Column{Name: "e", Type: engine.Text}}},
	{AddTable: &engine.Table{Name: "tags", Policy: engine.LastWriterWins, Columns: []engine.Column{{Name: "label", Type: engine.Text}}}},
}})

// replica is a store under test opened as a replica, with what the suite needs to restart it.
type replica struct {
	*engine.Replica
	t      testing.TB
	reopen Reopen
	clock  *engine.Clock
}

func open(t testing.TB, b Backend, schema *engine.Schema) *replica {
	t.Helper()
	s, reopen := b.New(t, schema)
	r := &replica{t: t, reopen: reopen, clock: engine.NewClock(nil, 0)}
	r.start(s)
	return r
}

func (r *replica) start(s engine.Store) {
	r.t.Helper()
	rep, err := engine.OpenReplica(context.Background(), s, engine.ReplicaOptions{Clock: r.clock})
	if err != nil {
		r.t.Fatal(err)
	}
	r.Replica = rep
	r.t.Cleanup(func() { rep.Close() })
}

// restart closes the store and opens its storage again with schema, as a new process would
// (with a fresh clock: what it knows of time comes from the store).
func (r *replica) restart(schema *engine.Schema) {
	r.t.Helper()
	if err := r.Close(); err != nil {
		r.t.Fatal(err)
	}
	s, err := r.reopen(schema)
	if err != nil {
		r.t.Fatal(err)
	}
	r.clock = engine.NewClock(nil, 0)
	r.start(s)
}

func (r *replica) write(muts ...engine.Mutation) []engine.Change {
	r.t.Helper()
	chs, err := r.Write(context.Background(), muts...)
	if err != nil {
		r.t.Fatal(err)
	}
	return chs
}

func (r *replica) next(max int) engine.Push {
	r.t.Helper()
	p, err := r.NextBatch(context.Background(), max)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *replica) ack(a *engine.Ack) {
	r.t.Helper()
	if err := r.AckBatch(context.Background(), a); err != nil {
		r.t.Fatal(err)
	}
}

func (r *replica) page(p *engine.Changes) {
	r.t.Helper()
	if err := r.ApplyRemote(context.Background(), p); err != nil {
		r.t.Fatal(err)
	}
}

func (r *replica) state() engine.SyncState {
	r.t.Helper()
	st, err := r.State(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

func (r *replica) hash() string {
	r.t.Helper()
	h, err := engine.Hash(context.Background(), r.Store(), nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// get returns a live row, or nil.
func (r *replica) get(table, id string) engine.Record {
	r.t.Helper()
	rec, err := r.Get(context.Background(), table, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return rec
}

// known reports whether the store holds anything of a row: the row or its tombstone.
func (r *replica) known(table, id string) bool {
	r.t.Helper()
	var found bool
	err := r.Store().Update(context.Background(), func(tx engine.StoreTx) error {
		var err error
		_, found, err = tx.LoadRow(r.Schema().Table(table), id)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return found
}

func item(id string, kv ...any) engine.Mutation {
	m := engine.Mutation{Table: "items", ID: id, Values: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Values[kv[i].(string)] = kv[i+1]
	}
	return m
}

// remote builds a change from another site.
func remote(table, id, scope string, ms int64, site engine.SiteID, kv ...any) engine.Change {
	ch := engine.Change{Table: table, ID: id, Scope: scope, HLC: engine.NewHLC(ms, 0), Site: site}
	for i := 0; i+1 < len(kv); i += 2 {
		ch.Cols = append(ch.Cols, kv[i].(string))
		ch.Vals = append(ch.Vals, kv[i+1])
	}
	return ch
}

func keys(p engine.Push) []string {
	out := make([]string, len(p.Changes))
	for i, ch := range p.Changes {
		out[i] = ch.Table + "/" + ch.ID + "@" + ch.Version().String()
	}
	return out
}

func seqs(n int, from uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = from + uint64(i)
	}
	return out
}

func testWriteIsAtomic(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	_, err := r.Write(context.Background(), item("i1", "a", "x"), item("i2", "nope", "y"))
	if !errors.Is(err, engine.ErrUnknownColumn) {
		t.Fatalf("write with a bad column: %v, want ErrUnknownColumn", err)
	}
	if r.get("items", "i1") != nil || r.state().Pending != 0 || r.next(10).Batch != "" {
		t.Fatal("a failed write left a row or an outbox entry")
	}
	r.restart(Schema)
	if r.get("items", "i1") != nil || r.state().Pending != 0 {
		t.Fatal("a failed write is there after a restart")
	}
	r.write(item("i1", "a", "x"))
	if got := r.get("items", "i1"); got == nil || got["a"] != "x" || r.state().Pending != 1 {
		t.Fatalf("after a good write: %v, pending %d", got, r.state().Pending)
	}
}

func testBatchKeysNeverReused(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	for i := range 5 {
		r.write(item(fmt.Sprintf("i%d", i), "b", i))
	}
	p1 := r.next(2)
	if len(p1.Changes) != 2 || p1.Batch == "" {
		t.Fatalf("first batch: %q with %d changes", p1.Batch, len(p1.Changes))
	}
	if again := r.next(3); again.Batch != p1.Batch || !slices.Equal(keys(again), keys(p1)) {
		t.Fatalf("a batch sent again changed: %q %v, want %q %v", again.Batch, keys(again), p1.Batch, keys(p1))
	}
	r.restart(Schema) // a crash before the ack
	if again := r.next(3); again.Batch != p1.Batch || !slices.Equal(keys(again), keys(p1)) {
		t.Fatalf("after a restart the batch in flight is %q %v, want %q %v", again.Batch, keys(again), p1.Batch, keys(p1))
	}
	r.ack(&engine.Ack{Batch: p1.Batch, Seqs: seqs(2, 1)})
	if st := r.state(); st.Pending != 3 {
		t.Fatalf("pending after the ack: %d, want 3", st.Pending)
	}
	p2 := r.next(2)
	r.restart(Schema)
	// The outbox is batched afresh (as after a re-sync): the next batch must take a new key.
	if err := r.ReplayOutbox(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	p3 := r.next(10)
	seen := map[string]bool{}
	for _, k := range []string{p1.Batch, p2.Batch, p3.Batch} {
		if seen[k] {
			t.Fatalf("batch key %q used twice (%q, %q, %q)", k, p1.Batch, p2.Batch, p3.Batch)
		}
		seen[k] = true
	}
	if len(p3.Changes) != 3 {
		t.Fatalf("re-formed batch holds %d changes, want 3", len(p3.Changes))
	}
}

func testDuplicateAndUnknownAcks(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	r.write(item("i1", "a", "x"))
	p := r.next(10)
	r.ack(&engine.Ack{Batch: p.Batch, Seqs: []uint64{1}})
	r.write(item("i2", "a", "y"))
	r.ack(&engine.Ack{Batch: p.Batch, Seqs: []uint64{1}})          // a duplicate
	r.ack(&engine.Ack{Batch: "someone-else-9", Seqs: []uint64{4}}) // never sent
	if st := r.state(); st.Pending != 1 {
		t.Fatalf("pending %d after a duplicate and an unknown ack, want 1", st.Pending)
	}
	if p2 := r.next(10); len(p2.Changes) != 1 || p2.Changes[0].ID != "i2" || p2.Batch == p.Batch {
		t.Fatalf("next batch %q %v, want a new batch of i2", p2.Batch, keys(p2))
	}
}

func testAcked(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	other := engine.NewSiteID()
	r.write(item("mine", "a", "x"))
	r.page(&engine.Changes{Cursor: 5, Changes: []engine.Change{remote("items", "theirs", engine.ClinicScope, 1000, other, "a", "y")}, Seqs: []uint64{5}})
	if st := r.state(); st.Cursor != 5 || st.Acked != 0 {
		t.Fatalf("with a change unsent: cursor %d acked %d, want 5 and 0", st.Cursor, st.Acked)
	}
	p := r.next(10)
	r.ack(&engine.Ack{Batch: p.Batch, Seqs: []uint64{6}})
	if st := r.state(); st.Acked != 5 || st.Pending != 0 {
		t.Fatalf("outbox emptied: acked %d pending %d, want 5 and 0", st.Acked, st.Pending)
	}
	r.page(&engine.Changes{Cursor: 9})
	if st := r.state(); st.Acked != 9 {
		t.Fatalf("page with the outbox empty: acked %d, want 9", st.Acked)
	}
	r.write(item("later", "a", "z"))
	r.page(&engine.Changes{Cursor: 12})
	if st := r.state(); st.Acked != 9 || st.Cursor != 12 || st.LastSync.IsZero() {
		t.Fatalf("page with a change unsent: %+v, want acked 9 cursor 12", st)
	}
	r.restart(Schema)
	if st := r.state(); st.Acked != 9 || st.Cursor != 12 || st.Pending != 1 || st.LastSync.IsZero() {
		t.Fatalf("after a restart: %+v, want acked 9 cursor 12 pending 1", st)
	}
}

func testRejectionsKept(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	r.write(item("i1", "a", "ok"), item("i2", "a", "refused"))
	p := r.next(10)
	r.ack(&engine.Ack{Batch: p.Batch, Seqs: []uint64{1, 2}, Rejected: []engine.Rejection{
		{Index: 1, Code: "forbidden", Message: "not yours"}, {Index: 7, Code: "x", Message: "out of range"}}})
	rej, err := r.Rejected(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 1 || rej[0].Change.ID != "i2" || rej[0].Code != "forbidden" || rej[0].Message != "not yours" || rej[0].Batch != p.Batch || rej[0].At.IsZero() {
		t.Fatalf("rejected: %+v", rej)
	}
	r.restart(Schema)
	if rej, err := r.Rejected(context.Background()); err != nil || len(rej) != 1 {
		t.Fatalf("after a restart: %v %v", rej, err)
	}
}

func testPageIsAtomic(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	other := engine.NewSiteID()
	var heard int
	r.OnRemoteChanges(func(chs []engine.Change) { heard += len(chs) })
	bad := remote("items", "i2", engine.ClinicScope, 1000, other, "a", "y")
	bad.HLC = 0 // no version: refused
	err := r.ApplyRemote(context.Background(), &engine.Changes{Cursor: 3, Changes: []engine.Change{
		remote("items", "i1", engine.ClinicScope, 1000, other, "a", "x"), bad}})
	if err == nil {
		t.Fatal("a page with a malformed change was applied")
	}
	if r.get("items", "i1") != nil || r.state().Cursor != 0 || heard != 0 {
		t.Fatalf("a failed page left a row, moved the cursor to %d or told listeners (%d)", r.state().Cursor, heard)
	}
	r.page(&engine.Changes{Cursor: 3, Changes: []engine.Change{remote("items", "i1", engine.ClinicScope, 1000, other, "a", "x")}})
	if r.get("items", "i1") == nil || heard != 1 {
		t.Fatalf("good page: row %v, heard %d", r.get("items", "i1"), heard)
	}
}

func testCursorNeverGoesBack(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	other := engine.NewSiteID()
	r.page(&engine.Changes{Cursor: 10, Changes: []engine.Change{remote("items", "i1", engine.ClinicScope, 2000, other, "a", "new")}})
	// A late page from before: merge keeps the newer value and the cursor stays.
	r.page(&engine.Changes{Cursor: 4, Changes: []engine.Change{remote("items", "i1", engine.ClinicScope, 1000, other, "a", "old")}})
	if st := r.state(); st.Cursor != 10 || r.get("items", "i1")["a"] != "new" {
		t.Fatalf("after an older page: cursor %d, a = %v", st.Cursor, r.get("items", "i1")["a"])
	}
}

func testFuture(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	other := engine.NewSiteID()
	page := &engine.Changes{Cursor: 2, Changes: []engine.Change{
		remote("items", "i1", engine.ClinicScope, 1000, other, "a", "x", "e", "from v2"),
		remote("tags", "t1", engine.ClinicScope, 1000, other, "label", "urgent"),
	}}
	r.page(page)
	if got := r.get("items", "i1"); got == nil || got["a"] != "x" {
		t.Fatalf("the known part of a newer change: %v", got)
	}
	r.restart(Schema) // restarting without an upgrade keeps them waiting
	r.restart(upgraded)
	if got := r.get("items", "i1"); got == nil || got["e"] != "from v2" {
		t.Fatalf("after the upgrade items/i1 = %v, want e from v2", got)
	}
	if got := r.get("tags", "t1"); got == nil || got["label"] != "urgent" {
		t.Fatalf("after the upgrade tags/t1 = %v", got)
	}
	ref := open(t, Memory, upgraded)
	ref.page(page)
	if r.hash() != ref.hash() {
		t.Fatal("an upgraded replica differs from one that had the schema all along")
	}
	r.restart(upgraded) // replaying again changes nothing
	if r.hash() != ref.hash() {
		t.Fatal("a second open changed an upgraded replica")
	}
}

func testCompaction(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	other := engine.NewSiteID()
	create := func(id string, ms int64) engine.Change {
		ch := remote("items", id, engine.ClinicScope, ms, other, "a", id)
		ch.Create = true
		return ch
	}
	del := func(id string, ms int64) engine.Change {
		return engine.Change{Table: "items", ID: id, Scope: engine.ClinicScope, HLC: engine.NewHLC(ms, 0), Site: other, Delete: true}
	}
	r.page(&engine.Changes{Cursor: 4, Seqs: seqs(4, 1), Changes: []engine.Change{create("old", 1000), create("new", 1000), del("old", 2000), del("new", 3000)}})
	r.page(&engine.Changes{Cursor: 4, Seqs: nil}) // a page without a horizon compacts nothing
	if !r.known("items", "old") || !r.known("items", "new") {
		t.Fatal("tombstones went without a horizon")
	}
	r.page(&engine.Changes{Cursor: 5, Horizon: 3, Seqs: []uint64{5}, Changes: []engine.Change{create("kept", 1000)}})
	if r.known("items", "old") {
		t.Fatal("a tombstone at the horizon was kept")
	}
	if !r.known("items", "new") {
		t.Fatal("a tombstone past the horizon was dropped")
	}
	// A local delete's tombstone gets its log position from the ack, then compacts too.
	r.write(engine.Mutation{Table: "items", ID: "kept", Delete: true})
	p := r.next(10)
	r.ack(&engine.Ack{Batch: p.Batch, Seqs: []uint64{6}})
	r.page(&engine.Changes{Cursor: 6, Horizon: 6})
	if r.known("items", "kept") || r.known("items", "new") {
		t.Fatal("acknowledged tombstones at the horizon were kept")
	}
}

func testResetAndReplay(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	other := engine.NewSiteID()
	old := remote("items", "gone", engine.ClinicScope, 1000, other, "a", "x")
	old.Create = true
	r.page(&engine.Changes{Cursor: 1, Seqs: []uint64{1}, Changes: []engine.Change{old}})
	// Offline, this replica edits a row that the clinic deletes and compacts meanwhile, and
	// creates another.
	edits := r.write(item("gone", "a", "edited"), item("fresh", "a", "new"))
	if err := r.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.state(); st.Cursor != 0 || st.Acked != 0 || st.Pending != 2 || r.get("items", "gone") != nil {
		t.Fatalf("after reset: %+v, gone = %v", st, r.get("items", "gone"))
	}
	r.page(&engine.Changes{Cursor: 9}) // the fresh copy: the row is gone for good
	// The server's compaction floor is past the edit: a later delete of the row was compacted.
	if err := r.ReplayOutbox(context.Background(), edits[1].HLC+1); err != nil {
		t.Fatal(err)
	}
	if r.get("items", "gone") != nil {
		t.Fatal("replay resurrected a row whose deletion was compacted")
	}
	if got := r.get("items", "fresh"); got == nil || got["a"] != "new" {
		t.Fatalf("replay lost a new row: %v", got)
	}
	if p := r.next(10); len(p.Changes) != 1 || p.Changes[0].ID != "fresh" || r.state().Pending != 1 {
		t.Fatalf("after replay the outbox holds %v (pending %d), want only fresh", keys(p), r.state().Pending)
	}
}

func testClockRestored(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	first := r.write(item("i1", "a", "x"))[0].HLC
	// The wall clock goes back an hour while the replica is closed; the unsent write is in
	// the outbox only.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := r.reopen(Schema)
	if err != nil {
		t.Fatal(err)
	}
	r.clock = engine.NewClock(func() time.Time { return first.Time().Add(-time.Hour) }, 0)
	r.start(s)
	if next := r.write(item("i2", "a", "y"))[0].HLC; next <= first {
		t.Fatalf("after the clock went back a write got %v, not after %v", next, first)
	}
	// Once acknowledged, the outbox is empty: the store's recorded clock still holds it.
	p := r.next(10)
	r.ack(&engine.Ack{Batch: p.Batch, Seqs: seqs(len(p.Changes), 1)})
	last := p.Changes[len(p.Changes)-1].HLC
	r.restart(Schema)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = r.reopen(Schema); err != nil {
		t.Fatal(err)
	}
	r.clock = engine.NewClock(func() time.Time { return first.Time().Add(-time.Hour) }, 0)
	r.start(s)
	if next := r.write(item("i3", "a", "z"))[0].HLC; next <= last {
		t.Fatalf("with an empty outbox and the clock back a write got %v, not after %v", next, last)
	}
}

// history is a random multi-site history: creates, updates, deletes, concurrent note edits
// and append-only rows, in pages as a server would send them.
func history(rng *rand.Rand) []engine.Changes {
	sites := []engine.SiteID{engine.SiteID(rng.Uint64() | 1), engine.SiteID(rng.Uint64() | 1<<63), engine.SiteID(rng.Uint64() | 1)}
	var pages []engine.Changes
	var seq uint64
	ms := int64(1_000_000)
	for range 6 {
		var p engine.Changes
		for range 20 + rng.IntN(20) {
			ms += int64(rng.IntN(3)) // equal timestamps happen: the site breaks the tie
			site := sites[rng.IntN(len(sites))]
			id := fmt.Sprintf("r%d", rng.IntN(8))
			v := fmt.Sprintf("v%d", rng.IntN(3))
			var ch engine.Change
			switch rng.IntN(6) {
			case 0:
				ch = remote("items", id, engine.ClinicScope, ms, site, "a", fmt.Sprintf("s%d", rng.IntN(5)), "b", rng.Int64N(100), "c", rng.Float64(), "d", []byte{byte(rng.IntN(256))})
			case 1:
				ch = engine.Change{Table: "items", ID: id, Scope: engine.ClinicScope, HLC: engine.NewHLC(ms, 0), Site: site, Delete: true}
			case 2:
				ch = remote("visits", v, "visit:"+v, ms, site, "status", []string{"waiting", "in_visit", "done"}[rng.IntN(3)])
			case 3, 4:
				ch = remote("docs", "d"+v, "visit:"+v, ms, site, "visit_id", v, "body", fmt.Sprintf("note %d", rng.IntN(1000)))
				if rng.IntN(2) == 0 {
					ch.Bases = []engine.Version{{HLC: engine.NewHLC(ms-int64(rng.IntN(4)), 0), Site: sites[rng.IntN(len(sites))]}}
				}
			case 5:
				ch = remote("log", fmt.Sprintf("l%d", seq), "visit:"+v, ms, site, "visit_id", v, "msg", "hello", "at", ms)
			}
			seq++
			p.Changes = append(p.Changes, ch)
			p.Seqs = append(p.Seqs, seq)
		}
		p.Cursor = seq
		pages = append(pages, p)
	}
	return pages
}

func testHashAcrossStores(t *testing.T, b Backend) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			pages := history(rand.New(rand.NewPCG(seed, 42)))
			r, ref := open(t, b, Schema), open(t, Memory, Schema)
			for i := range pages {
				r.page(&pages[i])
			}
			// The reference receives the pages backwards, each change twice: merge is
			// commutative and idempotent, so the state is the same.
			for i := len(pages) - 1; i >= 0; i-- {
				ref.page(&pages[i])
				ref.page(&pages[i])
			}
			if r.hash() != ref.hash() {
				t.Fatalf("seed %d: the store's hash differs from the reference's", seed)
			}
			grants := func(scope string) bool { return scope == "visit:v1" }
			hr, err := engine.Hash(context.Background(), r.Store(), grants)
			if err != nil {
				t.Fatal(err)
			}
			href, _ := engine.Hash(context.Background(), ref.Store(), grants)
			if hr != href || hr == r.hash() {
				t.Fatalf("seed %d: the hash of one visit's scope differs or is the whole store's", seed)
			}
			got, err := engine.ListConflicts(context.Background(), r.Store(), "")
			if err != nil {
				t.Fatal(err)
			}
			want, _ := engine.ListConflicts(context.Background(), ref.Store(), "")
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("seed %d: conflicts\n got  %v\n want %v", seed, got, want)
			}
			r.restart(Schema)
			if r.hash() != ref.hash() {
				t.Fatalf("seed %d: a restart changed the hash", seed)
			}
		})
	}
}

func testSelect(t *testing.T, b Backend) {
	r, ref := open(t, b, Schema), open(t, Memory, Schema)
	rng := rand.New(rand.NewPCG(7, 7))
	words := []string{"Ada", "ada", "Adam", "Bo", "bob", "b_b", "b%b", "", "Zed"}
	var muts []engine.Mutation
	for i := range 60 {
		m := item(fmt.Sprintf("i%02d", i))
		if rng.IntN(5) > 0 {
			m.Values["a"] = words[rng.IntN(len(words))]
		}
		if rng.IntN(5) > 0 {
			m.Values["b"] = rng.Int64N(5) - 2
		}
		if rng.IntN(3) > 0 {
			m.Values["c"] = float64(rng.IntN(5)) / 2
		}
		if len(m.Values) == 0 {
			m.Values["d"] = []byte("x")
		}
		muts = append(muts, m)
	}
	r.write(muts...)
	ref.write(muts...)
	r.write(engine.Mutation{Table: "items", ID: "i07", Delete: true})
	ref.write(engine.Mutation{Table: "items", ID: "i07", Delete: true})
	queries := []engine.Query{
		{Table: "items"},
		{Table: "items", Where: []engine.Cond{{Col: "a", Op: engine.Eq, Value: "Ada"}}},
		{Table: "items", Where: []engine.Cond{{Col: "b", Op: engine.Eq, Value: 1}}}, // an int, not an int64
		{Table: "items", Where: []engine.Cond{{Col: "b", Op: engine.In, Value: []any{-2, int64(2)}}}, OrderBy: []engine.Order{{Col: "a", Desc: true}}},
		{Table: "items", Where: []engine.Cond{{Col: "b", Op: engine.In, Value: []any{}}}},
		{Table: "items", Where: []engine.Cond{{Col: "b", Op: engine.Ge, Value: 0}, {Col: "b", Op: engine.Lt, Value: 2}}, OrderBy: []engine.Order{{Col: "b"}}},
		{Table: "items", Where: []engine.Cond{{Col: "c", Op: engine.Ge, Value: 1}}, OrderBy: []engine.Order{{Col: "c", Desc: true}, {Col: "a"}}, Limit: 7},
		{Table: "items", Where: []engine.Cond{{Col: "a", Op: engine.Prefix, Value: "ad"}}, OrderBy: []engine.Order{{Col: "a"}}},
		{Table: "items", Where: []engine.Cond{{Col: "a", Op: engine.Prefix, Value: "b_"}}},
		{Table: "items", Where: []engine.Cond{{Col: "a", Op: engine.Prefix, Value: "b%"}}},
		{Table: "items", Where: []engine.Cond{{Col: "a", Op: engine.Prefix, Value: ""}}},
		{Table: "items", Where: []engine.Cond{{Col: "a", Op: engine.NotNull}}, OrderBy: []engine.Order{{Col: "b", Desc: true}}, Limit: 10},
		{Table: "items", OrderBy: []engine.Order{{Col: "a"}, {Col: "c", Desc: true}}, Limit: 25},
		{Table: "items", Where: []engine.Cond{{Col: "id", Op: engine.Ge, Value: "i50"}}},
		// Only some columns read; rows ordered and filtered by columns not read.
		{Table: "items", Cols: []string{"b"}, Where: []engine.Cond{{Col: "a", Op: engine.NotNull}}, OrderBy: []engine.Order{{Col: "c", Desc: true}}, Limit: 9},
		{Table: "items", Cols: []string{"d", "a"}},
		{Table: "items", Cols: []string{}, Where: []engine.Cond{{Col: "b", Op: engine.Eq, Value: 0}}},
		{Table: "items", Cols: []string{"id", "c"}, OrderBy: []engine.Order{{Col: "c"}}},
		// Ordered by id explicitly, descending, and by a column then id descending.
		{Table: "items", OrderBy: []engine.Order{{Col: "id", Desc: true}}, Limit: 12},
		{Table: "items", Cols: []string{"b"}, OrderBy: []engine.Order{{Col: "b"}, {Col: "id", Desc: true}}},
	}
	ctx := context.Background()
	for i, q := range queries {
		got, err := r.Select(ctx, q)
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		want, err := ref.Select(ctx, q)
		if err != nil {
			t.Fatalf("query %d on the reference: %v", i, err)
		}
		if fmt.Sprint(ids(got)) != fmt.Sprint(ids(want)) {
			t.Errorf("query %d %+v:\n got  %v\n want %v", i, q, ids(got), ids(want))
		} else if fmt.Sprint(got) != fmt.Sprint(want) { // fmt prints a map's keys in order
			t.Errorf("query %d %+v: the rows' values differ:\n got  %v\n want %v", i, q, got, want)
		}
		if i == 0 && len(got) != 59 {
			t.Errorf("every row: %d, want 59", len(got))
		}
	}
	for _, q := range []engine.Query{
		{Table: "nope"},
		{Table: "items", Where: []engine.Cond{{Col: "nope", Op: engine.Eq, Value: 1}}},
		{Table: "items", OrderBy: []engine.Order{{Col: "nope"}}},
		{Table: "items", Where: []engine.Cond{{Col: "b", Op: engine.Prefix, Value: "1"}}},
		{Table: "items", Where: []engine.Cond{{Col: "b", Op: engine.In, Value: 1}}},
		{Table: "items", Cols: []string{"a", "nope"}},
	} {
		if _, err := r.Select(ctx, q); err == nil {
			t.Errorf("query %+v was accepted", q)
		}
	}
	if rec, err := r.Get(ctx, "items", "i03"); err != nil || rec["id"] != "i03" {
		t.Errorf("get: %v %v", rec, err)
	}
	if _, err := r.Get(ctx, "items", "i07"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("get of a deleted row: %v, want ErrNotFound", err)
	}
}

func testConflicts(t *testing.T, b Backend) {
	r := open(t, b, Schema)
	ctx := context.Background()
	a, c := engine.SiteID(1<<63|5), engine.SiteID(7) // sites either side of the sign bit
	base := remote("docs", "d1", "visit:v1", 1000, a, "visit_id", "v1", "title", "Visit", "body", "first")
	base.Create = true
	edit := func(site engine.SiteID, ms int64, body string) engine.Change {
		ch := remote("docs", "d1", "visit:v1", ms, site, "body", body)
		ch.Bases = []engine.Version{base.Version()}
		return ch
	}
	x, y := edit(a, 2000, "edited on the laptop"), edit(c, 2000, "edited on the tablet") // the same millisecond
	r.page(&engine.Changes{Cursor: 3, Changes: []engine.Change{base, x, y}})
	cs, err := engine.ListConflicts(ctx, r.Store(), "docs")
	if err != nil {
		t.Fatal(err)
	}
	winner, loser := x, y
	if x.Version().Less(y.Version()) {
		winner, loser = y, x
	}
	if len(cs) != 1 || cs[0].ID != "d1" || cs[0].Version != loser.Version() || cs[0].Current != winner.Version() || cs[0].Text != loser.Vals[0] {
		t.Fatalf("conflicts %+v, want %v losing to %v", cs, loser.Version(), winner.Version())
	}
	if got := r.get("docs", "d1"); got["body"] != winner.Vals[0] {
		t.Fatalf("the note shows %v, want the winner %q", got["body"], winner.Vals[0])
	}
	if all, _ := engine.ListConflicts(ctx, r.Store(), ""); len(all) != 1 {
		t.Fatalf("every table: %v", all)
	}
	// Resolving replaces both versions.
	r.write(engine.Mutation{Table: "docs", ID: "d1", Values: map[string]any{"body": "merged"}, Resolve: true})
	if cs, _ := engine.ListConflicts(ctx, r.Store(), ""); len(cs) != 0 {
		t.Fatalf("after resolving: %v", cs)
	}
}

func ids(recs []engine.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r["id"].(string)
	}
	return out
}
