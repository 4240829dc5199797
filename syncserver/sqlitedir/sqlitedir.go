// Package sqlitedir keeps the sync server's tenant directory in a SQLite file
// (DATA/directory.db): one row per tenant with its region, node and settings. It implements
// syncserver.DirectoryStore.
package sqlitedir

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"hearth/engine"
	"hearth/engine/sqlitestore"
	"hearth/syncserver"
)

// Store is the directory file.
type Store struct {
	db *sqlitestore.DB
}

var _ syncserver.DirectoryStore = (*Store)(nil)

var emptySchema = engine.MustSchema()

// Path is where the directory lives under a server's data directory.
func Path(dataDir string) string { return filepath.Join(dataDir, "directory.db") }

// Open opens or creates the directory file at path.
func Open(ctx context.Context, path string) (*Store, error) {
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
	return &Store{db: db}, nil
}

// OpenDirectory opens the directory file at path as a syncserver.Directory.
func OpenDirectory(ctx context.Context, path string) (*syncserver.Directory, error) {
	st, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return syncserver.NewDirectory(st), nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Insert adds a tenant's record, or fails with syncserver.ErrTenantExists.
func (s *Store) Insert(ctx context.Context, t syncserver.TenantInfo) error {
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx *sqlitestore.Tx) error {
		res, err := tx.Exec(`INSERT INTO tenants (id, name, region, node, created_at, settings) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO NOTHING`, t.ID, t.Name, t.Region, t.Node, t.CreatedAt.UnixMilli(), string(settings))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return syncserver.ErrTenantExists
		}
		return nil
	})
}

// Get returns one tenant's record, or syncserver.ErrUnknownTenant.
func (s *Store) Get(ctx context.Context, id string) (syncserver.TenantInfo, error) {
	ts, err := s.list(ctx, `WHERE id = ?`, id)
	if err != nil {
		return syncserver.TenantInfo{}, err
	}
	if len(ts) == 0 {
		return syncserver.TenantInfo{}, syncserver.ErrUnknownTenant
	}
	return ts[0], nil
}

// List returns every tenant's record ordered by id.
func (s *Store) List(ctx context.Context) ([]syncserver.TenantInfo, error) {
	return s.list(ctx, `ORDER BY id`)
}

func (s *Store) list(ctx context.Context, where string, args ...any) ([]syncserver.TenantInfo, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT id, name, region, node, created_at, settings FROM tenants `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read tenant directory: %w", err)
	}
	defer rows.Close()
	var out []syncserver.TenantInfo
	for rows.Next() {
		var t syncserver.TenantInfo
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
