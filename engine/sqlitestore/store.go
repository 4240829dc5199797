//go:build !js

package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"hearth/engine"
)

const replicaDDL = `
CREATE TABLE IF NOT EXISTS _hearth_outbox (seq INTEGER PRIMARY KEY, batch TEXT, hlc INTEGER NOT NULL, change BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS _hearth_outbox_batch ON _hearth_outbox(batch) WHERE batch IS NOT NULL;
-- local changes the server's rules refused (see engine.Ack.Rejected), kept for a person to see
CREATE TABLE IF NOT EXISTS _hearth_rejected (seq INTEGER PRIMARY KEY, batch TEXT NOT NULL, code TEXT NOT NULL,
	message TEXT NOT NULL, change BLOB NOT NULL, at INTEGER NOT NULL);
`

// Store is a replica's store in one SQLite file (an engine.Store): the replicated state of a DB
// plus the outbox, the refused changes and the changes kept for a newer schema. It only
// stores; engine.Replica holds the rules.
type Store struct {
	*DB
}

var _ engine.Store = (*Store)(nil)

// OpenStore opens or creates a replica's store at path, migrated to schema.
func OpenStore(ctx context.Context, path string, schema *engine.Schema, opts Options) (*Store, error) {
	db, err := Open(ctx, path, schema, opts)
	if err != nil {
		return nil, err
	}
	err = db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Tx.ExecContext(ctx, replicaDDL); err != nil {
			return fmt.Errorf("create outbox: %w", err)
		}
		return migrateBatchLabels(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open replica store %s: %w", path, err)
	}
	return &Store{db}, nil
}

// migrateBatchLabels moves a batch in flight from the outbox rows' labels, where stores written
// before the engine kept the rules marked it, to the replica's metadata, so that it is sent
// again with its key after an upgrade.
func migrateBatchLabels(tx *Tx) error {
	var batch string
	var upto int64
	err := tx.QueryRow(`SELECT batch, max(seq) FROM _hearth_outbox WHERE batch IS NOT NULL GROUP BY batch LIMIT 1`).Scan(&batch, &upto)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur, err := tx.Meta("batch"); err != nil || cur != "" {
		return err
	}
	if err := tx.SetMeta("batch", fmt.Sprintf("%s %d", batch, upto)); err != nil {
		return err
	}
	_, err = tx.Exec(`UPDATE _hearth_outbox SET batch = NULL WHERE batch IS NOT NULL`)
	return err
}

// Update runs fn in one write transaction (see engine.Store).
func (s *Store) Update(ctx context.Context, fn func(tx engine.StoreTx) error) error {
	return s.DB.Update(ctx, func(tx *Tx) error { return fn(storeTx{tx}) })
}

// Rejected lists the refused changes, oldest first.
func (s *Store) Rejected(ctx context.Context) ([]engine.RejectedChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT batch, code, message, change, at FROM _hearth_rejected ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.RejectedChange
	for rows.Next() {
		var rc engine.RejectedChange
		var b []byte
		var at int64
		if err := rows.Scan(&rc.Batch, &rc.Code, &rc.Message, &b, &at); err != nil {
			return nil, err
		}
		if rc.Change, err = engine.DecodeChange(b); err != nil {
			return nil, fmt.Errorf("rejected change: %w", err)
		}
		rc.At = time.UnixMilli(at).UTC()
		out = append(out, rc)
	}
	return out, rows.Err()
}

// storeTx is a write transaction as engine.Replica sees it.
type storeTx struct{ *Tx }

var _ engine.StoreTx = storeTx{}

func (t storeTx) LoadRow(tb *engine.Table, id string) (engine.Row, bool, error) {
	return mergeTx{t.Tx}.LoadRow(tb, id)
}

func (t storeTx) SaveRow(tb *engine.Table, id string, r *engine.Row) error {
	return mergeTx{t.Tx}.SaveRow(tb, id, r)
}

func (t storeTx) LoadNotes(tb *engine.Table, id string) ([]engine.NoteVersion, error) {
	return mergeTx{t.Tx}.LoadNotes(tb, id)
}

