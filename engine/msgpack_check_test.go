package engine

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestCheckMsgpack(t *testing.T) {
	nested := func(depth int) []byte { // [[[...nil...]]]
		return append(bytes.Repeat([]byte{0x91}, depth), 0xc0)
	}
	valid, err := msgpack.Marshal(map[string]any{"a": []any{int64(1), "x", 1.5, []byte{1}, nil, true, map[string]any{"b": int64(-300)}},
		"big": int64(1) << 40, "neg": int64(-1) << 40, "f32": float32(2), "s": string(bytes.Repeat([]byte("x"), 300))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"ordinary value", valid, true},
		{"nesting at the limit", nested(MaxFrameDepth), true},
		{"nesting past the limit", nested(MaxFrameDepth + 1), false},
		{"a million levels", nested(1 << 20), false},
		{"array claiming 4 billion items", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}, false},
		{"map claiming more than the message", []byte{0xde, 0x00, 0x10, 0xc0, 0xc0}, false},
		{"string longer than the message", []byte{0xdb, 0x00, 0x00, 0x01, 0x00, 'a'}, false},
		{"truncated int64", []byte{0xd3, 0x01}, false},
		{"never-used byte", []byte{0xc1}, false},
		{"trailing bytes", []byte{0xc0, 0xc0}, false},
		{"empty", nil, false},
		{"empty containers", []byte{0x92, 0x90, 0x80}, true},
	}
	for _, tc := range tests {
		err := checkMsgpack(tc.b, MaxFrameDepth)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrProtocol)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
