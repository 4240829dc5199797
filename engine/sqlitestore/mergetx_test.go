//go:build !js

package sqlitestore

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
)

// TestPrefetchServesWhatLoadReads checks that the rows a batch's prefetch caches are the rows
// loading them one at a time reads: a live row, a row known only by its tombstone, a note with
// its versions, an id the store does not know, and an id named twice.
func TestPrefetchServesWhatLoadReads(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"), clinic.Schema, Options{CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk, site := engine.NewClock(nil, 0), engine.NewSiteID()
	live, dead, visit, note, unknown := engine.NewID(), engine.NewID(), engine.NewID(), engine.NewID(), engine.NewID()
	muts := []engine.Mutation{
		{Table: "patients", ID: live, Values: map[string]any{"given_name": "Ada", "created_at": 1}},
		{Table: "patients", ID: dead, Values: map[string]any{"given_name": "Bo", "created_at": 2}},
		{Table: "visits", ID: visit, Values: map[string]any{"patient_id": live, "status": "requested"}},
		{Table: "visit_notes", ID: note, Values: map[string]any{"visit_id": visit, "body": "first"}},
	}
	err = db.Update(ctx, func(tx *Tx) error {
		for _, m := range muts {
			if _, err := tx.Local(clk, site, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx *Tx) error {
		_, err := tx.Local(clk, site, engine.Mutation{Table: "patients", ID: dead, Delete: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	keys := []engine.Change{{Table: "patients", ID: live}, {Table: "patients", ID: dead}, {Table: "patients", ID: unknown},
		{Table: "patients", ID: live}, {Table: "visits", ID: visit}, {Table: "visit_notes", ID: note}, {Table: "nope", ID: live}}
	type loaded struct {
		row   engine.Row
		found bool
		notes []engine.NoteVersion
	}
	load := func(prefetch bool) map[string]loaded {
		t.Helper()
		out := map[string]loaded{}
		err := db.Update(ctx, func(tx *Tx) error {
			if prefetch {
				if err := tx.Prefetch(keys); err != nil {
					return err
				}
			}
			m := mergeTx{tx}
			for _, k := range keys {
				tb := clinic.Schema.Table(k.Table)
				if tb == nil {
					continue
				}
				if prefetch {
					if _, cached := tx.rows[rowKey{tb, k.ID}]; !cached {
						t.Errorf("prefetch left %s/%s out of the cache", k.Table, k.ID)
					}
				}
				r, found, err := m.LoadRow(tb, k.ID)
				if err != nil {
					return err
				}
				l := loaded{row: r, found: found}
				if tb.NoteCol() >= 0 {
					if l.notes, err = m.LoadNotes(tb, k.ID); err != nil {
						return err
					}
				}
				out[k.Table+"/"+k.ID] = l
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	one, batch := load(false), load(true)
	if !reflect.DeepEqual(one, batch) {
		t.Fatalf("prefetched rows differ from rows loaded one at a time:\n%+v\n%+v", batch, one)
	}
	if l := one["patients/"+unknown]; l.found {
		t.Errorf("an unknown id was found: %+v", l)
	}
	if l := one["patients/"+dead]; !l.found || l.row.Live() || l.row.Tomb.IsZero() {
		t.Errorf("the deleted row did not load as its tombstone: %+v", l)
	}
	if l := one["visit_notes/"+note]; len(l.notes) != 1 || l.row.Values[tbCol(t, "visit_notes", "body")] != "first" {
		t.Errorf("the note did not load with its version: %+v", l)
	}
}

func tbCol(t *testing.T, table, col string) int {
	t.Helper()
	i := clinic.Schema.Table(table).Col(col)
	if i < 0 {
		t.Fatalf("no column %s.%s", table, col)
	}
	return i
}
