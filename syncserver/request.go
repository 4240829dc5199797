package syncserver

import (
	"context"
	"fmt"

	"hearth/engine"
	"hearth/syncserver/token"

	"github.com/vmihailenco/msgpack/v5"
)

// RequestHandler runs one kind of request (see engine.Request) inside the tenant's write
// transaction, so that what it reads cannot change before what it writes commits: this is how
// exclusive acts, such as claiming a patient, are arbitrated. It must check that the caller may
// do what it asks (rc.Claims): its writes are made by the server and bypass token scopes.
// Returning an *engine.Error refuses the request with that code and writes nothing.
type RequestHandler func(ctx context.Context, rc *RequestContext) (result any, err error)

// RequestContext is what a handler works with. Its reads (Get, Select: engine.RowReader) see
// the rows as they stand in the request's transaction, its own writes included.
type RequestContext struct {
	Claims token.Claims
	Site   engine.SiteID // the calling replica
	Args   msgpack.RawMessage

	tx      StoreTx
	tenant  *Tenant
	changes []engine.Change
}

// Decode decodes the request's arguments into v.
func (rc *RequestContext) Decode(v any) error {
	if err := msgpack.Unmarshal(rc.Args, v); err != nil {
		return &engine.Error{Code: engine.CodeBadRequest, Message: fmt.Sprintf("arguments: %v", err)}
	}
	return nil
}

// Tenant returns the tenant the request runs in.
func (rc *RequestContext) Tenant() *Tenant { return rc.tenant }

var _ engine.RowReader = (*RequestContext)(nil)

// Get reads a live row as it stands inside the transaction, or engine.ErrNotFound.
func (rc *RequestContext) Get(ctx context.Context, table, id string) (engine.Record, error) {
	return rc.tx.Get(ctx, table, id)
}

// Select reads the live rows q selects as they stand inside the transaction.
func (rc *RequestContext) Select(ctx context.Context, q engine.Query) ([]engine.Record, error) {
	return rc.tx.Select(ctx, q)
}

// Write makes a change as the server: merged now, logged and fanned out when the request
// commits, like any replica's change.
func (rc *RequestContext) Write(m engine.Mutation) error {
	ch, err := rc.tx.Local(rc.tenant.clock, rc.tenant.site, m)
	if err != nil {
		return err
	}
	rc.changes = append(rc.changes, ch)
	return nil
}

// Run executes a request handler in one write transaction and logs its writes; sessions are
// woken after the commit.
func (t *Tenant) Run(ctx context.Context, from Origin, args msgpack.RawMessage, h RequestHandler) (any, error) {
	var result any
	var logged []*engine.Change
	var tailed []logEntry
	err := t.store.Update(ctx, func(tx StoreTx) error {
		logged, tailed = nil, nil
		rc := &RequestContext{Claims: from.Claims, Site: from.Site, Args: args, tx: tx, tenant: t}
		res, err := h(ctx, rc)
		if err != nil {
			return err
		}
		result = res
		entries := make([]logEntry, len(rc.changes))
		for i := range rc.changes {
			entries[i] = logEntry{index: i, ch: &rc.changes[i]}
		}
		if err := t.record(ctx, tx, entries, make([]uint64, len(entries))); err != nil {
			return err
		}
		for _, e := range entries {
			logged = append(logged, e.ch)
		}
		tailed = entries
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.committed(tailed, logged)
	return result, nil
}
