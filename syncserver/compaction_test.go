package syncserver_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/servertest"
)

// waitAcked waits until every active replica has acknowledged the head of the log.
func waitAcked(t *testing.T, tn *syncserver.Tenant) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		head, err := tn.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		reps, err := tn.Replicas(ctx)
		if err != nil {
			t.Fatal(err)
		}
		behind := 0
		for _, r := range reps {
			if !r.Retired && r.Acked < head {
				behind++
			}
		}
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d replicas have not acknowledged log position %d: %+v", behind, head, reps)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCompactionAndRetiredReplica(t *testing.T) {
	var offset atomic.Int64 // server time runs ahead of wall time by this much
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) { o.Now = now }})
	url := srv.URL("clinic-a")
	ctx := context.Background()
	open := func(user string) *servertest.Replica {
		return servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", user, ""))
	}
	a, b, laptop := open("a"), open("b"), open("laptop")
	ids := writePatients(t, a, 3)
	for _, r := range []*servertest.Replica{a, b, laptop, a} {
		r.Sync(t)
	}
	tn, err := srv.Tenant(ctx, "clinic-a")
	if err != nil {
		t.Fatal(err)
	}
	waitAcked(t, tn) // the laptop's last word reaches the server before the clock jumps

	// The laptop goes away with unsent work: a new patient, an edit of a patient that is
	// deleted meanwhile, and an edit of one that survives.
	newID := engine.NewID()
	if _, err := laptop.Write(ctx,
		engine.Mutation{Table: "patients", ID: newID, Values: map[string]any{"given_name": "Walk-in"}},
		engine.Mutation{Table: "patients", ID: ids[0], Values: map[string]any{"phone": "555-0100"}},
		engine.Mutation{Table: "patients", ID: ids[2], Values: map[string]any{"given_name": "Laptop edit"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write(ctx, engine.Mutation{Table: "patients", ID: ids[0], Delete: true},
		engine.Mutation{Table: "patients", ID: ids[1], Delete: true}); err != nil {
		t.Fatal(err)
	}
	// Past the retention horizon: a and b keep syncing, the laptop does not.
	offset.Store(int64(48 * time.Hour))
	for range 2 {
		a.Sync(t)
		b.Sync(t)
	}
	res, err := tn.Compact(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if res.Retired != 1 {
		t.Fatalf("retired %d replicas, want the laptop only", res.Retired)
	}
	waitAcked(t, tn)
	again, err := tn.Compact(ctx, 24*time.Hour)
	if err != nil || res.Tombstones+again.Tombstones != 2 {
		t.Fatalf("compaction dropped %d+%d tombstones (%v), want 2", res.Tombstones, again.Tombstones, err)
	}
	page, err := tn.Pull(ctx, syncserverPull(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range page.Changes {
		if ch.ID == ids[0] || ch.ID == ids[1] {
			t.Fatalf("log still holds history of deleted row %s", ch.ID)
		}
	}
	// Replicas drop the same tombstones when they next sync.
	a.Sync(t)
	var n int
	if err := a.Reader().QueryRowContext(ctx, `SELECT count(*) FROM _hearth_tombstones`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("replica a keeps %d tombstones (%v)", n, err)
	}
	// A new device gets the clinic without the deleted rows' history.
	fresh := open("fresh")
	fresh.Sync(t)

	// The laptop returns: it is told to re-sync, keeps its unsent work, and does not bring
	// the deleted patient back.
	laptop.Sync(t)
	for range 2 {
		for _, r := range []*servertest.Replica{a, b, fresh, laptop} {
			r.Sync(t)
		}
	}
	want := servertest.StoreHash(t, tn)
	for i, r := range []*servertest.Replica{a, b, fresh, laptop} {
		if got := servertest.Hash(t, r); got != want {
			t.Errorf("replica %d differs from the server", i)
		}
	}
	for _, id := range ids[:2] {
		if _, err := tn.Store().Get(ctx, "patients", id); err == nil {
			t.Errorf("deleted patient %s came back", id)
		}
	}
	if rec, err := tn.Store().Get(ctx, "patients", newID); err != nil || rec["given_name"] != "Walk-in" {
		t.Errorf("the laptop's new patient: %v, %v", rec, err)
	}
	if rec, err := tn.Store().Get(ctx, "patients", ids[2]); err != nil || rec["given_name"] != "Laptop edit" {
		t.Errorf("the laptop's edit of a surviving patient: %v, %v", rec, err)
	}
	if st, _ := laptop.State(ctx); st.Pending != 0 {
		t.Errorf("laptop has %d changes pending", st.Pending)
	}
}
