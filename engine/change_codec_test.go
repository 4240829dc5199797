package engine_test

import (
	"reflect"
	"testing"

	"hearth/engine"

	"github.com/vmihailenco/msgpack/v5"
)

// The hand-written encoder must produce what the struct tags describe: decoding its output with
// the ordinary decoder gives back the same change, for every optional field set or not.
func TestChangeEncoderMatchesTags(t *testing.T) {
	cases := []engine.Change{
		{Table: "patients", ID: "p1", Scope: "clinic", HLC: 1 << 40, Site: 1<<63 + 5},
		{Table: "patients", ID: "p1", Scope: "clinic", HLC: 3, Site: 4, Delete: true},
		{Table: "visit_notes", ID: "n1", Scope: "visit:v1", HLC: 9, Site: 2, Create: true,
			Cols: []string{"body", "updated_at", "x", "y"}, Vals: []any{"text", int64(-7), 1.5, []byte{1, 2}},
			Bases: []engine.Version{{HLC: 1, Site: 2}, {HLC: 3, Site: 1 << 62}}},
		{Table: "t", ID: "i", Scope: "clinic", HLC: 1, Site: 1, Cols: []string{"a"}, Vals: []any{nil}},
	}
	for i, c := range cases {
		b, err := engine.EncodeChange(&c)
		if err != nil {
			t.Fatal(err)
		}
		type plain engine.Change // same tags, no custom encoder
		var got plain
		if err := msgpack.Unmarshal(b, &got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		back := engine.Change(got)
		for k, v := range back.Vals { // the decoder widens integers; compare as the merge would
			if n, ok := v.(int8); ok {
				back.Vals[k] = int64(n)
			}
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("case %d:\n got %#v\nwant %#v", i, back, c)
		}
	}
}

// The hand-written decoder must read what the ordinary decoder reads from the same bytes: the
// encoder's output, a map with keys in another order, keys a newer peer added, nils.
func TestChangeDecoderMatchesTags(t *testing.T) {
	type plain engine.Change // same tags, no custom codec
	type version struct {
		HLC   uint64 `msgpack:"h"`
		Site  uint64 `msgpack:"s"`
		Extra string `msgpack:"x"`
	}
	type newer struct { // keys in another order, and some this build does not know
		Future  string    `msgpack:"z"`
		Vals    []any     `msgpack:"v"`
		Bases   []version `msgpack:"b"`
		Site    uint64    `msgpack:"o"`
		HLC     uint64    `msgpack:"h"`
		Table   string    `msgpack:"t"`
		Nothing any       `msgpack:"q"`
		Cols    []string  `msgpack:"c"`
		Create  bool      `msgpack:"n"`
		ID      string    `msgpack:"i"`
	}
	var inputs [][]byte
	for _, c := range []engine.Change{
		{Table: "patients", ID: "p1", Scope: "clinic", HLC: 1 << 40, Site: 1<<63 + 5},
		{Table: "patients", ID: "p1", Scope: "clinic", HLC: 3, Site: 4, Delete: true},
		{Table: "visit_notes", ID: "n1", Scope: "visit:v1", HLC: 9, Site: 2, Create: true,
			Cols: []string{"body", "updated_at", "x", "y", "z"}, Vals: []any{"text", int64(-7), 1.5, []byte{1, 2}, int64(1) << 50},
			Bases: []engine.Version{{HLC: 1, Site: 2}, {HLC: 3, Site: 1 << 62}}},
		{Table: "t", ID: "i", Scope: "clinic", HLC: 1, Site: 1, Cols: []string{"a"}, Vals: []any{nil}},
	} {
		b, err := engine.EncodeChange(&c)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	for _, v := range []any{
		newer{Future: "f", Vals: []any{true, "x", uint64(1) << 63}, Bases: []version{{HLC: 5, Site: 6, Extra: "e"}}, Site: 2, HLC: 3, Table: "t", Cols: []string{"a", "b", "c"}, Create: true, ID: "i"},
		nil,
		map[string]any{"t": nil, "c": nil, "v": nil, "b": nil},
	} {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	for i, b := range inputs {
		var want plain
		if err := msgpack.Unmarshal(b, &want); err != nil {
			t.Fatalf("input %d: reflection: %v", i, err)
		}
		got, err := engine.DecodeChange(b)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, engine.Change(want)) {
			t.Errorf("input %d:\n got  %#v\n want %#v", i, got, engine.Change(want))
		}
	}
	// Inside a frame, as a page carries them.
	page := &engine.Frame{Type: engine.MsgChanges, Changes: &engine.Changes{Cursor: 2, Seqs: []uint64{1, 2}, Changes: []engine.Change{
		{Table: "a", ID: "1", Scope: "clinic", HLC: 5, Site: 6, Cols: []string{"x"}, Vals: []any{"y"}},
		{Table: "a", ID: "2", Scope: "clinic", HLC: 7, Site: 8, Delete: true}}}}
	b, err := engine.EncodeFrame(page)
	if err != nil {
		t.Fatal(err)
	}
	f, err := engine.DecodeFrame(b)
	if err != nil || !reflect.DeepEqual(f.Changes.Changes, page.Changes.Changes) {
		t.Fatalf("page: %#v, %v", f.Changes, err)
	}
}
