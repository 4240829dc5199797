package engine

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Version orders writes: by HLC, then by site id. The zero Version precedes every write.
type Version struct {
	HLC  HLC    `msgpack:"h"`
	Site SiteID `msgpack:"s"`
}

// Less reports whether v orders before w.
func (v Version) Less(w Version) bool {
	if v.HLC != w.HLC {
		return v.HLC < w.HLC
	}
	return v.Site < w.Site
}

// Compare orders versions as Less does: -1, 0 or +1.
func (v Version) Compare(w Version) int {
	switch {
	case v.Less(w):
		return -1
	case w.Less(v):
		return 1
	}
	return 0
}

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return v == Version{} }

func (v Version) String() string { return fmt.Sprintf("%s@%s", v.HLC, v.Site) }

// Change is one replicated write: an insert or update of some columns of a row, or a delete.
// All columns of a change share its version. Changes are what the outbox holds, what the
// wire carries and what the server's log records.
type Change struct {
	Table  string `msgpack:"t"`
	ID     string `msgpack:"i"`
	Scope  string `msgpack:"s"`
	HLC    HLC    `msgpack:"h"`
	Site   SiteID `msgpack:"o"`
	Delete bool   `msgpack:"d,omitempty"`
	// Create marks the write that made a row: the replica had never seen it. The server uses
	// it to tell a late update of a long-deleted, compacted row (dropped) from a new row.
	Create bool     `msgpack:"n,omitempty"`
	Cols   []string `msgpack:"c,omitempty"`
	Vals   []any    `msgpack:"v,omitempty"`
	// Bases lists the versions of the table's Note column that this edit replaced: normally
	// the one version the author saw; all of them when the author resolved a conflict. An
	// edit whose bases do not include the current version was concurrent with it.
	Bases []Version `msgpack:"b,omitempty"`
}

// Version returns the change's version.
func (c *Change) Version() Version { return Version{HLC: c.HLC, Site: c.Site} }

// Row is the merge state of one row: its column values and versions (by column index), and
// the version of its latest delete. A column is live when its version is newer than Tomb.
type Row struct {
	Values   []any
	Versions []Version
	Tomb     Version
	// Scope is the scope recorded with the row's tombstone: a deleted row keeps it so that a
	// newer write that revives the row can restore its scope column.
	Scope string
}

// Live reports whether any column outlives the row's tombstone.
func (r *Row) Live() bool {
	for _, v := range r.Versions {
		if !v.IsZero() && r.Tomb.Less(v) {
			return true
		}
	}
	return false
}

// EncodeVersions packs a tombstone and column versions into the form stores keep beside each
// row. Most rows hold one or two distinct versions (a new row's columns share the version of
// the change that made it), so the form lists the distinct non-zero versions once and gives
// each of the tombstone and the columns an index into that list:
//
//	k | k versions of 16 bytes (HLC, site; little endian) | tombstone index | n column indexes
//
// where index 0 is the zero Version and i is the i-th listed version. A trailing zero byte is
// added when the length would be a multiple of 16, so that it never looks like the older
// fixed form (16 bytes per version, tombstone first), which DecodeVersions still reads. A
// patients row takes 25 bytes instead of 128: the version blob was about a third of what a
// replica writes per row. Rows with more than 255 distinct versions keep the fixed form.
func EncodeVersions(tomb Version, cols []Version) []byte {
	var distinct [8]Version
	list := distinct[:0]
	index := func(v Version) int {
		if v.IsZero() {
			return 0
		}
		for i, d := range list {
			if d == v {
				return i + 1
			}
		}
		list = append(list, v)
		return len(list)
	}
	idx := make([]byte, 1+len(cols))
	for i := range idx {
		v := tomb
		if i > 0 {
			v = cols[i-1]
		}
		k := index(v)
		if k > 255 {
			return encodeFixedVersions(tomb, cols)
		}
		idx[i] = byte(k)
	}
	size := 1 + 16*len(list) + len(idx)
	pad := 0
	if size%16 == 0 {
		pad = 1
	}
	b := make([]byte, 1+16*len(list), size+pad)
	b[0] = byte(len(list))
	for i, v := range list {
		putVersion(b[1+16*i:], v)
	}
	b = append(b, idx...)
	if pad > 0 {
		b = append(b, 0)
	}
	return b
}

