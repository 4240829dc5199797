package tests

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
	"hearth/syncserver"
	"hearth/syncserver/sqlitetenant"
	"hearth/syncserver/token"
)

// The shape of BenchmarkMondaySpike10x: the Monday-morning spike at 10x.
//
// Time is compressed: the 30 simulated minutes of the spike run in spikeReal (60 s) of real
// time, 30x, so one simulated minute is 2 s. Latencies are real (uncompressed) times.
const (
	spikeClinics          = 10
	spikeIntakesPerClinic = 300
	spikeSimulated        = 30 * time.Minute
	spikeReal             = 60 * time.Second // the 30 simulated minutes, compressed 30x
	spikeCallers          = 32               // concurrent intake callers, one connection per intake
	spikeVisitMin         = 2 * time.Second  // a provider's simulated visit, real time (1-2 simulated minutes)
	spikeVisitMax         = 4 * time.Second
	spikeSupportEvery     = time.Second // each support person sends a chat message this often
	spikeSample           = 250 * time.Millisecond
	spikeSettle           = 60 * time.Second // bound on the settle after the spike
	spikeWindow           = 10 * time.Second // rows of the per-window table
	spikeGoalP99          = 200 * time.Millisecond
	spikeSeed             = 20261123
)

var (
	spikeRegions       = []string{"CA", "NY", "TX"}
	spikeRegionWeights = []float64{0.45, 0.35, 0.20}
	// spikeShape: 60 % of a clinic's arrivals in the first third of the window (simulated
	// minutes 0-10), 25 % in the second, 15 % in the last.
	spikeShape = []struct{ upTo, share float64 }{{1.0 / 3, 0.60}, {2.0 / 3, 0.25}, {1, 0.15}}
	// spikeStaff is every clinic's staff: six providers, two at home in each region and three
	// of them licensed in a second one (so each region has three licensed providers), and two
	// support staff who see every region. All on shift.
	spikeStaff = []struct{ id, role, regions string }{
		{"dr-1", clinic.RoleProvider, "CA"},
		{"dr-2", clinic.RoleProvider, "CA,NY"},
		{"dr-3", clinic.RoleProvider, "NY"},
		{"dr-4", clinic.RoleProvider, "NY,TX"},
		{"dr-5", clinic.RoleProvider, "TX"},
		{"dr-6", clinic.RoleProvider, "TX,CA"},
		{"desk-1", clinic.RoleSupport, ""},
		{"desk-2", clinic.RoleSupport, ""},
	}
)

