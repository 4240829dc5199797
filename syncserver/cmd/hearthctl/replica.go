package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
	"hearth/syncserver"
)

// A replica directory holds replica.db (the SQLite replica) and config.json (where and as
// whom it syncs). config.json holds a bearer token, so it is written readable by its owner only.
const (
	replicaFile = "replica.db"
	configFile  = "config.json"
)

// defaultServer is the server a replica syncs with when neither a flag, the environment nor
// its config names one: hearth-server's own default address.
const defaultServer = "http://127.0.0.1:8686"

// replicaConfig is a replica directory's config.json.
type replicaConfig struct {
	Server string `json:"server,omitempty"`
	Tenant string `json:"tenant,omitempty"`
	Token  string `json:"token,omitempty"`
}

func loadConfig(dir string) (replicaConfig, error) {
	var cfg replicaConfig
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("read replica config: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("replica config %s: %w", filepath.Join(dir, configFile), err)
	}
	return cfg, nil
}

// saveConfig replaces config.json atomically, mode 0600: it holds a token.
func saveConfig(dir string, cfg replicaConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".config-*.json") // CreateTemp makes the file 0600
	if err != nil {
		return fmt.Errorf("save replica config: %w", err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save replica config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save replica config: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, configFile)); err != nil {
		return fmt.Errorf("save replica config: %w", err)
	}
	return nil
}

// openReplica opens the replica in dir. Commands that only read refuse a directory without
// one (a mistyped --dir should not silently create an empty replica); put and sync create it.
func openReplica(ctx context.Context, dir string, create bool) (*sqlitestore.Replica, error) {
	if dir == "" {
		return nil, usagef("--dir is required: the local replica directory")
	}
	path := filepath.Join(dir, replicaFile)
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create replica directory: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no replica in %s (no %s): create one with hearthctl put or hearthctl sync", dir, replicaFile)
		}
		return nil, fmt.Errorf("replica %s: %w", path, err)
	}
	rep, err := sqlitestore.OpenReplica(ctx, path, clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		return nil, fmt.Errorf("open replica: %w", err)
	}
	return rep, nil
}

// syncURL turns a server's base URL (http, https, ws or wss) into a tenant's sync endpoint.
func syncURL(server, tenant string) (string, error) {
	u, err := wstransport.SyncURL(server, tenant)
	if err != nil {
		return "", usagef("%v", err)
	}
	return u, nil
}

// checkTenantID refuses an id the server could never have.
func checkTenantID(id string) error {
	if id == "" {
		return usagef("--tenant is required")
	}
	if !syncserver.ValidTenantID(id) {
		return usagef("bad tenant id %q: use 1-63 lowercase letters, digits and dashes", id)
	}
	return nil
}
