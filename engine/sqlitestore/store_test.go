//go:build !js

package sqlitestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
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

// A scope column's own index is left out (and dropped from older files) when one of the
// schema's indexes starts with the column: the clinic's notes, chat and observations are
// looked up by visit through notes_visit, chat_visit and observations_visit, and every write
// would otherwise update both.
func TestRedundantScopeIndexDropped(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := sqlitestore.OpenStore(ctx, path, clinic.Schema, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	indexes := func() []string {
		t.Helper()
		rows, err := s.Reader().QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('visit_notes', 'chat_messages', 'observations') AND name NOT LIKE 'sqlite_%' ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			out = append(out, n)
		}
		return out
	}
	want := "[chat_visit notes_visit observations_visit]"
	if got := fmt.Sprint(indexes()); got != want {
		t.Fatalf("indexes %s, want %s", got, want)
	}
	// A file made before: the scope index is there; opening it again drops it.
	if err := s.DB.Update(ctx, func(tx *sqlitestore.Tx) error {
		_, err := tx.Tx.ExecContext(ctx, `CREATE INDEX "visit_notes_visit_id" ON "visit_notes"("visit_id")`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = sqlitestore.OpenStore(ctx, path, clinic.Schema, sqlitestore.Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := fmt.Sprint(indexes()); got != want {
		t.Fatalf("after reopening an older file: %s, want %s", got, want)
	}
	var plan string
	err = s.Reader().QueryRowContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM visit_notes WHERE visit_id = ?`, "v1").Scan(new(int), new(int), new(int), &plan)
	if err != nil || !strings.Contains(plan, "notes_visit") {
		t.Fatalf("a note lookup by visit: plan %q (%v), want notes_visit", plan, err)
	}
}
