package clinicseed_test

import (
	"context"
	"path/filepath"
	"testing"

	"hearth/engine/clinic"
	"hearth/engine/clinic/clinicseed"
	"hearth/engine/sqlitestore"
)

func TestHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	if err := clinicseed.History(ctx, path, clinicseed.Options{Patients: 100, Visits: 400, Waiting: 7, User: "carol"}); err != nil {
		t.Fatal(err)
	}
	rep, err := sqlitestore.OpenReplica(ctx, path, clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	for _, c := range []struct {
		q    string
		want int
	}{
		{`SELECT count(*) FROM patients`, 100},
		{`SELECT count(*) FROM visits`, 400},
		{`SELECT count(*) FROM visits WHERE status = 'waiting'`, 7},
		{`SELECT count(*) FROM visit_notes`, 100},
		{`SELECT count(*) FROM staff WHERE on_shift = 1`, 4},
		{`SELECT count(*) FROM regions`, 3},
	} {
		var n int
		if err := rep.Reader().QueryRow(c.q).Scan(&n); err != nil || n != c.want {
			t.Errorf("%s = %d (%v), want %d", c.q, n, err, c.want)
		}
	}
	st, err := rep.State(ctx)
	if err != nil || st.Pending != 0 || st.Cursor != 0 {
		t.Fatalf("state %+v %v: want nothing pending and the cursor at 0", st, err)
	}
}
