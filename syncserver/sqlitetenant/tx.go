package sqlitetenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/sqlitestore"
	"hearth/syncserver"

	"github.com/vmihailenco/msgpack/v5"
)

// tx is a write transaction of a Store: sqlitestore's merge, and the server's tables.
type tx struct {
	*sqlitestore.Tx
}

// Get reads a live row as it stands in the transaction, or engine.ErrNotFound.
func (t *tx) Get(_ context.Context, table, id string) (engine.Record, error) {
	rec, ok, err := t.Row(table, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("get %s/%s: %w", table, id, engine.ErrNotFound)
	}
	return rec, nil
}

// Select reads live rows as they stand in the transaction.
func (t *tx) Select(_ context.Context, q engine.Query) ([]engine.Record, error) {
	return t.Tx.Select(q)
}

// Batch returns a recorded batch's ack.
func (t *tx) Batch(key string) (engine.Ack, bool, error) {
	var b []byte
	err := t.QueryRow(`SELECT seqs FROM _server_batches WHERE key = ?`, key).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return engine.Ack{}, false, nil
	}
	if err != nil {
		return engine.Ack{}, false, fmt.Errorf("batch %s: %w", key, err)
	}
	ack, err := decodeAck(b)
	if err != nil {
		return engine.Ack{}, false, fmt.Errorf("batch %s: %w", key, err)
	}
	return ack, true, nil
}

// RecordBatch records a batch's ack under its key.
func (t *tx) RecordBatch(key string, ack engine.Ack, at time.Time) error {
	b, err := encodeAck(ack)
	if err != nil {
		return fmt.Errorf("record batch %s: %w", key, err)
	}
	if _, err := t.Exec(`INSERT INTO _server_batches (key, seqs, at) VALUES (?, ?, ?)`, key, b, at.UnixMilli()); err != nil {
		return fmt.Errorf("record batch %s: %w", key, err)
	}
	return nil
}

// encodeAck and decodeAck keep a batch's ack. Batches stored before acks carried rejections
// hold only the sequence numbers, and such files must still open: an ack without rejections
// is stored that way still.
func encodeAck(ack engine.Ack) ([]byte, error) {
	if len(ack.Rejected) == 0 {
		return msgpack.Marshal(ack.Seqs)
	}
	return msgpack.Marshal(ack)
}

func decodeAck(b []byte) (engine.Ack, error) {
	var ack engine.Ack
	if err := msgpack.Unmarshal(b, &ack.Seqs); err == nil {
		return ack, nil
	}
	if err := msgpack.Unmarshal(b, &ack); err != nil {
		return ack, fmt.Errorf("stored ack: %w", err)
	}
	return ack, nil
}

// AppendLog appends entries in multi-row inserts. Within one insert the log's AUTOINCREMENT
// key gives consecutive numbers (never reused, even after the newest rows are deleted), and
// this transaction is the only writer, so the last id tells them all.
func (t *tx) AppendLog(entries []syncserver.LogRecord) ([]uint64, error) {
	seqs := make([]uint64, 0, len(entries))
	for len(entries) > 0 {
		n := 1 // a few fixed sizes, so that few statements are prepared
		switch {
		case len(entries) >= 64:
			n = 64
		case len(entries) >= 8:
			n = 8
		}
		q := `INSERT INTO _server_log (scope, site, tbl, rid, change) VALUES (?, ?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?, ?)`, n-1)
		args := make([]any, 0, 5*n)
		for _, e := range entries[:n] {
			args = append(args, e.Scope, int64(e.Site), e.Table, e.ID, e.Encoded)
		}
		r, err := t.Exec(q, args...)
		if err != nil {
			return nil, fmt.Errorf("append to log: %w", err)
		}
		last, err := r.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("append to log: %w", err)
		}
		for k := range n {
			seqs = append(seqs, uint64(last)-uint64(n-1-k))
		}
		entries = entries[n:]
	}
	return seqs, nil
}

// Head returns the newest sequence number of the log.
func (t *tx) Head() (uint64, error) {
	var head sql.NullInt64
	if err := t.QueryRow(`SELECT max(seq) FROM _server_log`).Scan(&head); err != nil {
		return 0, fmt.Errorf("head: %w", err)
	}
	return uint64(head.Int64), nil
}

