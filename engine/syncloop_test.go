package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/memstore"
	"hearth/engine/storetest"
)

// The sync loop's unit tests: a replica on the in-memory store, an in-process fake server that
// speaks the protocol over an in-memory connection, and faults the server injects. The real
// server and network are tested in syncserver and tests/.

// pipe is one direction of an in-memory connection.
type pipe struct {
	ch     chan []byte
	closed chan struct{}
	once   *sync.Once
}

// memConn is one end of an in-memory connection carrying whole messages.
type memConn struct{ in, out pipe }

func newConnPair() (client, server *memConn) {
	closed, once := make(chan struct{}), &sync.Once{}
	a := pipe{make(chan []byte, 64), closed, once}
	b := pipe{make(chan []byte, 64), closed, once}
	return &memConn{in: a, out: b}, &memConn{in: b, out: a}
}

func (c *memConn) ReadMessage(ctx context.Context) ([]byte, error) {
	select {
	case b := <-c.in.ch:
		return b, nil
	case <-c.in.closed:
		return nil, errors.New("connection closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *memConn) WriteMessage(ctx context.Context, b []byte) error {
	select {
	case <-c.out.closed:
		return errors.New("connection closed")
	default:
	}
	select {
	case c.out.ch <- b:
		return nil
	case <-c.out.closed:
		return errors.New("connection closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *memConn) Close() error {
	c.in.once.Do(func() { close(c.in.closed) })
	return nil
}

// fakeServer keeps one tenant's log and applies each batch once by its key, as the real server
// does; a test changes how it answers through its fields.
type fakeServer struct {
	t      testing.TB
	schema *engine.Schema

	mu      sync.Mutex
	log     []engine.Change
	acks    map[string]*engine.Ack
	pushes  []string // batch keys in the order pushes arrived
	dials   int
	floor   engine.HLC
	retired map[engine.SiteID]bool
	// onPush, if set, decides how a push is answered: it may send frames of its own through
	// send and return false to drop the connection instead of acknowledging.
	onPush func(n int, p *engine.Push, ack *engine.Ack, send func(*engine.Frame)) (ackIt bool)
	// onPull, if set, sends the pages of a pull instead of the server (out of order, say).
	onPull func(cursor uint64, send func(*engine.Frame))
}

func newFakeServer(t testing.TB) *fakeServer {
	return &fakeServer{t: t, schema: storetest.Schema, acks: map[string]*engine.Ack{}, retired: map[engine.SiteID]bool{}}
}

func (s *fakeServer) Dial(ctx context.Context) (engine.Conn, error) {
	client, server := newConnPair()
	s.mu.Lock()
	s.dials++
	s.mu.Unlock()
	go s.serve(server)
	return client, nil
}

// page returns the log after cursor as one page.
func (s *fakeServer) page(cursor uint64) *engine.Changes {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &engine.Changes{Cursor: uint64(len(s.log)), Head: uint64(len(s.log))}
	for i := cursor; i < uint64(len(s.log)); i++ {
		p.Changes = append(p.Changes, s.log[i])
		p.Seqs = append(p.Seqs, i+1)
	}
	return p
}

func (s *fakeServer) serve(c *memConn) {
	defer c.Close()
	ctx := context.Background()
	send := func(f *engine.Frame) {
		b, err := engine.EncodeFrame(f)
		if err != nil {
			panic(err)
		}
		c.WriteMessage(ctx, b) //nolint:errcheck // a closed connection ends the loop below
	}
	b, err := c.ReadMessage(ctx)
	if err != nil {
		return
	}
	f, err := engine.DecodeFrame(b)
	if err != nil || f.Type != engine.MsgHello {
		return
	}
	s.mu.Lock()
	w := &engine.Welcome{Protocol: engine.ProtocolVersion, Schema: s.schema.Version(), MinSchema: 1, Tenant: "t1",
		User: "u", Role: "admin", Scopes: []string{engine.AllScopes}, Resync: s.retired[f.Hello.Site], Floor: s.floor}
	delete(s.retired, f.Hello.Site)
	s.mu.Unlock()
	send(&engine.Frame{Type: engine.MsgWelcome, Welcome: w})
	var cursor uint64
	for {
		b, err := c.ReadMessage(ctx)
		if err != nil {
			return
		}
		f, err := engine.DecodeFrame(b)
		if err != nil {
			s.t.Errorf("fake server: %v", err)
			return
		}
		switch f.Type {
		case engine.MsgPull:
			if s.onPull != nil {
				s.onPull(f.Pull.Cursor, send)
				cursor = s.page(0).Cursor
				continue
			}
			p := s.page(f.Pull.Cursor)
			cursor = p.Cursor
			send(&engine.Frame{Type: engine.MsgChanges, Changes: p})
		case engine.MsgPush:
			s.mu.Lock()
			s.pushes = append(s.pushes, f.Push.Batch)
			n := len(s.pushes)
			ack, seen := s.acks[f.Push.Batch]
			if !seen {
				ack = &engine.Ack{Batch: f.Push.Batch}
				for _, ch := range f.Push.Changes {
					s.log = append(s.log, ch)
					ack.Seqs = append(ack.Seqs, uint64(len(s.log)))
				}
				s.acks[f.Push.Batch] = ack
			}
			onPush := s.onPush
			s.mu.Unlock()
			if onPush != nil && !onPush(n, f.Push, ack, send) {
				return // the connection drops: the batch is applied, its ack lost
			}
			send(&engine.Frame{Type: engine.MsgAck, Ack: ack})
			p := s.page(cursor)
			cursor = p.Cursor
			send(&engine.Frame{Type: engine.MsgChanges, Changes: p})
		case engine.MsgProgress, engine.MsgRequest:
		}
	}
}

// batchesLogged counts, per change version, how many times the server logged it.
func (s *fakeServer) logged() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, ch := range s.log {
		out[ch.Table+"/"+ch.ID+"@"+ch.Version().String()]++
	}
	return out
}

// state is the server's merged state: its whole log applied to a fresh store.
func (s *fakeServer) state(t testing.TB) *engine.Replica {
	t.Helper()
	r, err := engine.OpenReplica(context.Background(), memstore.New(s.schema), engine.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ApplyRemote(context.Background(), s.page(0)); err != nil {
		t.Fatal(err)
	}
	return r
}

func hashOf(t testing.TB, r *engine.Replica) string {
	t.Helper()
	h, err := engine.Hash(context.Background(), r.Store(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func memReplica(t testing.TB) *engine.Replica {
	t.Helper()
	r, err := engine.OpenReplica(context.Background(), memstore.New(storetest.Schema), engine.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeItems(t testing.TB, r *engine.Replica, n int, prefix string) []engine.Change {
	t.Helper()
	var out []engine.Change
	for i := range n {
		chs, err := r.Write(context.Background(), engine.Mutation{Table: "items", ID: fmt.Sprintf("%s%d", prefix, i), Values: map[string]any{"a": prefix}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chs...)
	}
	return out
}

// runUntil runs the sync loop until cond holds, failing after a bounded wait.
func runUntil(t *testing.T, s *engine.Syncer, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sync loop: %v", err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached in 10s; status %+v", s.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newSyncer(r *engine.Replica, srv *fakeServer, batch int) *engine.Syncer {
	s := engine.NewSyncer(r, srv, engine.SyncOptions{Token: "t", BatchSize: batch, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	r.OnLocalWrite(s.Notify)
	return s
}

// exactlyOnce checks that the server logged each of the replica's changes once.
func exactlyOnce(t *testing.T, srv *fakeServer, chs []engine.Change) {
	t.Helper()
	logged := srv.logged()
	for _, ch := range chs {
		if n := logged[ch.Table+"/"+ch.ID+"@"+ch.Version().String()]; n != 1 {
			t.Errorf("%s/%s logged %d times, want once", ch.Table, ch.ID, n)
		}
	}
}

func TestSyncLoopDropMidBatch(t *testing.T) {
	srv := newFakeServer(t)
	// The first two pushes are applied and their connections drop before the ack.
	srv.onPush = func(n int, _ *engine.Push, _ *engine.Ack, _ func(*engine.Frame)) bool { return n > 2 }
	r := memReplica(t)
	chs := writeItems(t, r, 7, "i")
	s := newSyncer(r, srv, 3)
	runUntil(t, s, func() bool { st, _ := r.State(context.Background()); return st.Pending == 0 && st.Cursor == 7 })
	srv.mu.Lock()
	pushes := append([]string(nil), srv.pushes...)
	srv.mu.Unlock()
	if len(pushes) < 5 || pushes[0] != pushes[1] || pushes[1] != pushes[2] {
		t.Fatalf("pushes %v: the batch whose ack was lost must be sent again with its key", pushes)
	}
	exactlyOnce(t, srv, chs)
	if hashOf(t, r) != hashOf(t, srv.state(t)) {
		t.Fatal("replica and server differ")
	}
}

func TestSyncLoopDuplicateAck(t *testing.T) {
	srv := newFakeServer(t)
	srv.onPush = func(_ int, _ *engine.Push, ack *engine.Ack, send func(*engine.Frame)) bool {
		send(&engine.Frame{Type: engine.MsgAck, Ack: ack}) // the same ack comes twice
		return true
	}
	r := memReplica(t)
	chs := writeItems(t, r, 6, "i")
	s := newSyncer(r, srv, 2)
	runUntil(t, s, func() bool { st, _ := r.State(context.Background()); return st.Pending == 0 && st.Cursor == 6 })
	exactlyOnce(t, srv, chs)
	srv.mu.Lock()
	dials := srv.dials
	srv.mu.Unlock()
	if dials != 1 {
		t.Errorf("a duplicate ack cost a reconnect: %d dials", dials)
	}
}

func TestSyncLoopAckForUnknownBatch(t *testing.T) {
	srv := newFakeServer(t)
	srv.onPush = func(n int, _ *engine.Push, _ *engine.Ack, send func(*engine.Frame)) bool {
		if n == 1 {
			send(&engine.Frame{Type: engine.MsgAck, Ack: &engine.Ack{Batch: "never-sent", Seqs: []uint64{1}}})
		}
		return true
	}
	r := memReplica(t)
	chs := writeItems(t, r, 4, "i")
	s := newSyncer(r, srv, 10)
	runUntil(t, s, func() bool { st, _ := r.State(context.Background()); return st.Pending == 0 && st.Cursor == 4 })
	exactlyOnce(t, srv, chs)
	srv.mu.Lock()
	dials := srv.dials
	srv.mu.Unlock()
	if dials < 2 {
		t.Errorf("an ack for a batch never sent is a broken server: want a reconnect, got %d dials", dials)
	}
}

func TestSyncLoopPagesOutOfOrder(t *testing.T) {
	srv := newFakeServer(t)
	other := memReplica(t)
	writeItems(t, other, 6, "o")
	// Another replica's later edits of the same rows.
	for i := range 3 {
		if _, err := other.Write(context.Background(), engine.Mutation{Table: "items", ID: fmt.Sprintf("o%d", i), Values: map[string]any{"a": "edited"}}); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := other.NextBatch(context.Background(), 100)
	srv.mu.Lock()
	srv.log = append(srv.log, p.Changes...)
	srv.mu.Unlock()
	all := srv.page(0)
	srv.onPull = func(cursor uint64, send func(*engine.Frame)) {
		late := &engine.Changes{Changes: all.Changes[6:], Seqs: all.Seqs[6:], Cursor: 9, Head: 9, More: true}
		early := &engine.Changes{Changes: all.Changes[:6], Seqs: all.Seqs[:6], Cursor: 6, Head: 9}
		send(&engine.Frame{Type: engine.MsgChanges, Changes: late})
		send(&engine.Frame{Type: engine.MsgChanges, Changes: early})
	}
	r := memReplica(t)
	s := newSyncer(r, srv, 10)
	if err := s.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := r.State(context.Background())
	if st.Cursor != 9 {
		t.Fatalf("cursor %d after pages out of order, want 9", st.Cursor)
	}
	if hashOf(t, r) != hashOf(t, srv.state(t)) {
		t.Fatal("pages out of order left the replica different from the server")
	}
	if rec, err := r.Get(context.Background(), "items", "o1"); err != nil || rec["a"] != "edited" {
		t.Fatalf("o1 = %v (%v), want the later edit", rec, err)
	}
}

func TestSyncLoopRetiredReplicaResyncs(t *testing.T) {
	srv := newFakeServer(t)
	r := memReplica(t)
	writeItems(t, r, 3, "i")
	s := newSyncer(r, srv, 10)
	if err := s.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Offline, the replica edits i1 and creates n0; meanwhile the clinic deletes i1 and the
	// server, having retired this replica, compacts the deletion.
	edit, err := r.Write(context.Background(), engine.Mutation{Table: "items", ID: "i1", Values: map[string]any{"a": "edited offline"}})
	if err != nil {
		t.Fatal(err)
	}
	created := writeItems(t, r, 1, "n")
	srv.mu.Lock()
	del := engine.Change{Table: "items", ID: "i1", Scope: engine.ClinicScope, HLC: edit[0].HLC + 1, Site: engine.NewSiteID(), Delete: true}
	var kept []engine.Change
	for _, ch := range srv.log {
		if ch.ID != "i1" {
			kept = append(kept, ch)
		}
	}
	srv.log = kept // compaction dropped the row's history with its tombstone
	srv.floor = del.HLC
	srv.retired[r.SiteID()] = true
	srv.mu.Unlock()

	if err := s.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(context.Background(), "items", "i1"); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("i1 after the re-sync: %v, want deleted", err)
	}
	if n := srv.logged()["items/i1@"+edit[0].Version().String()]; n != 0 {
		t.Fatal("the stale edit of a compacted deletion was pushed")
	}
	exactlyOnce(t, srv, created)
	st, _ := r.State(context.Background())
	if st.Pending != 0 || hashOf(t, r) != hashOf(t, srv.state(t)) {
		t.Fatalf("after the re-sync: pending %d, replica and server equal: %v", st.Pending, hashOf(t, r) == hashOf(t, srv.state(t)))
	}
}
