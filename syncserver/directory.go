package syncserver

import (
	"context"
	"errors"
	"fmt"
	"time"
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

// DirectoryStore keeps the directory's records (sqlitedir keeps them in a SQLite file). It is
// safe for concurrent use.
type DirectoryStore interface {
	// Insert adds a tenant's record as given; a record with that id already is
	// ErrTenantExists, and changes nothing.
	Insert(ctx context.Context, t TenantInfo) error
	// Get returns the record of a tenant, or ErrUnknownTenant.
	Get(ctx context.Context, id string) (TenantInfo, error)
	// List returns every record, ordered by id.
	List(ctx context.Context) ([]TenantInfo, error)
	// Close closes the store.
	Close() error
}

// Directory records every tenant. It is the one place that knows tenants exist; a tenant's
// data lives in its own store, and moving a tenant is a matter of this record.
type Directory struct {
	store DirectoryStore
}

// NewDirectory returns the directory kept in store, which it then owns (Close closes it).
func NewDirectory(store DirectoryStore) *Directory { return &Directory{store: store} }

// Close closes the directory.
func (d *Directory) Close() error { return d.store.Close() }

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
	if err := d.store.Insert(ctx, t); err != nil {
		return fmt.Errorf("create tenant %s: %w", t.ID, err)
	}
	return nil
}

// Get returns one tenant, or ErrUnknownTenant.
func (d *Directory) Get(ctx context.Context, id string) (TenantInfo, error) {
	t, err := d.store.Get(ctx, id)
	if err != nil {
		return TenantInfo{}, fmt.Errorf("tenant %q: %w", id, err)
	}
	return t, nil
}

// List returns every tenant ordered by id.
func (d *Directory) List(ctx context.Context) ([]TenantInfo, error) {
	return d.store.List(ctx)
}
