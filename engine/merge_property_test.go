package engine_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"hearth/engine"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "TestMergeConvergence: run only this seed (also $HEARTH_SEED)")
	seedsFlag = flag.Int("seeds", 0, "TestMergeConvergence: number of seeds to run (default 200, 25 with -short)")
)

// TestMergeConvergence is the merge's property test. For each seed it simulates 3-5 replicas
// making local writes (inserts, updates, deletes, revivals, note edits, conflict resolutions,
// appends) through engine.Local while exchanging changes partially and in random orders, so
// that note edits carry realistic bases and real concurrency. Then it applies the full set of
// changes to fresh stores in several random orders, with duplicates, and checks that every
// store, and every simulated replica once it has everything, ends in the identical state.
//
// Rerun one seed with: go test ./engine -run TestMergeConvergence -seed=N (or HEARTH_SEED=N).
func TestMergeConvergence(t *testing.T) {
	seeds := []uint64{}
	if s, err := strconv.ParseUint(os.Getenv("HEARTH_SEED"), 10, 64); err == nil && *seedFlag == 0 {
		*seedFlag = s
	}
	if *seedFlag != 0 {
		seeds = append(seeds, *seedFlag)
	} else {
		n := *seedsFlag
		if n <= 0 {
			n = 200
			if testing.Short() {
				n = 25
			}
		}
		base := uint64(time.Now().UnixNano())
		t.Logf("seeds %d..%d (rerun one with -seed=N or HEARTH_SEED=N)", base, base+uint64(n)-1)
		for i := range n {
			seeds = append(seeds, base+uint64(i))
		}
	}
	var total simStats
	for _, seed := range seeds {
		st := runConvergence(t, seed)
		if t.Failed() {
			t.Fatalf("seed %d failed: rerun with go test ./engine -run TestMergeConvergence -seed=%d", seed, seed)
		}
		total.add(st)
	}
	t.Logf("%d seeds: %+v", len(seeds), total)
	// The generator must actually reach the interesting cases, or the property proves little.
	if len(seeds) >= 25 && (total.conflicts == 0 || total.revivals == 0 || total.deletes == 0 || total.resolves == 0) {
		t.Errorf("generator too tame: %+v", total)
	}
}

type simStats struct {
	changes, deletes, revivals, noteEdits, resolves, conflicts, appends int
}

func (s *simStats) add(o simStats) {
	s.changes += o.changes
	s.deletes += o.deletes
	s.revivals += o.revivals
	s.noteEdits += o.noteEdits
	s.resolves += o.resolves
	s.conflicts += o.conflicts
	s.appends += o.appends
}

type simSite struct {
	id    engine.SiteID
	store *memTx
	wall  *fakeWall
	clock *engine.Clock
	skew  int64
	seen  []bool // by index into the global change list
}

