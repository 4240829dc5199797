package syncserver

import (
	"context"
	"fmt"

	"hearth/engine"
	"hearth/engine/sqlitestore"
	"hearth/syncserver/token"

	"github.com/vmihailenco/msgpack/v5"
)

// RequestHandler runs one kind of request (see engine.Request) inside the tenant's write
// transaction, so that what it reads cannot change before what it writes commits: this is how
// exclusive acts, such as claiming a patient, are arbitrated. It must check that the caller may
// do what it asks (rc.Claims): its writes are made by the server and bypass token scopes.
// Returning an *engine.Error refuses the request with that code and writes nothing.
type RequestHandler func(ctx context.Context, rc *RequestContext) (result any, err error)

// RequestContext is what a handler works with.
type RequestContext struct {
	Claims token.Claims
	Args   msgpack.RawMessage

	tx      *sqlitestore.Tx
	tenant  *Tenant
	clock   *engine.Clock
	changes []engine.Change
}

// Decode decodes the request's arguments into v.
func (rc *RequestContext) Decode(v any) error {
	if err := msgpack.Unmarshal(rc.Args, v); err != nil {
		return &engine.Error{Code: engine.CodeBadRequest, Message: fmt.Sprintf("arguments: %v", err)}
	}
	return nil
}

// Get reads a live row as it stands inside the transaction.
func (rc *RequestContext) Get(table, id string) (sqlitestore.Record, bool, error) {
	return rc.tx.Row(table, id)
}

// Write makes a change as the server: merged now, logged and fanned out when the request
// commits, like any replica's change.
func (rc *RequestContext) Write(m engine.Mutation) error {
	ch, err := rc.tx.Local(rc.clock, rc.tenant.site, m)
	if err != nil {
		return err
	}
	rc.changes = append(rc.changes, ch)
	return nil
}

// Run executes a request handler in one write transaction and logs its writes; sessions are
// woken after the commit.
func (t *Tenant) Run(ctx context.Context, clock *engine.Clock, claims token.Claims, args msgpack.RawMessage, h RequestHandler) (any, error) {
	var result any
	var logged bool
	err := t.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		rc := &RequestContext{Claims: claims, Args: args, tx: tx, tenant: t, clock: clock}
		res, err := h(ctx, rc)
		if err != nil {
			return err
		}
		result = res
		entries := make([]logEntry, 0, len(rc.changes))
		for i := range rc.changes {
			b, err := engine.EncodeChange(&rc.changes[i])
			if err != nil {
				return err
			}
			entries = append(entries, logEntry{index: i, ch: &rc.changes[i], encoded: b})
		}
		seqs := make([]uint64, len(entries))
		if err := appendLog(tx, entries, seqs); err != nil {
			return err
		}
		for _, e := range entries {
			if e.ch.Delete {
				if err := tx.SetTombstoneSeq(e.ch, seqs[e.index]); err != nil {
					return err
				}
			}
		}
		logged = len(entries) > 0
		return nil
	})
	if logged {
		t.hub.notify()
	}
	return result, err
}
