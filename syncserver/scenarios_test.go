package syncserver_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
	"hearth/syncserver/servertest"
	"hearth/syncserver/token"
)

// rawSession is a hand-driven connection, for tests that need to control frames exactly.
type rawSession struct {
	t    *testing.T
	conn engine.Conn
	site engine.SiteID
}

func dialRaw(t *testing.T, url, tok string, site engine.SiteID, schema int) (*rawSession, *engine.Frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&wstransport.Dialer{URL: url}).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &rawSession{t: t, conn: conn, site: site}
	s.send(&engine.Frame{Type: engine.MsgHello, Hello: &engine.Hello{Protocol: engine.ProtocolVersion, Schema: schema, Site: site, Token: tok}})
	return s, s.recv()
}

func (s *rawSession) send(f *engine.Frame) {
	s.t.Helper()
	b, err := engine.EncodeFrame(f)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.conn.WriteMessage(ctx, b); err != nil {
		s.t.Fatal(err)
	}
}

func (s *rawSession) recv() *engine.Frame {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := s.conn.ReadMessage(ctx)
	if err != nil {
		s.t.Fatalf("receive: %v", err)
	}
	f, err := engine.DecodeFrame(b)
	if err != nil {
		s.t.Fatal(err)
	}
	return f
}

func patientChange(site engine.SiteID, hlc engine.HLC, name string) engine.Change {
	return engine.Change{Table: "patients", ID: engine.NewID(), Scope: engine.ClinicScope, HLC: hlc, Site: site, Create: true,
		Cols: []string{"given_name"}, Vals: []any{name}}
}

func logLength(t *testing.T, srv *servertest.Server, tenant string) int {
	t.Helper()
	tn, err := srv.Tenant(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	page, err := tn.Pull(context.Background(), syncserverPull(0))
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Changes)
}

func TestRetriedPushIsAppliedOnce(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{})
	url, tok := srv.URL("clinic-a"), srv.Token(t, "clinic-a", "alice", "")
	site := engine.NewSiteID()
	clk := engine.NewClock(nil, 0)
	push := &engine.Push{Batch: "b-1", Changes: []engine.Change{patientChange(site, clk.Now(), "Ada"), patientChange(site, clk.Now(), "Grace")}}

	s, w := dialRaw(t, url, tok, site, clinic.Schema.Version())
	if w.Type != engine.MsgWelcome {
		t.Fatalf("handshake: %+v", w.Error)
	}
	s.send(&engine.Frame{Type: engine.MsgPush, Push: push})
	first := s.recv()
	// The same batch again on the same connection, then on a new one (as after a lost ack).
	s.send(&engine.Frame{Type: engine.MsgPush, Push: push})
	again := s.recv()
	s2, _ := dialRaw(t, url, tok, site, clinic.Schema.Version())
	s2.send(&engine.Frame{Type: engine.MsgPush, Push: push})
	third := s2.recv()
	for _, f := range []*engine.Frame{first, again, third} {
		if f.Type != engine.MsgAck || len(f.Ack.Seqs) != 2 || f.Ack.Seqs[0] != first.Ack.Seqs[0] || f.Ack.Seqs[1] != first.Ack.Seqs[1] {
			t.Fatalf("ack %+v, want the first ack %+v again", f.Ack, first.Ack)
		}
	}
	if n := logLength(t, srv, "clinic-a"); n != 2 {
		t.Fatalf("log holds %d changes, want 2", n)
	}
	// The same key from another site is another batch: keys are per replica.
	other := engine.NewSiteID()
	s3, _ := dialRaw(t, url, tok, other, clinic.Schema.Version())
	s3.send(&engine.Frame{Type: engine.MsgPush, Push: &engine.Push{Batch: "b-1", Changes: []engine.Change{patientChange(other, clk.Now(), "Alan")}}})
	if f := s3.recv(); f.Type != engine.MsgAck || f.Ack.Seqs[0] != 3 {
		t.Fatalf("other site's b-1: %+v", f)
	}
}

// countingDialer counts the changes a replica receives.
type countingDialer struct {
	engine.Dialer
	received atomic.Int64
}

type countingConn struct {
	engine.Conn
	d *countingDialer
}

