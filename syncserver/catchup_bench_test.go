package syncserver_test

// Catch-up benchmark: a replica that was offline while another replica pushed
// benchE2EChanges changes to the server connects and runs Syncer.SyncOnce until it holds
// them all, on a loopback WebSocket to an in-process server (goal: < 1 s).
//
//	go test ./syncserver -run '^$' -bench 'CatchUp' -benchtime 3x -count 6

import (
	"context"
	"testing"
	"time"

	"hearth/engine/clinic"
	"hearth/syncserver/servertest"
)

// BenchmarkCatchUp times the whole SyncOnce of a fresh replica against a server whose log
// holds benchElapsed changes of a clinic day (new rows and updates of earlier rows), built
// before the timer starts. Every iteration opens a new, empty replica, untimed.
func BenchmarkCatchUp(b *testing.B) {
	srv := servertest.Start(b, clinic.Schema, servertest.Options{})
	url := srv.URL("clinic-a")
	ctx := context.Background()
	writer := servertest.OpenReplica(b, clinic.Schema, url, srv.Token(b, "clinic-a", "alice", ""))
	benchWrite(b, writer, (&benchGen{}).day(benchE2EChanges))
	writer.Sync(b)
	tn, err := srv.Tenant(ctx, "clinic-a")
	if err != nil {
		b.Fatal(err)
	}
	want := servertest.StoreHash(b, tn)

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rep := servertest.OpenReplica(b, clinic.Schema, url, srv.Token(b, "clinic-a", "bob", ""))
		b.StartTimer()

		sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := rep.Syncer.SyncOnce(sctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		if got := servertest.Hash(b, rep); got != want {
			b.Fatalf("caught-up replica hash %s, server %s", got, want)
		}
		if err := rep.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportChanges(b, b.N*benchE2EChanges)
}

// BenchmarkCatchUpPlainCeiling is the floor under BenchmarkCatchUp: inserting benchE2EChanges
// rows of the same tables into plain SQLite in transactions of 2,000 (the server's page size),
// with nothing decoded, merged or sent.
func BenchmarkCatchUpPlainCeiling(b *testing.B) {
	ctx := context.Background()
	const page = 2000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := openPlain(b)
		batches := benchBatches(benchE2EChanges/page, page, false)
		b.StartTimer()
		for k := range batches {
			if err := p.insert(ctx, batches[k].Changes); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	reportChanges(b, b.N*benchE2EChanges)
}
