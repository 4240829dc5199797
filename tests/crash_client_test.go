package tests

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"
)

// TestClientKilledAfterLocalWrite writes with the real hearthctl, then SIGKILLs a hearthctl
// sync at a random moment between the write and the server's ack (before it connects, during
// the push, after the server committed but before the replica stored the ack). The write must
// stay pending or be synced, never lost; the next sync must get it to the server exactly once.
func TestClientKilledAfterLocalWrite(t *testing.T) {
	const rounds = 15
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	srv := crashServerAt(t, t.TempDir(), "127.0.0.1:0")
	dir := replicaDir(t, "clinic-laptop")
	tok := staffToken(t, srv, "demo", "dr")
	visit := mustCtl(t, "put", "--dir", dir, "visits", "new", "status=requested", "reason=cough")
	mustCtl(t, "sync", "--dir", dir, "--server", srv.URL, "--tenant", "demo", "--token", tok)
	store := openCrashStore(t, srv.Data, "demo")

	// How long an uninterrupted sync of one write takes: the kill points are spread over it.
	var full time.Duration
	for i := range 3 {
		crashPutChat(t, dir, visit, "calibration")
		start := time.Now()
		mustCtl(t, "sync", "--dir", dir)
		if d := time.Since(start); i == 0 || d < full {
			full = d
		}
	}
	t.Logf("an uninterrupted hearthctl sync takes %s", full.Round(time.Millisecond))

	outcomes := map[string]int{}
	for round := range rounds {
		chat := crashPutChat(t, dir, visit, "round message")
		patient := mustCtl(t, "put", "--dir", dir, "patients", "new", "given_name=Round", "region=CA")
		if st := status(t, dir); st.Pending != 2 {
			t.Fatalf("round %d: %d pending after two puts, want 2", round, st.Pending)
		}
		// Process start-up, opening the store and the handshake take the first part of a sync:
		// the kill points lean to the later part, where the push and its ack are.
		delay := full/3 + time.Duration(rng.Int64N(int64(full)*5/6))
		exited := crashKillSyncAfter(t, dir, delay)

		// The write is either still pending (the ack never reached the replica's store) or
		// acknowledged, in which case the server must have it.
		st := status(t, dir)
		onServer := store.count(`SELECT count(*) FROM chat_messages WHERE id = ?`, chat)
		switch {
		case st.Pending == 0 && onServer == 1:
			outcomes["acked before the kill"]++
		case st.Pending == 2 && onServer == 0:
			outcomes["killed before the server committed"]++
		case st.Pending == 2 && onServer == 1:
			outcomes["killed after the server committed, before the ack was stored"]++
		default:
			t.Fatalf("round %d (kill after %s, exited first: %v): pending %d, server has the message %d times",
				round, delay, exited, st.Pending, onServer)
		}
		if exited && st.Pending != 0 {
			t.Fatalf("round %d: hearthctl sync exited by itself but left %d pending", round, st.Pending)
		}

		// Restarting the client gets the write to the server, exactly once.
		mustCtl(t, "sync", "--dir", dir)
		if st := status(t, dir); st.Pending != 0 {
			t.Fatalf("round %d: %d pending after a clean sync", round, st.Pending)
		}
		if n := store.count(`SELECT count(*) FROM chat_messages WHERE id = ?`, chat); n != 1 {
			t.Fatalf("round %d: server has chat message %s %d times, want 1", round, chat, n)
		}
		if n := store.count(`SELECT count(*) FROM _server_log WHERE tbl = 'chat_messages' AND rid = ?`, chat); n != 1 {
			t.Fatalf("round %d: server logged chat message %s %d times, want 1", round, chat, n)
		}
		if n := store.count(`SELECT count(*) FROM patients WHERE id = ? AND given_name = 'Round'`, patient); n != 1 {
			t.Fatalf("round %d: server does not have patient %s", round, patient)
		}
	}
	t.Logf("outcomes: %v", outcomes)
	if n := store.count(`SELECT count(*) FROM chat_messages`); n != rounds+3 {
		t.Fatalf("server holds %d chat messages, want %d", n, rounds+3)
	}
	assertConverged(t, srv, "demo", dir)
}

// crashPutChat writes a chat message with hearthctl and returns its id.
func crashPutChat(t testing.TB, dir, visit, body string) string {
	t.Helper()
	return mustCtl(t, "put", "--dir", dir, "chat_messages", "new", "visit_id="+visit, "sender_id=dr", "sender_role=provider", "body="+body)
}

// crashKillSyncAfter starts hearthctl sync on dir (with its saved settings) and SIGKILLs it after
// delay, reporting whether it had already exited by itself.
func crashKillSyncAfter(t testing.TB, dir string, delay time.Duration) (exited bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.ctl, "sync", "--dir", dir)
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("hearthctl sync failed on its own: %v", err)
		}
		return true
	case <-time.After(delay):
	}
	cmd.Process.Kill() // SIGKILL
	<-done
	return false
}
