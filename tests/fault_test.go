package tests

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"hearth/engine"
)

var (
	faultSeed = flag.Uint64("fault.seed", 0, "seed for TestFlakyLinkFiveReplicas (0: random, logged)")
)

// disruption is one way of breaking the link, and how to undo it.
type disruption struct {
	name        string
	hold        time.Duration // how long the link stays broken
	apply, heal func(*faultProxy)
}

// disruptions are the faults a clinic's link suffers. Each drops, slows or stalls the
// connections that are open and those made while it lasts.
func disruptions(rng *rand.Rand) []disruption {
	hold := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond }
	return []disruption{
		{"down", hold(300, 700), (*faultProxy).Disable, (*faultProxy).Enable},
		{"reset_peer", hold(300, 600),
			func(f *faultProxy) {
				f.Add(toxic{Name: "reset", Type: "reset_peer", Stream: "upstream", Attributes: map[string]any{"timeout": 0}})
			},
			func(f *faultProxy) { f.Remove("reset") }},
		{"latency+jitter", hold(700, 1100),
			func(f *faultProxy) {
				f.Add(toxic{Name: "lat_down", Type: "latency", Stream: "downstream", Attributes: map[string]any{"latency": 150, "jitter": 100}})
				f.Add(toxic{Name: "lat_up", Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": 60, "jitter": 50}})
			},
			func(f *faultProxy) { f.Remove("lat_down"); f.Remove("lat_up") }},
		{"bandwidth", hold(700, 1100),
			func(f *faultProxy) {
				f.Add(toxic{Name: "bw_down", Type: "bandwidth", Stream: "downstream", Attributes: map[string]any{"rate": 16}}) // KB/s
				f.Add(toxic{Name: "bw_up", Type: "bandwidth", Stream: "upstream", Attributes: map[string]any{"rate": 8}})
			},
			func(f *faultProxy) { f.Remove("bw_down"); f.Remove("bw_up") }},
		// Half-open: nothing is closed, nothing gets through. Held past twice the ping
		// interval so that the replicas must notice by themselves.
		{"half-open", hold(1000, 1300), (*faultProxy).stall, (*faultProxy).unstall},
	}
}

// TestFlakyLinkFiveReplicas runs five replicas of one clinic, each with its live sync loop
// through toxiproxy to the real server, while the test writes at random on all of them and
// breaks the link every second or so (down, reset, latency, bandwidth, half-open). After the
// link heals, every replica must converge with the server, and every row any replica wrote
// must be on the server and on every replica exactly once.
func TestFlakyLinkFiveReplicas(t *testing.T) {
	seed := *faultSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun: go test ./tests -run TestFlakyLinkFiveReplicas -fault.seed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	srv := startServer(t, serverOpts{})
	px := newFaultProxy(t, srv.Addr)
	var reps []*faultReplica
	for i := range 5 {
		name := fmt.Sprintf("desk-%d", i)
		r := openFaultReplica(t, name, px.syncURL("demo"), staffToken(t, srv, "demo", name), replicaOpts{Ping: 400 * time.Millisecond})
		r.startRecording()
		r.Start(t)
		reps = append(reps, r)
	}
	for _, r := range reps {
		waitFor(t, 10*time.Second, r.Name+" online", func() bool { return r.Syncer.Status().Online })
	}

	// The plan: every kind of disruption once, in random order, one more at random, each
	// held for a while and followed by a short calm; about 7 s in all.
	kinds := disruptions(rng)
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	kinds = append(kinds, disruptions(rng)[rng.IntN(len(kinds))])
	type step struct {
		at   time.Duration
		d    disruption
		heal bool
	}
	var plan []step
	at := 300 * time.Millisecond
	for _, d := range kinds {
		plan = append(plan, step{at: at, d: d}, step{at: at + d.hold, d: d, heal: true})
		at += d.hold + time.Duration(250+rng.IntN(350))*time.Millisecond
	}
	writeFor := at

	led := newLedger()
	start := time.Now()
	var log []string
	const maxWrites = 5000 // bound on the loop, whatever the clock does
	for i := 0; i < maxWrites; i++ {
		el := time.Since(start)
		if el >= writeFor {
			break
		}
		for len(plan) > 0 && el >= plan[0].at {
			s := plan[0]
			plan = plan[1:]
			if s.heal {
				s.d.heal(px)
				log = append(log, fmt.Sprintf("%.1fs heal %s", el.Seconds(), s.d.name))
			} else {
				s.d.apply(px)
				log = append(log, fmt.Sprintf("%.1fs %s", el.Seconds(), s.d.name))
			}
		}
		led.randomWrite(t, rng, reps[rng.IntN(len(reps))])
		time.Sleep(time.Duration(2+rng.IntN(4)) * time.Millisecond) // pacing of the workload
	}
	if len(plan) > 0 {
		t.Fatalf("the write loop ended before the disruption plan did: %d steps left", len(plan))
	}
	t.Logf("disruptions: %v", log)
	t.Logf("workload: %s in %s", led.summary(), time.Since(start).Round(time.Millisecond))

	px.Heal()
	healed := time.Now()
	hash := waitConverged(t, srv, "demo", reps, 30*time.Second)
	t.Logf("converged %s after healing, hash %.12s", time.Since(healed).Round(time.Millisecond), hash)

	for _, r := range reps {
		drops, was := 0, false
		for _, st := range r.recorded() {
			if was && !st.Online {
				drops++
			}
			was = st.Online
		}
		t.Logf("%s: %d disconnections seen", r.Name, drops)
		// "down" and "reset_peer" always drop every open connection.
		if drops < 2 {
			t.Errorf("%s went offline %d times; the disruptions did not reach it", r.Name, drops)
		}
		led.check(t, r.Name, r.DB)
	}
	for _, r := range reps {
		r.Stop(t)
	}
	led.check(t, "server", openTenantStore(t, srv, "demo"))
	if led.writes < 200 {
		t.Errorf("only %d writes made: the workload did not run", led.writes)
	}
}

// TestLongOfflineCatchUp leaves a replica offline (its sync loop retrying against a dead
// link) while another replica pushes 50,000 changes, then brings the link back with 20ms of
// latency: the replica must push its own offline writes and catch up to the same state as
// the server.
func TestLongOfflineCatchUp(t *testing.T) {
	const remote, local = 50000, 200
	srv := startServer(t, serverOpts{})
	px := newFaultProxy(t, srv.Addr)
	off := openFaultReplica(t, "offline", px.syncURL("demo"), staffToken(t, srv, "demo", "offline"), replicaOpts{})
	busy := openFaultReplica(t, "busy", srv.syncURL("demo"), staffToken(t, srv, "demo", "busy"), replicaOpts{BatchSize: 5000})

	// A shared start: both have the same 100 patients.
	bulkPatients(t, busy, 100, 100, "base")
	busy.syncOnce(t, 10*time.Second)
	off.syncOnce(t, 10*time.Second)

	px.Disable()
	off.Start(t)
	bulkPatients(t, off, local, 50, "offline")
	waitFor(t, 5*time.Second, "offline replica to report its pending writes", func() bool {
		st := off.Syncer.Status()
		return !st.Online && st.Pending == local && st.Err != ""
	})

	start := time.Now()
	for done := 0; done < remote; done += 10000 {
		bulkPatients(t, busy, 10000, 1000, fmt.Sprintf("remote%d", done))
		busy.syncOnce(t, 30*time.Second)
	}
	t.Logf("pushed %d remote changes in %s", remote, time.Since(start).Round(time.Millisecond))
	if st := off.Syncer.Status(); st.Online || st.Pending != local {
		t.Fatalf("offline replica's status while the link is down: %+v", st)
	}

	px.Add(toxic{Name: "lat_down", Type: "latency", Stream: "downstream", Attributes: map[string]any{"latency": 20, "jitter": 5}})
	px.Add(toxic{Name: "lat_up", Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": 20, "jitter": 5}})
	px.Enable()
	back := time.Now()
	hash := waitConverged(t, srv, "demo", []*faultReplica{off}, 20*time.Second)
	t.Logf("caught up %d remote changes and pushed %d through 20ms latency in %s", remote, local, time.Since(back).Round(time.Millisecond))

	busy.syncOnce(t, 10*time.Second)
	if got := busy.hash(t); got != hash {
		t.Errorf("busy replica hash %.12s, server %.12s", got, hash)
	}
	n := len(allRows(t, off.DB, "patients"))
	if want := 100 + local + remote; n != want {
		t.Errorf("offline replica has %d patients, want %d", n, want)
	}
}

// TestServerUnreachableAtStart starts a replica whose server cannot be reached: it works
// offline (writes succeed; its status says offline, with the writes pending), and when the
// server becomes reachable its own sync loop (backing off, retrying) pushes everything
// without anyone prodding it. Two ways of being unreachable: nothing listens at the address
// (connection refused), and the link is up but the server behind it has not started yet
// (the connection is accepted, then closed during the upgrade).
func TestServerUnreachableAtStart(t *testing.T) {
	t.Run("link down", func(t *testing.T) {
		srv := startServer(t, serverOpts{})
		px := newFaultProxy(t, srv.Addr)
		px.Disable()
		unreachableAtStart(t, px, staffToken(t, srv, "demo", "late"), func() *server { px.Enable(); return srv })
	})
	t.Run("server not started", func(t *testing.T) {
		addr, data := freeLoopbackAddr(t), t.TempDir()
		px := newFaultProxy(t, addr)
		// Sign the token with the key the server will find in its data directory.
		tok := staffToken(t, &server{Data: data}, "demo", "late")
		unreachableAtStart(t, px, tok, func() *server {
			return startServer(t, serverOpts{DataDir: data, Args: []string{"--data", data, "--addr", addr, "--log-format", "json"}})
		})
	})
}

// freeLoopbackAddr returns a loopback address that was free a moment ago.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// unreachableAtStart runs a replica of the demo clinic against px while the server cannot
// be reached, then calls reach to make it reachable, and checks that the replica syncs by
// itself.
func unreachableAtStart(t *testing.T, px *faultProxy, tok string, reach func() *server) {
	r := openFaultReplica(t, "late", px.syncURL("demo"), tok, replicaOpts{})
	r.startRecording()
	r.Start(t)

	led := newLedger()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 60 {
		led.randomWrite(t, rng, r)
	}
	var offline engine.Status
	waitFor(t, 5*time.Second, "an offline status with every write pending", func() bool {
		offline = r.Syncer.Status()
		return !offline.Online && offline.Pending == led.changes && offline.Err != "" && offline.LastSync.IsZero()
	})
	t.Logf("offline: pending %d, err %q", offline.Pending, offline.Err)
	// Let a few reconnect attempts fail before the server appears (bounded poll).
	waitFor(t, 5*time.Second, "several failed reconnect attempts", func() bool { return len(r.recorded()) >= 5 })
	for _, st := range r.recorded() {
		if st.Online {
			t.Fatalf("reported online while the server was unreachable: %+v", st)
		}
	}

	srv := reach()
	back := time.Now()
	waitFor(t, 5*time.Second, "online with nothing pending", func() bool {
		st := r.Syncer.Status()
		return st.Online && !st.CatchingUp && st.Pending == 0 && !st.LastSync.IsZero()
	})
	t.Logf("in sync %s after the server became reachable", time.Since(back).Round(time.Millisecond))
	if got, want := r.hash(t), serverHash(t, srv, "demo"); got != want {
		t.Fatalf("replica hash %.12s, server %.12s", got, want)
	}
	r.Stop(t)
	led.check(t, "server", openTenantStore(t, srv, "demo"))
}

// TestStalledLinkDetected makes the link half-open (toxiproxy's timeout toxic: data is
// swallowed, nothing is closed). With a 300ms keepalive the sync loop must notice within a
// few seconds that it is offline rather than trust a dead connection, and must come back by
// itself, with what was written meanwhile, once the link works again.
func TestStalledLinkDetected(t *testing.T) {
	const ping = 300 * time.Millisecond
	srv := startServer(t, serverOpts{})
	px := newFaultProxy(t, srv.Addr)
	r := openFaultReplica(t, "stall", px.syncURL("demo"), staffToken(t, srv, "demo", "stall"), replicaOpts{Ping: ping})
	r.Start(t)
	led := newLedger()
	rng := rand.New(rand.NewPCG(3, 4))
	led.randomWrite(t, rng, r)
	waitFor(t, 10*time.Second, "online and synced", func() bool {
		st := r.Syncer.Status()
		return st.Online && !st.CatchingUp && st.Pending == 0
	})

	px.stall()
	stalled := time.Now()
	waitFor(t, 3*time.Second, "the stalled link to be noticed (Online=false)", func() bool { return !r.Syncer.Status().Online })
	noticed := time.Since(stalled)
	t.Logf("stall noticed after %s (ping %s)", noticed.Round(time.Millisecond), ping)
	// While the link stays stalled, new connections hang in the handshake: it stays offline.
	for range 5 {
		led.randomWrite(t, rng, r)
	}
	waitFor(t, 3*time.Second, "writes pending while stalled", func() bool { return r.Syncer.Status().Pending > 0 })
	if st := r.Syncer.Status(); st.Online {
		t.Fatalf("online again while the link is still stalled: %+v", st)
	}

	px.unstall()
	healed := time.Now()
	waitFor(t, 5*time.Second, "back online with nothing pending", func() bool {
		st := r.Syncer.Status()
		return st.Online && !st.CatchingUp && st.Pending == 0
	})
	t.Logf("back in sync %s after the stall ended", time.Since(healed).Round(time.Millisecond))
	if got, want := r.hash(t), serverHash(t, srv, "demo"); got != want {
		t.Fatalf("replica hash %.12s, server %.12s", got, want)
	}
	r.Stop(t)
	led.check(t, "server", openTenantStore(t, srv, "demo"))
}

// slowLinkCatchUp has a replica catch up a backlog of remote patients through a thin link
// (toxiproxy's bandwidth toxic from the server, rate KB/s) with the given keepalive. It
// reports whether the replica caught up within the bound, how often it dropped the
// connection, and the last error it saw.
func slowLinkCatchUp(t *testing.T, remote, rate int, ping, within time.Duration) (ok bool, drops int, lastErr string, took time.Duration) {
	t.Helper()
	srv := startServer(t, serverOpts{})
	px := newFaultProxy(t, srv.Addr)
	busy := openFaultReplica(t, "busy", srv.syncURL("demo"), staffToken(t, srv, "demo", "busy"), replicaOpts{BatchSize: 5000})
	bulkPatients(t, busy, remote, 1000, "remote")
	busy.syncOnce(t, 10*time.Second)

	slow := openFaultReplica(t, "slow", px.syncURL("demo"), staffToken(t, srv, "demo", "slow"), replicaOpts{Ping: ping})
	slow.startRecording()
	px.Add(toxic{Name: "thin", Type: "bandwidth", Stream: "downstream", Attributes: map[string]any{"rate": rate}})
	start := time.Now()
	slow.Start(t)
	deadline := start.Add(within)
	for i := 0; i < 10000 && time.Now().Before(deadline); i++ {
		if st := slow.Syncer.Status(); st.Online && !st.CatchingUp && st.Pending == 0 {
			ok = true
			break
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a correctness wait
	}
	took = time.Since(start)
	was := false
	for _, st := range slow.recorded() {
		if was && !st.Online {
			drops++
		}
		if st.Err != "" {
			lastErr = st.Err
		}
		was = st.Online
	}
	if ok {
		px.Remove("thin")
		if got, want := slow.hash(t), busy.hash(t); got != want {
			t.Fatalf("slow replica hash %.12s, busy replica %.12s", got, want)
		}
	}
	return ok, drops, lastErr, took
}

// TestSlowLinkCatchUpLongKeepalive is the control for TestSlowLinkCatchUp: the same backlog
// through the same thin link, with a keepalive long enough for a whole page to arrive.
func TestSlowLinkCatchUpLongKeepalive(t *testing.T) {
	ok, drops, lastErr, took := slowLinkCatchUp(t, 2000, 128, 2*time.Second, 10*time.Second)
	if !ok {
		t.Fatalf("no catch-up over 128 KB/s with a 2s keepalive: %d drops, last error %q", drops, lastErr)
	}
	t.Logf("caught up in %s with %d drops", took.Round(time.Millisecond), drops)
}

// TestSlowLinkCatchUp brings a replica back on a thin link (128 KB/s from the server) with a
// short keepalive (250ms: a peer silent for 500ms is dead). Each page (about 140 bytes a
// change, 2000 changes: some 2 s here) of the backlog takes
// longer than that to arrive, but bytes keep flowing all along: the replica must still catch
// up rather than drop the connection and ask for the same page forever.
func TestSlowLinkCatchUp(t *testing.T) {
	const ping = 250 * time.Millisecond
	ok, drops, lastErr, took := slowLinkCatchUp(t, 2000, 128, ping, 8*time.Second)
	if !ok {
		t.Fatalf("no catch-up within %s over a 128 KB/s link with a %s keepalive: the connection dropped %d times "+
			"(last error %q). The transport must count bytes arriving mid-message as a live peer "+
			"(engine/wstransport Conn.ReadMessage extends the read deadline per chunk)", took.Round(time.Millisecond), ping, drops, lastErr)
	}
	t.Logf("caught up in %s with %d drops", took.Round(time.Millisecond), drops)
}
