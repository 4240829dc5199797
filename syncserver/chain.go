package syncserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"hearth/engine"
)

// The chain links every row of a Chained table, in the order the server stored them, by
// hash: each link's hash covers the previous link's hash and the row's content. Editing a
// stored row, removing one, inserting one behind the server's back or reordering links breaks
// the chain at that point, and VerifyChain names the first broken link. Rows are appended only
// by the server's own transactions, which are serialized, so the chain is a single line. The
// store keeps the links (StoreTx.AppendLink); the hashing is the server's.
// chain appends a link for each newly stored row of a Chained table among entries.
func (t *Tenant) chain(ctx context.Context, tx StoreTx, entries []logEntry) error {
	var prev []byte
	loaded := false
	for _, e := range entries {
		tb := t.store.Schema().Table(e.ch.Table)
		if tb == nil || !tb.Chained || e.ch.Delete {
			continue
		}
		if !loaded {
			var err error
			if prev, err = tx.LastLink(); err != nil {
				return fmt.Errorf("chain: %w", err)
			}
			loaded = true
		}
		rec, err := tx.Get(ctx, tb.Name, e.ch.ID)
		if err != nil {
			return fmt.Errorf("chain %s/%s: row not stored (%w)", tb.Name, e.ch.ID, err)
		}
		h := linkHash(prev, tb, e.ch.ID, rec)
		if err := tx.AppendLink(tb.Name, e.ch.ID, h); err != nil {
			return fmt.Errorf("chain: %w", err)
		}
		prev = h
	}
	return nil
}

// linkHash is SHA-256 over the previous hash, the table, the row id and the row's non-null
// columns by name in sorted order, each value tagged with its type. Columns added by a later
// migration are null in older rows, so old links still verify after an upgrade.
func linkHash(prev []byte, tb *engine.Table, id string, rec map[string]any) []byte {
	h := sha256.New()
	var buf bytes.Buffer
	field := func(tag byte, b []byte) {
		buf.WriteByte(tag)
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		buf.Write(n[:])
		buf.Write(b)
	}
	field('p', prev)
	field('t', []byte(tb.Name))
	field('k', []byte(id))
	names := make([]string, 0, len(tb.Columns))
	for _, c := range tb.Columns {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := engine.NormalizeValue(tb.Columns[tb.Col(name)].Type, rec[name])
		if err != nil || v == nil {
			continue
		}
		field('c', []byte(name))
		switch x := v.(type) {
		case string:
			field('s', []byte(x))
		case []byte:
			field('b', x)
		case int64:
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(x))
			field('i', n[:])
		case float64:
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], math.Float64bits(x))
			field('f', n[:])
		}
	}
	h.Write(buf.Bytes())
	return h.Sum(nil)
}

// ChainReport is the outcome of VerifyChain.
type ChainReport struct {
	Links int // links checked
	// OK is true when every link verifies and every row of every chained table is linked.
	OK bool
	// Broken, when not OK, names the first problem: the link number, the row, and what is wrong.
	BrokenLink int64
	Table, Row string
	Problem    string
}

// VerifyChain recomputes the tenant's chain from the stored rows and reports the first link
// that does not match, or a chained row that has no link.
func (t *Tenant) VerifyChain(ctx context.Context) (ChainReport, error) {
	var rep ChainReport
	var prev []byte
	var lastLink int64
	linked := map[string]int{}
	broken := errors.New("broken") // ends the walk at the first broken link
	fail := func(l ChainLink, problem string) error {
		rep.BrokenLink, rep.Table, rep.Row, rep.Problem = l.Link, l.Table, l.Row, problem
		return broken
	}
	tables, err := t.store.Chain(ctx, func(l ChainLink) error {
		rep.Links++
		if l.Link != lastLink+1 {
			return fail(l, fmt.Sprintf("link %d follows link %d: links were removed", l.Link, lastLink))
		}
		lastLink = l.Link
		tb := t.store.Schema().Table(l.Table)
		if tb == nil || !tb.Chained {
			return fail(l, "the link names a table that is not chained")
		}
		if l.Record == nil {
			return fail(l, "the row is missing")
		}
		if !bytes.Equal(linkHash(prev, tb, l.Row, l.Record), l.Hash) {
			return fail(l, "the row's content or the link before it was changed")
		}
		linked[l.Table]++
		prev = l.Hash
		return nil
	})
	if errors.Is(err, broken) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("verify chain of %s: %w", t.ID, err)
	}
	for _, tb := range t.store.Schema().Tables() {
		if !tb.Chained {
			continue
		}
		if n := tables[tb.Name].Count; n != linked[tb.Name] {
			rep.BrokenLink, rep.Table, rep.Row = lastLink+1, tb.Name, tables[tb.Name].Unlinked
			rep.Problem = fmt.Sprintf("%d rows of %s, %d of them linked: rows were added outside the server", n, tb.Name, linked[tb.Name])
			return rep, nil
		}
	}
	rep.OK = true
	return rep, nil
}
