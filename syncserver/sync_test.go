package syncserver_test

import (
	"context"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver/servertest"
)

func TestTwoReplicasConverge(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{})
	url := srv.URL("clinic-a")
	a := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "alice", ""))
	b := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "bob", ""))
	ctx := context.Background()
	id := engine.NewID()
	if _, err := a.Write(ctx, engine.Mutation{Table: "patients", ID: id, Values: map[string]any{"given_name": "Ada", "region": "CA"}}); err != nil {
		t.Fatal(err)
	}
	a.Sync(t)
	b.Sync(t)
	rec, err := b.Get(ctx, "patients", id)
	if err != nil {
		t.Fatal(err)
	}
	if rec["given_name"] != "Ada" {
		t.Fatalf("b sees %v", rec)
	}
	tn, err := srv.Tenant(ctx, "clinic-a")
	if err != nil {
		t.Fatal(err)
	}
	ha, hb, hs := servertest.Hash(t, a), servertest.Hash(t, b), servertest.StoreHash(t, tn)
	if ha != hb || hb != hs {
		t.Fatalf("hashes differ: a=%s b=%s server=%s", ha, hb, hs)
	}
}
