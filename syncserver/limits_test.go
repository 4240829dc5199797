package syncserver_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/servertest"
)

func TestSessionCapRefusesWithRetryableError(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) { o.MaxSessions = 2 }})
	tok := srv.Token(t, "clinic-a", "alice", "")
	for range 2 {
		if _, f := dialRaw(t, srv.URL("clinic-a"), tok, engine.NewSiteID(), clinic.Schema.Version()); f.Type != engine.MsgWelcome {
			t.Fatalf("within the cap: %+v", f.Error)
		}
	}
	_, f := dialRaw(t, srv.URL("clinic-a"), tok, engine.NewSiteID(), clinic.Schema.Version())
	if f.Type != engine.MsgError || f.Error.Code != engine.CodeUnavailable || !f.Error.Retryable {
		t.Fatalf("over the cap: %+v, want a retryable unavailable error", f)
	}
	re := &engine.RemoteError{Err: *f.Error}
	if re.Fatal() {
		t.Fatal("the sync loop would give up on a full server instead of retrying")
	}
}

func TestPushRateLimitDelaysButLosesNothing(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) { o.PushRate = 200 }})
	tok := srv.Token(t, "clinic-a", "alice", "")
	s, _ := dialRaw(t, srv.URL("clinic-a"), tok, engine.NewSiteID(), clinic.Schema.Version())
	clk := engine.NewClock(nil, 0)
	batch := func(key string, n int) *engine.Push {
		p := &engine.Push{Batch: key}
		for range n {
			p.Changes = append(p.Changes, patientChange(s.site, clk.Now(), "x"))
		}
		return p
	}
	s.send(&engine.Frame{Type: engine.MsgPush, Push: batch("b1", 300)}) // over the burst: admitted, into debt
	if f := s.recv(); f.Type != engine.MsgAck {
		t.Fatalf("first batch: %+v", f)
	}
	s.send(&engine.Frame{Type: engine.MsgPush, Push: batch("b2", 10)})
	f := s.recv()
	if f.Type != engine.MsgError || f.Error.Code != engine.CodeRateLimited || !f.Error.Retryable || f.Error.Batch != "b2" {
		t.Fatalf("second batch: %+v, want a retryable rate_limited error for b2", f)
	}
	// A replica over the limit keeps its changes and gets them through, in one session, as the
	// bucket refills.
	r := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-a"), tok)
	r.Syncer = engine.NewSyncer(r.Replica, r.Dialer, engine.SyncOptions{Token: tok, BatchSize: 100, MinBackoff: 20 * time.Millisecond})
	writePatients(t, r, 450)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Syncer.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.State(ctx); st.Pending != 0 {
		t.Fatalf("%d changes still pending", st.Pending)
	}
	if n := logLength(t, srv, "clinic-a"); n != 300+450 {
		t.Fatalf("log holds %d changes, want 750", n)
	}
	resp, err := http.Get(srv.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	if !regexp.MustCompile(`hearth_errors_total\{code="rate_limited"\} ([2-9]|\d\d+)`).Match(m) {
		t.Fatalf("the replica's session was never rate limited:\n%s", regexp.MustCompile(`(?m)^hearth_errors.*$`).FindAll(m, -1))
	}
}

// A replica that stops reading is disconnected: it no longer answers the server's pings (and its
// socket soon takes no more bytes), so the server gives up within two ping intervals. The
// server keeps no queue for it (sessions read pages from the log on demand); the others carry on.
func TestStalledReaderIsDisconnected(t *testing.T) {
	// A short keepalive so the test is quick, yet longer than applying a page takes even under
	// the race detector: a replica busy applying does not read, and so does not answer pings.
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) { o.PingInterval = time.Second }})
	url, tok := srv.URL("clinic-a"), srv.Token(t, "clinic-a", "alice", "")
	sessions := func() string {
		t.Helper()
		resp, err := http.Get(srv.HTTP.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		m, _ := io.ReadAll(resp.Body)
		return string(regexp.MustCompile(`(?m)^hearth_sessions (\d+)$`).FindSubmatch(m)[1])
	}
	stalled, _ := dialRaw(t, url, tok, engine.NewSiteID(), clinic.Schema.Version())
	stalled.send(&engine.Frame{Type: engine.MsgPull, Pull: &engine.Pull{}})
	// It reads nothing from here on, while a writer pushes enough to fill any socket buffer.
	writer := servertest.OpenReplica(t, clinic.Schema, url, tok)
	for range 10 {
		writePatients(t, writer, 2000)
	}
	writer.Sync(t)
	deadline := time.Now().Add(15 * time.Second)
	for sessions() != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled reader's session is still open (%s sessions)", sessions())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// It comes back later and resumes: a fresh replica catches up with everything.
	late := servertest.OpenReplica(t, clinic.Schema, url, tok)
	late.Sync(t)
	if servertest.Hash(t, late) != servertest.Hash(t, writer) {
		t.Fatal("a replica connecting after the stall did not catch up")
	}
}
