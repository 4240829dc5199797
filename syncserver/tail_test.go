package syncserver_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
)

// TestTailServesWhatTheStoreWould compares pages served from the in-memory tail with pages
// read from the store, for random cursors, limits, scopes and excluded sites, over a log
// written by concurrent commits; and checks that a small tail falls back to the store.
func TestTailServesWhatTheStoreWould(t *testing.T) {
	ctx := context.Background()
	tn := openTenant(t, filepath.Join(t.TempDir(), "t.db"), clinic.Schema)
	defer tn.Close()
	syncserver.SetTailBytes(tn, 40<<10) // small: the oldest entries leave the tail during the test
	visits := []string{engine.NewID(), engine.NewID(), engine.NewID()}
	sites := []engine.SiteID{engine.NewSiteID(), engine.NewSiteID(), engine.NewSiteID()}
	var wg sync.WaitGroup
	for w, site := range sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			clk := engine.NewClock(nil, 0)
			for b := range 40 {
				var chs []engine.Change
				for range 1 + rng.IntN(6) {
					v := visits[rng.IntN(len(visits))]
					if rng.IntN(2) == 0 {
						chs = append(chs, engine.Change{Table: "patients", ID: engine.NewID(), Scope: engine.ClinicScope, HLC: clk.Now(), Site: site, Create: true,
							Cols: []string{"given_name"}, Vals: []any{fmt.Sprint("p", b)}})
					} else {
						chs = append(chs, engine.Change{Table: "chat_messages", ID: engine.NewID(), Scope: "visit:" + v, HLC: clk.Now(), Site: site, Create: true,
							Cols: []string{"visit_id", "body"}, Vals: []any{v, "hi"}})
					}
				}
				if _, err := tn.Push(ctx, syncserver.Origin{Site: site}, &engine.Push{Batch: fmt.Sprint(b), Changes: chs}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	head, err := tn.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if syncserver.TailFirst(tn) <= 1 || syncserver.TailFirst(tn) > head {
		t.Fatalf("tail holds %d..%d of a log of %d: the test wants it partial", syncserver.TailFirst(tn), head, head)
	}
	scopeSets := [][]string{{engine.AllScopes}, {engine.ClinicScope}, {"visit:" + visits[0]}, {engine.ClinicScope, "visit:*"}, {"visit:" + visits[1], "visit:" + visits[2]}, {"audit"}}
	rng := rand.New(rand.NewPCG(1, 2))
	served := 0
	for range 500 {
		req := syncserver.PullRequest{Cursor: uint64(rng.IntN(int(head) + 2)), Limit: 1 + rng.IntN(30), Scopes: scopeSets[rng.IntN(len(scopeSets))], Raw: true}
		if rng.IntN(2) == 0 {
			req.ExcludeSite = sites[rng.IntN(len(sites))]
		}
		fromTail, ok := syncserver.PullTail(tn, req)
		if !ok {
			if req.Cursor+1 >= syncserver.TailFirst(tn) {
				t.Fatalf("the tail refused cursor %d though it starts at %d", req.Cursor, syncserver.TailFirst(tn))
			}
			continue
		}
		served++
		fromStore, err := syncserver.PullStore(ctx, tn, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromTail, fromStore) {
			t.Fatalf("%+v:\ntail  %d changes %v cursor %d more %v\nstore %d changes %v cursor %d more %v", req,
				len(fromTail.Raw), fromTail.Seqs, fromTail.Cursor, fromTail.More, len(fromStore.Raw), fromStore.Seqs, fromStore.Cursor, fromStore.More)
		}
	}
	if served < 100 {
		t.Fatalf("the tail served only %d of 500 pulls", served)
	}
}

// TestTailAfterCompactingTheNewestEntries compacts a log whose newest entries are a deleted
// row's whole history, so that the newest entry left is older than the newest number ever
// given: the tail must start after the latter, in the running tenant and after a reopen, or
// it would wait forever for entries that no longer exist and send every session to the store.
func TestTailAfterCompactingTheNewestEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	tn := openTenant(t, path, clinic.Schema)
	site, clk := engine.NewSiteID(), engine.NewClock(nil, 0)
	from := syncserver.Origin{Site: site}
	push := func(tn *syncserver.Tenant, batch string, ch engine.Change) uint64 {
		t.Helper()
		ack, err := tn.Push(ctx, from, &engine.Push{Batch: batch, Changes: []engine.Change{ch}})
		if err != nil {
			t.Fatal(err)
		}
		return ack.Seqs[0]
	}
	newPatient := func() engine.Change {
		return engine.Change{Table: "patients", ID: engine.NewID(), Scope: engine.ClinicScope, HLC: clk.Now(), Site: site, Create: true,
			Cols: []string{"given_name"}, Vals: []any{"Ada"}}
	}
	created := newPatient()
	push(tn, "1", created)
	last := push(tn, "2", engine.Change{Table: "patients", ID: created.ID, Scope: engine.ClinicScope, HLC: clk.Now(), Site: site, Delete: true})
	if _, _, err := tn.Seen(ctx, site, "u"); err != nil {
		t.Fatal(err)
	}
	if err := tn.Progress(ctx, site, &engine.Progress{Cursor: last, Acked: last}); err != nil {
		t.Fatal(err)
	}
	if res, err := tn.Compact(ctx, time.Hour); err != nil || res.Tombstones != 1 {
		t.Fatalf("compact: %+v, %v; want the one tombstone dropped", res, err)
	}
	tailServes := func(tn *syncserver.Tenant, batch string) {
		t.Helper()
		seq := push(tn, batch, newPatient())
		page, ok := syncserver.PullTail(tn, syncserver.PullRequest{Cursor: last, Limit: 10, Scopes: []string{engine.AllScopes}, Raw: true})
		if !ok || len(page.Seqs) != 1 || page.Seqs[0] != seq {
			t.Fatalf("the tail after compaction: ok %v, page %+v; want entry %d", ok, page, seq)
		}
		last = seq
	}
	tailServes(tn, "3")
	if err := tn.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened after the same compaction of its newest entries.
	tn = openTenant(t, path, clinic.Schema)
	if err := tn.Progress(ctx, site, &engine.Progress{Cursor: last, Acked: last}); err != nil {
		t.Fatal(err)
	}
	del := engine.Change{Table: "patients", ID: engine.NewID(), Scope: engine.ClinicScope, HLC: clk.Now(), Site: site, Create: true,
		Cols: []string{"given_name"}, Vals: []any{"Bo"}}
	push(tn, "4", del)
	last = push(tn, "5", engine.Change{Table: del.Table, ID: del.ID, Scope: del.Scope, HLC: clk.Now(), Site: site, Delete: true})
	if err := tn.Progress(ctx, site, &engine.Progress{Cursor: last, Acked: last}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Compact(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := tn.Close(); err != nil {
		t.Fatal(err)
	}
	tn = openTenant(t, path, clinic.Schema)
	defer tn.Close()
	tailServes(tn, "6")
}
