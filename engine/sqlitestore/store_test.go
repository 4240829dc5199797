//go:build !js

package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"hearth/engine"
	"hearth/engine/sqlitestore"
	"hearth/engine/storetest"
)

// sqliteBackend opens stores in files of a test's temporary directory; reopening opens the
// same file, as a restarted process does.
var sqliteBackend = storetest.Backend{New: func(t testing.TB, schema *engine.Schema) (engine.Store, storetest.Reopen) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "replica.db")
	open := func(schema *engine.Schema) (engine.Store, error) {
		return sqlitestore.OpenStore(context.Background(), path, schema, sqlitestore.Options{})
	}
	s, err := open(schema)
	if err != nil {
		t.Fatal(err)
	}
	return s, open
}}

func TestConformance(t *testing.T) { storetest.Run(t, sqliteBackend) }