func (d *countingDialer) Dial(ctx context.Context) (engine.Conn, error) {
	c, err := d.Dialer.Dial(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{c, d}, nil
}

func (c *countingConn) ReadMessage(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.ReadMessage(ctx)
	if err == nil {
		if f, err := engine.DecodeFrame(b); err == nil && f.Changes != nil {
			c.d.received.Add(int64(len(f.Changes.Changes)))
		}
	}
	return b, err
}

func countingReplica(t *testing.T, path string, schema *engine.Schema, srv *servertest.Server, user string) (*servertest.Replica, *countingDialer) {
	t.Helper()
	r := servertest.OpenReplicaAt(t, path, schema, srv.URL("clinic-a"), "")
	d := &countingDialer{Dialer: r.Dialer}
	r.Syncer = engine.NewSyncer(r.Replica, d, engine.SyncOptions{Token: srv.Token(t, "clinic-a", user, ""), PageSize: 100})
	return r, d
}

func writePatients(t *testing.T, r *servertest.Replica, n int) []string {
	t.Helper()
	var ids []string
	muts := make([]engine.Mutation, n)
	for i := range muts {
		id := engine.NewID()
		ids = append(ids, id)
		muts[i] = engine.Mutation{Table: "patients", ID: id, Values: map[string]any{"given_name": "P", "region": "CA"}}
	}
	if _, err := r.Write(context.Background(), muts...); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestReconnectResumesFromCursor(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{})
	a := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-a"), srv.Token(t, "clinic-a", "alice", ""))
	path := filepath.Join(t.TempDir(), "b.db")
	b, counted := countingReplica(t, path, clinic.Schema, srv, "bob")
	writePatients(t, a, 250)
	a.Sync(t)
	b.Sync(t)
	if n := counted.received.Load(); n != 250 {
		t.Fatalf("first sync received %d changes, want 250", n)
	}
	// B goes away; A writes more; B comes back (reopened from disk) and gets only the new ones.
	b.Close()
	writePatients(t, a, 7)
	a.Sync(t)
	b, counted = countingReplica(t, path, clinic.Schema, srv, "bob")
	b.Sync(t)
	if n := counted.received.Load(); n != 7 {
		t.Fatalf("resumed sync received %d changes, want only the 7 new ones", n)
	}
	if servertest.Hash(t, a) != servertest.Hash(t, b) {
		t.Fatal("replicas differ after resume")
	}
}

func TestConcurrentNoteEditKeepsBothVersions(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{})
	url := srv.URL("clinic-a")
	a := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "dr-a", ""))
	b := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "dr-b", ""))
	c := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "nurse", ""))
	ctx := context.Background()
	visit, note := engine.NewID(), engine.NewID()
	if _, err := a.Write(ctx,
		engine.Mutation{Table: "visits", ID: visit, Values: map[string]any{"status": "in_visit"}},
		engine.Mutation{Table: "visit_notes", ID: note, Values: map[string]any{"visit_id": visit, "body": "Cough for 3 days."}}); err != nil {
		t.Fatal(err)
	}
	a.Sync(t)
	b.Sync(t)
	// Both clinicians edit the same note while offline.
	edit := func(r *servertest.Replica, body string) {
		t.Helper()
		if _, err := r.Write(ctx, engine.Mutation{Table: "visit_notes", ID: note, Values: map[string]any{"body": body}}); err != nil {
			t.Fatal(err)
		}
	}
	edit(a, "Cough for 3 days. No fever.")
	edit(b, "Cough for 3 days. Prescribed rest.")
	for range 2 {
		for _, r := range []*servertest.Replica{b, a, c} {
			r.Sync(t)
		}
	}
	tn, _ := srv.Tenant(ctx, "clinic-a")
	want := servertest.StoreHash(t, tn)
	var winner any
	for i, db := range []*sqlitestore.DB{a.DB, b.DB, c.DB, servertest.StoreDB(t, tn)} {
		if h := servertest.Hash(t, db); h != want {
			t.Errorf("store %d differs", i)
		}
		rec, err := db.Get(ctx, "visit_notes", note)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := db.Conflicts(ctx, "visit_notes")
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].ID != note || cs[0].Text == rec["body"] {
			t.Fatalf("store %d: conflicts %+v with note %q, want exactly the losing version", i, cs, rec["body"])
		}
		if i == 0 {
			winner = rec["body"]
		} else if rec["body"] != winner {
			t.Fatalf("store %d shows %q, store 0 %q", i, rec["body"], winner)
		}
	}
	// A clinician resolves the conflict on C; everyone sees it resolved.
	if _, err := c.Write(ctx, engine.Mutation{Table: "visit_notes", ID: note, Resolve: true,
		Values: map[string]any{"body": "Cough for 3 days. No fever. Prescribed rest."}}); err != nil {
		t.Fatal(err)
	}
	c.Sync(t)
	a.Sync(t)
	b.Sync(t)
	for i, db := range []*sqlitestore.DB{a.DB, b.DB, c.DB, servertest.StoreDB(t, tn)} {
		if cs, _ := db.Conflicts(ctx, ""); len(cs) != 0 {
			t.Errorf("store %d still has conflicts %+v", i, cs)
		}
	}
}

// patientsV2 is the clinic schema plus one additive migration, as a future release ships it.
var patientsV2 = engine.MustSchema(append(append([]engine.Migration(nil), clinic.Migrations...), engine.Migration{Version: len(clinic.Migrations) + 1, Steps: []engine.Step{
	{AddColumn: &engine.AddColumn{Table: "patients", Column: engine.Column{Name: "preferred_language", Type: engine.Text}}},
	{AddTable: &engine.Table{Name: "referrals", Policy: engine.AppendOnly, ScopeKind: clinic.VisitScope, ScopeColumn: "visit_id",
		Columns: []engine.Column{{Name: "visit_id", Type: engine.Text}, {Name: "kind", Type: engine.Text}, {Name: "value", Type: engine.Real}}}},
}})...)

