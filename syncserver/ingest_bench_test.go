package syncserver_test

// Server ingest benchmarks: Tenant.Push of batches of new-row changes into one clinic, the
// plain-SQLite ceiling of the same rows at the same transaction size, and a replica pushing
// its whole outbox through the WebSocket to an in-process server. Run the first two together
// so that the ratio is taken on one machine state:
//
//	go test ./syncserver -run '^$' -bench 'TenantPush|PlainBatchInsert' -benchtime 40x -count 6
//	go test ./syncserver -run '^$' -bench 'SyncPush' -benchtime 2x -count 6
//
// docs/benchmarks.md records the figures (goal: > 100,000 changes/s).

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/servertest"
)

const benchBatch = 1000

var benchMixes = []struct {
	name         string
	patientsOnly bool
}{{"clinic", false}, {"patients", true}}

// BenchmarkTenantPush measures Tenant.Push of batches of benchBatch new-row changes: merge
// into the tenant's tables, log append, batch idempotency record, one transaction per batch.
func BenchmarkTenantPush(b *testing.B) {
	for _, mix := range benchMixes {
		b.Run(fmt.Sprintf("mix=%s/batch=%d", mix.name, benchBatch), func(b *testing.B) {
			ctx := context.Background()
			tn := openTenant(b, filepath.Join(b.TempDir(), "tenant.db"), clinic.Schema)
			defer tn.Close()
			batches := benchBatches(b.N, benchBatch, mix.patientsOnly)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range batches {
				p := &batches[i]
				ack, err := tn.Push(ctx, syncserver.Origin{Site: p.Changes[0].Site}, p)
				if err != nil {
					b.Fatal(err)
				}
				if ack.Seqs[len(ack.Seqs)-1] == 0 {
					b.Fatal("the last change of a batch of new rows was not logged")
				}
			}
			b.StopTimer()
			reportChanges(b, b.N*benchBatch)
		})
	}
}

// BenchmarkPlainBatchInsert is the ceiling for BenchmarkTenantPush: the rows the same changes
// create, inserted into plain SQLite tables with the same columns (and the same scope
// indexes), benchBatch rows per transaction, prepared statements.
func BenchmarkPlainBatchInsert(b *testing.B) {
	for _, mix := range benchMixes {
		b.Run(fmt.Sprintf("mix=%s/batch=%d", mix.name, benchBatch), func(b *testing.B) {
			ctx := context.Background()
			p := openPlain(b)
			batches := benchBatches(b.N, benchBatch, mix.patientsOnly)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range batches {
				if err := p.insert(ctx, batches[i].Changes); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportChanges(b, b.N*benchBatch)
		})
	}
}

// benchE2EChanges is the size of the outbox pushed, and of the backlog caught up, end to end.
const benchE2EChanges = 50000

// benchWrite stores muts on a replica in transactions of 500, as a busy app (or an import)
// would, so that the setup outside the timed region stays short.
func benchWrite(b *testing.B, rep *servertest.Replica, muts []engine.Mutation) {
	b.Helper()
	ctx := context.Background()
	for len(muts) > 0 {
		n := min(500, len(muts))
		if _, err := rep.Write(ctx, muts[:n]...); err != nil {
			b.Fatal(err)
		}
		muts = muts[n:]
	}
}

// BenchmarkSyncPush measures a replica pushing benchE2EChanges queued new-row changes to an
// in-process server over a loopback WebSocket with Syncer.SyncOnce: batching from the outbox,
// msgpack frames, the server's checks and Tenant.Push, acks and outbox deletion. Each
// iteration pushes into a fresh tenant from a fresh replica; both are prepared untimed.
func BenchmarkSyncPush(b *testing.B) {
	srv := servertest.Start(b, clinic.Schema, servertest.Options{Tenants: []string{}})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := fmt.Sprintf("push-%d", i)
		if err := srv.Directory().Create(ctx, syncserver.TenantInfo{ID: id, Region: "local", Node: "test"}); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.Tenant(ctx, id); err != nil { // open the tenant's file untimed
			b.Fatal(err)
		}
		rep := servertest.OpenReplica(b, clinic.Schema, srv.URL(id), srv.Token(b, id, "alice", ""))
		benchWrite(b, rep, (&benchGen{}).newRows(benchE2EChanges))
		b.StartTimer()

		sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := rep.Syncer.SyncOnce(sctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		if st, err := rep.State(ctx); err != nil || st.Pending != 0 {
			b.Fatalf("after sync: %+v, %v", st, err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportChanges(b, b.N*benchE2EChanges)
}
