package main

import (
	"context"
	"fmt"

	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/sqlitetenant"
)

// storeSetting is the tenant directory setting that names the kind of store a tenant is kept
// in; a tenant without it is in the default, a SQLite file of its own.
const storeSetting = "store"

// storeOpener opens each tenant's store as its directory entry says. Only "sqlite" exists
// today; another kind (PostgreSQL, a store per region or node) is one more case here.
func storeOpener(cfg config) syncserver.TenantOpener {
	sqlite := sqlitetenant.Opener(cfg.Data, clinic.Schema, sqlitetenant.Options{MaxPages: cfg.MaxTenantPages})
	return func(ctx context.Context, info syncserver.TenantInfo) (syncserver.TenantStore, error) {
		switch kind := info.Settings[storeSetting]; kind {
		case "", "sqlite":
			return sqlite(ctx, info)
		default:
			return nil, fmt.Errorf("tenant %s: unknown store %q in its directory settings (this server keeps: sqlite)", info.ID, kind)
		}
	}
}
