package syncserver_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/syncserver/servertest"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "run the convergence test for this one seed only")
	seedCount = flag.Int("seeds", 0, "how many random seeds the convergence test runs (default 24, or $HEARTH_CONVERGENCE_SEEDS)")
)

// regressionSeeds are seeds that once found a bug; they run on every test run.
var regressionSeeds = []uint64{
	179142, // a note revived after a concurrent delete had lost its scope column
	735890, // the statement cache deadlocked two sessions of one tenant
}

// TestConvergence runs randomized histories: five replicas of one clinic insert, update and
// delete rows, edit visit notes concurrently and chat, each syncing or cut off from the server
// at random. After the partitions heal and everyone syncs, every replica and the server must
// hold identical state. The history is a pure function of the seed, so a failure reruns with
// `go test ./syncserver -run TestConvergence -seed N`.
func TestConvergence(t *testing.T) {
	var seeds []uint64
	switch {
	case *seedFlag != 0:
		seeds = []uint64{*seedFlag}
	default:
		n := 24
		if *seedCount > 0 {
			n = *seedCount
		} else if v, err := strconv.Atoi(os.Getenv("HEARTH_CONVERGENCE_SEEDS")); err == nil && v > 0 {
			n = v
		}
		seeds = append(seeds, regressionSeeds...)
		base := rand.Uint64() % 1_000_000
		for i := range n {
			seeds = append(seeds, base+uint64(i)+1)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			runHistory(t, seed, 5, 160)
		})
	}
}

type history struct {
	t       *testing.T
	rng     *rand.Rand
	srv     *servertest.Server
	reps    []*servertest.Replica
	cut     []bool
	ctx     context.Context
	written int
}

func runHistory(t *testing.T, seed uint64, replicas, steps int) {
	t.Logf("seed %d (rerun: go test ./syncserver -run TestConvergence -seed %d)", seed, seed)
	h := &history{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ctx: context.Background()}
	h.srv = servertest.Start(t, clinic.Schema, servertest.Options{})
	url := h.srv.URL("clinic-a")
	for i := range replicas {
		h.reps = append(h.reps, servertest.OpenReplica(t, clinic.Schema, url, h.srv.Token(t, "clinic-a", fmt.Sprintf("user-%d", i), "")))
		h.cut = append(h.cut, false)
	}
	for range steps {
		i := h.rng.IntN(len(h.reps))
		switch k := h.rng.IntN(100); {
		case k < 12:
			h.cut[i] = !h.cut[i]
		case k < 30:
			if !h.cut[i] {
				h.reps[i].Sync(t)
			}
		default:
			h.write(h.reps[i])
		}
	}
	for i := range h.cut {
		h.cut[i] = false
	}
	// Two rounds: the first pushes everything, the second brings everyone what others pushed.
	for range 2 {
		for _, r := range h.reps {
			r.Sync(t)
		}
	}
	tn, err := h.srv.Tenant(h.ctx, "clinic-a")
	if err != nil {
		t.Fatal(err)
	}
	want := servertest.StoreHash(t, tn)
	for i, r := range h.reps {
		if got := servertest.Hash(t, r); got != want {
			t.Errorf("replica %d hash %s, server %s", i, got[:12], want[:12])
		}
		if st, err := r.State(h.ctx); err != nil || st.Pending != 0 {
			t.Errorf("replica %d: %d changes still pending (err %v)", i, st.Pending, err)
		}
	}
	wantConf := conflictsOf(t, servertest.StoreDB(t, tn))
	var stats []string
	for _, tb := range clinic.Schema.Tables() {
		recs, err := servertest.StoreDB(t, tn).List(h.ctx, tb.Name, "", 100000)
		if err != nil {
			t.Fatal(err)
		}
		stats = append(stats, fmt.Sprintf("%s=%d", tb.Name, len(recs)))
	}
	cs, _ := servertest.StoreDB(t, tn).Conflicts(h.ctx, "")
	t.Logf("%d writes; converged on %v, %d note conflicts", h.written, stats, len(cs))
	for i, r := range h.reps {
		if got := conflictsOf(t, r.DB); got != wantConf {
			t.Errorf("replica %d conflicts\n%s\nserver\n%s", i, got, wantConf)
		}
	}
	if h.written == 0 {
		t.Fatal("the history wrote nothing")
	}
}

func conflictsOf(t *testing.T, db *sqlitestore.DB) string {
	t.Helper()
	cs, err := db.Conflicts(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(cs)
}

var words = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "CA", "NY", "TX", "waiting", "in_visit", "completed"}

func (h *history) pick(r *servertest.Replica, table string) (sqlitestore.Record, bool) {
	recs, err := r.List(h.ctx, table, "", 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(recs) == 0 {
		return nil, false
	}
	return recs[h.rng.IntN(len(recs))], true
}

func (h *history) word() string { return words[h.rng.IntN(len(words))] }

func (h *history) write(r *servertest.Replica) {
	var m engine.Mutation
	switch k := h.rng.IntN(100); {
	case k < 20:
		m = engine.Mutation{Table: "patients", ID: engine.NewID(), Values: map[string]any{
			"given_name": h.word(), "family_name": h.word(), "region": h.word(), "created_at": h.rng.Int64N(1e12)}}
	case k < 32:
		m = engine.Mutation{Table: "visits", ID: engine.NewID(), Values: map[string]any{"status": "waiting", "region": h.word(), "requested_at": h.rng.Int64N(1e12)}}
		if p, ok := h.pick(r, "patients"); ok {
			m.Values["patient_id"] = p["id"]
		}
	case k < 55:
		table := []string{"patients", "visits"}[h.rng.IntN(2)]
		rec, ok := h.pick(r, table)
		if !ok {
			return
		}
		col := map[string][]string{"patients": {"given_name", "family_name", "phone", "region"}, "visits": {"status", "reason", "provider_id"}}[table]
		m = engine.Mutation{Table: table, ID: rec["id"].(string), Values: map[string]any{}}
		for range 1 + h.rng.IntN(2) {
			m.Values[col[h.rng.IntN(len(col))]] = h.word()
		}
	case k < 63:
		table := []string{"patients", "visits", "visit_notes"}[h.rng.IntN(3)]
		rec, ok := h.pick(r, table)
		if !ok {
			return
		}
		m = engine.Mutation{Table: table, ID: rec["id"].(string), Delete: true}
	case k < 88:
		if note, ok := h.pick(r, "visit_notes"); ok && h.rng.IntN(4) > 0 {
			m = engine.Mutation{Table: "visit_notes", ID: note["id"].(string), Values: map[string]any{
				"body": fmt.Sprintf("%v; %s", note["body"], h.word()), "updated_at": h.rng.Int64N(1e12)}}
			m.Resolve = h.rng.IntN(5) == 0
			break
		}
		v, ok := h.pick(r, "visits")
		if !ok {
			return
		}
		m = engine.Mutation{Table: "visit_notes", ID: engine.NewID(), Values: map[string]any{"visit_id": v["id"], "body": h.word(), "author_id": "dr"}}
	default:
		v, ok := h.pick(r, "visits")
		if !ok {
			return
		}
		m = engine.Mutation{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{
			"visit_id": v["id"], "sender_id": "s", "body": h.word(), "sent_at": h.rng.Int64N(1e12)}}
	}
	if _, err := r.Write(h.ctx, m); err != nil {
		h.t.Fatalf("write %s/%s: %v", m.Table, m.ID, err)
	}
	h.written++
}