func runConvergence(t *testing.T, seed uint64) simStats {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var st simStats
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("seed %d: %s", seed, fmt.Sprintf(format, args...))
	}

	simMs := int64(1_700_000_000_000)
	sites := make([]*simSite, 3+r.IntN(3))
	for i := range sites {
		wall := newFakeWall(simMs)
		id := engine.SiteID(r.Uint64N(1<<20) + 1) // small ids: ties in HLC are common, sites decide
		for slices.ContainsFunc(sites[:i], func(s *simSite) bool { return s.id == id }) {
			id++
		}
		sites[i] = &simSite{id: id, store: newMemTx(), wall: wall, clock: engine.NewClock(wall.Now, 0), skew: r.Int64N(5) - 2}
	}

	var all []engine.Change
	deliver := func(s *simSite, i int) {
		t.Helper()
		ch := all[i]
		if _, err := engine.Apply(s.store, mergeSchema, &ch); err != nil {
			fail("site %v applying change %d (%+v): %v", s.id, i, ch, err)
		}
		_ = s.clock.Observe(ch.HLC)
		s.seen[i] = true
	}
	local := func(s *simSite, m engine.Mutation) {
		t.Helper()
		ch, err := engine.Local(s.store, mergeSchema, s.clock, s.id, m)
		if err != nil {
			fail("site %v: Local(%+v): %v", s.id, m, err)
			return
		}
		all = append(all, ch)
		for _, o := range sites {
			o.seen = append(o.seen, o == s)
		}
		st.changes++
	}
	liveRow := func(s *simSite, table, id string) (engine.Row, bool) {
		row, found := s.store.row(t, mergeSchema, table, id)
		return row, found && row.Live()
	}
	randText := func() any {
		if r.IntN(8) == 0 {
			return nil
		}
		return fmt.Sprintf("t%d", r.IntN(1000))
	}

	ops := 40 + r.IntN(80)
	for op := 0; op < ops && !t.Failed(); op++ {
		simMs += r.Int64N(3) // often the same millisecond on several sites
		s := sites[r.IntN(len(sites))]
		wallMs := simMs + s.skew
		if r.IntN(10) == 0 {
			wallMs -= 1 + r.Int64N(50) // the wall clock steps back
		}
		s.wall.Set(wallMs)

		switch k := r.IntN(20); {
		case k < 4: // sync: receive some of what this site has not seen, in random order
			var missing []int
			for i, seen := range s.seen {
				if !seen && r.IntN(3) > 0 {
					missing = append(missing, i)
				}
			}
			r.Shuffle(len(missing), func(a, b int) { missing[a], missing[b] = missing[b], missing[a] })
			for _, i := range missing {
				deliver(s, i)
			}
		case k < 8: // items: insert, update, delete, revive
			id := fmt.Sprintf("i%d", r.IntN(6))
			row, live := liveRow(s, "items", id)
			if live && r.IntN(4) == 0 {
				local(s, engine.Mutation{Table: "items", ID: id, Delete: true})
				st.deletes++
				continue
			}
			if !live && !row.Tomb.IsZero() {
				st.revivals++
			}
			vals := map[string]any{}
			for len(vals) == 0 {
				if r.IntN(2) == 0 {
					vals["a"] = randText()
				}
				if r.IntN(2) == 0 {
					vals["b"] = r.Int64N(100) - 50
				}
				if r.IntN(3) == 0 {
					vals["c"] = float64(r.IntN(1000)) / 8
				}
				if r.IntN(4) == 0 {
					vals["d"] = []byte{byte(r.IntN(256)), byte(r.IntN(256))}
				}
			}
			local(s, engine.Mutation{Table: "items", ID: id, Values: vals})
		case k < 16: // docs: note edits from realistic bases, conflicts, resolutions, deletes
			n := r.IntN(5)
			id, visit := fmt.Sprintf("d%d", n), fmt.Sprintf("v%d", n%3)
			row, live := liveRow(s, "docs", id)
			if live && row.Values[0] != nil && r.IntN(8) == 0 { // (a delete needs the scope too)
				local(s, engine.Mutation{Table: "docs", ID: id, Delete: true})
				st.deletes++
				continue
			}
			if !live && !row.Tomb.IsZero() {
				st.revivals++
			}
			m := engine.Mutation{Table: "docs", ID: id, Values: map[string]any{}}
			// A new row needs its scope. So does one this replica knows only from an update
			// that arrived before the insert (this simulation delivers out of causal order,
			// which the server's log does not). Repeating the scope is harmless.
			if (row.Values[0] == nil && row.Scope == "") || r.IntN(6) == 0 {
				m.Values["visit_id"] = visit
			}
			if r.IntN(4) == 0 {
				m.Values["title"] = randText()
			}
			if len(m.Values) == 0 || r.IntN(4) > 0 {
				m.Values["body"] = fmt.Sprintf("body %d by %v", op, s.id)
				st.noteEdits++
				if notes, _ := s.store.LoadNotes(mergeSchema.Table("docs"), id); len(engine.Conflicts(notes, row.Versions[2])) > 0 && r.IntN(2) == 0 {
					m.Resolve = true
					st.resolves++
				}
			}
			local(s, m)
		case k < 18: // visits, scoped by id
			id := fmt.Sprintf("v%d", r.IntN(3))
			if _, live := liveRow(s, "visits", id); live && r.IntN(5) == 0 {
				local(s, engine.Mutation{Table: "visits", ID: id, Delete: true})
				st.deletes++
				continue
			}
			local(s, engine.Mutation{Table: "visits", ID: id, Values: map[string]any{"status": randText()}})
		default: // append-only log
			local(s, engine.Mutation{Table: "log", ID: fmt.Sprintf("l%d", op), Values: map[string]any{
				"visit_id": fmt.Sprintf("v%d", r.IntN(3)), "msg": randText(), "at": simMs}})
			st.appends++
		}
	}
	if t.Failed() {
		return st
	}

	// The reference: every change in the order it was made.
	ref := newMemTx()
	for i := range all {
		ch := all[i]
		if _, err := engine.Apply(ref, mergeSchema, &ch); err != nil {
			fail("reference: change %d: %v", i, err)
			return st
		}
	}
	want := ref.dump()
	for _, k := range ref.notes {
		for _, n := range k {
			if !n.Superseded {
				st.conflicts++ // leaves, counted below as conflicts beyond the winner
			}
		}
	}
	st.conflicts -= len(ref.notes)

	// Idempotent: applying everything again changes nothing and reports nothing changed.
	for i := range all {
		ch := all[i]
		res, err := engine.Apply(ref, mergeSchema, &ch)
		if err != nil || res.Changed {
			fail("re-applying change %d (%+v): %+v, %v", i, ch, res, err)
		}
	}
	if got := ref.dump(); got != want {
		fail("re-applying everything changed the store: %s", diffDumps(want, got))
	}

	// Commutative: random orders with duplicates, and the reverse order, end in the same state.
	orders := [][]int{}
	rev := make([]int, len(all))
	for i := range rev {
		rev[i] = len(all) - 1 - i
	}
	orders = append(orders, rev)
	for range 4 {
		o := r.Perm(len(all))
		for range len(all)/8 + 1 {
			if len(all) > 0 {
				pos := r.IntN(len(o) + 1)
				o = slices.Insert(o, pos, r.IntN(len(all)))
			}
		}
		orders = append(orders, o)
	}
	for n, o := range orders {
		m := newMemTx()
		for _, i := range o {
			ch := all[i]
			if _, err := engine.Apply(m, mergeSchema, &ch); err != nil {
				fail("order %d: change %d (%+v): %v", n, i, ch, err)
				return st
			}
		}
		if got := m.dump(); got != want {
			fail("order %d (%d changes, duplicates included) ends elsewhere: %s", n, len(o), diffDumps(want, got))
			return st
		}
	}

	// The simulated replicas converge too once each has received everything.
	for _, s := range sites {
		var missing []int
		for i, seen := range s.seen {
			if !seen {
				missing = append(missing, i)
			}
		}
		r.Shuffle(len(missing), func(a, b int) { missing[a], missing[b] = missing[b], missing[a] })
		for _, i := range missing {
			deliver(s, i)
		}
		if got := s.store.dump(); got != want {
			fail("replica %v ends elsewhere: %s", s.id, diffDumps(want, got))
		}
	}
	checkInvariants(t, seed, ref)
	return st
}

// checkInvariants verifies a converged store's internal consistency.
func checkInvariants(t *testing.T, seed uint64, m *memTx) {
	t.Helper()
	docs := mergeSchema.Table("docs")
	for k, r := range m.rows {
		if !r.Live() {
			t.Errorf("seed %d: %s/%s stored as a row but not live", seed, k.table, k.id)
		}
		if k.table == "docs" || k.table == "log" {
			if r.Values[0] == nil {
				t.Errorf("seed %d: live %s/%s lost its scope column", seed, k.table, k.id)
			}
		}
	}
	for k, notes := range m.notes {
		tb := mergeSchema.Table(k.table)
		r, _, _ := m.LoadRow(tb, k.id)
		var leaf engine.Version
		for _, n := range notes {
			if !r.Tomb.Less(n.Version) {
				t.Errorf("seed %d: note version %v of %s survived tombstone %v", seed, n.Version, k.id, r.Tomb)
			}
			if !n.Superseded {
				leaf = n.Version
			}
		}
		if r.Versions[docs.NoteCol()] != leaf {
			t.Errorf("seed %d: %s note is at %v, greatest leaf %v", seed, k.id, r.Versions[docs.NoteCol()], leaf)
		}
	}
}
