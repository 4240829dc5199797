package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/wstransport"
	"hearth/syncserver/servertest"
	"hearth/syncserver/token"
)

// rawConn is a protocol client that speaks frames directly, recording every byte it receives,
// so that tests can assert on exactly what the server sent.
type rawConn struct {
	t    testing.TB
	conn engine.Conn
	site engine.SiteID
	raw  [][]byte // every message received, as received
}

func dialRaw(t testing.TB, url string) *rawConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := (&wstransport.Dialer{URL: url}).Dial(ctx)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, conn: c, site: engine.NewSiteID()}
}

func (r *rawConn) send(f *engine.Frame) {
	r.t.Helper()
	if err := r.trySend(f); err != nil {
		r.t.Fatalf("send frame type %d: %v", f.Type, err)
	}
}

// trySend sends a frame the server may already have stopped reading: after refusing a
// handshake it closes the connection, and a pipelined frame may then meet a closed socket.
func (r *rawConn) trySend(f *engine.Frame) error {
	r.t.Helper()
	b, err := engine.EncodeFrame(f)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.conn.WriteMessage(ctx, b)
}

func (r *rawConn) hello(tok string) {
	r.t.Helper()
	r.send(&engine.Frame{Type: engine.MsgHello, Hello: &engine.Hello{
		Protocol: engine.ProtocolVersion, Schema: clinic.Schema.Version(), Site: r.site, Token: tok, Client: "isolation-test"}})
}

// recv returns the next frame, or an error when the connection ends or within passes. A
// timeout closes the connection (cancelling a read does), so it is for the last read only.
func (r *rawConn) recv(within time.Duration) (*engine.Frame, error) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	b, err := r.conn.ReadMessage(ctx)
	if err != nil {
		return nil, err
	}
	r.raw = append(r.raw, b)
	f, err := engine.DecodeFrame(b)
	if err != nil {
		r.t.Fatalf("server sent an undecodable frame: %v", err)
	}
	return f, nil
}

// mustRecv is recv that fails the test when no frame comes.
func (r *rawConn) mustRecv(within time.Duration) *engine.Frame {
	r.t.Helper()
	f, err := r.recv(within)
	if err != nil {
		r.t.Fatalf("waiting for a frame: %v", err)
	}
	return f
}

// drain reads until the server closes the connection, bounded by within, and returns the frames.
func (r *rawConn) drain(within time.Duration) []*engine.Frame {
	r.t.Helper()
	deadline := time.Now().Add(within)
	var out []*engine.Frame
	for {
		left := time.Until(deadline)
		if left <= 0 {
			r.t.Fatalf("server did not close the connection within %s (got %d frames)", within, len(out))
		}
		f, err := r.recv(left)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				r.t.Fatalf("server did not close the connection within %s (got %d frames)", within, len(out))
			}
			return out
		}
		out = append(out, f)
	}
}

// assertNoLeak checks every byte received: no change outside the allowed scopes, and none of
// the secret strings (ids and values of other scopes or tenants) anywhere in any message.
func (r *rawConn) assertNoLeak(allowed []string, secrets ...string) {
	r.t.Helper()
	for i, b := range r.raw {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				r.t.Fatalf("message %d from the server contains %q", i, s)
			}
		}
		f, err := engine.DecodeFrame(b)
		if err != nil {
			r.t.Fatal(err)
		}
		if f.Type != engine.MsgChanges {
			continue
		}
		for _, ch := range f.Changes.Changes {
			ok := false
			for _, a := range allowed {
				ok = ok || ch.Scope == a
			}
			if !ok {
				r.t.Fatalf("message %d carries %s/%s of scope %q; allowed %v", i, ch.Table, ch.ID, ch.Scope, allowed)
			}
		}
	}
}

// expectRefused runs attempt (which connects and sends something the server must refuse),
// reads until the server closes the connection, and checks that it answered with exactly one
// error frame of the given code and nothing else: no changes, no ack. It returns the refusal.
func expectRefused(t *testing.T, code string, attempt func() *rawConn) *engine.Frame {
	t.Helper()
	c := attempt()
	frames := c.drain(10 * time.Second)
	c.assertNoLeak(nil)
	if len(frames) != 1 {
		t.Fatalf("want exactly one error frame, got %d", len(frames))
	}
	expectRemoteCode(t, frames[0], code)
	return frames[0]
}

