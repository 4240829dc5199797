package tests

// Helpers of the crash tests (crash_*_test.go): killing and restarting the real server on the
// same data directory and port, replicas whose traffic is recorded frame by frame, and reads of
// the server's tenant store straight from its SQLite file.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
	"hearth/syncserver/sqlitetenant"
)

// crashSeed returns the seed of a randomized crash test, printed so that a failure can be
// replayed with CRASH_SEED=<seed>.
func crashSeed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CRASH_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("random seed %d (replay with CRASH_SEED=%d)", seed, seed)
	return seed
}

// crashServerAt runs hearth-server on data and addr ("127.0.0.1:0" for a free port; the
// address of an earlier, dead server to restart it on the same port).
func crashServerAt(t testing.TB, data, addr string, extra ...string) *server {
	t.Helper()
	args := append([]string{"--data", data, "--addr", addr, "--log-format", "json", "--compact-every", "-1s"}, extra...)
	return startServer(t, serverOpts{DataDir: data, Args: args})
}

// sigkill SIGKILLs the server, as a crash or an OOM kill would, and waits until it is gone. The
// cleanup registered by startServer then finds it stopped and does not report the kill.
func (s *server) sigkill(t testing.TB) {
	t.Helper()
	if s.stopped {
		t.Fatal("kill: the server was already stopped")
	}
	s.stopped = true
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill hearth-server: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("hearth-server still running 10s after SIGKILL")
	}
	s.exitErr = nil // killed on purpose
}

// crashFrames records what one replica sent and received: the changes of each pushed batch, the
// batches acknowledged and the push errors the server answered.
type crashFrames struct {
	mu      sync.Mutex
	batches map[string][]crashRow // batch key -> rows it writes
	sends   map[string]int        // batch key -> times pushed
	dials   int                   // connections opened
	acked   []string              // batch keys, in the order their acks arrived
	errs    []engine.Error        // error frames that name a batch
}

type crashRow struct{ Table, ID string }

func newCrashFrames() *crashFrames {
	return &crashFrames{batches: map[string][]crashRow{}, sends: map[string]int{}}
}

// ackedRows returns the rows of every acknowledged batch.
func (l *crashFrames) ackedRows() []crashRow {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []crashRow
	for _, b := range l.acked {
		out = append(out, l.batches[b]...)
	}
	return out
}

// isAcked reports whether the batch was acknowledged.
func (l *crashFrames) isAcked(batch string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.acked, batch)
}

// pushErrors returns the error frames received for pushes so far.
func (l *crashFrames) pushErrors() []engine.Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// summary describes the traffic, for the test log.
func (l *crashFrames) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	resent := 0
	for _, n := range l.sends {
		if n > 1 {
			resent++
		}
	}
	return fmt.Sprintf("%d connections, %d batches (%d pushed more than once), %d acks, %d push errors",
		l.dials, len(l.batches), resent, len(l.acked), len(l.errs))
}

// crashDialer is a wstransport.Dialer whose connections note frames in a crashFrames.
type crashDialer struct {
	d   wstransport.Dialer
	log *crashFrames
}

func (r *crashDialer) Dial(ctx context.Context) (engine.Conn, error) {
	c, err := r.d.Dial(ctx)
	if err != nil {
		return nil, err
	}
	r.log.mu.Lock()
	r.log.dials++
	r.log.mu.Unlock()
	return &crashConn{Conn: c, log: r.log}, nil
}

type crashConn struct {
	engine.Conn
	log *crashFrames
}

func (c *crashConn) WriteMessage(ctx context.Context, b []byte) error {
	if f, err := engine.DecodeFrame(b); err == nil && f.Type == engine.MsgPush {
		rows := make([]crashRow, len(f.Push.Changes))
		for i, ch := range f.Push.Changes {
			rows[i] = crashRow{ch.Table, ch.ID}
		}
		c.log.mu.Lock()
		c.log.batches[f.Push.Batch] = rows
		c.log.sends[f.Push.Batch]++
		c.log.mu.Unlock()
	}
	return c.Conn.WriteMessage(ctx, b)
}

