package tests

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkCatchUpAfterOutage measures the time from the link coming back (toxiproxy
// re-enabled, on loopback, no toxics) to a replica being fully in sync, when during the
// outage it made 1,000 local changes and the rest of the clinic pushed 10,000. The replica's
// sync loop is already running and retrying (backoff 20ms to 300ms), as it would be in the
// app; "in sync" is: online, not catching up, nothing pending, and its cursor at the head of
// the server's log. The replica's hash is checked against the server's after each round.
//
// Each iteration uses a fresh tenant on one real hearth-server. Reported: the median and
// worst time to sync (ms/sync-median, ms/sync-max); ns/op times only the catch-up as well.
// Target: under 2 s. Run: go test ./tests -run '^$' -bench CatchUpAfterOutage -benchtime 5x
func BenchmarkCatchUpAfterOutage(b *testing.B) {
	const local, remote = 1000, 10000
	b.StopTimer()
	srv := startServer(b, serverOpts{})
	var took []time.Duration
	for i := 0; i < b.N; i++ {
		tenant := fmt.Sprintf("bench-%d", i)
		mustCtl(b, "tenant", "create", "--data", srv.Data, "--id", tenant)
		px := newFaultProxy(b, srv.Addr)
		px.Disable()
		r := openFaultReplica(b, "away", px.syncURL(tenant), staffToken(b, srv, tenant, "away"), replicaOpts{})
		busy := openFaultReplica(b, "busy", srv.syncURL(tenant), staffToken(b, srv, tenant, "busy"), replicaOpts{BatchSize: 5000})
		r.Start(b)
		bulkPatients(b, r, local, 100, "local")
		bulkPatients(b, busy, remote, 1000, "remote")
		busy.syncOnce(b, 30*time.Second)
		// The loop has failed at least once: it is in its backoff, as after a real outage.
		waitFor(b, 5*time.Second, "the replica offline with its writes pending", func() bool {
			st := r.Syncer.Status()
			return !st.Online && st.Pending == local && st.Err != ""
		})

		b.StartTimer()
		start := time.Now()
		px.Enable()
		deadline := start.Add(30 * time.Second)
		for j := 0; ; j++ {
			st := r.Syncer.Status()
			if st.Online && !st.CatchingUp && st.Pending == 0 && st.Cursor >= local+remote {
				break
			}
			if time.Now().After(deadline) || j > 1_000_000 {
				b.Fatalf("not in sync within 30s: %+v", st)
			}
			time.Sleep(2 * time.Millisecond) // polling interval; it bounds the timing error
		}
		d := time.Since(start)
		b.StopTimer()
		took = append(took, d)
		if got, want := r.hash(b), serverHash(b, srv, tenant); got != want {
			b.Fatalf("in sync by status, but replica hash %.12s, server %.12s", got, want)
		}
		r.Stop(b)
		px.Disable()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms/sync-median")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "ms/sync-max")
}
