package syncserver_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/servertest"
)

// Hostile or broken input gets a clear error code and the offending connection closed, while
// everyone else keeps syncing.
func TestBadInputClosesOnlyTheOffender(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) {
		o.MaxBatch = 10
		o.MaxMessage = 64 << 10
		o.MaxDrift = time.Minute
	}})
	url, tok := srv.URL("clinic-a"), srv.Token(t, "clinic-a", "alice", "")

	// A bystander stays live through it all.
	ctx, cancel := context.WithCancel(context.Background())
	bystander := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "bob", ""))
	done := make(chan struct{})
	go func() { bystander.Syncer.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	writer := servertest.OpenReplica(t, clinic.Schema, url, tok)

	clk := engine.NewClock(nil, 0)
	raw := func(f *engine.Frame) []byte {
		b, err := engine.EncodeFrame(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	push := func(site engine.SiteID, chs ...engine.Change) []byte {
		return raw(&engine.Frame{Type: engine.MsgPush, Push: &engine.Push{Batch: "bad", Changes: chs}})
	}
	site := engine.NewSiteID()
	many := make([]engine.Change, 11)
	for i := range many {
		many[i] = patientChange(site, clk.Now(), "x")
	}
	future := patientChange(site, engine.NewHLC(time.Now().Add(time.Hour).UnixMilli(), 0), "from the future")
	stranger := patientChange(engine.NewSiteID(), clk.Now(), "not mine")
	unknownType := raw(&engine.Frame{Type: engine.MsgPull, Pull: &engine.Pull{}})
	unknownType[bytes.Index(unknownType, []byte{0xa1, 'y'})+2] = 42 // y: 42
	tests := []struct {
		name string
		msg  []byte
		code string // "" when the connection is simply dropped
	}{
		{"not msgpack", []byte("GET / HTTP/1.1"), engine.CodeBadRequest},
		{"unknown frame type", unknownType, engine.CodeBadRequest},
		{"a server's frame", raw(&engine.Frame{Type: engine.MsgAck, Ack: &engine.Ack{Batch: "x"}}), engine.CodeBadRequest},
		{"nested too deep", append(bytes.Repeat([]byte{0x91}, 100), 0xc0), engine.CodeBadRequest},
		{"batch over the limit", push(site, many...), engine.CodeTooLarge},
		{"clock an hour ahead", push(site, future), engine.CodeClockSkew},
		{"change of another site", push(site, stranger), engine.CodeBadRequest},
		{"unknown table", push(site, engine.Change{Table: "payroll", ID: "p", Scope: "clinic", HLC: clk.Now(), Site: site, Cols: []string{"x"}, Vals: []any{1}}), engine.CodeBadRequest},
		{"message over the size limit", make([]byte, 128<<10), ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, w := dialRaw(t, url, tok, site, clinic.Schema.Version())
			if w.Type != engine.MsgWelcome {
				t.Fatalf("handshake: %+v", w.Error)
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer wcancel()
			if err := s.conn.WriteMessage(wctx, tc.msg); err != nil && tc.code != "" {
				t.Fatal(err) // (an oversized message may be cut off while still being written)
			}
			if tc.code != "" {
				if f := s.recv(); f.Type != engine.MsgError || f.Error.Code != tc.code {
					t.Fatalf("got %+v, want error %s", f, tc.code)
				}
			}
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer rcancel()
			if _, err := s.conn.ReadMessage(rctx); err == nil || rctx.Err() != nil {
				t.Fatalf("connection still open after %s (err %v)", tc.name, err)
			}
			// Meanwhile the clinic keeps working.
			id := writePatients(t, writer, 1)[0]
			writer.Sync(t)
			deadline := time.Now().Add(10 * time.Second)
			for {
				if _, err := bystander.Get(context.Background(), "patients", id); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after bad input %d the bystander stopped receiving changes", i)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	if n := logLength(t, srv, "clinic-a"); n != len(tests) {
		t.Fatalf("log holds %d changes: something of the bad input was stored", n)
	}
}
