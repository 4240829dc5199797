package tests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/wstransport"
	"hearth/syncserver/token"

	"github.com/vmihailenco/msgpack/v5"
)

// The shape of BenchmarkServerMemory2000Replicas ("Clinics on flaky connections": peak server
// memory with 2,000 connected replicas, one of them a stalled reader; target flat, < 500 MiB).
const (
	loadReplicas   = 2000                   // live sessions, the stalled one included
	loadWriters    = 4                      // extra sessions that only push
	loadBatch      = 10                     // changes per push
	loadBatchEvery = 200 * time.Millisecond // per writer: 4 x 10 / 0.2 s = 200 changes/s
	loadWriteFor   = 10 * time.Second
	loadSample     = 250 * time.Millisecond // RSS and /metrics sampling period
	loadDialers    = 16                     // concurrent handshakes while connecting
	loadMaxFrames  = 1_000_000              // bound on frames one reader takes
)

// BenchmarkServerMemory2000Replicas measures the real hearth-server's resident memory with
// 2,000 live sync sessions from this process: 1,999 raw protocol clients (WebSocket, Hello,
// Pull, then a goroutine each reading every page) and one stalled reader that completes the
// handshake and its Pull and then never reads again. Four writers then push a steady stream
// (200 changes/s for 10 s) that every live session receives as fan-out.
//
// The server's RSS (VmRSS in /proc/PID/status) is sampled every 250 ms: before any replica
// connects (baseline: the tenant store already open), once all 2,000 are connected and idle,
// and during the writes; VmHWM is read at the end. Reported: peak, idle and baseline MiB,
// KiB per connection ((idle-baseline)/2000; the floor is 6-7 KB for a bare gorilla/websocket
// connection, see PLATFORM-NOTES.md), and whether (and how long after its Pull) the server
// dropped the stalled session, from the hearth_sessions gauge. As a correctness check every
// live session must receive exactly the changes pushed, each once.
//
// Each iteration starts a fresh server. Run:
//
//	go test ./tests -run '^$' -bench ServerMemory2000 -benchtime 1x -v
func BenchmarkServerMemory2000Replicas(b *testing.B) {
	b.StopTimer()
	var runs []loadResult
	for i := 0; i < b.N; i++ {
		runs = append(runs, runLoadMemory(b))
	}
	med := func(f func(loadResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(med(func(r loadResult) float64 { return r.peakMiB }), "peak-RSS-MiB")
	b.ReportMetric(med(func(r loadResult) float64 { return r.writeMaxMiB }), "write-RSS-MiB")
	b.ReportMetric(med(func(r loadResult) float64 { return r.idleMiB }), "idle-RSS-MiB")
	b.ReportMetric(med(func(r loadResult) float64 { return r.baseMiB }), "baseline-MiB")
	b.ReportMetric(med(func(r loadResult) float64 { return r.kibPerConn }), "KiB/conn")
	b.ReportMetric(med(func(r loadResult) float64 { return r.heapKiBPerConn }), "heap-KiB/conn")
	b.ReportMetric(med(func(r loadResult) float64 { return r.stackKiBPerConn }), "stack-KiB/conn")
	b.ReportMetric(med(func(r loadResult) float64 { return r.goroutinesPerConn }), "goroutines/conn")
	b.ReportMetric(med(func(r loadResult) float64 { return r.stalledDropped }), "stalled-dropped")
	b.ReportMetric(med(func(r loadResult) float64 { return r.stalledDropSec }), "stalled-drop-s")
	b.ReportMetric(med(func(r loadResult) float64 { return float64(r.pushed) }), "changes-pushed")
}

type loadResult struct {
	baseMiB, idleMiB, writeMaxMiB, peakMiB float64
	kibPerConn                             float64
	heapKiBPerConn, stackKiBPerConn        float64
	goroutinesPerConn                      float64
	stalledDropped, stalledDropSec         float64 // 1/0; seconds after its Pull (-1: not dropped)
	pushed                                 int
}

// loadSession is one raw protocol client.
type loadSession struct {
	conn    engine.Conn
	site    engine.SiteID
	changes atomic.Int64  // changes received in pages
	cursor  atomic.Uint64 // cursor of the last page
	bad     atomic.Pointer[string]
	done    chan struct{} // closed when the reader goroutine returns
}

func (s *loadSession) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.bad.CompareAndSwap(nil, &msg)
}

// loadFrame decodes only what the benchmark checks: the type, a page's seqs, cursor and the
// number of changes (left undecoded), and an error frame.
type loadFrame struct {
	Type    engine.MsgType `msgpack:"y"`
	Welcome *struct {
		Tenant string `msgpack:"tenant"`
	} `msgpack:"welcome"`
	Changes *struct {
		Changes []msgpack.RawMessage `msgpack:"changes"`
		Seqs    []uint64             `msgpack:"seqs"`
		Cursor  uint64               `msgpack:"cursor"`
	} `msgpack:"changes"`
	Ack   *engine.Ack   `msgpack:"ack"`
	Error *engine.Error `msgpack:"error"`
}

func loadDecode(b []byte) (*loadFrame, error) {
	var f loadFrame
	if err := msgpack.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Type == engine.MsgError && f.Error != nil {
		return nil, f.Error
	}
	return &f, nil
}

// loadSend writes one frame, bounded.
func loadSend(c engine.Conn, f *engine.Frame) error {
	b, err := engine.EncodeFrame(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.WriteMessage(ctx, b)
}

// loadRecv reads one frame of the given type, bounded (a timeout closes the connection).
func loadRecv(c engine.Conn, want engine.MsgType) (*loadFrame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := c.ReadMessage(ctx)
	if err != nil {
		return nil, err
	}
	f, err := loadDecode(b)
	if err != nil {
		return nil, err
	}
	if f.Type != want {
		return nil, fmt.Errorf("frame type %d, want %d", f.Type, want)
	}
	return f, nil
}

// loadHandshake dials url and completes Hello/Welcome; with pull it also sends Pull from 0
// and reads the first (empty) page.
func loadHandshake(url, tok, client string, pull bool) (*loadSession, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := (&wstransport.Dialer{URL: url}).Dial(ctx)
	if err != nil {
		return nil, err
	}
	s := &loadSession{conn: c, site: engine.NewSiteID(), done: make(chan struct{})}
	err = loadSend(c, &engine.Frame{Type: engine.MsgHello, Hello: &engine.Hello{
		Protocol: engine.ProtocolVersion, Schema: clinic.Schema.Version(), Site: s.site, Token: tok, Client: client}})
	if err == nil {
		_, err = loadRecv(c, engine.MsgWelcome)
	}
	if err == nil && pull {
		if err = loadSend(c, &engine.Frame{Type: engine.MsgPull, Pull: &engine.Pull{Cursor: 0}}); err == nil {
			var f *loadFrame
			if f, err = loadRecv(c, engine.MsgChanges); err == nil {
				s.changes.Add(int64(len(f.Changes.Changes)))
				s.cursor.Store(f.Changes.Cursor)
			}
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", client, err)
	}
	return s, nil
}

// read takes pages until ctx ends (which closes the connection) or the server ends the session.
func (s *loadSession) read(ctx context.Context) {
	defer close(s.done)
	for range loadMaxFrames {
		b, err := s.conn.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.fail("connection lost: %v", err)
			}
			return
		}
		f, err := loadDecode(b)
		if err != nil {
			s.fail("frame: %v", err)
			return
		}
		if f.Type != engine.MsgChanges || f.Changes == nil {
			s.fail("unexpected frame type %d", f.Type)
			continue
		}
		p := f.Changes
		if len(p.Changes) != len(p.Seqs) {
			s.fail("page of %d changes with %d seqs", len(p.Changes), len(p.Seqs))
		}
		last := s.cursor.Load()
		for _, q := range p.Seqs {
			if q <= last {
				s.fail("seq %d after %d: out of order or repeated", q, last)
			}
			last = q
		}
		s.changes.Add(int64(len(p.Changes)))
		s.cursor.Store(p.Cursor)
	}
	s.fail("more than %d frames", loadMaxFrames)
}

// procMem reads VmRSS and VmHWM (KiB) of a process.
func procMem(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %q: %v", k, v, err)
		}
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, errors.New("no VmRSS/VmHWM in /proc status")
	}
	return rss, hwm, sc.Err()
}

