package syncserver

import (
	"context"

	"hearth/engine"
)

// What the tests in package syncserver_test reach inside a Tenant for.

// SetTailBytes bounds t's in-memory tail.
func SetTailBytes(t *Tenant, n int) { t.tail.max = n }

// TailFirst is the sequence number of the oldest entry t's tail holds.
func TailFirst(t *Tenant) uint64 {
	t.tail.mu.Lock()
	defer t.tail.mu.Unlock()
	return t.tail.first
}

// PullTail is Pull served from the tail only (ok false: the tail cannot serve it).
func PullTail(t *Tenant, req PullRequest) (*engine.Changes, bool) {
	return t.tail.pull(req, t.horizon.Load())
}

// PullStore is Pull served from the store only.
func PullStore(ctx context.Context, t *Tenant, req PullRequest) (*engine.Changes, error) {
	return t.pullStore(ctx, req)
}
