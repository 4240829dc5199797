package tests

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hearth/engine"
)

// TestCrashRestartsKeepClockNearWallTime restarts a client often, as a clinic laptop on a
// flaky connection does (or a crash loop): hearthctl put and hearthctl sync, one process each,
// twelve times in a row. Every sync must succeed: restarts must not push the replica's clock
// past the server's drift limit (5 minutes).
//
// A replica records its clock when a batch is acknowledged or a page applied and restores it
// on open from that record and its outbox, so a restart resumes at the last timestamp it
// issued. (An earlier design persisted a ceiling 30 s ahead and restarted there, and each
// restart moved the clock another 30 s ahead until pushes were refused as clock_skew.)
func TestCrashRestartsKeepClockNearWallTime(t *testing.T) {
	srv := startServer(t, serverOpts{})
	dir := replicaDir(t, "r")
	tok := staffToken(t, srv, "demo", "dr")
	for i := range 12 {
		mustCtl(t, "put", "--dir", dir, "patients", "new", "given_name=P"+strconv.Itoa(i))
		r := ctl(t, "sync", "--dir", dir, "--server", srv.URL, "--tenant", "demo", "--token", tok)
		ahead := crashClockAhead(t, dir)
		if r.Code != 0 {
			t.Fatalf("hearthctl run %d (put, then sync): the replica's clock is %s ahead of wall time; sync: exit %d: %s",
				2*i+2, ahead.Round(time.Second), r.Code, r.Stderr)
		}
		if ahead > time.Minute {
			t.Errorf("after %d hearthctl runs the replica's persisted clock is %s ahead of wall time", 2*i+2, ahead.Round(time.Second))
		}
	}
}

// crashClockAhead reads the clock ceiling a hearthctl replica persisted and returns how far
// ahead of wall time it is.
func crashClockAhead(t testing.TB, dir string) time.Duration {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "replica.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT value FROM _hearth_meta WHERE key = 'clock'`).Scan(&v); err != nil {
		t.Fatalf("replica clock: %v", err)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Until(time.UnixMilli(engine.HLC(n).Millis()))
}
