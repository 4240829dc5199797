package syncserver_test

import (
	"context"
	"testing"

	"hearth/engine"
	"hearth/syncserver"
	"hearth/syncserver/sqlitetenant"
)

func syncserverPull(cursor uint64) syncserver.PullRequest {
	return syncserver.PullRequest{Cursor: cursor, Limit: 1 << 20, Scopes: []string{"*"}}
}

// openTenant opens a tenant on the SQLite file at path; the caller closes it.
func openTenant(tb testing.TB, path string, schema *engine.Schema) *syncserver.Tenant {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlitetenant.Open(ctx, path, schema, sqlitetenant.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tn, err := syncserver.OpenTenant(ctx, "t", st, nil)
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	return tn
}
