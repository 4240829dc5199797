package tests

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
)

// Helpers of BenchmarkMondaySpike10x (spike_bench_test.go): the arrival schedule, the caregiver
// replicas that time when each visit reaches them, and the readers of the server process's
// CPU and memory.

// spikeArrival is one scheduled intake.
type spikeArrival struct {
	clinic int
	region string
	at     time.Duration // real-time offset from the start of the spike
	seq    int           // per clinic, for unique names and phones
}

// spikeSchedule draws every clinic's arrivals over the compressed window, Monday-morning
// shaped (spikeShape), with regions weighted by spikeRegionWeights, from a fixed seed so that
// every run offers the same load. The result is sorted by time.
func spikeSchedule(seed uint64) []spikeArrival {
	var out []spikeArrival
	for c := range spikeClinics {
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		for i := range spikeIntakesPerClinic {
			// Pick a segment of the window by its share of arrivals, then a uniform time in it.
			u, from := rng.Float64(), 0.0
			var seg [2]float64
			acc := 0.0
			for _, s := range spikeShape {
				acc += s.share
				seg = [2]float64{from, s.upTo}
				if u < acc {
					break
				}
				from = s.upTo
			}
			frac := seg[0] + rng.Float64()*(seg[1]-seg[0])
			w, region := rng.Float64(), spikeRegions[len(spikeRegions)-1]
			acc = 0
			for k, p := range spikeRegionWeights {
				if acc += p; w < acc {
					region = spikeRegions[k]
					break
				}
			}
			out = append(out, spikeArrival{clinic: c, region: region, seq: i,
				at: time.Duration(frac * float64(spikeReal))})
		}
	}
	slices.SortStableFunc(out, func(a, b spikeArrival) int { return int(a.at - b.at) })
	return out
}

// spikeIntake is what the patient's page typed: a new person each time (unique phone), so
// intake creates a patient and a visit and never matches an existing chart.
func spikeIntake(a spikeArrival, rng *rand.Rand) clinic.Intake {
	birth := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(75*365))
	return clinic.Intake{
		GivenName: fmt.Sprintf("Pat%d", a.seq), FamilyName: fmt.Sprintf("Spike C%d", a.clinic),
		BirthDate: birth.Format(time.DateOnly), Phone: fmt.Sprintf("+1 555 %03d %04d", a.clinic, a.seq),
		Region: a.region, Reason: "fever and cough since the weekend", Consent: true,
	}
}

// spikeCaregiver is one caregiver's desktop: a real SQLite replica with its sync loop live,
// which notes when each visit first lands in it.
type spikeCaregiver struct {
	clinic  int
	user    string
	role    string
	regions []string // licensed (providers); nil for support, who see every region
	actor   clinic.Actor
	rep     *sqlitestore.Replica
	syncer  *engine.Syncer

	mu      sync.Mutex
	seen    map[string]time.Time // visit id -> when the page that brought it was applied
	changes map[string]int64     // changes applied, by table
	poke    chan struct{}        // a page was applied: the queue may have changed
	// Pages received: all of them; the last of each pull (the sync loop answers each with a
	// Progress frame, which the server records in a write transaction); those with no change
	// (the cursor moved past changes outside the replica's scopes, such as audit entries); and
	// those holding only wait-time estimates.
	pages, progress, emptyPages, estimatePages int64

	cancel context.CancelFunc
	done   chan error
}

// openSpikeCaregiver opens the replica in dir and starts its sync loop.
func openSpikeCaregiver(tb testing.TB, dir, url, tok string, c int, user, role string, regions []string) *spikeCaregiver {
	tb.Helper()
	rep, err := sqlitestore.OpenReplica(context.Background(), filepath.Join(dir, user+".db"), clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rep.Close() })
	g := &spikeCaregiver{clinic: c, user: user, role: role, regions: regions, rep: rep,
		seen: map[string]time.Time{}, changes: map[string]int64{}, poke: make(chan struct{}, 1), done: make(chan error, 1)}
	g.actor = clinic.Actor{User: user, Role: role, Device: rep.SiteID().String()}
	g.syncer = engine.NewSyncer(spikeStore{rep, g}, &wstransport.Dialer{URL: url}, engine.SyncOptions{Token: tok,
		Client: "spike/" + user, MinBackoff: 20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
	rep.OnLocalWrite(g.syncer.Notify)
	rep.OnRemoteChanges(g.applied)
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	go func() { g.done <- g.syncer.Run(ctx) }()
	tb.Cleanup(func() { g.stop(tb) })
	return g
}

// spikeStore is the replica as its sync loop sees it, counting the pages it applies.
type spikeStore struct {
	*sqlitestore.Replica
	g *spikeCaregiver
}

func (s spikeStore) ApplyRemote(ctx context.Context, page *engine.Changes) error {
	estimates := len(page.Changes) > 0
	for i := range page.Changes {
		estimates = estimates && page.Changes[i].Table == "visit_estimates"
	}
	s.g.mu.Lock()
	s.g.pages++
	if !page.More {
		s.g.progress++
	}
	if len(page.Changes) == 0 {
		s.g.emptyPages++
	}
	if estimates {
		s.g.estimatePages++
	}
	s.g.mu.Unlock()
	return s.Replica.ApplyRemote(ctx, page)
}

// applied runs on the sync loop after each committed page: it must not block.
func (g *spikeCaregiver) applied(chs []engine.Change) {
	now := time.Now()
	g.mu.Lock()
	for i := range chs {
		g.changes[chs[i].Table]++
		if chs[i].Table == "visits" {
			if _, ok := g.seen[chs[i].ID]; !ok {
				g.seen[chs[i].ID] = now
			}
		}
	}
	g.mu.Unlock()
	select {
	case g.poke <- struct{}{}:
	default:
	}
}

func (g *spikeCaregiver) seenAt(visit string) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.seen[visit]
	return t, ok
}

