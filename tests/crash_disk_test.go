package tests

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"hearth/engine"
)

// TestDiskFullRefusesPushRetryably fills the server's disk (simulated with --max-tenant-pages,
// SQLite's max_page_count, so no mount privileges are needed) while a replica pushes: the
// server must answer the push that does not fit with a retryable unavailable error and no ack,
// store none of that batch and lose nothing it acknowledged; the replica keeps the batch in its
// outbox. Once the server restarts with room, the replica syncs everything.
func TestDiskFullRefusesPushRetryably(t *testing.T) {
	const maxPages = 80 // 320 KiB; a fresh tenant store is ~17 pages
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	data := t.TempDir()
	srv := crashServerAt(t, data, "127.0.0.1:0", "--max-tenant-pages", "80")
	addr := srv.Addr
	r := openCrashReplica(t, "laptop", srv.syncURL("demo"), staffToken(t, srv, "demo", "dr"), 10)
	stop := r.runLoop(t)
	visit := engine.NewID()

	// Write 1 KiB chat messages until a push is refused.
	deadline := time.Now().Add(30 * time.Second)
	writes := 0
	for len(r.Frames.pushErrors()) == 0 {
		if writes >= 2000 || time.Now().After(deadline) {
			t.Fatalf("no push refused after %d writes (%d pages allowed); %s", writes, maxPages, r.Frames.summary())
		}
		if err := r.writeRandom(rng, visit, 1024); err != nil {
			t.Fatal(err)
		}
		writes++
		time.Sleep(2 * time.Millisecond) // lets the loop push as the writes come
	}
	e := r.Frames.pushErrors()[0]
	if e.Code != engine.CodeUnavailable || !e.Retryable || e.Batch == "" {
		t.Fatalf("a push to a full store was answered with %+v; want a retryable %s error naming the batch", e, engine.CodeUnavailable)
	}
	// The replica keeps working offline-first: local writes still succeed.
	for range 5 {
		if err := r.writeRandom(rng, visit, 1024); err != nil {
			t.Fatal(err)
		}
	}
	// The refused batch is retried, and refused, again and again; it is never acknowledged.
	waitFor(t, 10*time.Second, "the refused batch to be retried", func() bool { return len(r.Frames.pushErrors()) >= 3 })
	for _, e := range r.Frames.pushErrors() {
		if e.Code != engine.CodeUnavailable || !e.Retryable {
			t.Fatalf("push refused with %+v; want retryable %s", e, engine.CodeUnavailable)
		}
	}
	if r.Frames.isAcked(e.Batch) {
		t.Fatalf("batch %s was refused and acknowledged", e.Batch)
	}
	if p := r.pending(t); p == 0 {
		t.Fatal("the replica dropped its outbox after a refused push")
	}
	if !strings.Contains(srv.log.String(), `"push failed"`) || !strings.Contains(srv.log.String(), "full") {
		t.Errorf("the server did not log the failed push as a full store")
	}
	// The server holds exactly the acknowledged chat messages: nothing acked lost, nothing of
	// a refused batch half-applied.
	st := openCrashStore(t, data, "demo")
	if missing := st.missingAcked(r); len(missing) > 0 {
		t.Fatalf("%d acknowledged rows missing while the store is full, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	var acked []string
	for _, row := range r.Frames.ackedRows() {
		if row.Table == "chat_messages" {
			acked = append(acked, row.ID)
		}
	}
	var stored []string
	for id := range st.ids("chat_messages") {
		stored = append(stored, id)
	}
	slices.Sort(acked)
	slices.Sort(stored)
	if !slices.Equal(acked, stored) {
		t.Fatalf("server stores %d chat messages, %d were acknowledged: a refused batch was partly applied", len(stored), len(acked))
	}
	t.Logf("store full after %d writes: %d chat messages stored; %s", writes, len(stored), r.Frames.summary())

	// The operator frees space: the server restarts without the cap, and the replica, still
	// running its loop, pushes everything.
	if err := srv.stop(); err != nil {
		t.Fatalf("hearth-server with a full store did not stop cleanly: %v", err)
	}
	crashServerAt(t, data, addr)
	waitFor(t, 30*time.Second, "the outbox to drain after the restart", func() bool { return r.pending(t) == 0 })
	stop()
	r.syncOnce(t)
	crashAssertAllOnServer(t, st, r)
	crashAssertSameHash(t, data, "demo", r)
}
