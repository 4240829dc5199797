package syncserver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/servertest"
)

// A push the server takes long over (a large batch on a loaded machine) must not cost the
// connection: while the session works on it, a frame the replica sends meanwhile (its
// progress after the first page) must not stop the server from answering the replica's
// keepalive pings.
func TestSlowPushKeepsTheConnection(t *testing.T) {
	slow := 150 * time.Millisecond
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) {
		o.Hooks.CheckPush = func(ctx context.Context, rc *syncserver.RequestContext, ch *engine.Change) error {
			time.Sleep(slow)
			return nil
		}
	}})
	rep := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-a"), srv.Token(t, "clinic-a", "ann", ""))
	rep.Dialer.PingInterval = 50 * time.Millisecond // a peer silent for 100ms is given up on
	var muts []engine.Mutation
	for i := range 6 { // a push of about a second
		muts = append(muts, engine.Mutation{Table: "regions", ID: fmt.Sprintf("R%d", i), Values: map[string]any{"name": "Region"}})
	}
	if _, err := rep.Write(context.Background(), muts...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rep.Syncer.SyncOnce(ctx); err != nil {
		t.Fatalf("sync with a slow push: %v", err)
	}
	if st, _ := rep.State(ctx); st.Pending != 0 {
		t.Fatalf("%d changes still pending", st.Pending)
	}
}