// encodeFixedVersions is the older form: 16 bytes per version, the tombstone first.
func encodeFixedVersions(tomb Version, cols []Version) []byte {
	b := make([]byte, 16*(1+len(cols)))
	putVersion(b, tomb)
	for i, v := range cols {
		putVersion(b[16*(i+1):], v)
	}
	return b
}

// putVersion writes v in 16 bytes: HLC, then site, little endian.
func putVersion(b []byte, v Version) {
	binary.LittleEndian.PutUint64(b, uint64(v.HLC))
	binary.LittleEndian.PutUint64(b[8:], uint64(v.Site))
}

// readVersion reads what putVersion wrote.
func readVersion(b []byte) Version {
	return Version{HLC: HLC(binary.LittleEndian.Uint64(b)), Site: SiteID(binary.LittleEndian.Uint64(b[8:]))}
}

// DecodeVersions unpacks EncodeVersions' forms (either) into n column versions. Versions for
// columns added after the row was stored decode as zero.
func DecodeVersions(b []byte, n int) (tomb Version, cols []Version, err error) {
	if len(b) == 0 {
		return tomb, nil, fmt.Errorf("decode versions: empty")
	}
	if len(b)%16 == 0 {
		tomb = readVersion(b)
		cols = make([]Version, n)
		for i := 0; i < n && i+1 < len(b)/16; i++ {
			cols[i] = readVersion(b[16*(i+1):])
		}
		return tomb, cols, nil
	}
	k := int(b[0])
	idx := b[min(len(b), 1+16*k):]
	if len(b) < 1+16*k || len(idx) == 0 {
		return tomb, nil, fmt.Errorf("decode versions: %d bytes cannot hold %d versions", len(b), k)
	}
	get := func(i byte) (Version, error) {
		if int(i) > k {
			return Version{}, fmt.Errorf("decode versions: index %d of %d versions", i, k)
		}
		if i == 0 {
			return Version{}, nil
		}
		return readVersion(b[1+16*(int(i)-1):]), nil
	}
	if tomb, err = get(idx[0]); err != nil {
		return tomb, nil, err
	}
	cols = make([]Version, n)
	for i := 0; i < n && i+1 < len(idx); i++ {
		if cols[i], err = get(idx[i+1]); err != nil {
			return tomb, nil, err
		}
	}
	return tomb, cols, nil
}

// NormalizeValue converts v to the canonical Go type for a column of type t: nil, int64,
// float64, string or []byte. Values decoded from msgpack or JSON arrive in many integer and
// float types; normalizing makes merge results and hashes identical on every replica.
func NormalizeValue(t ColumnType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case Text:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case Blob:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case Integer:
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int8:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case int64:
			return x, nil
		case uint8:
			return int64(x), nil
		case uint16:
			return int64(x), nil
		case uint32:
			return int64(x), nil
		case uint64:
			if x <= math.MaxInt64 {
				return int64(x), nil
			}
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
		}
	case Real:
		switch x := v.(type) {
		case float64:
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				return x, nil
			}
		case float32:
			// Through the float64 case, so that NaN and infinities are refused here too.
			return NormalizeValue(Real, float64(x))
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		case int8, int16, int32, uint8, uint16, uint32, uint64:
			n, err := NormalizeValue(Integer, x)
			if err != nil {
				return nil, err
			}
			return float64(n.(int64)), nil
		}
	}
	return nil, fmt.Errorf("%w: %T is not a %s", ErrBadValue, v, t)
}
