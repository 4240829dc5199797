package engine

import (
	"github.com/vmihailenco/msgpack/v5"
)

// EncodeMsgpack writes a change as the same msgpack map the struct tags describe, without
// reflection: the server encodes every change it logs, and reflection was a tenth of ingest.
func (c *Change) EncodeMsgpack(enc *msgpack.Encoder) error {
	n := 5
	for _, set := range []bool{c.Delete, c.Create, len(c.Cols) > 0, len(c.Vals) > 0, len(c.Bases) > 0} {
		if set {
			n++
		}
	}
	if err := enc.EncodeMapLen(n); err != nil {
		return err
	}
	w := &errWriter{enc: enc}
	w.str("t", c.Table)
	w.str("i", c.ID)
	w.str("s", c.Scope)
	w.key("h")
	w.uint(uint64(c.HLC))
	w.key("o")
	w.uint(uint64(c.Site))
	if c.Delete {
		w.key("d")
		w.do(func() error { return enc.EncodeBool(true) })
	}
	if c.Create {
		w.key("n")
		w.do(func() error { return enc.EncodeBool(true) })
	}
	if len(c.Cols) > 0 {
		w.key("c")
		w.do(func() error { return enc.EncodeArrayLen(len(c.Cols)) })
		for _, s := range c.Cols {
			w.do(func() error { return enc.EncodeString(s) })
		}
	}
	if len(c.Vals) > 0 {
		w.key("v")
		w.do(func() error { return enc.EncodeArrayLen(len(c.Vals)) })
		for _, v := range c.Vals {
			w.do(func() error { return enc.Encode(v) })
		}
	}
	if len(c.Bases) > 0 {
		w.key("b")
		w.do(func() error { return enc.EncodeArrayLen(len(c.Bases)) })
		for _, b := range c.Bases {
			w.do(func() error { return enc.EncodeMapLen(2) })
			w.key("h")
			w.uint(uint64(b.HLC))
			w.key("s")
			w.uint(uint64(b.Site))
		}
	}
	return w.err
}

// errWriter keeps the first encoding error so that the field list above reads straight.
type errWriter struct {
	enc *msgpack.Encoder
	err error
}

func (w *errWriter) do(f func() error) {
	if w.err == nil {
		w.err = f()
	}
}

func (w *errWriter) key(k string) { w.do(func() error { return w.enc.EncodeString(k) }) }

func (w *errWriter) str(k, v string) {
	w.key(k)
	w.do(func() error { return w.enc.EncodeString(v) })
}

func (w *errWriter) uint(v uint64) { w.do(func() error { return w.enc.EncodeUint(v) }) }
