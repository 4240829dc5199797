package sqlitestore_test

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
)

func openReplica(t *testing.T, path string, schema *engine.Schema, clk *engine.Clock) *sqlitestore.Replica {
	t.Helper()
	r, err := sqlitestore.OpenReplica(context.Background(), path, schema, sqlitestore.ReplicaOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func write(t *testing.T, r *sqlitestore.Replica, muts ...engine.Mutation) []engine.Change {
	t.Helper()
	chs, err := r.Write(context.Background(), muts...)
	if err != nil {
		t.Fatal(err)
	}
	return chs
}

func patient(name string) engine.Mutation {
	return engine.Mutation{Table: "patients", ID: engine.NewID(), Values: map[string]any{"given_name": name, "created_at": 1}}
}

func TestWriteGetAndOutbox(t *testing.T) {
	ctx := context.Background()
	r := openReplica(t, filepath.Join(t.TempDir(), "r.db"), clinic.Schema, nil)
	m := patient("Ada")
	chs := write(t, r, m)
	if len(chs) != 1 || !chs[0].Create || chs[0].Scope != engine.ClinicScope || chs[0].Site != r.SiteID() {
		t.Fatalf("change %+v", chs)
	}
	rec, err := r.Get(ctx, "patients", m.ID)
	if err != nil || rec["given_name"] != "Ada" || rec["created_at"] != int64(1) || rec["phone"] != nil {
		t.Fatalf("get: %v %v", rec, err)
	}
	if _, err := r.Get(ctx, "patients", engine.NewID()); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("missing row: %v", err)
	}
	bad := []engine.Mutation{
		{Table: "nope", ID: engine.NewID(), Values: map[string]any{"a": 1}},
		{Table: "patients", ID: "bad id!", Values: map[string]any{"given_name": "x"}},
		{Table: "patients", ID: engine.NewID(), Values: map[string]any{"shoe_size": 1}},
		{Table: "patients", ID: engine.NewID(), Values: map[string]any{"created_at": "yesterday"}},
		{Table: "patients", ID: engine.NewID(), Delete: true},
	}
	for _, b := range bad {
		if _, err := r.Write(ctx, patient("ok"), b); err == nil {
			t.Errorf("write %+v succeeded", b)
		}
	}
	if st, _ := r.State(ctx); st.Pending != 1 {
		t.Fatalf("a failed write left %d changes in the outbox, want only the first write's 1", st.Pending)
	}
}

func TestBatchIsStableUntilAcked(t *testing.T) {
	ctx := context.Background()
	r := openReplica(t, filepath.Join(t.TempDir(), "r.db"), clinic.Schema, nil)
	for range 5 {
		write(t, r, patient("x"))
	}
	first, err := r.NextBatch(ctx, 3)
	if err != nil || len(first.Changes) != 3 {
		t.Fatalf("batch %+v %v", first, err)
	}
	write(t, r, patient("later"))
	again, _ := r.NextBatch(ctx, 100)
	if again.Batch != first.Batch || len(again.Changes) != 3 {
		t.Fatalf("unacknowledged batch changed: %s/%d, was %s/3", again.Batch, len(again.Changes), first.Batch)
	}
	if err := r.AckBatch(ctx, &engine.Ack{Batch: first.Batch, Seqs: []uint64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	next, _ := r.NextBatch(ctx, 100)
	if next.Batch == first.Batch || len(next.Changes) != 3 {
		t.Fatalf("after ack: %s with %d changes", next.Batch, len(next.Changes))
	}
	// Replaying the outbox (re-sync) re-batches, under a key never used before.
	if err := r.ReplayOutbox(ctx, 0); err != nil {
		t.Fatal(err)
	}
	re, _ := r.NextBatch(ctx, 100)
	if re.Batch == next.Batch || re.Batch == first.Batch || len(re.Changes) != 3 {
		t.Fatalf("re-batched as %s (%d changes); earlier keys %s, %s", re.Batch, len(re.Changes), first.Batch, next.Batch)
	}
}

func TestReopenKeepsSiteAndClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	future := time.Now().Add(time.Hour)
	r := openReplica(t, path, clinic.Schema, engine.NewClock(func() time.Time { return future }, 0))
	site := r.SiteID()
	last := write(t, r, patient("x"))[0].HLC
	r.Close()
	// The wall clock went back an hour while the app was closed: new writes still order after.
	r2 := openReplica(t, path, clinic.Schema, nil)
	if r2.SiteID() != site {
		t.Fatalf("site id changed from %s to %s", site, r2.SiteID())
	}
	if h := write(t, r2, patient("y"))[0].HLC; h <= last {
		t.Fatalf("write after reopen has HLC %s, not after %s", h, last)
	}
}

func TestOpenRefusesNewerStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	v2 := engine.MustSchema(append(append([]engine.Migration(nil), clinic.Migrations...), engine.Migration{Version: len(clinic.Migrations) + 1, Steps: []engine.Step{
		{AddColumn: &engine.AddColumn{Table: "patients", Column: engine.Column{Name: "pronouns", Type: engine.Text}}}}})...)
	r := openReplica(t, path, v2, nil)
	r.Close()
	_, err := sqlitestore.OpenReplica(context.Background(), path, clinic.Schema, sqlitestore.ReplicaOptions{})
	if !errors.Is(err, engine.ErrSchemaVersion) {
		t.Fatalf("opening a schema-2 store with schema 1: %v", err)
	}
}

// A note deleted on one replica and edited later on another comes back with its visit: the
// scope column survives the delete, identically whichever order the two arrive in.
func TestRevivedRowKeepsItsScope(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openReplica(t, filepath.Join(dir, "a.db"), clinic.Schema, nil)
	visit, note := engine.NewID(), engine.NewID()
	created := write(t, a, engine.Mutation{Table: "visit_notes", ID: note, Values: map[string]any{"visit_id": visit, "body": "v1"}})
	del := write(t, a, engine.Mutation{Table: "visit_notes", ID: note, Delete: true})
	edit := created[0]
	edit.HLC, edit.Site, edit.Create = del[0].HLC+1, a.SiteID()+1, false
	edit.Cols, edit.Vals, edit.Bases = []string{"body"}, []any{"v2"}, []engine.Version{created[0].Version()}
	hashes := map[string]bool{}
	for i, order := range [][]engine.Change{{created[0], del[0], edit}, {created[0], edit, del[0]}, {edit, del[0], created[0]}} {
		r := openReplica(t, filepath.Join(dir, string(rune('b'+i))+".db"), clinic.Schema, nil)
		if err := r.ApplyRemote(ctx, &engine.Changes{Changes: order, Cursor: 3}); err != nil {
			t.Fatal(err)
		}
		rec, err := r.Get(ctx, "visit_notes", note)
		if err != nil || rec["visit_id"] != visit || rec["body"] != "v2" {
			t.Fatalf("order %d: %v %v", i, rec, err)
		}
		h, _ := r.Hash(ctx)
		hashes[h] = true
		// And the revived row can be edited again locally: its scope is known.
		if _, err := r.Write(ctx, engine.Mutation{Table: "visit_notes", ID: note, Values: map[string]any{"body": "v3"}}); err != nil {
			t.Fatalf("order %d: edit revived note: %v", i, err)
		}
	}
	if len(hashes) != 1 {
		t.Fatalf("orders ended in %d different states", len(hashes))
	}
}

func TestRemoteChangesAreAnnouncedAfterCommit(t *testing.T) {
	ctx := context.Background()
	src := openReplica(t, filepath.Join(t.TempDir(), "src.db"), clinic.Schema, nil)
	dst := openReplica(t, filepath.Join(t.TempDir(), "dst.db"), clinic.Schema, nil)
	chs := write(t, src, patient("Ana"), patient("Ben"))
	var seen []string
	dst.OnRemoteChanges(func(page []engine.Change) {
		for _, ch := range page {
			// Committed already: the row is readable from the pool when the callback runs.
			if _, err := dst.Get(ctx, ch.Table, ch.ID); err != nil {
				t.Errorf("announced %s/%s before it was readable: %v", ch.Table, ch.ID, err)
			}
			seen = append(seen, ch.ID)
		}
	})
	if err := dst.ApplyRemote(ctx, &engine.Changes{Cursor: 1}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 0 {
		t.Fatalf("an empty page announced %v", seen)
	}
	if err := dst.ApplyRemote(ctx, &engine.Changes{Changes: chs, Cursor: 3}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != chs[0].ID || seen[1] != chs[1].ID {
		t.Fatalf("announced %v, want both changes in order", seen)
	}
}

// Files written before the compact version form keep 16 bytes per version; they still read,
// merge and hash as the same history written now.
func TestFixedVersionFormStillReads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openReplica(t, filepath.Join(dir, "a.db"), clinic.Schema, nil)
	b := openReplica(t, filepath.Join(dir, "b.db"), clinic.Schema, nil)
	m := patient("Ada")
	created := write(t, a, m)
	if err := b.ApplyRemote(ctx, &engine.Changes{Changes: created, Cursor: 1}); err != nil {
		t.Fatal(err)
	}
	// b's row gets its versions in the fixed form: the tombstone, then one version a column.
	tb := clinic.Schema.Table("patients")
	fixed := make([]byte, 16*(1+len(tb.Columns)))
	for i, c := range tb.Columns {
		for _, name := range created[0].Cols {
			if name == c.Name {
				binary.LittleEndian.PutUint64(fixed[16*(i+1):], uint64(created[0].HLC))
				binary.LittleEndian.PutUint64(fixed[16*(i+1)+8:], uint64(created[0].Site))
			}
		}
	}
	if err := b.Update(ctx, func(tx *sqlitestore.Tx) error {
		_, err := tx.Exec(`UPDATE patients SET _v = ? WHERE id = ?`, fixed, m.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	edit := write(t, a, engine.Mutation{Table: "patients", ID: m.ID, Values: map[string]any{"family_name": "Lovelace"}})
	if err := b.ApplyRemote(ctx, &engine.Changes{Changes: edit, Cursor: 2}); err != nil {
		t.Fatal(err)
	}
	rec, err := b.Get(ctx, "patients", m.ID)
	if err != nil || rec["given_name"] != "Ada" || rec["family_name"] != "Lovelace" {
		t.Fatalf("merged over the fixed form: %v, %v", rec, err)
	}
	ha, _ := a.Hash(ctx)
	hb, _ := b.Hash(ctx)
	if ha != hb {
		t.Fatalf("hash %s over the fixed form, %s over the compact one", hb, ha)
	}
}
