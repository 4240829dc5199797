package engine

import (
	"context"
	"time"
)

// Store is a replica's storage: the replicated tables and their merge state, the replica's
// key-value metadata, its outbox of local changes, the changes kept for a newer schema and the
// changes the server refused. It is only storage: every sync rule (batches and their keys,
// acknowledgements, the acked cursor, the future queue, compaction, clock restore, hashing) is
// Replica's, so that SQLite on the desktop, IndexedDB in the browser and memory in tests
// behave the same. storetest checks an implementation against this contract.
//
// A store is opened already migrated to its schema (Schema). One Replica owns a store at a
// time; Update calls never overlap, and reads may run concurrently with an Update but must not
// see its writes before it commits.
type Store interface {
	RowReader
	// Schema returns the schema the store is migrated to.
	Schema() *Schema
	// Update runs fn in one write transaction: everything fn wrote is durable together when
	// Update returns nil, and nothing of it is when fn (or the commit) fails.
	Update(ctx context.Context, fn func(tx StoreTx) error) error
	// View runs fn on a consistent snapshot of the committed state.
	View(ctx context.Context, fn func(v StoreView) error) error
	// Rejected lists the refused changes kept by StoreTx.AddRejected, oldest first.
	Rejected(ctx context.Context) ([]RejectedChange, error)
	// Close releases the store. A store is not used after Close.
	Close() error
}

// StoreTx is one write transaction of a Store. Reads see the transaction's own writes.
type StoreTx interface {
	MergeTx
	// Prefetch hints that the rows these changes touch are about to be loaded: a store may
	// read them in one go. It changes nothing a later LoadRow returns.
	Prefetch(changes []Change) error
	// Meta returns a metadata value; a key never set reads as "".
	Meta(key string) (string, error)
	// SetMeta sets a metadata value.
	SetMeta(key, value string) error

	// AppendOutbox adds local changes to the end of the outbox, in order. Their sequence
	// numbers are greater than those of every entry in the outbox now.
	AppendOutbox(chs []Change) error
	// Outbox returns up to limit entries (0: all) from the start of the outbox, oldest first.
	Outbox(limit int) ([]OutboxEntry, error)
	// DeleteOutbox removes the entries with the given sequence numbers; unknown ones are
	// ignored.
	DeleteOutbox(seqs []uint64) error
	// OutboxStats returns the number of entries in the outbox and the greatest HLC among them.
	OutboxStats() (n int, newest HLC, err error)

	// SetTombstoneSeq records the log position of the tombstone that ch (a delete) left, if it
	// is still the row's tombstone (same version); otherwise it does nothing.
	SetTombstoneSeq(ch *Change, seq uint64) error
	// CompactTombstones drops the tombstones whose recorded log position is at or below
	// horizon (never those without one) and returns how many it dropped.
	CompactTombstones(horizon uint64) (int64, error)

	// AddFuture keeps a change that names tables or columns of a newer schema.
	AddFuture(ch *Change) error
	// Future returns the kept changes, oldest first, with their keys.
	Future() ([]FutureEntry, error)
	// DeleteFuture drops a kept change.
	DeleteFuture(seq uint64) error

	// AddRejected keeps a local change the server refused, for a person to see.
	AddRejected(rc RejectedChange) error

	// Clear drops the replicated state: every row, tombstone, note version and kept future
	// change. The outbox, the refused changes and the metadata stay.
	Clear() error
}

// StoreView reads a consistent snapshot of a store's replicated state, for hashing.
type StoreView interface {
	// Rows calls fn for every live row of t in id order, with its values and versions sized
	// to t's columns. fn must not keep r's slices.
	Rows(t *Table, fn func(id string, r *Row) error) error
	// NoteLeaves calls fn for every unsuperseded note version of t's rows, ordered by row id
	// (a row's versions in any order).
	NoteLeaves(t *Table, fn func(id string, n NoteVersion) error) error
	// ConflictedNotes calls fn, in row id order, for every row of t whose note has two
	// unsuperseded versions or more, with those versions (in any order). A store with an index
	// of leaves finds them without reading every note.
	ConflictedNotes(t *Table, fn func(id string, leaves []NoteVersion) error) error
}

// OutboxEntry is one local change waiting in the outbox, with its sequence number.
type OutboxEntry struct {
	Seq    uint64
	Change Change
}

// FutureEntry is a change kept for a newer schema, with its key.
type FutureEntry struct {
	Seq    uint64
	Change Change
}

// RejectedChange is a local change the server's rules refused, kept for a person to see (and
// redo properly: a refused change is not retried).
type RejectedChange struct {
	Batch   string
	Change  Change
	Code    string
	Message string
	At      time.Time
}
