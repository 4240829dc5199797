package tests

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"hearth/engine"
)

// TestServerKilledDuringPushes SIGKILLs the real server at random moments while four replicas
// stream writes to it (three with the live sync loop, one syncing once after another),
// restarting it each time on the same data directory and port.
// No batch the server acknowledged may be lost, none may be applied twice, and once the
// server stays up everyone converges.
func TestServerKilledDuringPushes(t *testing.T) {
	const (
		rounds    = 20
		writers   = 4   // the last one syncs with SyncOnce in a loop, the others with Run
		maxWrites = 600 // per replica: bounds the run whatever the timing
	)
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	data := t.TempDir()
	srv := crashServerAt(t, data, "127.0.0.1:0")
	addr := srv.Addr
	tok := staffToken(t, srv, "demo", "dr")
	visit := engine.NewID()

	var reps []*crashReplica
	var stops []func()
	for i := range writers {
		r := openCrashReplica(t, string(rune('a'+i)), srv.syncURL("demo"), tok, 1+rng.IntN(40))
		reps = append(reps, r)
		if i < writers-1 {
			stops = append(stops, r.runLoop(t))
		}
	}
	once := reps[writers-1]

	// Writers: each replica writes every few milliseconds until told to stop.
	quit := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i, r := range reps {
		wrng := rand.New(rand.NewPCG(seed, uint64(i)+2))
		wg.Go(func() {
			for n := 0; n < maxWrites; n++ {
				select {
				case <-quit:
					return
				case <-time.After(time.Duration(1+wrng.IntN(6)) * time.Millisecond):
				}
				if err := r.writeRandom(wrng, visit, 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	onceFailed := 0
	wg.Go(func() {
		for n := 0; n < 10*maxWrites; n++ {
			select {
			case <-quit:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := once.Syncer.SyncOnce(ctx); err != nil {
				onceFailed++
				time.Sleep(5 * time.Millisecond) // the server is down: retry soon
			}
			cancel()
		}
	})
	stopWriters := sync.OnceFunc(func() { close(quit); wg.Wait() })
	defer stopWriters()

	start := time.Now()
	for round := range rounds {
		time.Sleep(time.Duration(3+rng.IntN(98)) * time.Millisecond)
		srv.sigkill(t)
		srv = crashServerAt(t, data, addr)
		// Every batch acknowledged so far, by this server or an earlier one, must have survived.
		if missing := openCrashStore(t, data, "demo").missingAcked(reps...); len(missing) > 0 {
			t.Fatalf("round %d: %d acknowledged rows lost in the crash, e.g. %v", round, len(missing), missing[:min(5, len(missing))])
		}
	}
	stopWriters()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for _, r := range reps {
		c, p := r.written()
		t.Logf("%s: wrote %d chat messages and %d patients; %s", r.Name, len(c), len(p), r.Frames.summary())
	}
	t.Logf("%d kills and restarts in %s; %d of %s's syncs failed", rounds, time.Since(start).Round(time.Millisecond), onceFailed, once.Name)
	once.syncOnce(t)

	// Healed: the server stays up now.
	waitFor(t, 30*time.Second, "every outbox to drain", func() bool { // the loops, still running, drain them
		for _, r := range reps {
			if r.pending(t) > 0 {
				return false
			}
		}
		return true
	})
	for _, stop := range stops {
		stop()
	}
	for _, r := range reps {
		r.syncOnce(t) // pull what the others pushed last
	}
	st := openCrashStore(t, data, "demo")
	if missing := st.missingAcked(reps...); len(missing) > 0 {
		t.Fatalf("%d acknowledged rows lost, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	crashAssertAllOnServer(t, st, reps...)
	crashAssertSameHash(t, data, "demo", reps...)
}
