package syncserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hearth/engine"
	"hearth/engine/sqlitestore"
)

// Sentinel errors of the tenant directory.
var (
	// ErrUnknownTenant means no tenant has that id: create it with `hearthctl tenant create`.
	ErrUnknownTenant = errors.New("unknown tenant")
	// ErrTenantExists means a tenant with that id already exists.
	ErrTenantExists = errors.New("tenant already exists")
)

// TenantInfo is a tenant's entry in the directory: where it is served and how it is set up.
type TenantInfo struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Region    string            `json:"region"` // where its data lives, e.g. "local", "us-west"
	Node      string            `json:"node"`   // which server node serves it
	CreatedAt time.Time         `json:"created_at"`
	Settings  map[string]string `json:"settings,omitempty"` // per-tenant flags, changed without a deploy
}

// Directory records every tenant. It is the one place that knows tenants exist; a tenant's
// data lives in its own file, and moving a tenant is a matter of this record.
type Directory struct {
	db *sqlitestore.DB
}

var emptySchema = engine.MustSchema()

// OpenDirectory opens or creates the directory file at path.
func OpenDirectory(ctx context.Context, path string) (*Directory, error) {
	db, err := sqlitestore.Open(ctx, path, emptySchema, sqlitestore.Options{ReadConns: 2})
	if err != nil {
		return nil, fmt.Errorf("open tenant directory: %w", err)
	}
	err = db.Update(ctx, func(tx *sqlitestore.Tx) error {
		_, err := tx.Tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tenants (
			id TEXT PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL, node TEXT NOT NULL,
			created_at INTEGER NOT NULL, settings TEXT NOT NULL DEFAULT '{}')`)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open tenant directory: %w", err)
	}
	return &Directory{db: db}, nil
}

// Close closes the directory.
func (d *Directory) Close() error { return d.db.Close() }

// ValidTenantID reports whether id can name a tenant: 1-63 of [a-z0-9-], starting with a letter
// or digit. Tenant ids become file names.
func ValidTenantID(id string) bool {
	if len(id) == 0 || len(id) > 63 || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Create adds a tenant.
func (d *Directory) Create(ctx context.Context, t TenantInfo) error {
	if !ValidTenantID(t.ID) {
		return fmt.Errorf("create tenant %q: ids are 1-63 lowercase letters, digits and dashes", t.ID)
	}
	if t.Name == "" {
		t.Name = t.ID
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return err
	}
	return d.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		res, err := tx.Exec(`INSERT INTO tenants (id, name, region, node, created_at, settings) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO NOTHING`, t.ID, t.Name, t.Region, t.Node, t.CreatedAt.UnixMilli(), string(settings))
		if err != nil {
			return fmt.Errorf("create tenant %s: %w", t.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("create tenant %s: %w", t.ID, ErrTenantExists)
		}
		return nil
	})
}

// Get returns one tenant, or ErrUnknownTenant.
func (d *Directory) Get(ctx context.Context, id string) (TenantInfo, error) {
	ts, err := d.list(ctx, `WHERE id = ?`, id)
	if err != nil {
		return TenantInfo{}, err
	}
	if len(ts) == 0 {
		return TenantInfo{}, fmt.Errorf("tenant %q: %w", id, ErrUnknownTenant)
	}
	return ts[0], nil
}

// List returns every tenant ordered by id.
func (d *Directory) List(ctx context.Context) ([]TenantInfo, error) {
	return d.list(ctx, `ORDER BY id`)
}

func (d *Directory) list(ctx context.Context, where string, args ...any) ([]TenantInfo, error) {
	rows, err := d.db.Reader().QueryContext(ctx, `SELECT id, name, region, node, created_at, settings FROM tenants `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read tenant directory: %w", err)
	}
	defer rows.Close()
	var out []TenantInfo
	for rows.Next() {
		var t TenantInfo
		var ms int64
		var settings sql.NullString
		if err := rows.Scan(&t.ID, &t.Name, &t.Region, &t.Node, &ms, &settings); err != nil {
			return nil, err
		}
		t.CreatedAt = time.UnixMilli(ms).UTC()
		if err := json.Unmarshal([]byte(settings.String), &t.Settings); err != nil {
			return nil, fmt.Errorf("tenant %s settings: %w", t.ID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