// BenchmarkMondaySpike10x runs the Monday-morning spike at 10x against the real hearth-server
// binary on loopback: 10 clinics at once, 3,000 intakes (300 per clinic) in 30 simulated
// minutes compressed into 60 s of real time, 60 % of them in the first third, while every
// caregiver's replica is live: per clinic 6 providers and 2 support staff, 80 real SQLite
// replicas in this process, each with its sync loop running.
//
// Each intake is a public engine.Call on its own connection, as the patient's page makes it,
// from a pool of 32 callers that start each call at its scheduled time. Providers claim the
// oldest waiting patient of their licensed regions from their local replica's queue (a claim
// request on their live connection), record a read of the chart (clinic.ReadAccess), and after
// a 2-4 s visit write a note and complete the visit; support staff send a chat message to a
// waiting patient every second. Every access is counted: intakes, claims, reads, and each
// patient-data row a caregiver writes.
//
// Measured: per intake, the time from the start of its call until the visit has been applied
// on every caregiver replica whose queue shows its region (providers licensed there and the
// two support staff), taken from each replica's OnRemoteChanges; p50, p99 and max over all
// 3,000 (goal: p99 under 200 ms), and the intake call's own round trip. Server CPU (utime +
// stime from /proc/PID/stat) over the spike, as % of one core and of all cores, and memory
// (VmRSS sampled every 250 ms, VmHWM at the end). After the spike, within a bounded settle
// (every outbox empty), every clinic's count of audit_events rows on the server must equal the
// accesses counted for it, by action, and its hash chain must verify: otherwise the benchmark
// fails.
//
// The load generator (this process: 80 replicas, the callers) shares the machine's cores
// with the server, so on a small machine the latencies include waiting for CPU; the summary
// shows how busy the machine was and who used it. Each iteration starts a fresh server. Run
// (about 80 s after the build):
//
//	go test ./tests -run '^$' -bench MondaySpike -benchtime 1x -v
func BenchmarkMondaySpike10x(b *testing.B) {
	b.StopTimer()
	var runs []spikeResult
	for i := 0; i < b.N; i++ {
		runs = append(runs, runSpike(b))
	}
	med := func(f func(spikeResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(med(func(r spikeResult) float64 { return spikeMS(r.p50) }), "p50-ms")
	b.ReportMetric(med(func(r spikeResult) float64 { return spikeMS(r.p99) }), "p99-ms")
	b.ReportMetric(med(func(r spikeResult) float64 { return spikeMS(r.max) }), "max-ms")
	b.ReportMetric(med(func(r spikeResult) float64 { return spikeMS(r.rttP50) }), "intake-p50-ms")
	b.ReportMetric(med(func(r spikeResult) float64 { return spikeMS(r.rttP99) }), "intake-p99-ms")
	b.ReportMetric(med(func(r spikeResult) float64 { return r.cpuPct }), "cpu-%")
	b.ReportMetric(med(func(r spikeResult) float64 { return r.cpuPct / float64(runtime.NumCPU()) }), "cpu-%-of-all")
	b.ReportMetric(med(func(r spikeResult) float64 { return r.peakMiB }), "peak-MiB")
	b.ReportMetric(med(func(r spikeResult) float64 { return r.spikeMaxMiB }), "spike-RSS-MiB")
	b.ReportMetric(med(func(r spikeResult) float64 { return float64(r.audits) }), "audit-entries")
	b.ReportMetric(med(func(r spikeResult) float64 { return spikeMS(r.auditLag) }), "audit-lag-ms")
}

type spikeResult struct {
	p50, p99, max        time.Duration // intake start -> on every caregiver replica that shows its region
	rttP50, rttP99       time.Duration
	cpuPct               float64 // server, % of one core, over the spike
	peakMiB, spikeMaxMiB float64
	audits               int64
	auditLag             time.Duration // spike end -> every audit entry on the server
}

// spikeClinic is one clinic of the spike, with the accesses made in it.
type spikeClinic struct {
	id         string
	caregivers []*spikeCaregiver
	// Accesses, each one audit entry on the server: intakes and claims (audited by the
	// server), reads (written by the device), writes of patient-data rows (audited at ingest).
	intakes, claims, reads, notes, completions, chats atomic.Int64
}

func (c *spikeClinic) accesses() int64 {
	return c.intakes.Load() + c.claims.Load() + c.reads.Load() + c.writes()
}

func (c *spikeClinic) writes() int64 { return c.notes.Load() + c.completions.Load() + c.chats.Load() }

// spikeCall is one intake as made.
type spikeCall struct {
	arrival    spikeArrival
	start, end time.Time
	res        clinic.IntakeResult
	err        error
}

// spikeStats are the caregivers' activity counters, all clinics.
type spikeStats struct {
	claimLost, claimBusy, claimOffline atomic.Int64
	mu                                 sync.Mutex
	claimRTT                           []time.Duration
	errs                               []string
}

func (s *spikeStats) fail(format string, args ...any) {
	s.mu.Lock()
	if len(s.errs) < 20 {
		s.errs = append(s.errs, fmt.Sprintf(format, args...))
	}
	s.mu.Unlock()
}

// benchCPUProfile, when set, has the server of a load benchmark (the spike, the 2,000
// replicas) write a CPU profile of its run there:
//
//	go test ./tests -run '^$' -bench MondaySpike -benchtime 1x -args -bench.server-cpuprofile=/tmp/spike.prof
var benchCPUProfile = flag.String("bench.server-cpuprofile", "", "file for a CPU profile of a load benchmark's server")

// profileArgs are the server flags that write the profile benchCPUProfile asks for.
func profileArgs() []string {
	if *benchCPUProfile == "" {
		return nil
	}
	return []string{"--cpu-profile", *benchCPUProfile}
}

func runSpike(b *testing.B) spikeResult {
	b.Helper()
	data := b.TempDir()
	args := append([]string{"--data", data, "--addr", "127.0.0.1:0", "--log-format", "json"}, profileArgs()...)
	srv := startServer(b, serverOpts{DataDir: data, Args: args})
	proc := spikeProc{pid: srv.cmd.Process.Pid}
	defer func() {
		if err := srv.stop(); err != nil {
			b.Errorf("hearth-server did not stop cleanly: %v", err)
		}
	}()

	// Ten clinics, each configured by its administrator: three regions open all week, and
	// the staff list.
	setupStart := time.Now()
	clinics := make([]*spikeClinic, spikeClinics)
	for c := range clinics {
		clinics[c] = &spikeClinic{id: fmt.Sprintf("spike-%02d", c)}
		mustCtl(b, "tenant", "create", "--data", srv.Data, "--id", clinics[c].id)
		spikeConfigure(b, srv, clinics[c].id)
	}
	// Every caregiver's replica, live.
	var all []*spikeCaregiver
	for c, cl := range clinics {
		for _, st := range spikeStaff {
			var regions []string
			if st.role == clinic.RoleProvider {
				regions = clinic.ParseRegions(st.regions)
			}
			tok := srv.token(b, token.Claims{Tenant: cl.id, User: st.id, Role: st.role, Scopes: clinic.StaffScopes()})
			g := openSpikeCaregiver(b, b.TempDir(), srv.syncURL(cl.id), tok, c, st.id, st.role, regions)
			cl.caregivers = append(cl.caregivers, g)
			all = append(all, g)
		}
	}
	waitFor(b, 60*time.Second, "every caregiver replica online and caught up", func() bool {
		for _, g := range all {
			if st := g.syncer.Status(); !st.Online || st.CatchingUp {
				return false
			}
		}
		return true
	})
	b.Logf("setup: %d clinics configured, %d caregiver replicas live in %s", len(clinics), len(all), time.Since(setupStart).Round(time.Millisecond))

	paths := make([]string, len(clinics))
	for c, cl := range clinics {
		paths[c] = sqlitetenant.Path(srv.Data, cl.id)
	}
	audit := openSpikeAuditReader(b, paths)
	defer audit.close()
	baseRSS, _, err := proc.mem()
	if err != nil {
		b.Fatal(err)
	}

	// The spike.
	schedule := spikeSchedule(spikeSeed)
	calls := make([]spikeCall, len(schedule))
	stats := &spikeStats{}
	totalCounted := func() int64 {
		var n int64
		for _, cl := range clinics {
			n += cl.accesses()
		}
		return n
	}
	start := time.Now()
	cpu0, err := proc.cpu()
	if err != nil {
		b.Fatal(err)
	}
	self0 := spikeSelfCPU()
	busy0, total0, irq0 := spikeMachineCPU()
	load0 := spikeLoadAvg()

	// Sampler: server CPU and RSS, this process's CPU, audit rows on the server vs counted.
	var samples []spikeReading
	var sampleErr error
	sctx, stopSampler := context.WithCancel(context.Background())
	sdone := make(chan struct{})
	go func() {
		defer close(sdone)
		t := time.NewTicker(spikeSample)
		defer t.Stop()
		for i := 0; i < 10_000; i++ { // bounded; sctx ends it long before
			counted := totalCounted()
			c, err1 := proc.cpu()
			rss, _, err2 := proc.mem()
			s := spikeReading{at: time.Since(start), cpu: c, self: spikeSelfCPU(), rssKiB: rss, auditsOn: -1, counted: counted}
			if i%2 == 0 { // every 500 ms
				if n, err := audit.counts(sctx); err == nil {
					s.auditsOn = 0
					for _, v := range n {
						s.auditsOn += v
					}
				}
			}
			if err := errors.Join(err1, err2); err != nil {
				sampleErr = err
				return
			}
			samples = append(samples, s)
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	defer func() { stopSampler(); <-sdone }()

	// Caregivers at work.
	actx, stopWork := context.WithCancel(context.Background())
	var work sync.WaitGroup
	for k, g := range all {
		cl := clinics[g.clinic]
		work.Add(1)
		go func() {
			defer work.Done()
			rng := rand.New(rand.NewPCG(spikeSeed, uint64(k)))
			if g.role == clinic.RoleProvider {
				spikeProvider(actx, g, cl, stats, rng)
			} else {
				spikeSupport(actx, g, cl, stats, rng)
			}
		}()
	}

	// Patients arrive: a dispatcher hands each arrival at its time to a free caller.
	next := make(chan int)
	var callers sync.WaitGroup
	for w := range spikeCallers {
		callers.Add(1)
		go func() {
			defer callers.Done()
			rng := rand.New(rand.NewPCG(spikeSeed, 1000+uint64(w)))
			for i := range next {
				a := schedule[i]
				in := spikeIntake(a, rng)
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				c := &calls[i]
				c.arrival, c.start = a, time.Now()
				c.err = engine.Call(ctx, &wstransport.Dialer{URL: srv.syncURL(clinics[a.clinic].id)},
					engine.CallOptions{Schema: clinic.Schema.Version(), Client: "spike-intake"}, clinic.RequestIntake, in, &c.res)
				c.end = time.Now()
				cancel()
				if c.err == nil && c.res.Admitted {
					clinics[a.clinic].intakes.Add(1)
				}
			}
		}()
	}
	for i, a := range schedule {
		if d := time.Until(start.Add(a.at)); d > 0 {
			time.Sleep(d)
		}
		next <- i
	}
	close(next)
	callers.Wait()
	lastReturn := time.Now()
	if d := time.Until(start.Add(spikeReal)); d > 0 {
		time.Sleep(d) // the caregivers work to the end of the window
	}
	// The spike ends: caregivers stop (a provider in a visit leaves it open; nobody makes a
	// new access after this), and every access made has been counted.
	stopWork()
	work.Wait()
	end := time.Now()
	cpu1, err := proc.cpu()
	if err != nil {
		b.Fatal(err)
	}
	self1 := spikeSelfCPU()
	busy1, total1, irq1 := spikeMachineCPU()
	load1 := spikeLoadAvg()
	spikeDur := end.Sub(start)

	var failures []string
	for i := range calls {
		c := &calls[i]
		switch {
		case c.err != nil:
			failures = append(failures, fmt.Sprintf("intake %d (clinic %d): %v", i, c.arrival.clinic, c.err))
		case !c.res.Admitted:
			failures = append(failures, fmt.Sprintf("intake %d (clinic %d, %s) refused: %s", i, c.arrival.clinic, c.arrival.region, c.res.Reason))
		}
	}
	if len(failures) > 0 {
		b.Fatalf("%d of %d intakes failed; first: %s", len(failures), len(calls), strings.Join(failures[:min(5, len(failures))], "; "))
	}
	if len(stats.errs) > 0 {
		b.Fatalf("caregiver errors: %s", strings.Join(stats.errs, "; "))
	}

	// Settle: every outbox empty, every audit entry on the server, every visit on every
	// caregiver replica that shows its region.
	expected := make([]int64, len(clinics))
	for c, cl := range clinics {
		expected[c] = cl.accesses()
	}
	var auditDone time.Time
	var lastCounts []int64
	missing := func() (pending, unseen int) {
		for _, g := range all {
			st, err := g.rep.State(context.Background())
			if err != nil || st.Pending > 0 {
				pending++
			}
		}
		for i := range calls {
			c := &calls[i]
			for _, g := range clinics[c.arrival.clinic].caregivers {
				if _, ok := g.seenAt(c.res.Visit); !ok {
					unseen++
				}
			}
		}
		return pending, unseen
	}
	deadline := end.Add(spikeSettle)
	for {
		counts, err := audit.counts(context.Background())
		if err != nil {
			b.Fatalf("count audit entries: %v", err)
		}
		lastCounts = counts
		if auditDone.IsZero() && slices.Equal(counts, expected) {
			auditDone = time.Now()
		}
		pending, unseen := missing()
		if !auditDone.IsZero() && pending == 0 && unseen == 0 {
			break
		}
		if time.Now().After(deadline) {
			var st []string
			for _, g := range all {
				if s := g.syncer.Status(); s.Pending > 0 || s.Err != "" || !s.Online {
					st = append(st, fmt.Sprintf("%s/%d pending %d online %v err %q", g.user, g.clinic, s.Pending, s.Online, s.Err))
				}
			}
			b.Fatalf("not settled %s after the spike: audit rows on the server %v, accesses counted %v; %d replicas with a non-empty outbox, %d (visit, caregiver) pairs not delivered; %s",
				spikeSettle, counts, expected, pending, unseen, strings.Join(st[:min(len(st), 10)], "; "))
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	settled := time.Now()
	stopSampler()
	<-sdone
	if sampleErr != nil {
		b.Fatalf("sampling the server: %v", sampleErr)
	}
	_, hwm, err := proc.mem()
	if err != nil {
		b.Fatal(err)
	}
	metrics, err := spikeMetrics(srv.URL)
	if err != nil {
		b.Fatalf("scrape /metrics: %v", err)
	}

	// Latencies, from each replica's record of when the visit first landed in it.
	type lat struct{ all, relevant, first time.Duration }
	lats := make([]lat, len(calls))
	var rel, every, first, rtt, late, sched []time.Duration
	for i := range calls {
		c := &calls[i]
		l := lat{first: time.Duration(1 << 62)}
		for _, g := range clinics[c.arrival.clinic].caregivers {
			t, _ := g.seenAt(c.res.Visit)
			d := t.Sub(c.start)
			l.all = max(l.all, d)
			if g.sees(c.arrival.region) {
				l.relevant = max(l.relevant, d)
				l.first = min(l.first, d)
			}
		}
		lats[i] = l
		rel, every, first = append(rel, l.relevant), append(every, l.all), append(first, l.first)
		rtt = append(rtt, c.end.Sub(c.start))
		late = append(late, c.start.Sub(start.Add(c.arrival.at)))
		sched = append(sched, c.start.Sub(start.Add(c.arrival.at))+l.relevant)
	}
	for _, s := range [][]time.Duration{rel, every, first, rtt, late, sched} {
		slices.Sort(s)
	}
	stats.mu.Lock()
	claimRTT := slices.Clone(stats.claimRTT)
	stats.mu.Unlock()
	slices.Sort(claimRTT)

	// Stop the replicas and the server, then check each clinic's audit trail in its store.
	for _, g := range all {
		g.stop(b)
	}
	audit.close()
	if err := srv.stop(); err != nil {
		b.Fatalf("hearth-server did not stop cleanly: %v", err)
	}
	var auditTotal int64
	var logTables = map[string]int64{}
	var visitStates = map[string]int64{}
	var chainLinks int
	for _, cl := range clinics {
		got := spikeCheckTenant(b, srv.Data, cl, logTables, visitStates)
		auditTotal += got.total
		chainLinks += got.links
	}

	// Per-window view: arrivals, latencies, server CPU and memory.
	type window struct {
		n                int
		rel, rtt         []time.Duration
		cpu0, cpu1       time.Duration
		self0, self1     time.Duration
		t0, t1           time.Duration
		maxRSS           int64
		auditBacklogPeak int64
	}
	nw := max(int(spikeDur/spikeWindow), 1)
	if spikeDur%spikeWindow > time.Second {
		nw++ // a partial last window, if it is long enough to say something
	}
	wins := make([]window, nw)
	for i := range calls {
		k := min(int(calls[i].start.Sub(start)/spikeWindow), nw-1)
		wins[k].n++
		wins[k].rel = append(wins[k].rel, lats[i].relevant)
		wins[k].rtt = append(wins[k].rtt, calls[i].end.Sub(calls[i].start))
	}
	var spikeMaxRSS, rssSum, rssN int64
	var backlogPeak int64
	for k := range wins {
		wins[k].t0 = -1
	}
	for _, s := range samples {
		k := min(int(s.at/spikeWindow), nw-1)
		w := &wins[k]
		if w.t0 < 0 {
			w.t0, w.cpu0, w.self0 = s.at, s.cpu, s.self
		}
		w.t1, w.cpu1, w.self1 = s.at, s.cpu, s.self
		w.maxRSS = max(w.maxRSS, s.rssKiB)
		if s.auditsOn >= 0 {
			w.auditBacklogPeak = max(w.auditBacklogPeak, s.counted-s.auditsOn)
		}
		if s.at <= spikeDur {
			spikeMaxRSS = max(spikeMaxRSS, s.rssKiB)
			rssSum += s.rssKiB
			rssN++
			if s.auditsOn >= 0 {
				backlogPeak = max(backlogPeak, s.counted-s.auditsOn)
			}
		}
	}
	// Consecutive windows share their edge sample, so CPU deltas add up.
	for k := 1; k < nw; k++ {
		if wins[k-1].t0 >= 0 && wins[k].t0 >= 0 {
			wins[k].t0, wins[k].cpu0, wins[k].self0 = wins[k-1].t1, wins[k-1].cpu1, wins[k-1].self1
		}
	}

	res := spikeResult{
		p50: spikePct(rel, 0.50), p99: spikePct(rel, 0.99), max: spikePct(rel, 1),
		rttP50: spikePct(rtt, 0.50), rttP99: spikePct(rtt, 0.99),
		cpuPct:  100 * float64(cpu1-cpu0) / float64(spikeDur),
		peakMiB: mib(hwm), spikeMaxMiB: mib(spikeMaxRSS),
		audits:   auditTotal,
		auditLag: max(auditDone.Sub(end), 0),
	}
	selfPct := 100 * float64(self1-self0) / float64(spikeDur)
	var intakes, claims, reads, writes, notes, completions, chats int64
	for _, cl := range clinics {
		intakes += cl.intakes.Load()
		claims += cl.claims.Load()
		reads += cl.reads.Load()
		writes += cl.writes()
		notes += cl.notes.Load()
		completions += cl.completions.Load()
		chats += cl.chats.Load()
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nMonday spike x10 on the real hearth-server, loopback, %d CPUs (GOMAXPROCS %d)\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(&sb, "  %d clinics x %d intakes = %d in %s simulated = %s real (x%.0f), %d callers; %d caregiver replicas live\n",
		spikeClinics, spikeIntakesPerClinic, len(calls), spikeSimulated, spikeReal, float64(spikeSimulated)/float64(spikeReal), spikeCallers, len(all))
	fmt.Fprintf(&sb, "  spike %s (last intake returned at +%s), settled %s after its end\n",
		spikeDur.Round(time.Millisecond), lastReturn.Sub(start).Round(time.Millisecond), settled.Sub(end).Round(time.Millisecond))
	fmt.Fprintf(&sb, "  %-52s %9s %9s %9s %9s\n", "latency (ms)", "p50", "p90", "p99", "max")
	row := func(name string, s []time.Duration) {
		fmt.Fprintf(&sb, "  %-52s %9.1f %9.1f %9.1f %9.1f\n", name, spikeMS(spikePct(s, 0.5)), spikeMS(spikePct(s, 0.9)), spikeMS(spikePct(s, 0.99)), spikeMS(spikePct(s, 1)))
	}
	row("intake -> on every caregiver showing its region", rel)
	row("intake -> on all 8 caregiver replicas of the clinic", every)
	row("intake -> on the first caregiver replica", first)
	row("intake call round trip (dial, hello, request)", rtt)
	row("intake start behind schedule (caller pool)", late)
	row("scheduled arrival -> on every caregiver showing it", sched)
	row("claim round trip (provider's live connection)", claimRTT)
	fmt.Fprintf(&sb, "  goal p99 < %s: %v (p99 %.1f ms)\n", spikeGoalP99, res.p99 < spikeGoalP99, spikeMS(res.p99))
	fmt.Fprintf(&sb, "  server CPU over the spike: %.1f%% of one core = %.1f%% of %d cores (%.2f s CPU in %.2f s); load generator (this process): %.1f%% of one core\n",
		res.cpuPct, res.cpuPct/float64(runtime.NumCPU()), runtime.NumCPU(), (cpu1 - cpu0).Seconds(), spikeDur.Seconds(), selfPct)
	machineBusy := float64(busy1-busy0) / float64(max(total1-total0, 1)) * 100
	irq := time.Duration(irq1-irq0) * time.Second / spikeClkTck
	others := time.Duration(busy1-busy0)*time.Second/spikeClkTck - (cpu1 - cpu0) - (self1 - self0) - irq
	fmt.Fprintf(&sb, "  machine: %.0f%% of all cores busy over the spike: server %.1f s, load generator %.1f s, interrupts (softirq: loopback) %.1f s, other processes %.1f s of CPU; load average %s at the start, %s at the end\n",
		machineBusy, (cpu1 - cpu0).Seconds(), (self1 - self0).Seconds(), irq.Seconds(), others.Seconds(), load0, load1)
	fmt.Fprintf(&sb, "  server RSS: before the spike %.1f MiB, during it max %.1f MiB mean %.1f MiB, VmHWM %.1f MiB\n",
		mib(baseRSS), mib(spikeMaxRSS), mib(rssSum/max(rssN, 1)), res.peakMiB)
	fmt.Fprintf(&sb, "  accesses: %d intakes, %d claims, %d chart reads, %d patient-data writes (%d notes, %d completions, %d chat) = %d; audit_events on the server %d; chain links %d, every chain OK\n",
		intakes, claims, reads, writes, notes, completions, chats, intakes+claims+reads+writes, auditTotal, chainLinks)
	fmt.Fprintf(&sb, "  audit: all entries on the server %s after the spike's end; peak backlog during the spike (counted - on server, sampled every 500 ms) %d; per clinic at settle %v\n",
		res.auditLag.Round(time.Millisecond), backlogPeak, lastCounts)
	fmt.Fprintf(&sb, "  claims: %d won, %d lost to another provider, %d refused busy (completion not yet pushed), %d offline\n",
		claims, stats.claimLost.Load(), stats.claimBusy.Load(), stats.claimOffline.Load())
	fmt.Fprintf(&sb, "  server log by table: %v; visits at the end by status: %v\n", logTables, visitStates)
	var pages, progress, empty, estimatePages int64
	applied := map[string]int64{}
	for _, g := range all {
		g.mu.Lock()
		pages, progress, empty, estimatePages = pages+g.pages, progress+g.progress, empty+g.emptyPages, estimatePages+g.estimatePages
		for k, v := range g.changes {
			applied[k] += v
		}
		g.mu.Unlock()
	}
	fmt.Fprintf(&sb, "  caregiver replicas: %d pages applied (%d empty, %d only wait-time estimates), %d Progress frames sent (one server write transaction each); changes applied by table: %v\n",
		pages, empty, estimatePages, progress, applied)
	fmt.Fprintf(&sb, "  /metrics: changes sent %.0f, ingested %.0f, push batches %.0f, sessions %.0f, GC cycles %.0f",
		metrics["hearth_changes_sent_total"], metrics["hearth_changes_ingested_total"], metrics["hearth_push_batches_total"], metrics["hearth_sessions"], metrics["go_gc_duration_seconds_count"])
	for k, v := range metrics {
		if strings.HasPrefix(k, "hearth_errors_total") {
			fmt.Fprintf(&sb, ", %s %.0f", strings.TrimPrefix(k, "hearth_errors_total"), v)
		}
	}
	fmt.Fprintf(&sb, "\n  %-9s %7s %9s %9s %9s %9s %9s %9s %9s\n", "window", "intakes", "e2e p50", "e2e p99", "e2e max", "rtt p99", "srv CPU%", "gen CPU%", "srv RSS")
	for k, w := range wins {
		slices.Sort(w.rel)
		slices.Sort(w.rtt)
		cpu, self := 0.0, 0.0
		if d := w.t1 - w.t0; w.t0 >= 0 && d > 0 {
			cpu, self = 100*float64(w.cpu1-w.cpu0)/float64(d), 100*float64(w.self1-w.self0)/float64(d)
		}
		lat := fmt.Sprintf("%9s %9s %9s %9s", "-", "-", "-", "-")
		if w.n > 0 {
			lat = fmt.Sprintf("%9.1f %9.1f %9.1f %9.1f", spikeMS(spikePct(w.rel, 0.5)), spikeMS(spikePct(w.rel, 0.99)), spikeMS(spikePct(w.rel, 1)), spikeMS(spikePct(w.rtt, 0.99)))
		}
		fmt.Fprintf(&sb, "  %3d-%3ds %7d %s %9.0f %9.0f %8.0fM\n", k*int(spikeWindow/time.Second), (k+1)*int(spikeWindow/time.Second),
			w.n, lat, cpu, self, mib(w.maxRSS))
	}
	if warn := spikeLogLines(srv.log.String()); warn != "" {
		fmt.Fprintf(&sb, "  server log: %s\n", warn)
	}
	b.Log(sb.String())
	return res
}

// spikeConfigure writes the clinic's regions and staff as its administrator and syncs them.
func spikeConfigure(b *testing.B, srv *server, tenant string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := sqlitestore.OpenReplica(ctx, b.TempDir()+"/admin.db", clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer rep.Close()
	now := time.Now().UnixMilli()
	var muts []engine.Mutation
	for _, r := range spikeRegions {
		muts = append(muts, engine.Mutation{Table: "regions", ID: r, Values: map[string]any{
			"name": r, "mode": clinic.ModeOpen, "hours": "mon-sun 00:00-24:00", "time_zone": "", "message": "",
			"busy_limit": int64(0), "updated_by": "admin", "updated_at": now}})
	}
	for _, s := range spikeStaff {
		muts = append(muts, engine.Mutation{Table: "staff", ID: s.id, Values: map[string]any{
			"name": s.id, "role": s.role, "regions": s.regions, "on_shift": int64(1), "updated_at": now}})
	}
	if _, err := rep.Write(ctx, muts...); err != nil {
		b.Fatal(err)
	}
	tok := srv.token(b, token.Claims{Tenant: tenant, User: "admin", Role: clinic.RoleAdmin, Scopes: []string{engine.AllScopes}})
	s := engine.NewSyncer(rep, &wstransport.Dialer{URL: srv.syncURL(tenant)}, engine.SyncOptions{Token: tok, Client: "spike/admin"})
	if err := s.SyncOnce(ctx); err != nil {
		b.Fatalf("configure %s: %v", tenant, err)
	}
}

// spikeProvider claims the oldest waiting patient of the provider's regions, reads the chart,
// sees them for a few seconds, writes a note and completes the visit, until ctx ends.
func spikeProvider(ctx context.Context, g *spikeCaregiver, cl *spikeClinic, stats *spikeStats, rng *rand.Rand) {
	for ctx.Err() == nil {
		queue, err := g.queue(ctx, 6)
		if err != nil {
			if ctx.Err() == nil {
				stats.fail("%s/%d queue: %v", g.user, g.clinic, err)
			}
			return
		}
		var got spikeQueued
		retry := false
	claim:
		for _, q := range queue {
			// The request is not cancelled by the spike's end: an abandoned claim would be in
			// doubt, and so would its audit entry.
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			t0 := time.Now()
			var res clinic.ClaimResult
			err := g.syncer.Request(rctx, clinic.RequestClaim, clinic.VisitArgs{Visit: q.visit}, &res)
			d := time.Since(t0)
			cancel()
			stats.mu.Lock()
			stats.claimRTT = append(stats.claimRTT, d)
			stats.mu.Unlock()
			var re *engine.RemoteError
			switch {
			case err == nil:
				cl.claims.Add(1)
				got = q
				break claim
			case errors.As(err, &re) && (re.Err.Code == clinic.CodeAlreadyClaimed || re.Err.Code == clinic.CodeTransition):
				stats.claimLost.Add(1) // another provider was quicker: try the next patient
			case errors.As(err, &re) && re.Err.Code == clinic.CodeBusy:
				// Our completion of the last visit is still in the outbox (the sync loop
				// debounces local writes): the server has not seen it yet. Try again shortly.
				stats.claimBusy.Add(1)
				retry = true
				spikeSleep(ctx, 10*time.Millisecond)
				break claim
			case errors.Is(err, engine.ErrOffline):
				stats.claimOffline.Add(1)
				retry = true
				spikeSleep(ctx, 50*time.Millisecond)
				break claim
			default:
				stats.fail("%s/%d claim %s: %v", g.user, g.clinic, q.visit, err)
				return
			}
		}
		if got.visit == "" {
			if !retry {
				g.wait(ctx, 200*time.Millisecond) // nobody to take: wait for the queue to change
			}
			continue
		}
		// Opening the chart is a read of patient data: the device records it.
		cl.reads.Add(1)
		read := clinic.ReadAccess(g.actor, "patients", got.patient, got.patient, time.Now())
		if _, err := g.rep.Write(context.Background(), read.Mutation()); err != nil {
			stats.fail("%s/%d record read: %v", g.user, g.clinic, err)
			return
		}
		if !spikeSleep(ctx, spikeVisitMin+time.Duration(rng.Int64N(int64(spikeVisitMax-spikeVisitMin)))) {
			return // the spike ended mid-visit: the visit stays open
		}
		now := time.Now().UnixMilli()
		cl.notes.Add(1)
		cl.completions.Add(1)
		if _, err := g.rep.Write(context.Background(),
			engine.Mutation{Table: "visit_notes", ID: engine.NewID(), Values: map[string]any{
				"visit_id": got.visit, "author_id": g.user, "body": "Viral URI. Fluids, rest; return if worse.", "updated_at": now}},
			engine.Mutation{Table: "visits", ID: got.visit, Values: map[string]any{
				"status": clinic.StatusCompleted, "ended_at": now, "ended_by": g.user}},
		); err != nil {
			stats.fail("%s/%d complete visit: %v", g.user, g.clinic, err)
			return
		}
	}
}

// spikeSupport sends a chat message to the longest-waiting patient it has not written to yet,
// every spikeSupportEvery (with jitter), until ctx ends.
func spikeSupport(ctx context.Context, g *spikeCaregiver, cl *spikeClinic, stats *spikeStats, rng *rand.Rand) {
	messaged := map[string]bool{}
	for spikeSleep(ctx, spikeSupportEvery/2+time.Duration(rng.Int64N(int64(spikeSupportEvery)))) {
		queue, err := g.queue(ctx, 64)
		if err != nil {
			if ctx.Err() == nil {
				stats.fail("%s/%d queue: %v", g.user, g.clinic, err)
			}
			return
		}
		for _, q := range queue {
			if messaged[q.visit] {
				continue
			}
			messaged[q.visit] = true
			cl.chats.Add(1)
			if _, err := g.rep.Write(context.Background(), engine.Mutation{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{
				"visit_id": q.visit, "sender_id": g.user, "sender_role": clinic.RoleSupport,
				"body": "Thanks for waiting: a clinician will be with you soon.", "sent_at": time.Now().UnixMilli()}}); err != nil {
				stats.fail("%s/%d chat: %v", g.user, g.clinic, err)
				return
			}
			break
		}
	}
}

// spikeTenantCheck is what one clinic's store holds after the spike.
type spikeTenantCheck struct {
	total int64
	links int
}

// spikeCheckTenant opens a clinic's store (the server stopped), compares its audit entries by
// action with the accesses counted, and verifies the hash chain; it fails the benchmark on
// any difference. It adds the store's log entries by table and visits by status to the maps.
func spikeCheckTenant(b *testing.B, data string, cl *spikeClinic, logTables, visitStates map[string]int64) spikeTenantCheck {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := sqlitetenant.Open(ctx, sqlitetenant.Path(data, cl.id), clinic.Schema, sqlitetenant.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t, err := syncserver.OpenTenant(ctx, cl.id, store, nil)
	if err != nil {
		store.Close()
		b.Fatal(err)
	}
	defer t.Close()
	db := store.DB().Reader()
	group := func(q string, into map[string]int64) {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				b.Fatal(err)
			}
			into[k] += n
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
	}
	byAction := map[string]int64{}
	group(`SELECT action, count(*) FROM audit_events GROUP BY action`, byAction)
	group(`SELECT tbl, count(*) FROM _server_log GROUP BY tbl`, logTables)
	group(`SELECT status, count(*) FROM visits GROUP BY status`, visitStates)
	want := map[string]int64{clinic.ActionIntake: cl.intakes.Load(), clinic.ActionClaim: cl.claims.Load(),
		clinic.ActionRead: cl.reads.Load(), clinic.ActionWrite: cl.writes()}
	var total int64
	for _, n := range byAction {
		total += n
	}
	for a, n := range want {
		if byAction[a] != n {
			b.Errorf("clinic %s: %d audit entries %q on the server, %d such accesses made", cl.id, byAction[a], a, n)
		}
	}
	if total != cl.accesses() {
		b.Fatalf("clinic %s: %d audit entries on the server (%v), %d accesses made (%v)", cl.id, total, byAction, cl.accesses(), want)
	}
	rep, err := t.VerifyChain(ctx)
	if err != nil {
		b.Fatalf("clinic %s: verify chain: %v", cl.id, err)
	}
	if !rep.OK || int64(rep.Links) != total {
		b.Fatalf("clinic %s: chain %+v; want OK with %d links", cl.id, rep, total)
	}
	return spikeTenantCheck{total: total, links: rep.Links}
}

// spikeLogLines summarizes the server's warnings and errors (and "session ended" with an
// error) by message, from its JSON log.
func spikeLogLines(log string) string {
	counts := map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		lvl := ""
		switch {
		case strings.Contains(line, `"level":"WARN"`):
			lvl = "WARN"
		case strings.Contains(line, `"level":"ERROR"`):
			lvl = "ERROR"
		case strings.Contains(line, `"msg":"session ended"`) && strings.Contains(line, `"err"`):
			lvl = "INFO"
		default:
			continue
		}
		msg := line
		if i := strings.Index(line, `"msg":"`); i >= 0 {
			msg = line[i+7:]
			if j := strings.IndexByte(msg, '"'); j >= 0 {
				msg = msg[:j]
			}
		}
		if i := strings.Index(line, `"err":"`); i >= 0 && lvl != "INFO" {
			e := line[i+7:]
			if j := strings.IndexByte(e, '"'); j >= 0 {
				e = e[:j]
			}
			msg += " (" + e + ")"
		}
		counts[lvl+" "+msg]++
	}
	var parts []string
	for k, n := range counts {
		parts = append(parts, fmt.Sprintf("%dx %s", n, k))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}
