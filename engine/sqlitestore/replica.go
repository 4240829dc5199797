//go:build !js

package sqlitestore

import (
	"context"
	"fmt"

	"hearth/engine"
)

// Replica is a client's replica in one SQLite file: engine.Replica's rules over a Store, with
// the file's DB at hand for the application's own SQL reads (Reader) and conflicts.
type Replica struct {
	*engine.Replica
	*DB
}

// ReplicaOptions tune a replica.
type ReplicaOptions struct {
	Options
	// Clock stamps local writes (default: wall time, engine.DefaultMaxDrift).
	Clock *engine.Clock
}

// RejectedChange is a local change the server's rules refused (see engine.RejectedChange).
type RejectedChange = engine.RejectedChange

// OpenReplica opens or creates a replica at path. A new replica gets a random site id.
func OpenReplica(ctx context.Context, path string, schema *engine.Schema, opts ReplicaOptions) (*Replica, error) {
	st, err := OpenStore(ctx, path, schema, opts.Options)
	if err != nil {
		return nil, err
	}
	r, err := engine.OpenReplica(ctx, st, engine.ReplicaOptions{Clock: opts.Clock})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open replica %s: %w", path, err)
	}
	return &Replica{Replica: r, DB: st.DB}, nil
}

// Close closes the replica's file.
func (r *Replica) Close() error { return r.Replica.Close() }

// Schema returns the replica's schema.
func (r *Replica) Schema() *engine.Schema { return r.Replica.Schema() }

// Get returns one live row, or engine.ErrNotFound.
func (r *Replica) Get(ctx context.Context, table, id string) (Record, error) {
	return r.DB.Get(ctx, table, id)
}

// Select returns the live rows q selects (see engine.RowReader).
func (r *Replica) Select(ctx context.Context, q engine.Query) ([]Record, error) {
	return r.DB.Select(ctx, q)
}

// Update runs fn in one write transaction of the file: for tests and tools that write around
// the replica's rules, such as a seeded history.
func (r *Replica) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return r.DB.Update(ctx, fn)
}