// stop ends the sync loop (bounded); safe to call twice.
func (g *spikeCaregiver) stop(tb testing.TB) {
	if g.cancel == nil {
		return
	}
	g.cancel()
	g.cancel = nil
	select {
	case err := <-g.done:
		if err != nil {
			tb.Errorf("%s/%d: sync loop ended with %v", g.user, g.clinic, err)
		}
	case <-time.After(10 * time.Second):
		tb.Errorf("%s/%d: sync loop did not stop within 10s", g.user, g.clinic)
	}
}

// sees reports whether the caregiver's queue shows patients of region.
func (g *spikeCaregiver) sees(region string) bool {
	return g.regions == nil || slices.Contains(g.regions, region)
}

// spikeQueued is a waiting patient as the caregiver's local queue shows them.
type spikeQueued struct{ visit, patient string }

// queue reads the oldest waiting patients in the caregiver's regions from the local replica.
func (g *spikeCaregiver) queue(ctx context.Context, limit int) ([]spikeQueued, error) {
	q := `SELECT id, patient_id FROM visits WHERE status = ?`
	args := []any{clinic.StatusWaiting}
	if g.regions != nil {
		q += ` AND region IN (` + strings.TrimSuffix(strings.Repeat("?,", len(g.regions)), ",") + `)`
		for _, r := range g.regions {
			args = append(args, r)
		}
	}
	q += ` ORDER BY requested_at, id LIMIT ?`
	args = append(args, limit)
	rows, err := g.rep.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []spikeQueued
	for rows.Next() {
		var v spikeQueued
		var p sql.NullString
		if err := rows.Scan(&v.visit, &p); err != nil {
			return nil, err
		}
		v.patient = p.String
		out = append(out, v)
	}
	return out, rows.Err()
}

// wait blocks until a page arrives, d passes or ctx ends.
func (g *spikeCaregiver) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-g.poke:
	case <-t.C:
	case <-ctx.Done():
	}
}

// spikeSleep sleeps d or until ctx ends; it reports whether the whole d passed.
func spikeSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// spikeProc reads a process's CPU time (utime+stime) and VmRSS.
type spikeProc struct{ pid int }

// spikeClkTck is USER_HZ, the unit of /proc/PID/stat's times: 100 on Linux (getconf CLK_TCK).
const spikeClkTck = 100

func (p spikeProc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after its ')' are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / spikeClkTck, nil
}

// mem returns VmRSS and VmHWM in KiB.
func (p spikeProc) mem() (rss, hwm int64, err error) { return procMem(p.pid) }

// spikeMachineCPU reads /proc/stat's first line: busy and total time of all CPUs, and the
// part of busy spent in interrupts (softirq: loopback networking) and stolen, in ticks.
func spikeMachineCPU() (busy, total, irq int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		if i >= 8 { // guest and guest_nice are already counted in user and nice
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
		if i >= 5 { // irq, softirq, steal
			irq += n
		}
	}
	return busy, total, irq
}

// spikeLoadAvg is /proc/loadavg's first three fields.
func spikeLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// spikeSelfCPU is this (the load generator's) process's CPU time so far.
func spikeSelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spikeReading is one reading of the server process (and of this one) during the spike.
type spikeReading struct {
	at       time.Duration // since the spike's start
	cpu      time.Duration // server utime+stime, cumulative
	self     time.Duration // this process's CPU, cumulative
	rssKiB   int64
	auditsOn int64 // audit rows on the server, all clinics (-1 when not read)
	counted  int64 // accesses counted by then, all clinics
}

// spikePct returns the p-quantile (nearest rank) of sorted durations, 0 when empty.
func spikePct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func spikeMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// spikeAuditReader counts audit rows in the server's tenant files through read-only
// connections while the server runs (WAL lets readers in beside its writer).
type spikeAuditReader struct{ dbs []*sql.DB }

func openSpikeAuditReader(tb testing.TB, paths []string) *spikeAuditReader {
	tb.Helper()
	r := &spikeAuditReader{}
	for _, p := range paths {
		db, err := sql.Open("sqlite3", "file:"+p+"?mode=ro&_busy_timeout=5000")
		if err != nil {
			tb.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		r.dbs = append(r.dbs, db)
	}
	return r
}

func (r *spikeAuditReader) counts(ctx context.Context) ([]int64, error) {
	out := make([]int64, len(r.dbs))
	for i, db := range r.dbs {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`).Scan(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *spikeAuditReader) close() {
	for _, db := range r.dbs {
		db.Close()
	}
	r.dbs = nil
}

// spikeMetrics reads the hearth_* series (labelled ones included) from /metrics.
func spikeMetrics(base string) (map[string]float64, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "hearth_") && !strings.HasPrefix(line, "go_gc_duration_seconds_count") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}
