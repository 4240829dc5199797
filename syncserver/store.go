package syncserver

import (
	"context"
	"time"

	"hearth/engine"
)

// TenantStore keeps one tenant's data: the merged state of the replicated tables, the change
// log, the batches already pushed, the replicas and what they acknowledged, and the audit
// chain's links. It only stores: what to log, what to refuse, how pages end and when to
// compact are the server's decisions (tenant.go). The SQLite implementation is
// syncserver/sqlitetenant; syncserver/tenanttest is the conformance suite every
// implementation passes. A store is safe for concurrent use; its write transactions are
// serialized.
type TenantStore interface {
	// Get and Select read committed live rows (engine.RowReader: a missing or deleted row is
	// engine.ErrNotFound).
	engine.RowReader

	// Schema returns the schema the store was opened, and migrated, with.
	Schema() *engine.Schema

	// Update runs fn in one write transaction: all that fn does through tx commits together
	// when fn returns nil, and nothing of it when fn returns an error (which Update returns).
	// Write transactions run one at a time. A cancelled ctx aborts the transaction before it
	// commits. tx must not be used after fn returns.
	Update(ctx context.Context, fn func(tx StoreTx) error) error

	// ReadLog reads the log entries after q.After that q selects, oldest first, with the
	// log's head and compaction horizon, all from one snapshot. With q.Limit 0 it reads only
	// the head and horizon.
	ReadLog(ctx context.Context, q LogQuery) (LogPage, error)

	// Replicas lists every replica ever seen, in the order they were first seen, with the
	// progress recorded so far (see StoreTx.SetProgress).
	Replicas(ctx context.Context) ([]ReplicaInfo, error)

	// Hash is the canonical hash of the live rows in the scopes that grants accepts (nil:
	// every scope), the same as engine/sqlitestore computes for a replica holding those
	// scopes: stores and replicas that converged hash equal.
	Hash(ctx context.Context, grants func(scope string) bool) (string, error)

	// Chain calls fn for every chain link in link order, with the row it links as stored (nil
	// when the row is missing), then returns, for every Chained table, its number of rows and
	// one of them that has no link, all from one snapshot. An error from fn ends the walk and
	// is returned.
	Chain(ctx context.Context, fn func(ChainLink) error) (map[string]ChainedRows, error)

	// Close closes the store. It is not safe to call twice.
	Close() error
}

// StoreTx is one write transaction of a TenantStore. Its reads see its own writes. A method's
// error leaves the transaction usable only for returning that error from Update's fn.
type StoreTx interface {
	// Get and Select read live rows as they stand in this transaction (engine.RowReader).
	engine.RowReader

	// Prefetch loads the rows that changes touch in as few reads as the store can, before
	// they are merged one by one. It is only an optimisation: merging without it is correct.
	Prefetch(changes []engine.Change) error
	// Apply merges a change (engine.Apply).
	Apply(ch *engine.Change) (engine.Result, error)
	// CheckScope checks a change's table, id and declared scope without applying it
	// (engine.CheckScope).
	CheckScope(ch *engine.Change) error
	// Known reports whether the store holds the row or its tombstone.
	Known(table, id string) (bool, error)
	// Local applies a mutation made by the server itself, stamped with clk and site, and
	// returns its change (engine.Local).
	Local(clk *engine.Clock, site engine.SiteID, m engine.Mutation) (engine.Change, error)

	// Batch returns the ack recorded for a pushed batch's key, and false if there is none.
	Batch(key string) (engine.Ack, bool, error)
	// RecordBatch records a batch's key with its ack, at the time given, so that a retry of
	// the batch finds it (Batch). Recording a key that is already recorded is an error.
	RecordBatch(key string, ack engine.Ack, at time.Time) error

	// AppendLog appends entries to the log and returns their sequence numbers, in order:
	// strictly greater than every number the log has ever given, even to entries since
	// compacted, and never given again.
	AppendLog(entries []LogRecord) ([]uint64, error)
	// SetTombstoneSeq records the log position of the tombstone that ch (a delete) left, if
	// it is still the row's tombstone, so that Compact can drop it once every replica has it.
	SetTombstoneSeq(ch *engine.Change, seq uint64) error
	// Compact drops the tombstones whose log position is in (0, horizon], with each such
	// row's log entries at or below its tombstone's position (later entries, which revived
	// the row, stay), and returns how many tombstones it dropped. It then records horizon as
	// the log's compaction horizon (ReadLog) and the newest clock of the dropped tombstones as
	// the compaction floor (Floor); neither ever goes down.
	Compact(horizon uint64) (int64, error)
	// Floor returns the compaction floor: the newest clock of a compacted tombstone, 0 when
	// none was (see engine.Stale).
	Floor() (engine.HLC, error)
	// Head returns the log's newest sequence number (0: the log is empty).
	Head() (uint64, error)

	// Seen records that a replica connected as user at a time: a new replica is added; a
	// known one gets user and last seen updated, and if it had been retired it is taken back
	// with its cursor and acknowledgement reset to 0 (it re-syncs), which Seen reports.
	Seen(site engine.SiteID, user string, at time.Time) (retired bool, err error)
	// SetProgress records a replica's cursor and acknowledgement as of a time. The
	// acknowledgement only rises. An unknown site is ignored.
	SetProgress(site engine.SiteID, cursor, acked uint64, at time.Time) error
	// Retire retires the active replicas last seen before a time and returns how many.
	Retire(before time.Time) (int64, error)
	// MinAcked returns the smallest acknowledgement of the active replicas, and false when
	// there is none.
	MinAcked() (uint64, bool, error)

	// LastLink returns the hash of the chain's last link, nil when the chain is empty.
	LastLink() ([]byte, error)
	// AppendLink appends a link for a row to the chain. A row has at most one link.
	AppendLink(table, id string, hash []byte) error

	// Meta reads a value of the store's metadata ("" for a key never set); SetMeta writes it.
	Meta(key string) (string, error)
	SetMeta(key, value string) error
}

// LogRecord is one change to append to the log, with its encoding (engine.EncodeChange).
type LogRecord struct {
	Scope   string
	Site    engine.SiteID
	Table   string
	ID      string
	Encoded []byte
}

// LogQuery selects entries of the log.
type LogQuery struct {
	After uint64 // entries after this sequence number
	Limit int    // at most this many (0: none, only the head and horizon)
	// Scopes are the scopes to return: exact scopes, "kind:*" patterns (every scope that
	// starts with "kind:"), or engine.AllScopes for all. None selects nothing.
	Scopes      []string
	ExcludeSite engine.SiteID // leave out this site's entries (0: none)
}

// LogPage is what ReadLog read.
type LogPage struct {
	Head    uint64 // the log's newest sequence number (0: empty)
	Horizon uint64 // the compaction horizon recorded by Compact (0: never compacted)
	Seqs    []uint64
	Raw     [][]byte // each entry's encoding, as appended
}

// ChainLink is one link of the audit chain, with the row it links as stored (nil: missing).
type ChainLink struct {
	Link       int64 // position in the chain, from 1
	Table, Row string
	Hash       []byte
	Record     engine.Record
}

// ChainedRows is what Chain reports of one Chained table.
type ChainedRows struct {
	Count    int    // rows stored
	Unlinked string // the id of a row without a link, "" when every row has one
}

// TenantOpener opens the store of a tenant listed in the directory. It decides where the
// tenant's data lives from its directory entry (region, node, settings), which is how a
// tenant is served from another kind of store or moved by configuration.
type TenantOpener func(ctx context.Context, info TenantInfo) (TenantStore, error)
