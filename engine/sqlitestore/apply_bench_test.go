//go:build !js

package sqlitestore_test

// The replica's half of catch-up, without the server and the socket: pages of a clinic's
// changes applied to an empty replica with Replica.ApplyRemote, as the sync loop does after a
// long time offline. BenchmarkCatchUp (syncserver) times the whole exchange; this isolates
// what bounds it on the replica, so that a change to the store can be measured with less noise:
//
//	go test ./engine/sqlitestore -run '^$' -bench 'ApplyRemote' -benchtime 3x -count 6

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
)

const (
	benchCatchUpChanges = 50_000 // as BenchmarkCatchUp
	benchPageSize       = 2_000  // the sync loop's and the server's page size
)

// benchDay returns n mutations of a clinic day: per 10, a patient, a visit, two status updates
// of earlier visits, a note and five chat messages (the mix of the server's catch-up benchmark).
func benchDay(n int) []engine.Mutation {
	var out []engine.Mutation
	var patient, visit string
	var visits []string
	statuses := []string{"waiting", "in_visit", "completed"}
	for k := 0; len(out) < n; k++ {
		id := engine.NewID()
		at := int64(1795000000000 + k)
		switch k % 10 {
		case 0:
			patient = id
			out = append(out, engine.Mutation{Table: "patients", ID: id, Values: benchPatient(k)})
		case 1:
			visit = id
			visits = append(visits, id)
			out = append(out, engine.Mutation{Table: "visits", ID: id, Values: map[string]any{
				"patient_id": patient, "region": "CA", "status": "requested", "provider_id": "prov-0001",
				"reason": "Follow-up on persistent cough and mild fever", "requested_at": at}})
		case 2, 6:
			j := k / 10
			out = append(out, engine.Mutation{Table: "visits", ID: visits[j%len(visits)], Values: map[string]any{
				"status": statuses[j%len(statuses)], "started_at": at}})
		case 3:
			out = append(out, engine.Mutation{Table: "visit_notes", ID: id, Values: map[string]any{
				"visit_id": visit, "author_id": "prov-0001", "updated_at": at,
				"body": "Subjective: cough for 5 days, no dyspnea. Objective: T 37.9, lungs clear. " +
					"Assessment: viral URI. Plan: fluids, rest, return if worse."}})
		default:
			out = append(out, engine.Mutation{Table: "chat_messages", ID: id, Values: map[string]any{
				"visit_id": visit, "sender_id": "pat-0001", "sender_role": "patient", "sent_at": at,
				"body": fmt.Sprintf("Message %d: thank you, I will pick up the prescription tomorrow.", k)}})
		}
	}
	return out
}

// benchPages writes a clinic day on a replica and returns its changes as the server would page
// them: benchPageSize changes a page, with log positions.
func benchPages(b *testing.B, n int) []engine.Changes {
	b.Helper()
	ctx := context.Background()
	w, err := sqlitestore.OpenReplica(ctx, filepath.Join(b.TempDir(), "writer.db"), clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	var all []engine.Change
	muts := benchDay(n)
	for len(muts) > 0 {
		k := min(len(muts), 1000)
		chs, err := w.Write(ctx, muts[:k]...)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, chs...)
		muts = muts[k:]
	}
	var pages []engine.Changes
	for i := 0; i < len(all); i += benchPageSize {
		p := engine.Changes{Changes: all[i:min(i+benchPageSize, len(all))]}
		for k := range p.Changes {
			p.Seqs = append(p.Seqs, uint64(i+k+1))
		}
		p.Cursor = uint64(i + len(p.Changes))
		pages = append(pages, p)
	}
	return pages
}

// BenchmarkApplyRemote applies benchCatchUpChanges changes of a clinic day, in pages, to an
// empty replica: one ApplyRemote transaction a page, as catch-up does.
func BenchmarkApplyRemote(b *testing.B) {
	ctx := context.Background()
	pages := benchPages(b, benchCatchUpChanges)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rep, err := sqlitestore.OpenReplica(ctx, filepath.Join(b.TempDir(), "replica.db"), clinic.Schema, sqlitestore.ReplicaOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for k := range pages {
			if err := rep.ApplyRemote(ctx, &pages[k]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := rep.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchCatchUpChanges)/b.Elapsed().Seconds(), "changes/s")
}
