package tests

// The fault harness: a real toxiproxy, embedded in the test process and listening on
// 127.0.0.1 only, between real replicas (SQLite store, Syncer, WebSocket dialer) and the real
// hearth-server binary. Tests break the link on purpose (down, reset, slow, thin, half-open)
// and then check that every replica converges with the server and that nothing a replica
// wrote was lost or doubled.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
	"hearth/syncserver/sqlitetenant"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// faultProxy is one toxiproxy proxy in front of a hearth-server.
type faultProxy struct {
	t    testing.TB
	p    *toxiproxy.Proxy
	Addr string // 127.0.0.1:PORT, stable across Disable/Enable
}

var quietToxiproxy sync.Once

// newFaultProxy starts a proxy on a free loopback port forwarding to upstream (host:port).
func newFaultProxy(t testing.TB, upstream string) *faultProxy {
	t.Helper()
	quietToxiproxy.Do(func() { zerolog.SetGlobalLevel(zerolog.Disabled) }) // its toxics log through the global logger
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(api, "hearth", "127.0.0.1:0", upstream)
	if err := api.Collection.Add(p, true); err != nil {
		t.Fatalf("start toxiproxy: %v", err)
	}
	t.Cleanup(p.Stop)
	if !strings.HasPrefix(p.Listen, "127.0.0.1:") {
		t.Fatalf("toxiproxy listens on %s, want loopback only", p.Listen)
	}
	return &faultProxy{t: t, p: p, Addr: p.Listen}
}

// syncURL is a tenant's sync endpoint reached through the proxy.
func (f *faultProxy) syncURL(tenant string) string {
	return "ws://" + f.Addr + "/v1/tenants/" + tenant + "/sync"
}

// Disable closes the listener and every connection through the proxy: the server is gone.
func (f *faultProxy) Disable() { f.p.Stop() }

// Enable listens again on the same address (retrying briefly if the port is not free yet).
func (f *faultProxy) Enable() {
	f.t.Helper()
	var err error
	for i := 0; i < 50; i++ {
		if err = f.p.Start(); err == nil || err == toxiproxy.ErrProxyAlreadyStarted {
			return
		}
		time.Sleep(20 * time.Millisecond) // the port was briefly taken: retry, bounded
	}
	f.t.Fatalf("re-enable toxiproxy on %s: %v", f.Addr, err)
}

// toxic describes one toxiproxy toxic.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`   // latency, bandwidth, timeout, reset_peer, ...
	Stream     string         `json:"stream"` // upstream (replica to server) or downstream
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// Add installs a toxic; it also applies to the connections already open.
func (f *faultProxy) Add(tx toxic) {
	f.t.Helper()
	if tx.Toxicity == 0 {
		tx.Toxicity = 1
	}
	if tx.Name == "" {
		tx.Name = tx.Type + "_" + tx.Stream
	}
	b, err := json.Marshal(tx)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.p.Toxics.AddToxicJson(strings.NewReader(string(b))); err != nil {
		f.t.Fatalf("add toxic %s: %v", b, err)
	}
}

// Remove removes a toxic by name.
func (f *faultProxy) Remove(name string) {
	f.t.Helper()
	if err := f.p.Toxics.RemoveToxic(context.Background(), name); err != nil {
		f.t.Fatalf("remove toxic %s: %v", name, err)
	}
}

// Heal removes every toxic and enables the proxy.
func (f *faultProxy) Heal() {
	f.p.Toxics.ResetToxics(context.Background())
	f.Enable()
}

// stall makes the link half-open: both directions swallow data and nothing is closed.
func (f *faultProxy) stall() {
	f.Add(toxic{Name: "stall_up", Type: "timeout", Stream: "upstream", Attributes: map[string]any{"timeout": 0}})
	f.Add(toxic{Name: "stall_down", Type: "timeout", Stream: "downstream", Attributes: map[string]any{"timeout": 0}})
}

func (f *faultProxy) unstall() {
	f.Remove("stall_up")
	f.Remove("stall_down")
}

// faultReplica is a real SQLite replica whose sync loop reaches the server through a proxy.
type faultReplica struct {
	*sqlitestore.Replica
	Name   string
	Syncer *engine.Syncer
	Dialer *wstransport.Dialer

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan error
	events []engine.Status // every status reported, when recording
	record bool
}