func (c *crashConn) ReadMessage(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.ReadMessage(ctx)
	if err != nil {
		return b, err
	}
	if f, derr := engine.DecodeFrame(b); derr == nil {
		c.log.mu.Lock()
		switch {
		case f.Type == engine.MsgAck:
			c.log.acked = append(c.log.acked, f.Ack.Batch)
		case f.Type == engine.MsgError && f.Error.Batch != "":
			c.log.errs = append(c.log.errs, *f.Error)
		}
		c.log.mu.Unlock()
	}
	return b, err
}

// crashReplica is an in-process SQLite replica whose sync traffic is recorded, with the rows it
// wrote.
type crashReplica struct {
	*sqlitestore.Replica
	Name   string
	Syncer *engine.Syncer
	Frames *crashFrames
	Dir    string

	mu       sync.Mutex
	patients []string // ids of patients created
	chats    []string // ids of chat messages written
}

// openCrashReplica opens a replica syncing with url, retrying fast: the tests restart the
// server often and want the replicas back within milliseconds.
func openCrashReplica(t testing.TB, name, url, tok string, batch int) *crashReplica {
	t.Helper()
	dir := t.TempDir()
	rep, err := sqlitestore.OpenReplica(context.Background(), filepath.Join(dir, "replica.db"), clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	fl := newCrashFrames()
	s := engine.NewSyncer(rep, &crashDialer{d: wstransport.Dialer{URL: url}, log: fl}, engine.SyncOptions{
		Token: tok, Client: "crash-test/" + name, Debounce: 5 * time.Millisecond, BatchSize: batch,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, HandshakeTimeout: 5 * time.Second})
	rep.OnLocalWrite(s.Notify)
	return &crashReplica{Replica: rep, Name: name, Syncer: s, Frames: fl, Dir: dir}
}

// runLoop runs the replica's sync loop until the returned stop is called.
func (r *crashReplica) runLoop(t testing.TB) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Syncer.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: sync loop ended with %v", r.Name, err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("%s: sync loop did not stop within 10s", r.Name)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// writeRandom makes one local write of 1-3 mutations: new chat messages, new patients, edits
// of this replica's patients. bodyLen pads chat bodies.
func (r *crashReplica) writeRandom(rng *rand.Rand, visit string, bodyLen int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var muts []engine.Mutation
	var newChats, newPatients []string
	for range 1 + rng.IntN(3) {
		switch p := rng.IntN(10); {
		case p < 5:
			id := engine.NewID()
			body := fmt.Sprintf("%s says %d ", r.Name, len(r.chats)+len(newChats))
			for len(body) < bodyLen {
				body += "x"
			}
			muts = append(muts, engine.Mutation{Table: "chat_messages", ID: id, Values: map[string]any{
				"visit_id": visit, "sender_id": r.Name, "sender_role": "provider", "body": body, "sent_at": time.Now().UnixMilli()}})
			newChats = append(newChats, id)
		case p < 8 || len(r.patients) == 0:
			id := engine.NewID()
			muts = append(muts, engine.Mutation{Table: "patients", ID: id, Values: map[string]any{
				"given_name": fmt.Sprintf("P%d", rng.IntN(1000)), "region": "CA", "created_at": time.Now().UnixMilli()}})
			newPatients = append(newPatients, id)
		default:
			id := r.patients[rng.IntN(len(r.patients))]
			muts = append(muts, engine.Mutation{Table: "patients", ID: id, Values: map[string]any{
				"phone": fmt.Sprintf("555-%04d", rng.IntN(10000))}})
		}
	}
	if _, err := r.Write(context.Background(), muts...); err != nil {
		return fmt.Errorf("%s: write: %w", r.Name, err)
	}
	r.chats = append(r.chats, newChats...)
	r.patients = append(r.patients, newPatients...)
	return nil
}

// written returns the ids of the chat messages and patients this replica wrote.
func (r *crashReplica) written() (chats, patients []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.chats), slices.Clone(r.patients)
}

