package engine_test

import (
	"reflect"
	"testing"

	"hearth/engine"
)

// A page sent with the stored encodings of its changes decodes exactly like one sent decoded.
func TestChangesRawEncodesLikeDecoded(t *testing.T) {
	chs := []engine.Change{
		{Table: "patients", ID: "p1", Scope: "clinic", HLC: 7, Site: 9, Create: true, Cols: []string{"given_name"}, Vals: []any{"Ada"}},
		{Table: "visits", ID: "v1", Scope: "visit:v1", HLC: 8, Site: 9, Delete: true},
	}
	var raw [][]byte
	for i := range chs {
		b, err := engine.EncodeChange(&chs[i])
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	for _, page := range []*engine.Changes{
		{Changes: chs, Seqs: []uint64{3, 4}, Cursor: 4, More: true, Horizon: 2, Head: 9},
		{Raw: raw, Seqs: []uint64{3, 4}, Cursor: 4, More: true, Horizon: 2, Head: 9},
	} {
		b, err := engine.EncodeFrame(&engine.Frame{Type: engine.MsgChanges, Changes: page})
		if err != nil {
			t.Fatal(err)
		}
		f, err := engine.DecodeFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		got := f.Changes
		if got.Cursor != 4 || !got.More || got.Horizon != 2 || got.Head != 9 || !reflect.DeepEqual(got.Seqs, []uint64{3, 4}) || len(got.Changes) != 2 {
			t.Fatalf("decoded %+v", got)
		}
		if got.Changes[0].ID != "p1" || got.Changes[0].Vals[0] != "Ada" || !got.Changes[1].Delete {
			t.Fatalf("changes %+v", got.Changes)
		}
	}
	empty, err := engine.EncodeFrame(&engine.Frame{Type: engine.MsgChanges, Changes: &engine.Changes{Cursor: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := engine.DecodeFrame(empty); err != nil || f.Changes.Cursor != 1 || f.Changes.More {
		t.Fatalf("empty page: %+v %v", f, err)
	}
}