// replicaOpts tune openFaultReplica.
type replicaOpts struct {
	Ping      time.Duration // wstransport keepalive (default 500ms)
	BatchSize int
	PageSize  int
}

// openFaultReplica opens a replica in a temporary file with a syncer for url. The reconnect
// backoff is short (20ms to 300ms) and the handshake bounded (2s) so that the tests see the
// loop recover within their deadlines.
func openFaultReplica(t testing.TB, name, url, tok string, o replicaOpts) *faultReplica {
	t.Helper()
	if o.Ping <= 0 {
		o.Ping = 500 * time.Millisecond
	}
	rep, err := sqlitestore.OpenReplica(context.Background(), filepath.Join(t.TempDir(), name+".db"), clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	r := &faultReplica{Replica: rep, Name: name}
	r.Dialer = &wstransport.Dialer{URL: url, PingInterval: o.Ping}
	r.Syncer = engine.NewSyncer(rep, r.Dialer, engine.SyncOptions{
		Token: tok, Client: "fault-test/" + name, BatchSize: o.BatchSize, PageSize: o.PageSize,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, HandshakeTimeout: 2 * time.Second,
		OnStatus: r.onStatus,
	})
	rep.OnLocalWrite(r.Syncer.Notify)
	return r
}

func (r *faultReplica) onStatus(st engine.Status) {
	r.mu.Lock()
	if r.record && len(r.events) < 10000 {
		r.events = append(r.events, st)
	}
	r.mu.Unlock()
}

// recorded returns the statuses reported since recording started.
func (r *faultReplica) recorded() []engine.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Status(nil), r.events...)
}

func (r *faultReplica) startRecording() {
	r.mu.Lock()
	r.record, r.events = true, nil
	r.mu.Unlock()
}

// Start runs the sync loop in the background until Stop or the end of the test.
func (r *faultReplica) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.Syncer.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
}

// Stop ends the sync loop and waits (bounded) for it to return.
func (r *faultReplica) Stop(t testing.TB) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("%s: sync loop ended with %v", r.Name, err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s: sync loop did not stop within 10s of cancel", r.Name)
	}
}

// syncOnce runs one bounded full sync (no proxy involved unless the dialer points at one).
func (r *faultReplica) syncOnce(t testing.TB, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := r.Syncer.SyncOnce(ctx); err != nil {
		t.Fatalf("%s: sync: %v", r.Name, err)
	}
}

// has reports whether the replica holds a live row.
func (r *faultReplica) has(table, id string) bool {
	_, err := r.Get(context.Background(), table, id)
	return err == nil
}

func (r *faultReplica) hash(t testing.TB) string {
	t.Helper()
	h, err := r.Hash(context.Background())
	if err != nil {
		t.Fatalf("%s: hash: %v", r.Name, err)
	}
	return h
}

// serverHash is the canonical hash of a tenant's store on the running server, read by the
// real hearthctl binary.
func serverHash(t testing.TB, srv *server, tenant string) string {
	t.Helper()
	return mustCtl(t, "hash", "--data", srv.Data, "--tenant", tenant)
}