func expectRemoteCode(t testing.TB, f *engine.Frame, code string) {
	t.Helper()
	if f == nil || f.Type != engine.MsgError || f.Error.Code != code {
		t.Fatalf("want an error frame with code %s, got %s", code, describe(f))
	}
}

func describe(f *engine.Frame) string {
	switch {
	case f == nil:
		return "nothing"
	case f.Error != nil:
		return fmt.Sprintf("error %s: %s", f.Error.Code, f.Error.Message)
	case f.Changes != nil:
		return fmt.Sprintf("changes (%d)", len(f.Changes.Changes))
	}
	return fmt.Sprintf("frame type %d", f.Type)
}

func write(t testing.TB, r *servertest.Replica, table, id string, vals map[string]any) {
	t.Helper()
	if _, err := r.Write(context.Background(), engine.Mutation{Table: table, ID: id, Values: vals}); err != nil {
		t.Fatalf("write %s/%s: %v", table, id, err)
	}
}

// staffToken issues an administrator's token: the engine's fault, crash and isolation tests
// write arbitrary rows, which the clinic's rules allow administrators only.
func staffToken(t testing.TB, srv *server, tenant, user string) string {
	t.Helper()
	return srv.token(t, token.Claims{Tenant: tenant, User: user, Role: clinic.RoleAdmin, Scopes: []string{engine.AllScopes}})
}

