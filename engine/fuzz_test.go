package engine_test

import (
	"errors"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
)

// fuzzFrames are well-formed frames of every type: the fuzzers' starting points.
func fuzzFrames() []*engine.Frame {
	note := engine.Change{Table: "visit_notes", ID: "n1", Scope: "visit:v1", HLC: 1 << 30, Site: 7, Create: true,
		Cols: []string{"body", "visit_id"}, Vals: []any{"Cough.", "v1"}}
	edit := engine.Change{Table: "visit_notes", ID: "n1", Scope: "visit:v1", HLC: 1<<30 + 5, Site: 8,
		Cols: []string{"body"}, Vals: []any{"Cough, no fever."}, Bases: []engine.Version{{HLC: 1 << 30, Site: 7}}}
	patient := engine.Change{Table: "patients", ID: "p1", Scope: "clinic", HLC: 1<<30 + 1, Site: 7, Create: true,
		Cols: []string{"given_name", "created_at"}, Vals: []any{"Ada", int64(1795000000000)}}
	del := engine.Change{Table: "patients", ID: "p1", Scope: "clinic", HLC: 1<<30 + 9, Site: 8, Delete: true}
	chat := engine.Change{Table: "chat_messages", ID: "c1", Scope: "visit:v1", HLC: 1<<30 + 2, Site: 7, Create: true,
		Cols: []string{"body", "visit_id"}, Vals: []any{"hello", "v1"}}
	return []*engine.Frame{
		{Type: engine.MsgHello, Hello: &engine.Hello{Protocol: 1, Schema: 1, Site: 7, Token: "t"}},
		{Type: engine.MsgWelcome, Welcome: &engine.Welcome{Protocol: 1, Schema: 1, Tenant: "a", Scopes: []string{"*"}}},
		{Type: engine.MsgPush, Push: &engine.Push{Batch: "b1", Changes: []engine.Change{note, edit, patient, del, chat}}},
		{Type: engine.MsgAck, Ack: &engine.Ack{Batch: "b1", Seqs: []uint64{1, 2, 0}}},
		{Type: engine.MsgPull, Pull: &engine.Pull{Cursor: 3, Limit: 10, Scopes: []string{"visit:v1"}}},
		{Type: engine.MsgChanges, Changes: &engine.Changes{Changes: []engine.Change{edit, note}, Seqs: []uint64{4, 5}, Cursor: 5}},
		{Type: engine.MsgProgress, Progress: &engine.Progress{Cursor: 5, Acked: 5}},
		{Type: engine.MsgError, Error: &engine.Error{Code: "forbidden", Message: "no"}},
	}
}

func addSeeds(f *testing.F) {
	for _, fr := range fuzzFrames() {
		b, err := engine.EncodeFrame(fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x91, 0x91, 0x91, 0xc0})             // nesting
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}) // a count the message cannot hold
	f.Add([]byte{0x81, 0xa1, 'y', 0x03})              // a push frame without its body
}

// FuzzDecodeFrame: any bytes either decode to a valid frame that encodes and decodes again to
// the same type, or are refused with ErrProtocol; nothing panics or exhausts the stack.
func FuzzDecodeFrame(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := engine.DecodeFrame(b)
		if err != nil {
			if !errors.Is(err, engine.ErrProtocol) {
				t.Fatalf("refusal without ErrProtocol: %v", err)
			}
			return
		}
		out, err := engine.EncodeFrame(fr)
		if err != nil {
			t.Fatalf("a decoded frame does not encode: %v", err)
		}
		again, err := engine.DecodeFrame(out)
		if err != nil || again.Type != fr.Type {
			t.Fatalf("re-encoded frame: %v, %v", again, err)
		}
	})
}

// FuzzApplyBatch: whatever a pushed batch holds, merging it into a store never panics, refuses
// bad changes with an error, and merging it again changes nothing.
func FuzzApplyBatch(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := engine.DecodeFrame(b)
		if err != nil || fr.Push == nil {
			return
		}
		store := newMemTx()
		applied := make([]bool, len(fr.Push.Changes))
		for i := range fr.Push.Changes {
			_, err := store.applyTx(clinic.Schema, &fr.Push.Changes[i])
			applied[i] = err == nil
		}
		before := store.dump()
		for i := range fr.Push.Changes {
			if !applied[i] {
				continue
			}
			res, err := store.applyTx(clinic.Schema, &fr.Push.Changes[i])
			if err != nil || res.Changed {
				t.Fatalf("change %d applied again: %+v, %v", i, res, err)
			}
		}
		if after := store.dump(); after != before {
			t.Fatalf("merging the batch again changed the store:\n%s\n---\n%s", before, after)
		}
	})
}