// openTenantStore opens a tenant's store in a server's data directory (as hearthctl does).
func openTenantStore(t testing.TB, srv *server, tenant string) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), sqlitetenant.Path(srv.Data, tenant), clinic.Schema, sqlitestore.Options{})
	if err != nil {
		t.Fatalf("open tenant %s store: %v", tenant, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitConverged polls (bounded by within) until every replica has nothing pending, all
// report the same cursor and hash, and that hash is the server's. It fails the test with
// each replica's status if that does not happen in time.
func waitConverged(t testing.TB, srv *server, tenant string, reps []*faultReplica, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for i := 0; ; i++ {
		if time.Now().After(deadline) || i > 100000 {
			var b strings.Builder
			for _, r := range reps {
				st, _ := r.State(context.Background())
				fmt.Fprintf(&b, "\n  %s: status %+v, store pending %d cursor %d hash %.12s", r.Name, r.Syncer.Status(), st.Pending, st.Cursor, r.hash(t))
			}
			t.Fatalf("no convergence within %s (last: %s); server hash %.12s%s", within, last, serverHash(t, srv, tenant), b.String())
		}
		last = convergedYet(t, reps)
		if last == "" {
			want := reps[0].hash(t)
			if got := serverHash(t, srv, tenant); got == want {
				return want
			}
			last = "replicas agree but differ from the server"
			time.Sleep(100 * time.Millisecond) // polling interval (a hearthctl run per poll)
			continue
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a correctness wait
	}
}

// convergedYet returns "" if every replica is idle-online with nothing pending and all agree
// on cursor and hash, or what is still missing.
func convergedYet(t testing.TB, reps []*faultReplica) string {
	t.Helper()
	var cursor uint64
	var hash string
	for i, r := range reps {
		st := r.Syncer.Status()
		ss, err := r.State(context.Background())
		if err != nil {
			return fmt.Sprintf("%s: state: %v", r.Name, err)
		}
		switch {
		case ss.Pending != 0:
			return fmt.Sprintf("%s has %d pending", r.Name, ss.Pending)
		case !st.Online || st.CatchingUp:
			return fmt.Sprintf("%s online=%v catchingUp=%v err=%q", r.Name, st.Online, st.CatchingUp, st.Err)
		}
		if i == 0 {
			cursor = ss.Cursor
		} else if ss.Cursor != cursor {
			return fmt.Sprintf("%s at cursor %d, %s at %d", r.Name, ss.Cursor, reps[0].Name, cursor)
		}
	}
	for i, r := range reps {
		h := r.hash(t)
		if i == 0 {
			hash = h
		} else if h != hash {
			return fmt.Sprintf("%s hash %.12s, %s %.12s", r.Name, h, reps[0].Name, hash)
		}
	}
	return ""
}

// ledger records every row the test created, by table, and every chat message's body: what
// must be on the server and every replica, exactly once, at the end.
type ledger struct {
	mu      sync.Mutex
	rows    map[string]map[string]string // table -> id -> replica that created it
	chat    map[string]string            // chat message id -> body (append-only: never changes)
	writes  int                          // Write calls that succeeded
	changes int                          // mutations in them
}

// workloadTables are the tables the fault workload writes, and the ledger checks; the rest
// are written by the server's own rules (estimates, audit entries).
var workloadTables = []string{"patients", "visits", "visit_notes", "chat_messages"}

func newLedger() *ledger {
	l := &ledger{rows: map[string]map[string]string{}, chat: map[string]string{}}
	for _, name := range workloadTables {
		l.rows[name] = map[string]string{}
	}
	return l
}

// pick returns a random id created in table, or "".
func (l *ledger) pick(rng *rand.Rand, table string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.rows[table])
	if n == 0 {
		return ""
	}
	k := rng.IntN(n)
	for id := range l.rows[table] { // map order is random enough; k bounds the walk
		if k == 0 {
			return id
		}
		k--
	}
	return ""
}

var faultWords = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "CA", "NY", "TX", "waiting", "in_visit", "completed"}

// randomWrite makes one local write on r: a new patient, visit, note or chat message, or an
// edit of an existing patient, visit or note (never a delete, so that row counts are exact).
func (l *ledger) randomWrite(t testing.TB, rng *rand.Rand, r *faultReplica) {
	t.Helper()
	word := func() string { return faultWords[rng.IntN(len(faultWords))] }
	var muts []engine.Mutation
	created := map[string]string{} // id -> table
	chat := map[string]string{}
	for range 1 + rng.IntN(3) { // one to three mutations in one transaction
		var m engine.Mutation
		visit := l.pick(rng, "visits")
		switch k := rng.IntN(100); {
		case k < 20 || visit == "":
			m = engine.Mutation{Table: "patients", ID: engine.NewID(), Values: map[string]any{
				"given_name": word(), "family_name": word(), "region": word(), "created_at": rng.Int64N(1e12)}}
			if k >= 10 && k < 20 {
				m.Table, m.Values = "visits", map[string]any{"status": "waiting", "region": word(), "requested_at": rng.Int64N(1e12), "patient_id": l.pick(rng, "patients")}
			}
			created[m.ID] = m.Table
		case k < 40:
			table := []string{"patients", "visits"}[rng.IntN(2)]
			id := l.pick(rng, table)
			if id == "" || !r.has(table, id) {
				continue // edit only rows this replica already has, as a user would
			}
			col := map[string][]string{"patients": {"given_name", "family_name", "phone", "region"}, "visits": {"reason", "region"}}[table]
			m = engine.Mutation{Table: table, ID: id, Values: map[string]any{col[rng.IntN(len(col))]: word()}}
		case k < 55:
			if id := l.pick(rng, "visit_notes"); id != "" && rng.IntN(2) == 0 && r.has("visit_notes", id) {
				m = engine.Mutation{Table: "visit_notes", ID: id, Values: map[string]any{"body": r.Name + " " + word(), "updated_at": rng.Int64N(1e12)}}
				break
			}
			m = engine.Mutation{Table: "visit_notes", ID: engine.NewID(), Values: map[string]any{"visit_id": visit, "body": word(), "author_id": r.Name}}
			created[m.ID] = m.Table
		default:
			body := fmt.Sprintf("%s says %s #%d", r.Name, word(), rng.IntN(1e6))
			m = engine.Mutation{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{
				"visit_id": visit, "sender_id": r.Name, "sender_role": "staff", "body": body, "sent_at": rng.Int64N(1e12)}}
			created[m.ID] = m.Table
			chat[m.ID] = body
		}
		muts = append(muts, m)
	}
	if len(muts) == 0 {
		return
	}
	if _, err := r.Write(context.Background(), muts...); err != nil {
		t.Fatalf("%s: write: %v", r.Name, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, table := range created {
		l.rows[table][id] = r.Name
	}
	for id, body := range chat {
		l.chat[id] = body
	}
	l.writes++
	l.changes += len(muts)
}

// allRows lists every live row of a table (bounded: the tests write far fewer than the cap).
func allRows(t testing.TB, db *sqlitestore.DB, table string) []sqlitestore.Record {
	t.Helper()
	const limit = 1 << 20
	recs, err := db.List(context.Background(), table, "", limit)
	if err != nil {
		t.Fatalf("list %s: %v", table, err)
	}
	if len(recs) == limit {
		t.Fatalf("list %s: %d rows or more: raise the cap", table, limit)
	}
	return recs
}

// checkLedger checks that db holds exactly the rows the ledger created, each once, and every
// chat message with the body it was sent with.
func (l *ledger) check(t testing.TB, who string, db *sqlitestore.DB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for table, want := range l.rows {
		seen := map[string]int{}
		for _, rec := range allRows(t, db, table) {
			seen[rec["id"].(string)]++
			if table == "chat_messages" {
				id := rec["id"].(string)
				if body, ok := l.chat[id]; ok && rec["body"] != body {
					t.Errorf("%s: chat message %s body %q, sent as %q", who, id, rec["body"], body)
				}
			}
		}
		var missing, extra, doubled []string
		for id, by := range want {
			switch seen[id] {
			case 0:
				missing = append(missing, id+" (by "+by+")")
			case 1:
			default:
				doubled = append(doubled, id)
			}
		}
		for id := range seen {
			if _, ok := want[id]; !ok {
				extra = append(extra, id)
			}
		}
		if len(missing)+len(extra)+len(doubled) > 0 {
			sort.Strings(missing)
			t.Errorf("%s: %s has %d rows, want %d: %d missing %.5v, %d unexpected %.5v, %d more than once %.5v",
				who, table, len(seen), len(want), len(missing), missing, len(extra), extra, len(doubled), doubled)
		}
	}
}

func (l *ledger) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, name := range workloadTables {
		parts = append(parts, fmt.Sprintf("%s=%d", name, len(l.rows[name])))
	}
	return fmt.Sprintf("%d writes, %d mutations, created %s", l.writes, l.changes, strings.Join(parts, " "))
}

// bulkPatients writes n new patients on r in transactions of per mutations each.
func bulkPatients(t testing.TB, r *faultReplica, n, per int, tag string) {
	t.Helper()
	for done := 0; done < n; {
		k := min(per, n-done)
		muts := make([]engine.Mutation, k)
		for i := range muts {
			muts[i] = engine.Mutation{Table: "patients", ID: engine.NewID(), Values: map[string]any{
				"given_name": fmt.Sprintf("%s-%d", tag, done+i), "region": "CA", "created_at": int64(done + i)}}
		}
		if _, err := r.Write(context.Background(), muts...); err != nil {
			t.Fatalf("%s: bulk write: %v", r.Name, err)
		}
		done += k
	}
}
