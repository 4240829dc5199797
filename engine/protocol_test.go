package engine_test

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"hearth/engine"
)

// sampleChanges hold only values that decode to the same Go type they were encoded from
// (strings, []byte, nil, float64): integers come back as the smallest fitting type, which
// NormalizeValue undoes; that is covered by TestChangeRoundTrip.
func sampleChanges() []engine.Change {
	return []engine.Change{
		{Table: "visit_notes", ID: "0193f1c2-7d4e-7abc-8def-0123456789ab", Scope: "visit:v1", HLC: engine.NewHLC(1_700_000_000_000, 3), Site: 0xfedcba9876543210,
			Create: true, Cols: []string{"body", "visit_id"}, Vals: []any{"text", "v1"}, Bases: []engine.Version{{HLC: engine.NewHLC(1_699_999_999_000, 0), Site: 1}}},
		{Table: "patients", ID: "p1", Scope: engine.ClinicScope, HLC: 1, Site: 1, Delete: true},
		{Table: "t", ID: "x", Scope: engine.ClinicScope, HLC: math.MaxUint64, Site: math.MaxUint64, Cols: []string{"a", "b", "c"}, Vals: []any{nil, []byte{0, 1, 255}, 1.5}},
	}
}

func sampleFrames() map[string]*engine.Frame {
	return map[string]*engine.Frame{
		"hello": {Type: engine.MsgHello, Hello: &engine.Hello{Protocol: engine.ProtocolVersion, Schema: 3, Site: 0xabcdef0123456789, Token: "tok.en", Client: "hearth-desktop/1.0"}},
		"welcome": {Type: engine.MsgWelcome, Welcome: &engine.Welcome{Protocol: 1, Schema: 3, MinSchema: 2, Tenant: "clinic-1", User: "u1", Role: "provider",
			Scopes: []string{engine.AllScopes}, Time: engine.NewHLC(1_700_000_000_000, 9), Resync: true}},
		"welcome minimal":     {Type: engine.MsgWelcome, Welcome: &engine.Welcome{}},
		"push":                {Type: engine.MsgPush, Push: &engine.Push{Batch: "site-1", Changes: sampleChanges()}},
		"ack":                 {Type: engine.MsgAck, Ack: &engine.Ack{Batch: "site-1", Seqs: []uint64{1, 0, math.MaxUint64}}},
		"ack with rejections": {Type: engine.MsgAck, Ack: &engine.Ack{Batch: "site-2", Seqs: []uint64{0, 5}, Rejected: []engine.Rejection{{Index: 0, Code: "forbidden", Message: "not permitted"}}}},
		"pull":                {Type: engine.MsgPull, Pull: &engine.Pull{Cursor: 42, Limit: 2000, Scopes: []string{"visit:v1", engine.ClinicScope}}},
		"pull from start":     {Type: engine.MsgPull, Pull: &engine.Pull{}},
		"changes":             {Type: engine.MsgChanges, Changes: &engine.Changes{Changes: sampleChanges(), Seqs: []uint64{7, 8, 9}, Cursor: 9, More: true, Horizon: 3, Head: 12}},
		"progress":            {Type: engine.MsgProgress, Progress: &engine.Progress{Cursor: 9, Acked: 7}},
		"error":               {Type: engine.MsgError, Error: &engine.Error{Code: engine.CodeRateLimited, Message: "slow down", Retryable: true, Batch: "site-1"}},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	seen := map[engine.MsgType]bool{}
	for name, f := range sampleFrames() {
		t.Run(name, func(t *testing.T) {
			b, err := engine.EncodeFrame(f)
			if err != nil {
				t.Fatalf("EncodeFrame: %v", err)
			}
			got, err := engine.DecodeFrame(b)
			if err != nil {
				t.Fatalf("DecodeFrame: %v", err)
			}
			if !reflect.DeepEqual(got, f) {
				t.Fatalf("round trip:\n got  %#v\n want %#v", got, f)
			}
		})
		seen[f.Type] = true
	}
	for typ := engine.MsgHello; typ <= engine.MsgError; typ++ {
		if !seen[typ] {
			t.Errorf("frame type %d has no round-trip case", typ)
		}
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	hello := &engine.Hello{Protocol: 1}
	ack := &engine.Ack{Batch: "b"}
	encode := func(f *engine.Frame) []byte {
		t.Helper()
		b, err := engine.EncodeFrame(f)
		if err != nil {
			t.Fatalf("EncodeFrame: %v", err)
		}
		return b
	}
	raw := func(v any) []byte {
		t.Helper()
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	valid := encode(&engine.Frame{Type: engine.MsgAck, Ack: ack})
	tests := map[string][]byte{
		"no body":                encode(&engine.Frame{Type: engine.MsgHello}),
		"no body, no type":       encode(&engine.Frame{}),
		"two bodies":             encode(&engine.Frame{Type: engine.MsgHello, Hello: hello, Ack: ack}),
		"mismatched type":        encode(&engine.Frame{Type: engine.MsgPush, Hello: hello}),
		"unknown type":           encode(&engine.Frame{Type: 99, Hello: hello}),
		"zero type with a body":  encode(&engine.Frame{Hello: hello}),
		"empty":                  {},
		"nil":                    {0xc0},
		"not msgpack":            []byte("GET / HTTP/1.1\r\n\r\n"),
		"reserved code":          {0xc1},
		"truncated":              valid[:len(valid)-3],
		"an array":               raw([]any{1, 2, 3}),
		"a string":               raw("hello"),
		"a number":               raw(3),
		"body of the wrong type": raw(map[string]any{"y": 1, "hello": "not a map"}),
		"type of the wrong type": raw(map[string]any{"y": "hello", "hello": map[string]any{}}),
		"map without known keys": raw(map[string]any{"x": 1}),
		"trailing garbage":       append(slices.Clone(valid), 0xc1, 'x'),
		"two frames in one":      append(slices.Clone(valid), valid...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := engine.DecodeFrame(b)
			if !errors.Is(err, engine.ErrProtocol) {
				t.Fatalf("DecodeFrame(% x) = %+v, %v; want ErrProtocol", b, f, err)
			}
		})
	}
}

func TestChangeRoundTrip(t *testing.T) {
	s := engine.MustSchema(engine.Migration{Version: 1, Steps: []engine.Step{{AddTable: &engine.Table{
		Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{
			{Name: "i", Type: engine.Integer}, {Name: "big", Type: engine.Integer}, {Name: "neg", Type: engine.Integer},
			{Name: "r", Type: engine.Real}, {Name: "whole", Type: engine.Real}, {Name: "s", Type: engine.Text},
			{Name: "b", Type: engine.Blob}, {Name: "n", Type: engine.Text},
		}}}}})
	tb := s.Table("t")
	in := engine.Change{Table: "t", ID: "row-1", Scope: engine.ClinicScope, HLC: engine.NewHLC(1_700_000_000_000, 1), Site: 1 << 63, Create: true,
		Cols:  []string{"i", "big", "neg", "r", "whole", "s", "b", "n"},
		Vals:  []any{int64(7), int64(math.MaxInt64), int64(-300), 2.25, float64(3), "héllo", []byte{0, 0xff}, nil},
		Bases: []engine.Version{{HLC: 5, Site: 6}, {HLC: 7, Site: 8}}}
	b, err := engine.EncodeChange(&in)
	if err != nil {
		t.Fatalf("EncodeChange: %v", err)
	}
	out, err := engine.DecodeChange(b)
	if err != nil {
		t.Fatalf("DecodeChange: %v", err)
	}
	// Values come back in msgpack's compact types; normalized, they are the originals.
	for i, name := range out.Cols {
		v, err := engine.NormalizeValue(tb.Columns[tb.Col(name)].Type, out.Vals[i])
		if err != nil {
			t.Fatalf("%s: NormalizeValue(%T %v): %v", name, out.Vals[i], out.Vals[i], err)
		}
		out.Vals[i] = v
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n got  %#v\n want %#v", out, in)
	}
	// Compact: small integers take one byte, so a typical change is small.
	if len(b) > 200 {
		t.Errorf("encoded change is %d bytes", len(b))
	}

	for _, bad := range [][]byte{{}, {0xc1}, []byte("nonsense"), b[:len(b)/2]} {
		if c, err := engine.DecodeChange(bad); err == nil {
			t.Errorf("DecodeChange(% x) = %+v, want an error", bad, c)
		}
	}
}

func TestEncodeChangeOmitsEmpty(t *testing.T) {
	b, err := engine.EncodeChange(&engine.Change{Table: "t", ID: "x", Scope: "clinic", HLC: 1, Site: 1, Delete: true})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"n", "c", "v", "b"} {
		if _, ok := m[k]; ok {
			t.Errorf("empty field %q encoded", k)
		}
	}
	if m["d"] != true {
		t.Errorf("delete flag = %v", m["d"])
	}
}

func TestNormalizeValue(t *testing.T) {
	tests := []struct {
		typ     engine.ColumnType
		in      any
		want    any
		wantErr bool
	}{
		{engine.Integer, nil, nil, false},
		{engine.Text, nil, nil, false},
		{engine.Integer, int(5), int64(5), false},
		{engine.Integer, int8(-5), int64(-5), false},
		{engine.Integer, int16(-300), int64(-300), false},
		{engine.Integer, int32(1 << 20), int64(1 << 20), false},
		{engine.Integer, int64(math.MinInt64), int64(math.MinInt64), false},
		{engine.Integer, uint8(255), int64(255), false},
		{engine.Integer, uint16(65535), int64(65535), false},
		{engine.Integer, uint32(math.MaxUint32), int64(math.MaxUint32), false},
		{engine.Integer, uint64(math.MaxInt64), int64(math.MaxInt64), false},
		{engine.Integer, uint64(math.MaxInt64 + 1), nil, true},
		{engine.Integer, true, int64(1), false},
		{engine.Integer, false, int64(0), false},
		{engine.Integer, float64(42), int64(42), false}, // JSON numbers
		{engine.Integer, float64(-42), int64(-42), false},
		{engine.Integer, 1.5, nil, true},
		{engine.Integer, math.NaN(), nil, true},
		{engine.Integer, math.Inf(1), nil, true},
		{engine.Integer, float64(1 << 53), nil, true}, // beyond exact float integers
		{engine.Integer, "5", nil, true},
		{engine.Integer, []byte{5}, nil, true},
		{engine.Real, 2.5, 2.5, false},
		{engine.Real, float32(0.5), 0.5, false},
		{engine.Real, int64(3), float64(3), false},
		{engine.Real, int(3), float64(3), false},
		{engine.Real, int8(-3), float64(-3), false},
		{engine.Real, uint16(3), float64(3), false},
		{engine.Real, uint64(math.MaxUint64), nil, true},
		{engine.Real, math.NaN(), nil, true},
		{engine.Real, math.Inf(-1), nil, true},
		{engine.Real, float32(math.NaN()), nil, true},
		{engine.Real, float32(math.Inf(1)), nil, true},
		{engine.Real, true, nil, true},
		{engine.Real, "2.5", nil, true},
		{engine.Text, "héllo", "héllo", false},
		{engine.Text, "", "", false},
		{engine.Text, []byte("bytes"), "bytes", false},
		{engine.Text, int64(1), nil, true},
		{engine.Text, true, nil, true},
		{engine.Blob, []byte{0, 1}, []byte{0, 1}, false},
		{engine.Blob, "str", []byte("str"), false},
		{engine.Blob, int64(1), nil, true},
		{"BOGUS", "x", nil, true},
	}
	for _, tt := range tests {
		got, err := engine.NormalizeValue(tt.typ, tt.in)
		if tt.wantErr {
			if !errors.Is(err, engine.ErrBadValue) {
				t.Errorf("NormalizeValue(%s, %T %v) = %T %v, %v; want ErrBadValue", tt.typ, tt.in, tt.in, got, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NormalizeValue(%s, %T %v) = %T %v, %v; want %T %v", tt.typ, tt.in, tt.in, got, got, err, tt.want, tt.want)
		}
	}
}

func TestNormalizeValueFromMsgpack(t *testing.T) {
	// Whatever integer width msgpack picks on the wire, the column value is the same int64.
	for _, n := range []int64{0, 1, -1, 127, 128, -33, 255, 256, 65535, 65536, -70000, 1 << 40, math.MaxInt64, math.MinInt64} {
		b, err := msgpack.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := msgpack.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		got, err := engine.NormalizeValue(engine.Integer, v)
		if err != nil || got != n {
			t.Errorf("%d decoded as %T: normalized to %v, %v", n, v, got, err)
		}
		if r, err := engine.NormalizeValue(engine.Real, v); err != nil || r != float64(n) {
			t.Errorf("%d decoded as %T: as Real %v, %v", n, v, r, err)
		}
	}
}

func TestVersionsEncoding(t *testing.T) {
	v := func(h, s uint64) engine.Version { return engine.Version{HLC: engine.HLC(h), Site: engine.SiteID(s)} }
	many := make([]engine.Version, 300) // more distinct versions than the compact form indexes
	for i := range many {
		many[i] = v(uint64(i+1), 7)
	}
	cases := []struct {
		name    string
		tomb    engine.Version
		cols    []engine.Version
		maxSize int
	}{
		{"new row", engine.Version{}, []engine.Version{v(5, 1), v(5, 1), v(5, 1), v(5, 1), v(5, 1), v(5, 1), v(5, 1)}, 25},
		{"updated and revived", v(9, 1), []engine.Version{v(1, 2), {}, v(math.MaxUint64, math.MaxUint64)}, 1 + 16*3 + 4},
		{"no columns", v(3, 3), nil, 18},
		{"all zero", engine.Version{}, make([]engine.Version, 4), 6},
		{"length at a multiple of 16 is padded", engine.Version{}, make([]engine.Version, 14), 17},
		{"too many distinct versions", engine.Version{}, many, 16 * 301},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := engine.EncodeVersions(c.tomb, c.cols)
			if len(b) > c.maxSize {
				t.Errorf("%d bytes, want at most %d", len(b), c.maxSize)
			}
			gotTomb, gotCols, err := engine.DecodeVersions(b, len(c.cols))
			if err != nil || gotTomb != c.tomb || len(gotCols) != len(c.cols) || (len(c.cols) > 0 && !reflect.DeepEqual(gotCols, c.cols)) {
				t.Fatalf("DecodeVersions = %v, %v, %v", gotTomb, gotCols, err)
			}
			// A column added after the row was stored decodes as zero; fewer columns read a prefix.
			_, more, err := engine.DecodeVersions(b, len(c.cols)+2)
			if err != nil || !reflect.DeepEqual(more, append(append([]engine.Version(nil), c.cols...), engine.Version{}, engine.Version{})) {
				t.Fatalf("DecodeVersions(n+2) = %v, %v", more, err)
			}
			if len(c.cols) > 0 {
				if _, fewer, err := engine.DecodeVersions(b, 1); err != nil || fewer[0] != c.cols[0] {
					t.Fatalf("DecodeVersions(1) = %v, %v", fewer, err)
				}
			}
		})
	}

	// Stores written before the compact form hold 16 bytes per version, tombstone first.
	fixed := make([]byte, 16*3)
	binary.LittleEndian.PutUint64(fixed[0:], 9)
	binary.LittleEndian.PutUint64(fixed[8:], 1)
	binary.LittleEndian.PutUint64(fixed[32:], 4)
	binary.LittleEndian.PutUint64(fixed[40:], 2)
	tomb, cols, err := engine.DecodeVersions(fixed, 3)
	if err != nil || tomb != v(9, 1) || !reflect.DeepEqual(cols, []engine.Version{{}, v(4, 2), {}}) {
		t.Fatalf("DecodeVersions(fixed form) = %v, %v, %v", tomb, cols, err)
	}

	for _, bad := range [][]byte{nil, {}, {2, 1, 2, 3}, {1}, append(append([]byte{1}, make([]byte, 16)...), 0, 2)} {
		if _, _, err := engine.DecodeVersions(bad, 1); err == nil {
			t.Errorf("DecodeVersions(%v) succeeded", bad)
		}
	}
	if !(engine.Version{HLC: 1, Site: 9}).Less(engine.Version{HLC: 2, Site: 1}) ||
		!(engine.Version{HLC: 2, Site: 1}).Less(engine.Version{HLC: 2, Site: 2}) ||
		(engine.Version{HLC: 2, Site: 2}).Less(engine.Version{HLC: 2, Site: 2}) {
		t.Error("Version.Less is not (HLC, site) order")
	}
}
