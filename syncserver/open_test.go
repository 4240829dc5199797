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

// TestSlowOpenBlocksOnlyItsTenant holds clinic A's store open in OpenStore while two of A's
// replicas connect, and checks that clinic B's replica connects and syncs meanwhile, that A's
// replicas sync once the open ends, and that A's store was opened once for both.
func TestSlowOpenBlocksOnlyItsTenant(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	var opensA atomic.Int32
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tenants: []string{"clinic-a", "clinic-b"},
		Tweak: func(o *syncserver.Options) {
			open := o.OpenStore
			o.OpenStore = func(ctx context.Context, info syncserver.TenantInfo) (syncserver.TenantStore, error) {
				if info.ID == "clinic-a" {
					opensA.Add(1)
					entered <- struct{}{}
					select {
					case <-release:
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}
				return open(ctx, info)
			}
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	done := make(chan error, 2)
	var as []*servertest.Replica
	for _, user := range []string{"alice", "amir"} {
		a := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-a"), srv.Token(t, "clinic-a", user, ""))
		as = append(as, a)
		go func() { done <- a.Syncer.SyncOnce(ctx) }()
	}
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("clinic A's store was never opened")
	}

	b := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-b"), srv.Token(t, "clinic-b", "bea", ""))
	if _, err := b.Write(ctx, engine.Mutation{Table: "patients", ID: engine.NewID(), Values: map[string]any{"given_name": "Bo"}}); err != nil {
		t.Fatal(err)
	}
	b.Sync(t) // while A's open is held
	tb, err := srv.Tenant(ctx, "clinic-b")
	if err != nil {
		t.Fatal(err)
	}
	if hb, hs := servertest.Hash(t, b), servertest.StoreHash(t, tb); hb != hs {
		t.Fatalf("clinic B: replica %s, server %s", hb, hs)
	}
	select {
	case err := <-done:
		t.Fatalf("a replica of clinic A synced while its store was still opening: %v", err)
	default:
	}

	close(release)
	for range as {
		if err := <-done; err != nil {
			t.Fatalf("clinic A: %v", err)
		}
	}
	if n := opensA.Load(); n != 1 {
		t.Fatalf("clinic A's store was opened %d times for two connections, want once", n)
	}
}

// TestFailedOpenIsTriedAgain checks that a store that failed to open is opened again by the
// next connection rather than remembered as failed.
func TestFailedOpenIsTriedAgain(t *testing.T) {
	var opens atomic.Int32
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) {
		open := o.OpenStore
		o.OpenStore = func(ctx context.Context, info syncserver.TenantInfo) (syncserver.TenantStore, error) {
			if opens.Add(1) == 1 {
				return nil, context.DeadlineExceeded // a first open that timed out
			}
			return open(ctx, info)
		}
	}})
	ctx := context.Background()
	if _, err := srv.Tenant(ctx, "clinic-a"); err == nil {
		t.Fatal("the first open did not fail")
	}
	if _, err := srv.Tenant(ctx, "clinic-a"); err != nil {
		t.Fatalf("the second open: %v", err)
	}
	if n := opens.Load(); n != 2 {
		t.Fatalf("%d opens, want 2", n)
	}
}
