package sqlitetenant_test

import (
	"context"
	"path/filepath"
	"testing"

	"hearth/engine"
	"hearth/syncserver"
	"hearth/syncserver/sqlitetenant"
	"hearth/syncserver/tenanttest"
)

func TestConformance(t *testing.T) {
	tenanttest.Run(t, func(t *testing.T, schema *engine.Schema) func(t *testing.T) syncserver.TenantStore {
		path := filepath.Join(t.TempDir(), "tenant.db")
		return func(t *testing.T) syncserver.TenantStore {
			t.Helper()
			st, err := sqlitetenant.Open(context.Background(), path, schema, sqlitetenant.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	})
}