// TestTenantIsolation connects with clinic A's token to clinic B's endpoint of the real
// server, with a raw client and with the engine's Syncer: the handshake is refused as
// forbidden, not one byte of B's data comes back, and nothing is written to B.
func TestTenantIsolation(t *testing.T) {
	srv := startServer(t, serverOpts{})
	mustCtl(t, "tenant", "create", "--data", srv.Data, "--id", "clinic-a")
	mustCtl(t, "tenant", "create", "--data", srv.Data, "--id", "clinic-b")
	tokA, tokB := staffToken(t, srv, "clinic-a", "alice"), staffToken(t, srv, "clinic-b", "bert")

	staffB := servertest.OpenReplica(t, clinic.Schema, srv.syncURL("clinic-b"), tokB)
	pB, vB := engine.NewID(), engine.NewID()
	write(t, staffB, "patients", pB, map[string]any{"given_name": "Brunhilde-secret", "region": "WA"})
	write(t, staffB, "visits", vB, map[string]any{"patient_id": pB, "status": "requested"})
	staffB.Sync(t)
	staffA := servertest.OpenReplica(t, clinic.Schema, srv.syncURL("clinic-a"), tokA)
	write(t, staffA, "patients", engine.NewID(), map[string]any{"given_name": "Alma"})
	staffA.Sync(t)
	hashB := mustCtl(t, "hash", "--data", srv.Data, "--tenant", "clinic-b")
	secrets := []string{pB, vB, "Brunhilde-secret"}

	t.Run("raw frames", func(t *testing.T) {
		expectRefused(t, engine.CodeForbidden, func() *rawConn {
			c := dialRaw(t, srv.syncURL("clinic-b"))
			c.hello(tokA)
			// Pipelined before any answer: a server that acted on frames before checking the
			// handshake would answer the pull or store the push.
			_ = c.trySend(&engine.Frame{Type: engine.MsgPull, Pull: &engine.Pull{Cursor: 0}})
			_ = c.trySend(&engine.Frame{Type: engine.MsgPush, Push: &engine.Push{Batch: "b1", Changes: []engine.Change{{
				Table: "patients", ID: engine.NewID(), Scope: engine.ClinicScope, HLC: engine.NewHLC(time.Now().UnixMilli(), 0),
				Site: c.site, Create: true, Cols: []string{"given_name"}, Vals: []any{"Mallory"}}}}})
			t.Cleanup(func() { c.assertNoLeak(nil, secrets...) })
			return c
		})
	})

	t.Run("syncer", func(t *testing.T) {
		intruder := servertest.OpenReplica(t, clinic.Schema, srv.syncURL("clinic-b"), tokA)
		write(t, intruder, "patients", engine.NewID(), map[string]any{"given_name": "Mallory"})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := intruder.Syncer.SyncOnce(ctx)
		var re *engine.RemoteError
		if !errors.As(err, &re) || re.Err.Code != engine.CodeForbidden || !re.Fatal() {
			t.Fatalf("SyncOnce with another clinic's token: %v, want a fatal forbidden RemoteError", err)
		}
		for _, tbl := range clinic.Schema.Tables() {
			recs, err := intruder.List(ctx, tbl.Name, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				if rec["given_name"] != "Mallory" {
					t.Fatalf("intruder received %s row %v", tbl.Name, rec)
				}
			}
		}
		if st, err := intruder.State(ctx); err != nil || st.Cursor != 0 || st.Pending != 1 {
			t.Fatalf("intruder state %+v, %v: want cursor 0 and its write still pending", st, err)
		}
	})

	t.Run("bad signature", func(t *testing.T) {
		forged := servertest.OpenReplica(t, clinic.Schema, srv.syncURL("clinic-b"), forgeToken(t, "clinic-b"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var re *engine.RemoteError
		if err := forged.Syncer.SyncOnce(ctx); !errors.As(err, &re) || re.Err.Code != engine.CodeUnauthorized {
			t.Fatalf("SyncOnce with a token signed by another key: %v, want unauthorized", err)
		}
	})

	if got := mustCtl(t, "hash", "--data", srv.Data, "--tenant", "clinic-b"); got != hashB {
		t.Fatalf("clinic B's store changed after refused connections: %s -> %s", hashB, got)
	}
	staffB.Sync(t)
	if got := servertest.Hash(t, staffB); got != hashB {
		t.Fatalf("clinic B's replica changed: %s -> %s", hashB, got)
	}
}

// forgeToken signs a staff token for tenant with a key the server does not have.
func forgeToken(t testing.TB, tenant string) string {
	t.Helper()
	sg, err := token.NewSigner([]byte(strings.Repeat("x", token.MinKeyLen)), clinic.CheckTokenScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sg.Issue(token.Claims{Tenant: tenant, User: "mallory", Role: clinic.RoleAdmin, Scopes: []string{engine.AllScopes}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// visitRows are the ids of one visit's rows and its patient.
type visitRows struct{ patient, visit, note, chat string }

func seedVisit(t testing.TB, r *servertest.Replica, name string) visitRows {
	t.Helper()
	v := visitRows{patient: engine.NewID(), visit: engine.NewID(), note: engine.NewID(), chat: engine.NewID()}
	write(t, r, "patients", v.patient, map[string]any{"given_name": name + "-given", "region": "CA"})
	write(t, r, "visits", v.visit, map[string]any{"patient_id": v.patient, "status": "requested", "reason": name + " reason"})
	write(t, r, "visit_notes", v.note, map[string]any{"visit_id": v.visit, "author_id": "dr", "body": name + " note"})
	write(t, r, "chat_messages", v.chat, map[string]any{"visit_id": v.visit, "sender_id": "dr", "sender_role": "provider", "body": name + " chat", "sent_at": int64(1)})
	return v
}

// TestPatientVisitScope runs a patient's visit-scoped token against the real server: its pull
// returns exactly that visit's rows (visit, note, chat) and live fan-out stays within it, while
// asking for another visit's scope, or pushing into it, is refused as forbidden.
func TestPatientVisitScope(t *testing.T) {
	srv := startServer(t, serverOpts{})
	const tenant = "demo"
	staff := servertest.OpenReplica(t, clinic.Schema, srv.syncURL(tenant), staffToken(t, srv, tenant, "dr"))
	x := seedVisit(t, staff, "Xavier")
	y := seedVisit(t, staff, "Yolanda-secret")
	write(t, staff, "patients", engine.NewID(), map[string]any{"given_name": "Zed-secret"}) // a patient without a visit
	staff.Sync(t)
	scopeX, scopeY := "visit:"+x.visit, "visit:"+y.visit
	patientTok := srv.token(t, token.Claims{Tenant: tenant, User: "pat-x", Role: clinic.RolePatient, Scopes: []string{scopeX}})
	// What a patient of visit X must never receive. (X's patient id does arrive: it is a value
	// of X's visit row. The patients row itself, clinic-scoped, must not.)
	secrets := []string{y.patient, y.visit, y.note, y.chat, "Yolanda-secret", "Zed-secret", "Xavier-given"}

	t.Run("pull and live", func(t *testing.T) {
		c := dialRaw(t, srv.syncURL(tenant))
		c.hello(patientTok)
		w := c.mustRecv(10 * time.Second)
		if w.Type != engine.MsgWelcome || len(w.Welcome.Scopes) != 1 || w.Welcome.Scopes[0] != scopeX || w.Welcome.Role != clinic.RolePatient {
			t.Fatalf("handshake: %s %+v", describe(w), w.Welcome)
		}
		// Pages of two force the server to page through a log that is mostly other scopes.
		c.send(&engine.Frame{Type: engine.MsgPull, Pull: &engine.Pull{Cursor: 0, Limit: 2}})
		got := map[string]bool{}
		for more := true; more; {
			f := c.mustRecv(10 * time.Second)
			if f.Type != engine.MsgChanges {
				t.Fatalf("pull answered with %s", describe(f))
			}
			for _, ch := range f.Changes.Changes {
				got[ch.Table+"/"+ch.ID] = true
			}
			more = f.Changes.More
		}
		want := []string{"chat_messages/" + x.chat, "visit_notes/" + x.note, "visits/" + x.visit}
		if keys := sortedKeys(got); strings.Join(keys, " ") != strings.Join(want, " ") {
			t.Fatalf("patient of visit X received %v, want exactly %v", keys, want)
		}

		// Live: a write in visit Y, then one in X. If Y's leaked it would arrive first.
		chatY, chatX := engine.NewID(), engine.NewID()
		write(t, staff, "chat_messages", chatY, map[string]any{"visit_id": y.visit, "sender_id": "dr", "body": "for Y only", "sent_at": int64(2)})
		write(t, staff, "chat_messages", chatX, map[string]any{"visit_id": x.visit, "sender_id": "dr", "body": "for X", "sent_at": int64(3)})
		staff.Sync(t)
		for seen := false; !seen; {
			f := c.mustRecv(10 * time.Second)
			if f.Type != engine.MsgChanges {
				t.Fatalf("live: got %s", describe(f))
			}
			for _, ch := range f.Changes.Changes {
				seen = seen || ch.ID == chatX
			}
		}
		c.assertNoLeak([]string{scopeX}, append(secrets, chatY, "for Y only")...)
	})

	t.Run("pull of another scope", func(t *testing.T) {
		for _, scopes := range [][]string{{scopeY}, {scopeX, scopeY}, {engine.ClinicScope}, {engine.AllScopes}} {
			expectRefused(t, engine.CodeForbidden, func() *rawConn {
				c := dialRaw(t, srv.syncURL(tenant))
				c.hello(patientTok)
				if w := c.mustRecv(10 * time.Second); w.Type != engine.MsgWelcome {
					t.Fatalf("handshake: %s", describe(w))
				}
				c.send(&engine.Frame{Type: engine.MsgPull, Pull: &engine.Pull{Cursor: 0, Scopes: scopes}})
				// The refusal may echo the scope the client asked for, nothing else of Y.
				t.Cleanup(func() { c.assertNoLeak(nil, y.patient, y.note, y.chat, "Yolanda-secret", "Zed-secret") })
				return c
			})
		}
	})

	t.Run("push into another scope", func(t *testing.T) {
		hashBefore := mustCtl(t, "hash", "--data", srv.Data, "--tenant", tenant)
		now := engine.NewHLC(time.Now().UnixMilli(), 0)
		chat := func(scope, visit string) engine.Change {
			return engine.Change{Table: "chat_messages", ID: engine.NewID(), Scope: scope, HLC: now, Create: true,
				Cols: []string{"body", "sender_id", "sender_role", "sent_at", "visit_id"}, Vals: []any{"injected", "pat-x", "patient", int64(9), visit}}
		}
		cases := map[string]engine.Change{
			"declared scope Y":             chat(scopeY, y.visit),
			"declares X, row in Y":         chat(scopeX, y.visit),
			"edit of Y's note declaring X": {Table: "visit_notes", ID: y.note, Scope: scopeX, HLC: now, Cols: []string{"body"}, Vals: []any{"overwritten"}},
			"clinic-wide patient row":      {Table: "patients", ID: engine.NewID(), Scope: engine.ClinicScope, HLC: now, Create: true, Cols: []string{"given_name"}, Vals: []any{"injected"}},
		}
		for name, ch := range cases {
			t.Run(name, func(t *testing.T) {
				f := expectRefused(t, engine.CodeForbidden, func() *rawConn {
					c := dialRaw(t, srv.syncURL(tenant))
					c.hello(patientTok)
					if w := c.mustRecv(10 * time.Second); w.Type != engine.MsgWelcome {
						t.Fatalf("handshake: %s", describe(w))
					}
					ch.Site = c.site
					c.send(&engine.Frame{Type: engine.MsgPush, Push: &engine.Push{Batch: "attempt", Changes: []engine.Change{ch}}})
					return c
				})
				if f.Error.Batch != "attempt" {
					t.Fatalf("the refusal names batch %q, want %q", f.Error.Batch, "attempt")
				}
			})
		}
		if got := mustCtl(t, "hash", "--data", srv.Data, "--tenant", tenant); got != hashBefore {
			t.Fatalf("the tenant's state changed after refused pushes: %s -> %s", hashBefore, got)
		}
		staff.Sync(t)
		if got, srvHash := servertest.Hash(t, staff), mustCtl(t, "hash", "--data", srv.Data, "--tenant", tenant); got != srvHash {
			t.Fatalf("staff replica %s, server %s", got, srvHash)
		}
		rec, err := staff.Get(context.Background(), "visit_notes", y.note)
		if err != nil || rec["body"] != "Yolanda-secret note" {
			t.Fatalf("Y's note after refused pushes: %v, %v", rec, err)
		}
		for _, tbl := range []string{"chat_messages", "patients"} {
			recs, err := staff.List(context.Background(), tbl, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r["body"] == "injected" || r["given_name"] == "injected" {
					t.Fatalf("a refused push was stored: %s %v", tbl, r)
				}
			}
		}
	})

	t.Run("syncer", func(t *testing.T) {
		p := servertest.OpenReplica(t, clinic.Schema, srv.syncURL(tenant), patientTok)
		p.Sync(t)
		ctx := context.Background()
		counts := map[string]int{}
		for _, tbl := range clinic.Schema.Tables() {
			recs, err := p.List(ctx, tbl.Name, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				counts[tbl.Name]++
				switch tbl.Name {
				case "visits", "visit_estimates":
					if r["id"] != x.visit {
						t.Fatalf("patient replica holds %s of visit %v", tbl.Name, r["id"])
					}
				case "visit_notes", "chat_messages":
					if r["visit_id"] != x.visit {
						t.Fatalf("patient replica holds %s of visit %v", tbl.Name, r["visit_id"])
					}
				default:
					t.Fatalf("patient replica holds a %s row", tbl.Name)
				}
			}
		}
		if counts["visits"] != 1 || counts["visit_notes"] != 1 || counts["chat_messages"] < 1 {
			t.Fatalf("patient replica holds %v", counts)
		}
		// A positive control: writing within the granted visit works and reaches staff.
		msg := engine.NewID()
		write(t, p, "chat_messages", msg, map[string]any{"visit_id": x.visit, "sender_id": "pat-x", "sender_role": "patient", "body": "hello doctor", "sent_at": int64(4)})
		p.Sync(t)
		staff.Sync(t)
		if rec, err := staff.Get(ctx, "chat_messages", msg); err != nil || rec["body"] != "hello doctor" {
			t.Fatalf("staff did not get the patient's message: %v, %v", rec, err)
		}
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