// Compact drops the tombstones at or below horizon and the history of their rows.
func (t *tx) Compact(horizon uint64) (int64, error) {
	h := int64(horizon)
	var newest sql.NullInt64
	if err := t.QueryRow(`SELECT max(hlc) FROM _hearth_tombstones WHERE seq > 0 AND seq <= ?`, h).Scan(&newest); err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	// A row's history up to its delete goes; writes after the delete (which revived some
	// columns) stay.
	if _, err := t.Exec(`DELETE FROM _server_log WHERE seq <= ? AND EXISTS (SELECT 1 FROM _hearth_tombstones t
		WHERE t.tbl = _server_log.tbl AND t.id = _server_log.rid AND t.seq > 0 AND t.seq <= ? AND _server_log.seq <= t.seq)`, h, h); err != nil {
		return 0, fmt.Errorf("compact log: %w", err)
	}
	// Notes of deleted rows are already gone (merge prunes them); drop the tombstones.
	n, err := t.CompactTombstones(horizon)
	if err != nil {
		return 0, err
	}
	if newest.Valid {
		old, err := t.Floor()
		if err != nil {
			return 0, err
		}
		if engine.HLC(newest.Int64) > old {
			if err := t.SetMeta(metaFloor, strconv.FormatInt(newest.Int64, 10)); err != nil {
				return 0, fmt.Errorf("compact: %w", err)
			}
		}
	}
	if err := t.SetMeta(metaHorizon, strconv.FormatUint(horizon, 10)); err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	return n, nil
}

// Floor returns the compaction floor.
func (t *tx) Floor() (engine.HLC, error) {
	v, err := t.Meta(metaFloor)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("compaction floor: %w", err)
	}
	return engine.HLC(n), nil
}

// Seen records a replica's connection.
func (t *tx) Seen(site engine.SiteID, user string, at time.Time) (bool, error) {
	now := at.UnixMilli()
	var r int
	err := t.QueryRow(`SELECT retired FROM _server_replicas WHERE site = ?`, int64(site)).Scan(&r)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = t.Exec(`INSERT INTO _server_replicas (site, user, first_seen, last_seen) VALUES (?, ?, ?, ?)`, int64(site), user, now, now)
		return false, err
	case err != nil:
		return false, err
	}
	_, err = t.Exec(`UPDATE _server_replicas SET user = ?, last_seen = ?, retired = 0,
		cursor = CASE WHEN retired THEN 0 ELSE cursor END, acked = CASE WHEN retired THEN 0 ELSE acked END WHERE site = ?`,
		user, now, int64(site))
	return r != 0, err
}

// SetProgress records a replica's progress.
func (t *tx) SetProgress(site engine.SiteID, cursor, acked uint64, at time.Time) error {
	_, err := t.Exec(`UPDATE _server_replicas SET cursor = ?, acked = max(acked, ?), last_seen = ? WHERE site = ?`,
		int64(cursor), int64(acked), at.UnixMilli(), int64(site))
	return err
}

// Retire retires the active replicas last seen before a time.
func (t *tx) Retire(before time.Time) (int64, error) {
	r, err := t.Exec(`UPDATE _server_replicas SET retired = 1 WHERE retired = 0 AND last_seen < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("retire replicas: %w", err)
	}
	return r.RowsAffected()
}

// MinAcked returns the smallest acknowledgement of the active replicas.
func (t *tx) MinAcked() (uint64, bool, error) {
	var m sql.NullInt64
	if err := t.QueryRow(`SELECT min(acked) FROM _server_replicas WHERE retired = 0`).Scan(&m); err != nil {
		return 0, false, fmt.Errorf("acknowledged: %w", err)
	}
	return uint64(m.Int64), m.Valid, nil
}

// LastLink returns the hash of the chain's last link.
func (t *tx) LastLink() ([]byte, error) {
	var h []byte
	err := t.QueryRow(`SELECT hash FROM _server_chain ORDER BY link DESC LIMIT 1`).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last link: %w", err)
	}
	return h, nil
}

// AppendLink appends a link to the chain.
func (t *tx) AppendLink(table, id string, hash []byte) error {
	if _, err := t.Exec(`INSERT INTO _server_chain (tbl, rid, hash) VALUES (?, ?, ?)`, table, id, hash); err != nil {
		return fmt.Errorf("link %s/%s: %w", table, id, err)
	}
	return nil
}

func metaUint(ctx context.Context, rtx *sql.Tx, key string) (uint64, error) {
	var v string
	err := rtx.QueryRowContext(ctx, `SELECT value FROM _hearth_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(v, 10, 64)
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
