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