func (t storeTx) SaveNotes(tb *engine.Table, id string, vs []engine.NoteVersion) error {
	return mergeTx{t.Tx}.SaveNotes(tb, id, vs)
}

func (t storeTx) AppendOutbox(chs []engine.Change) error {
	encoded := make([][]byte, len(chs))
	for i := range chs {
		b, err := engine.EncodeChange(&chs[i])
		if err != nil {
			return err
		}
		encoded[i] = b
	}
	return appendOutbox(t.Tx, chs, encoded)
}

// appendOutbox inserts encoded changes into the outbox, several rows per statement.
func appendOutbox(tx *Tx, chs []engine.Change, encoded [][]byte) error {
	for len(encoded) > 0 {
		n := chunk(len(encoded))
		q := `INSERT INTO _hearth_outbox (hlc, change) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, n-1)
		args := make([]any, 0, 2*n)
		for i, b := range encoded[:n] {
			args = append(args, int64(chs[i].HLC), b)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		chs, encoded = chs[n:], encoded[n:]
	}
	return nil
}

func (t storeTx) Outbox(limit int) ([]engine.OutboxEntry, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	stored, err := t.readChanges(`SELECT seq, change FROM _hearth_outbox ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]engine.OutboxEntry, len(stored))
	for i, sc := range stored {
		out[i] = engine.OutboxEntry{Seq: uint64(sc.seq), Change: sc.ch}
	}
	return out, nil
}

func (t storeTx) DeleteOutbox(seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	arr, err := json.Marshal(seqs)
	if err != nil {
		return err
	}
	_, err = t.Exec(`DELETE FROM _hearth_outbox WHERE seq IN (SELECT value FROM json_each(?))`, string(arr))
	return err
}

func (t storeTx) OutboxStats() (int, engine.HLC, error) {
	var n int
	var newest sql.NullInt64
	if err := t.QueryRow(`SELECT count(*), max(hlc) FROM _hearth_outbox`).Scan(&n, &newest); err != nil {
		return 0, 0, err
	}
	return n, engine.HLC(newest.Int64), nil
}

func (t storeTx) AddFuture(ch *engine.Change) error {
	b, err := engine.EncodeChange(ch)
	if err != nil {
		return err
	}
	_, err = t.Exec(`INSERT INTO _hearth_future (change) VALUES (?)`, b)
	return err
}

func (t storeTx) Future() ([]engine.FutureEntry, error) {
	stored, err := t.readChanges(`SELECT seq, change FROM _hearth_future ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	out := make([]engine.FutureEntry, len(stored))
	for i, sc := range stored {
		out[i] = engine.FutureEntry{Seq: uint64(sc.seq), Change: sc.ch}
	}
	return out, nil
}

func (t storeTx) DeleteFuture(seq uint64) error {
	_, err := t.Exec(`DELETE FROM _hearth_future WHERE seq = ?`, int64(seq))
	return err
}

func (t storeTx) AddRejected(rc engine.RejectedChange) error {
	b, err := engine.EncodeChange(&rc.Change)
	if err != nil {
		return err
	}
	_, err = t.Exec(`INSERT INTO _hearth_rejected (batch, code, message, change, at) VALUES (?, ?, ?, ?, ?)`,
		rc.Batch, rc.Code, rc.Message, b, rc.At.UnixMilli())
	return err
}

func (t storeTx) Clear() error {
	// Rows this transaction cached or changed are gone with the tables.
	t.rows, t.dirty, t.notes, t.dirtyNotes = map[rowKey]*cachedRow{}, nil, map[rowKey]*cachedNotes{}, nil
	for _, tb := range t.db.schema.Tables() {
		if _, err := t.Tx.Tx.ExecContext(t.ctx, fmt.Sprintf("DELETE FROM %q", tb.Name)); err != nil {
			return fmt.Errorf("clear %s: %w", tb.Name, err)
		}
	}
	for _, q := range []string{`DELETE FROM _hearth_tombstones`, `DELETE FROM _hearth_notes`, `DELETE FROM _hearth_future`} {
		if _, err := t.Tx.Tx.ExecContext(t.ctx, q); err != nil {
			return fmt.Errorf("clear: %w", err)
		}
	}
	return nil
}