func TestOlderReplicaSyncsThenUpgradesInPlace(t *testing.T) {
	srv := servertest.Start(t, patientsV2, servertest.Options{})
	ctx := context.Background()
	newer := servertest.OpenReplica(t, patientsV2, srv.URL("clinic-a"), srv.Token(t, "clinic-a", "new-app", ""))
	path := filepath.Join(t.TempDir(), "old.db")
	old, counted := countingReplica(t, path, clinic.Schema, srv, "old-app")

	ids := writePatients(t, newer, 3)
	visit := engine.NewID()
	if _, err := newer.Write(ctx,
		engine.Mutation{Table: "patients", ID: ids[0], Values: map[string]any{"preferred_language": "es"}},
		engine.Mutation{Table: "visits", ID: visit, Values: map[string]any{"status": "waiting"}},
		engine.Mutation{Table: "referrals", ID: engine.NewID(), Values: map[string]any{"visit_id": visit, "kind": "cardiology", "value": 1.0}}); err != nil {
		t.Fatal(err)
	}
	newer.Sync(t)
	// The old app (schema 1) keeps syncing with the newer server, both ways.
	old.Sync(t)
	if _, err := old.Write(ctx, engine.Mutation{Table: "patients", ID: ids[1], Values: map[string]any{"given_name": "Old App Edit"}}); err != nil {
		t.Fatal(err)
	}
	old.Sync(t)
	newer.Sync(t)
	if rec, err := newer.Get(ctx, "patients", ids[1]); err != nil || rec["given_name"] != "Old App Edit" {
		t.Fatalf("newer replica sees %v, %v", rec, err)
	}
	before := counted.received.Load()

	// The old app is upgraded: it reopens its store with schema 2, migrating in place.
	old.Close()
	upgraded, counted := countingReplica(t, path, patientsV2, srv, "old-app")
	rec, err := upgraded.Get(ctx, "patients", ids[0])
	if err != nil || rec["preferred_language"] != "es" {
		t.Fatalf("after upgrade, before any sync, patient is %v (%v): kept changes were not applied", rec, err)
	}
	upgraded.Sync(t)
	if n := counted.received.Load(); n != 0 {
		t.Fatalf("upgraded replica downloaded %d changes again (had received %d before)", n, before)
	}
	tn, _ := srv.Tenant(ctx, "clinic-a")
	if h := servertest.StoreHash(t, tn); servertest.Hash(t, upgraded) != h || servertest.Hash(t, newer) != h {
		t.Fatal("upgraded replica did not converge with the server")
	}
}

func TestHandshakeRefusals(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tenants: []string{"clinic-a", "clinic-b"}})
	expired, err := srv.Signer.Issue(token.Claims{Tenant: "clinic-a", User: "x", Role: clinic.RoleProvider, Scopes: []string{"*"}}, -time.Minute)
	if err == nil {
		t.Fatalf("issued a token that expired already: %q", expired)
	}
	v := clinic.Schema.Version()
	tests := []struct {
		name, tenant, tok string
		schema            int
		code              string
	}{
		{"garbage token", "clinic-a", "not-a-token", v, engine.CodeUnauthorized},
		{"token of another clinic", "clinic-b", srv.Token(t, "clinic-a", "alice", ""), v, engine.CodeForbidden},
		{"unknown clinic", "clinic-z", srv.Token(t, "clinic-z", "alice", ""), v, engine.CodeUnknownTenant},
		{"schema too new", "clinic-a", srv.Token(t, "clinic-a", "alice", ""), 99, engine.CodeSchemaTooNew},
		{"schema too old", "clinic-a", srv.Token(t, "clinic-a", "alice", ""), 0, engine.CodeSchemaTooOld},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, f := dialRaw(t, srv.URL(tc.tenant), tc.tok, engine.NewSiteID(), tc.schema)
			if f.Type != engine.MsgError || f.Error.Code != tc.code {
				t.Fatalf("got %+v, want error %s", f, tc.code)
			}
		})
	}
	// The sync loop reports such refusals as fatal rather than retrying forever.
	r := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-b"), srv.Token(t, "clinic-a", "alice", ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var re *engine.RemoteError
	if err := r.Syncer.Run(ctx); !errors.As(err, &re) || !re.Fatal() {
		t.Fatalf("Run returned %v, want a fatal remote error", err)
	}
}

func TestLiveFanOut(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{})
	url := srv.URL("clinic-a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reps []*servertest.Replica
	done := make(chan struct{}, 3)
	for _, u := range []string{"a", "b", "c"} {
		r := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", u, ""))
		reps = append(reps, r)
		go func() { r.Syncer.Run(ctx); done <- struct{}{} }()
	}
	defer func() {
		cancel()
		for range reps {
			<-done
		}
	}()
	id := writePatients(t, reps[0], 1)[0]
	deadline := time.Now().Add(10 * time.Second)
	for _, r := range reps[1:] {
		for {
			if _, err := r.Get(ctx, "patients", id); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("live change did not arrive within 10s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for reps[0].Syncer.Status().Pending != 0 || !reps[0].Syncer.Status().Online {
		if time.Now().After(deadline) {
			t.Fatalf("writer status %+v", reps[0].Syncer.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
