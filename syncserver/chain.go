package syncserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"hearth/engine"
	"hearth/engine/sqlitestore"
)

// The chain links every row of a Chained table, in the order the server stored them, by
// hash: each link's hash covers the previous link's hash and the row's content. Editing a
// stored row, removing one, inserting one behind the server's back or reordering links breaks
// the chain at that point, and VerifyChain names the first broken link. Rows are appended only
// by the server's own transactions, which are serialized, so the chain is a single line.
const chainDDL = `
CREATE TABLE IF NOT EXISTS _server_chain (
	link INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, rid TEXT NOT NULL, hash BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS _server_chain_row ON _server_chain(tbl, rid);
`

// chain appends a link for each newly stored row of a Chained table among entries.
func (t *Tenant) chain(tx *sqlitestore.Tx, entries []logEntry) error {
	var prev []byte
	loaded := false
	for _, e := range entries {
		tb := t.db.Schema().Table(e.ch.Table)
		if tb == nil || !tb.Chained || e.ch.Delete {
			continue
		}
		if !loaded {
			err := tx.QueryRow(`SELECT hash FROM _server_chain ORDER BY link DESC LIMIT 1`).Scan(&prev)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("chain: last link: %w", err)
			}
			loaded = true
		}
		rec, ok, err := tx.Row(tb.Name, e.ch.ID)
		if err != nil || !ok {
			return fmt.Errorf("chain %s/%s: row not stored (%v)", tb.Name, e.ch.ID, err)
		}
		h := linkHash(prev, tb, e.ch.ID, rec)
		if _, err := tx.Exec(`INSERT INTO _server_chain (tbl, rid, hash) VALUES (?, ?, ?)`, tb.Name, e.ch.ID, h); err != nil {
			return fmt.Errorf("chain %s/%s: %w", tb.Name, e.ch.ID, err)
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
	tx, err := t.db.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("verify chain of %s: %w", t.ID, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT link, tbl, rid, hash FROM _server_chain ORDER BY link`)
	if err != nil {
		return rep, fmt.Errorf("verify chain of %s: %w", t.ID, err)
	}
	defer rows.Close()
	var prev []byte
	var lastLink int64
	linked := map[string]int{}
	for rows.Next() {
		var link int64
		var tbl, rid string
		var h []byte
		if err := rows.Scan(&link, &tbl, &rid, &h); err != nil {
			return rep, err
		}
		rep.Links++
		fail := func(problem string) (ChainReport, error) {
			rep.BrokenLink, rep.Table, rep.Row, rep.Problem = link, tbl, rid, problem
			return rep, nil
		}
		if link != lastLink+1 {
			return fail(fmt.Sprintf("link %d follows link %d: links were removed", link, lastLink))
		}
		lastLink = link
		tb := t.db.Schema().Table(tbl)
		if tb == nil || !tb.Chained {
			return fail("the link names a table that is not chained")
		}
		rec, err := readRow(ctx, tx, tb, rid)
		if err != nil {
			return rep, err
		}
		if rec == nil {
			return fail("the row is missing")
		}
		if !bytes.Equal(linkHash(prev, tb, rid, rec), h) {
			return fail("the row's content or the link before it was changed")
		}
		linked[tbl]++
		prev = h
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	for _, tb := range t.db.Schema().Tables() {
		if !tb.Chained {
			continue
		}
		var n int
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %q`, tb.Name)).Scan(&n); err != nil {
			return rep, fmt.Errorf("verify chain of %s: count %s: %w", t.ID, tb.Name, err)
		}
		if n != linked[tb.Name] {
			var rid string
			err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT id FROM %q WHERE id NOT IN (SELECT rid FROM _server_chain WHERE tbl = ?) LIMIT 1`, tb.Name), tb.Name).Scan(&rid)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return rep, err
			}
			rep.BrokenLink, rep.Table, rep.Row = lastLink+1, tb.Name, rid
			rep.Problem = fmt.Sprintf("%d rows of %s, %d of them linked: rows were added outside the server", n, tb.Name, linked[tb.Name])
			return rep, nil
		}
	}
	rep.OK = true
	return rep, nil
}

// readRow reads one stored row's columns by name, or nil if there is none.
func readRow(ctx context.Context, tx *sql.Tx, tb *engine.Table, id string) (map[string]any, error) {
	cols := ""
	for i, c := range tb.Columns {
		if i > 0 {
			cols += ", "
		}
		cols += fmt.Sprintf("%q", c.Name)
	}
	vals := make([]any, len(tb.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %q WHERE id = ?`, cols, tb.Name), id).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", tb.Name, id, err)
	}
	rec := make(map[string]any, len(vals))
	for i, c := range tb.Columns {
		rec[c.Name] = vals[i]
	}
	return rec, nil
}
