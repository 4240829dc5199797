package clinic_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/memstore"
	"hearth/engine/sqlitestore"
)

// replica is what the state is loaded from in these tests: any store that takes writes.
type replica interface {
	engine.RowReader
	Write(ctx context.Context, muts ...engine.Mutation) ([]engine.Change, error)
}

// TestLoadAndEstimate loads the same clinic from a SQLite replica and from memory: the rules
// read through engine.RowReader, so both must give the same state.
func TestLoadAndEstimate(t *testing.T) {
	ctx := context.Background()
	rs, err := sqlitestore.OpenReplica(ctx, filepath.Join(t.TempDir(), "r.db"), clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	rm, err := engine.OpenReplica(ctx, memstore.New(clinic.Schema), engine.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]replica{"sqlite": rs, "memory": rm} {
		t.Run(name, func(t *testing.T) { testLoadAndEstimate(t, r) })
	}
}

func testLoadAndEstimate(t *testing.T, r replica) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	visit := func(id, region, status string, requested time.Duration, extra map[string]any) engine.Mutation {
		v := map[string]any{"patient_id": "p-" + id, "region": region, "status": status, "requested_at": ms(requested)}
		for k, x := range extra {
			v[k] = x
		}
		return engine.Mutation{Table: "visits", ID: id, Values: v}
	}
	if _, err := r.Write(ctx,
		engine.Mutation{Table: "regions", ID: "CA", Values: map[string]any{"name": "California", "mode": clinic.ModeOpen}},
		engine.Mutation{Table: "regions", ID: "TX", Values: map[string]any{"name": "Texas", "mode": clinic.ModeOpen}},
		engine.Mutation{Table: "staff", ID: "dr-a", Values: map[string]any{"role": clinic.RoleProvider, "regions": "CA", "on_shift": int64(1)}},
		engine.Mutation{Table: "staff", ID: "dr-b", Values: map[string]any{"role": clinic.RoleProvider, "regions": "CA,TX", "on_shift": int64(0)}},
		engine.Mutation{Table: "staff", ID: "desk", Values: map[string]any{"role": clinic.RoleSupport, "on_shift": int64(1)}},
		// Two finished CA visits of 10 and 20 minutes: a typical CA visit takes 15.
		visit("done-1", "CA", clinic.StatusCompleted, -2*time.Hour, map[string]any{"started_at": ms(-2 * time.Hour), "ended_at": ms(-110 * time.Minute)}),
		visit("done-2", "CA", clinic.StatusCompleted, -time.Hour, map[string]any{"started_at": ms(-time.Hour), "ended_at": ms(-40 * time.Minute)}),
		// dr-a is 5 minutes into a visit: free in 10.
		visit("now", "CA", clinic.StatusInVisit, -20*time.Minute, map[string]any{"provider_id": "dr-a", "started_at": ms(-5 * time.Minute)}),
		visit("w1", "CA", clinic.StatusWaiting, -15*time.Minute, nil),
		visit("w2", "CA", clinic.StatusWaiting, -10*time.Minute, nil),
		visit("t1", "TX", clinic.StatusWaiting, -5*time.Minute, nil),
	); err != nil {
		t.Fatal(err)
	}
	st, err := clinic.LoadState(context.Background(), r, now, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Regions) != 2 || st.WaitingIn("CA") != 2 || st.WaitingIn("TX") != 1 || st.LicensedOnShift("CA") != 1 || st.LicensedOnShift("TX") != 0 {
		t.Fatalf("state: %d regions, waiting CA %d TX %d, on shift CA %d TX %d", len(st.Regions), st.WaitingIn("CA"), st.WaitingIn("TX"), st.LicensedOnShift("CA"), st.LicensedOnShift("TX"))
	}
	if st.Typical["CA"] != 15*time.Minute || st.Typical["TX"] != 30*time.Minute {
		t.Fatalf("typical visit: %v", st.Typical)
	}
	est := st.Estimates(now, 30*time.Minute)
	want := map[string]clinic.Estimate{
		"w1": {Position: 1, Wait: 10 * time.Minute, Known: true},
		"w2": {Position: 2, Wait: 25 * time.Minute, Known: true},
	}
	for id, w := range want {
		if e := est[id]; e.Position != w.Position || e.Wait != w.Wait || !e.Known {
			t.Errorf("%s: %+v, want %+v", id, e, w)
		}
	}
	if e := est["t1"]; e.Known || e.Notice == "" || e.Position != 1 {
		t.Errorf("TX patient with nobody on shift: %+v, want unknown with a notice", e)
	}
}