func (r *crashReplica) pending(t testing.TB) int {
	t.Helper()
	st, err := r.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Pending
}

// syncOnce runs one bounded full sync.
func (r *crashReplica) syncOnce(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Syncer.SyncOnce(ctx); err != nil {
		t.Fatalf("%s: final sync: %v", r.Name, err)
	}
}

// crashStore is a read-only view of a tenant's store, read from its file (safe while the
// server runs, or after it was killed).
type crashStore struct {
	t  testing.TB
	db *sql.DB
}

func openCrashStore(t testing.TB, data, tenant string) *crashStore {
	t.Helper()
	path := sqlitetenant.Path(data, tenant)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("server store of %s: %v", tenant, err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &crashStore{t: t, db: db}
}

// ids returns the ids of table's rows on the server.
func (s *crashStore) ids(table string) map[string]bool {
	s.t.Helper()
	rows, err := s.db.Query(fmt.Sprintf("SELECT id FROM %q", table))
	if err != nil {
		s.t.Fatalf("server %s: %v", table, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			s.t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// count returns a number from a query of the server's store.
func (s *crashStore) count(q string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.db.QueryRow(q, args...).Scan(&n); err != nil {
		s.t.Fatalf("server %q: %v", q, err)
	}
	return n
}

// missingAcked returns the rows of acknowledged batches that the server does not have. The
// acks are read before the store: the server commits a batch before it acknowledges it, so
// every ack seen here is for a batch already committed when the store is read.
func (s *crashStore) missingAcked(reps ...*crashReplica) []string {
	s.t.Helper()
	acked := make([][]crashRow, len(reps))
	for i, r := range reps {
		acked[i] = r.Frames.ackedRows()
	}
	have := map[string]map[string]bool{"patients": s.ids("patients"), "chat_messages": s.ids("chat_messages")}
	var missing []string
	for i, r := range reps {
		for _, row := range acked[i] {
			if !have[row.Table][row.ID] {
				missing = append(missing, fmt.Sprintf("%s: %s/%s", r.Name, row.Table, row.ID))
			}
		}
	}
	return missing
}

// crashAssertAllOnServer checks that every row the replicas wrote is on the server, and that each
// chat message (append-only) was stored and logged exactly once.
func crashAssertAllOnServer(t testing.TB, st *crashStore, reps ...*crashReplica) {
	t.Helper()
	chatsOnServer, patientsOnServer := st.ids("chat_messages"), st.ids("patients")
	total := 0
	for _, r := range reps {
		chats, patients := r.written()
		total += len(chats)
		var lost []string
		for _, id := range chats {
			if !chatsOnServer[id] {
				lost = append(lost, "chat_messages/"+id)
			}
		}
		for _, id := range patients {
			if !patientsOnServer[id] {
				lost = append(lost, "patients/"+id)
			}
		}
		if len(lost) > 0 {
			t.Errorf("%s: %d of its rows are not on the server after the final sync, e.g. %v", r.Name, len(lost), lost[:min(5, len(lost))])
		}
	}
	if n := st.count(`SELECT count(*) FROM chat_messages`); n != total {
		t.Errorf("server holds %d chat messages, the replicas wrote %d", n, total)
	}
	if n := st.count(`SELECT count(*) FROM _server_log WHERE tbl = 'chat_messages'`); n != total {
		t.Errorf("server log holds %d chat message entries, the replicas wrote %d messages: some were applied twice or lost", n, total)
	}
}

// crashAssertSameHash checks that the server's tenant store and every replica hash the same.
func crashAssertSameHash(t testing.TB, data, tenant string, reps ...*crashReplica) {
	t.Helper()
	want := mustCtl(t, "hash", "--data", data, "--tenant", tenant)
	for _, r := range reps {
		got, err := r.Hash(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: state hash %s, server %s", r.Name, got, want)
		}
	}
}
