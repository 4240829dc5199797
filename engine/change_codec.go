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

// DecodeMsgpack reads a change written by EncodeMsgpack (or by msgpack's reflection: the same
// map), without reflection: a replica catching up decodes every change of every page, and
// reflection was most of that. Unknown keys are skipped, as reflection skips them, so that a
// newer peer may add fields; nil reads as the zero change.
func (c *Change) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil || n < 0 {
		*c = Change{}
		return err
	}
	*c = Change{}
	for range n {
		key, err := dec.DecodeString()
		if err != nil {
			return err
		}
		switch key {
		case "t":
			c.Table, err = dec.DecodeString()
		case "i":
			c.ID, err = dec.DecodeString()
		case "s":
			c.Scope, err = dec.DecodeString()
		case "h":
			var v uint64
			v, err = dec.DecodeUint64()
			c.HLC = HLC(v)
		case "o":
			var v uint64
			v, err = dec.DecodeUint64()
			c.Site = SiteID(v)
		case "d":
			c.Delete, err = dec.DecodeBool()
		case "n":
			c.Create, err = dec.DecodeBool()
		case "c":
			c.Cols, err = decodeStrings(dec)
		case "v":
			c.Vals, err = decodeValues(dec)
		case "b":
			c.Bases, err = decodeVersions(dec)
		default:
			err = dec.Skip()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func decodeStrings(dec *msgpack.Decoder) ([]string, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil || n < 0 {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		if out[i], err = dec.DecodeString(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeValues(dec *msgpack.Decoder) ([]any, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil || n < 0 {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		if out[i], err = dec.DecodeInterface(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeVersions(dec *msgpack.Decoder) ([]Version, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil || n < 0 {
		return nil, err
	}
	out := make([]Version, n)
	for i := range out {
		m, err := dec.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		for range max(m, 0) {
			key, err := dec.DecodeString()
			if err != nil {
				return nil, err
			}
			var v uint64
			switch key {
			case "h":
				v, err = dec.DecodeUint64()
				out[i].HLC = HLC(v)
			case "s":
				v, err = dec.DecodeUint64()
				out[i].Site = SiteID(v)
			default:
				err = dec.Skip()
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
