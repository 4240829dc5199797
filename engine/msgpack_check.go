package engine

import (
	"encoding/binary"
	"fmt"
)

// MaxFrameDepth is how deeply msgpack containers may nest in a frame. Real frames nest about
// five deep (frame, body, changes, change, values).
const MaxFrameDepth = 16

// checkMsgpack walks one msgpack value iteratively and refuses it if containers nest deeper
// than maxDepth, if a length or count claims more than the message holds, or if bytes follow
// the value. The msgpack decoder recurses into nested values (and into values it skips), so
// without this a single frame of nested arrays could exhaust a server's stack; and it sizes
// slices by the counts it reads, so a lying count could claim gigabytes.
func checkMsgpack(b []byte, maxDepth int) error {
	remaining := []uint64{1} // items still to read at each open level; the bottom is the value itself
	i := 0
	need := func(n uint64) error {
		if n > uint64(len(b)-i) {
			return fmt.Errorf("%w: msgpack value claims %d bytes, %d remain", ErrProtocol, n, len(b)-i)
		}
		return nil
	}
	length := func(size int) (uint64, error) {
		if err := need(uint64(size)); err != nil {
			return 0, err
		}
		var n uint64
		switch size {
		case 1:
			n = uint64(b[i])
		case 2:
			n = uint64(binary.BigEndian.Uint16(b[i:]))
		case 4:
			n = uint64(binary.BigEndian.Uint32(b[i:]))
		}
		i += size
		return n, nil
	}
	for len(remaining) > 0 {
		top := len(remaining) - 1
		if remaining[top] == 0 {
			remaining = remaining[:top]
			continue
		}
		remaining[top]--
		if err := need(1); err != nil {
			return err
		}
		c := b[i]
		i++
		var skip, items uint64
		container := false
		var err error
		switch {
		case c <= 0x7f || c >= 0xe0: // fixint
		case c <= 0x8f: // fixmap
			items, container = 2*uint64(c&0x0f), true
		case c <= 0x9f: // fixarray
			items, container = uint64(c&0x0f), true
		case c <= 0xbf: // fixstr
			skip = uint64(c & 0x1f)
		default:
			switch c {
			case 0xc0, 0xc2, 0xc3: // nil, false, true
			case 0xc4, 0xd9: // bin8, str8
				skip, err = length(1)
			case 0xc5, 0xda: // bin16, str16
				skip, err = length(2)
			case 0xc6, 0xdb: // bin32, str32
				skip, err = length(4)
			case 0xc7: // ext8: length, type
				skip, err = length(1)
				skip++
			case 0xc8:
				skip, err = length(2)
				skip++
			case 0xc9:
				skip, err = length(4)
				skip++
			case 0xca, 0xce, 0xd2: // float32, uint32, int32
				skip = 4
			case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
				skip = 8
			case 0xcc, 0xd0: // uint8, int8
				skip = 1
			case 0xcd, 0xd1: // uint16, int16
				skip = 2
			case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16 (plus the type byte)
				skip = 1 + 1<<(c-0xd4)
			case 0xdc:
				items, err = length(2)
				container = true
			case 0xdd:
				items, err = length(4)
				container = true
			case 0xde:
				items, err = length(2)
				items, container = 2*items, true
			case 0xdf:
				items, err = length(4)
				items, container = 2*items, true
			default: // 0xc1 is never used
				return fmt.Errorf("%w: invalid msgpack byte 0x%02x", ErrProtocol, c)
			}
		}
		if err != nil {
			return err
		}
		if err := need(skip); err != nil {
			return err
		}
		i += int(skip)
		if container && items > 0 {
			if len(remaining) > maxDepth {
				return fmt.Errorf("%w: msgpack nests deeper than %d", ErrProtocol, maxDepth)
			}
			if err := need(items); err != nil { // every item takes at least a byte
				return err
			}
			remaining = append(remaining, items)
		}
	}
	if i != len(b) {
		return fmt.Errorf("%w: %d bytes after the frame", ErrProtocol, len(b)-i)
	}
	return nil
}