var loadMetricNames = []string{"hearth_sessions", "go_goroutines", "go_memstats_heap_inuse_bytes",
	"go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes", "go_memstats_stack_inuse_bytes",
	"go_memstats_sys_bytes", "go_memstats_heap_objects", "go_memstats_next_gc_bytes",
	"go_memstats_mspan_inuse_bytes", "go_memstats_other_sys_bytes", "hearth_changes_sent_total"}

// scrapeMetrics reads the unlabelled series named in loadMetricNames from /metrics.
func scrapeMetrics(client *http.Client, base string) (map[string]float64, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(loadMetricNames, name) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// loadSampler samples the server's RSS and a few /metrics series every loadSample.
type loadSampler struct {
	mu       sync.Mutex
	phase    string
	maxRSS   map[string]int64 // KiB, by phase
	sessions float64
	// dropAt is when hearth_sessions first fell below watch plus the writers still open
	// (zero until then): the stalled session has been dropped.
	watch    float64
	writers  atomic.Int64
	dropAt   time.Time
	peakSnap map[string]float64 // /metrics at the highest RSS sample
	peakRSS  int64
	trace    []string // "t+Ns:MiB" once a second during the writes and the drain
	start    time.Time
	err      error
}

func (s *loadSampler) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

func (s *loadSampler) run(ctx context.Context, pid int, base string) {
	client := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(loadSample)
	defer t.Stop()
	for i := 0; i < 100_000; i++ { // at most ~7 h at 250 ms; ctx ends it long before
		rss, _, err := procMem(pid)
		m, merr := scrapeMetrics(client, base)
		s.mu.Lock()
		switch {
		case err != nil:
			s.err = err
		case merr != nil:
			s.err = merr
		default:
			s.maxRSS[s.phase] = max(s.maxRSS[s.phase], rss)
			if (s.phase == "write" || s.phase == "drain") && i%4 == 0 && len(s.trace) < 1000 {
				if s.start.IsZero() {
					s.start = time.Now()
				}
				s.trace = append(s.trace, fmt.Sprintf("%.0fs:%.0f", time.Since(s.start).Seconds(), mib(rss)))
			}
			s.sessions = m["hearth_sessions"]
			if rss > s.peakRSS {
				s.peakRSS, s.peakSnap = rss, m
			}
			if s.watch > 0 && s.dropAt.IsZero() && m["hearth_sessions"] < s.watch+float64(s.writers.Load()) {
				s.dropAt = time.Now()
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// settledMem waits for RSS to settle (bounded) and returns the mean of a few VmRSS samples
// (KiB) and the /metrics series read alongside the last one.
func settledMem(tb testing.TB, pid int, base string) (int64, map[string]float64) {
	tb.Helper()
	time.Sleep(2 * time.Second) // let the last handshakes' garbage be collected
	client := &http.Client{Timeout: 2 * time.Second}
	var sum int64
	const n = 8
	for range n {
		rss, _, err := procMem(pid)
		if err != nil {
			tb.Fatal(err)
		}
		sum += rss
		time.Sleep(loadSample)
	}
	m, err := scrapeMetrics(client, base)
	if err != nil {
		tb.Fatal(err)
	}
	return sum / n, m
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func runLoadMemory(b *testing.B) loadResult {
	b.Helper()
	data := b.TempDir()
	srv := startServer(b, serverOpts{DataDir: data, Args: append([]string{"--data", data, "--addr", "127.0.0.1:0",
		"--log-format", "json", "--compact-every", "-1s",
		"--max-sessions", strconv.Itoa(loadReplicas + loadWriters + 100), "--push-rate", "-1", "--tenant-push-rate", "-1"},
		profileArgs()...)})
	pid := srv.cmd.Process.Pid
	defer func() { // after the connections are closed (deferred later, run earlier)
		if err := srv.stop(); err != nil {
			b.Errorf("hearth-server did not stop cleanly: %v", err)
		}
	}()
	const tenant = "load"
	mustCtl(b, "tenant", "create", "--data", srv.Data, "--id", tenant)
	// The writers write as an administrator (the clinic's rules let administrators write any
	// row); every write of patient data is then audited, in the audit scope. The readers are
	// support staff, who read the clinic's rows and not the audit trail, so that each receives
	// exactly the changes pushed.
	url, tok := srv.syncURL(tenant), staffToken(b, srv, tenant, "load")
	rtok := srv.token(b, token.Claims{Tenant: tenant, User: "load-reader", Role: clinic.RoleSupport, Scopes: clinic.StaffScopes()})

	// Open the tenant's store with one short session, so that the baseline includes it.
	warm, err := loadHandshake(url, rtok, "load-warm", true)
	if err != nil {
		b.Fatal(err)
	}
	warm.conn.Close()
	waitFor(b, 10*time.Second, "the warm-up session to end", func() bool {
		m, err := scrapeMetrics(http.DefaultClient, srv.URL)
		return err == nil && m["hearth_sessions"] == 0
	})
	var res loadResult
	baseRSS, baseM := settledMem(b, pid, srv.URL)
	res.baseMiB = mib(baseRSS)

	smp := &loadSampler{phase: "connect", maxRSS: map[string]int64{}}
	sctx, stopSampler := context.WithCancel(context.Background())
	sdone := make(chan struct{})
	go func() { defer close(sdone); smp.run(sctx, pid, srv.URL) }()
	defer func() { stopSampler(); <-sdone }()

	// Connect 1,999 readers, loadDialers at a time; each reads in its own goroutine.
	rctx, stopReaders := context.WithCancel(context.Background())
	readers := make([]*loadSession, loadReplicas-1)
	var stalled *loadSession
	closeAll := func() {
		stopReaders() // each ReadMessage closes its connection
		if stalled != nil {
			stalled.conn.Close()
		}
		deadline := time.After(30 * time.Second)
		for _, r := range readers {
			if r == nil {
				continue
			}
			select {
			case <-r.done:
			case <-deadline:
				b.Errorf("reader goroutines still running 30s after cancel")
				return
			}
		}
	}
	defer closeAll()
	connStart := time.Now()
	idx := make(chan int, len(readers))
	for i := range readers {
		idx <- i
	}
	close(idx)
	var wg sync.WaitGroup
	var dialErr atomic.Pointer[error]
	for range loadDialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				if dialErr.Load() != nil {
					return
				}
				s, err := loadHandshake(url, rtok, fmt.Sprintf("load-r%d", i), true)
				if err != nil {
					dialErr.CompareAndSwap(nil, &err)
					return
				}
				readers[i] = s
				go s.read(rctx)
			}
		}()
	}
	wg.Wait()
	if p := dialErr.Load(); p != nil {
		b.Fatalf("connecting readers: %v", *p)
	}
	// The stalled reader comes last: handshake and Pull, then it never reads again.
	stalled, err = loadHandshake(url, rtok, "load-stalled", true)
	if err != nil {
		b.Fatal(err)
	}
	stalledPulled := time.Now()
	b.Logf("connected %d sessions in %s", loadReplicas, time.Since(connStart).Round(time.Millisecond))

	smp.setPhase("idle")
	idleRSS, idleM := settledMem(b, pid, srv.URL)
	if got := idleM["hearth_sessions"]; got != loadReplicas {
		b.Fatalf("hearth_sessions %v with all replicas connected, want %d", got, loadReplicas)
	}
	res.idleMiB = mib(idleRSS)
	res.kibPerConn = float64(idleRSS-baseRSS) / loadReplicas
	res.heapKiBPerConn = (idleM["go_memstats_heap_inuse_bytes"] - baseM["go_memstats_heap_inuse_bytes"]) / 1024 / loadReplicas
	res.stackKiBPerConn = (idleM["go_memstats_stack_inuse_bytes"] - baseM["go_memstats_stack_inuse_bytes"]) / 1024 / loadReplicas
	res.goroutinesPerConn = (idleM["go_goroutines"] - baseM["go_goroutines"]) / loadReplicas

	// Writers: each pushes loadBatch changes every loadBatchEvery for loadWriteFor and waits
	// for each ack. The stalled session drops out of hearth_sessions when the server gives up.
	writers := make([]*loadSession, loadWriters)
	for w := range writers {
		if writers[w], err = loadHandshake(url, tok, fmt.Sprintf("load-w%d", w), false); err != nil {
			b.Fatal(err)
		}
		defer writers[w].conn.Close()
	}
	smp.mu.Lock()
	smp.watch = loadReplicas
	smp.writers.Store(loadWriters)
	smp.mu.Unlock()
	smp.setPhase("write")
	writeStart := time.Now()
	var pushed atomic.Int64
	var head atomic.Uint64
	werrs := make(chan error, loadWriters)
	for w, ws := range writers {
		go func() {
			werrs <- func() error {
				clk := engine.NewClock(time.Now, engine.DefaultMaxDrift)
				t := time.NewTicker(loadBatchEvery)
				defer t.Stop()
				end := time.Now().Add(loadWriteFor)
				for n := 0; n < int(loadWriteFor/loadBatchEvery)+1 && time.Now().Before(end); n++ {
					chs := make([]engine.Change, loadBatch)
					for i := range chs {
						chs[i] = engine.Change{Table: "patients", ID: engine.NewID(), Scope: engine.ClinicScope, HLC: clk.Now(),
							Site: ws.site, Create: true, Cols: []string{"given_name", "family_name", "region"},
							Vals: []any{fmt.Sprintf("Load %d-%d-%d", w, n, i), "Memory", "CA"}}
					}
					batch := fmt.Sprintf("w%d-b%d", w, n)
					if err := loadSend(ws.conn, &engine.Frame{Type: engine.MsgPush, Push: &engine.Push{Batch: batch, Changes: chs}}); err != nil {
						return fmt.Errorf("writer %d push %s: %w", w, batch, err)
					}
					f, err := loadRecv(ws.conn, engine.MsgAck)
					if err != nil {
						return fmt.Errorf("writer %d ack of %s: %w", w, batch, err)
					}
					if f.Ack.Batch != batch || len(f.Ack.Seqs) != loadBatch {
						return fmt.Errorf("writer %d: ack %+v for batch %s", w, f.Ack, batch)
					}
					for _, q := range f.Ack.Seqs {
						if q == 0 {
							return fmt.Errorf("writer %d: a new row was not applied: %v", w, f.Ack.Seqs)
						}
						for {
							h := head.Load()
							if q <= h || head.CompareAndSwap(h, q) {
								break
							}
						}
					}
					pushed.Add(loadBatch)
					<-t.C
				}
				return nil
			}()
		}()
	}
	for range loadWriters {
		if err := <-werrs; err != nil {
			b.Fatal(err)
		}
	}
	writeTook := time.Since(writeStart)
	for _, ws := range writers {
		smp.writers.Add(-1) // before the close: the gauge may lag, never lead
		ws.conn.Close()
	}
	res.pushed = int(pushed.Load())
	h := head.Load()

	// Every live session must get every pushed change, once.
	smp.setPhase("drain")
	lagging := func() int {
		n := 0
		for _, r := range readers {
			if r.cursor.Load() < h {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(120 * time.Second)
	for lagging() > 0 {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d live sessions not at the head (%d) 120s after the writes", lagging(), len(readers), h)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	drained := time.Since(writeStart)
	// The stalled session: wait (bounded) for the server to give up on it.
	waitUntil := time.Now().Add(30 * time.Second)
	for {
		smp.mu.Lock()
		dropped := !smp.dropAt.IsZero()
		smp.mu.Unlock()
		if dropped || time.Now().After(waitUntil) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	_, hwm, err := procMem(pid)
	if err != nil {
		b.Fatal(err)
	}
	res.peakMiB = mib(hwm)
	stopSampler()
	<-sdone

	for i, r := range readers {
		if p := r.bad.Load(); p != nil {
			b.Fatalf("reader %d: %s", i, *p)
		}
		if got := r.changes.Load(); got != pushed.Load() {
			b.Fatalf("reader %d received %d changes, want the %d pushed", i, got, pushed.Load())
		}
	}
	smp.mu.Lock()
	defer smp.mu.Unlock()
	if smp.err != nil {
		b.Fatalf("sampling: %v", smp.err)
	}
	res.writeMaxMiB = mib(max(smp.maxRSS["write"], smp.maxRSS["drain"]))
	res.stalledDropSec = -1
	if !smp.dropAt.IsZero() {
		res.stalledDropped = 1
		res.stalledDropSec = smp.dropAt.Sub(stalledPulled).Seconds()
	}
	if want := float64(loadReplicas - 1); smp.sessions != want {
		b.Errorf("hearth_sessions %v after the writes, want %v (the live readers; the stalled one and the writers gone)", smp.sessions, want)
	}
	ps := smp.peakSnap
	b.Logf("baseline %.1f MiB, idle %.1f MiB (%.2f KiB/conn: heap %.2f, stack %.2f, %.2f goroutines/conn), write max %.1f MiB, connect max %.1f MiB, VmHWM %.1f MiB",
		res.baseMiB, res.idleMiB, res.kibPerConn, res.heapKiBPerConn, res.stackKiBPerConn, res.goroutinesPerConn,
		res.writeMaxMiB, mib(smp.maxRSS["connect"]), res.peakMiB)
	for _, x := range []struct {
		name string
		m    map[string]float64
	}{{"baseline", baseM}, {"idle", idleM}, {"at peak RSS sample", ps}} {
		b.Logf("/metrics %s: sessions %.0f goroutines %.0f heap_inuse %.1f MiB heap_idle %.1f MiB heap_released %.1f MiB stack_inuse %.1f MiB mspan %.1f MiB other_sys %.1f MiB sys %.1f MiB next_gc %.1f MiB objects %.0f",
			x.name, x.m["hearth_sessions"], x.m["go_goroutines"], x.m["go_memstats_heap_inuse_bytes"]/(1<<20), x.m["go_memstats_heap_idle_bytes"]/(1<<20),
			x.m["go_memstats_heap_released_bytes"]/(1<<20), x.m["go_memstats_stack_inuse_bytes"]/(1<<20), x.m["go_memstats_mspan_inuse_bytes"]/(1<<20),
			x.m["go_memstats_other_sys_bytes"]/(1<<20), x.m["go_memstats_sys_bytes"]/(1<<20), x.m["go_memstats_next_gc_bytes"]/(1<<20), x.m["go_memstats_heap_objects"])
	}
	b.Logf("RSS MiB during the writes and the drain, once a second: %s", strings.Join(smp.trace, " "))
	b.Logf("pushed %d changes in %s (head %d); all %d live sessions at the head %s after the writes began; stalled dropped=%v after %.1fs; changes sent %.0f",
		res.pushed, writeTook.Round(time.Millisecond), h, len(readers), drained.Round(time.Millisecond), res.stalledDropped == 1, res.stalledDropSec, ps["hearth_changes_sent_total"])
	return res
}
