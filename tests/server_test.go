package tests

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/engine/clinic"
	"hearth/syncserver/servertest"
)

// TestServerConfigFromEnv starts hearth-server configured only by environment variables and
// checks what it did with them: where it keeps data and the key, the demo tenant, the log
// format, and a clean exit on SIGTERM.
func TestServerConfigFromEnv(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	keyFile := filepath.Join(t.TempDir(), "keys", "hearth.key")
	srv := startServer(t, serverOpts{Args: []string{}, DataDir: data, Env: []string{
		"HEARTH_ADDR=127.0.0.1:0", "HEARTH_DATA=" + data, "HEARTH_TOKEN_KEY_FILE=" + keyFile, "HEARTH_LOG_FORMAT=json",
	}})
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("token key not created at HEARTH_TOKEN_KEY_FILE: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("token key mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(data, "directory.db")); err != nil {
		t.Fatalf("no directory.db in HEARTH_DATA: %v", err)
	}
	var demo struct{ ID, Name string }
	if err := json.Unmarshal([]byte(mustCtl(t, "tenant", "list", "--data", data, "--json")), &demo); err != nil {
		t.Fatal(err)
	}
	if demo.ID != "demo" || demo.Name != "Demo Clinic" {
		t.Fatalf("demo tenant: %+v", demo)
	}
	// The token command reads the same key file and its tokens work against the server.
	tok := mustCtl(t, "token", "--key-file", keyFile, "--tenant", "demo", "--user", "u")
	mustCtl(t, "sync", "--dir", replicaDir(t, "r"), "--server", srv.URL, "--tenant", "demo", "--token", tok)

	if err := srv.stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, srv.log)
	}
	var listening map[string]any
	for _, line := range strings.Split(srv.log.String(), "\n") {
		if strings.Contains(line, `"hearth-server listening"`) {
			if err := json.Unmarshal([]byte(line), &listening); err != nil {
				t.Fatalf("log line is not JSON: %s", line)
			}
		}
	}
	if listening["data"] != data || listening["addr"] != srv.Addr || listening["token_key_file"] != keyFile {
		t.Fatalf("listening line: %v", listening)
	}
	if !strings.Contains(srv.log.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged:\n%s", srv.log)
	}
}

// TestServerNoDemo checks that --demo=false leaves the directory without the demo tenant.
func TestServerNoDemo(t *testing.T) {
	data := t.TempDir()
	startServer(t, serverOpts{DataDir: data, Args: []string{"--data", data, "--addr", "127.0.0.1:0", "--log-format", "json", "--demo=false"}})
	if got := mustCtl(t, "tenant", "list", "--data", data, "--json"); got != "" {
		t.Fatalf("tenants with --demo=false: %s", got)
	}
}

// TestServerShutdownWithLiveSession stops the server (SIGTERM) while a replica holds a live
// sync session: the process must still exit cleanly and promptly, and the replica's loop
// must notice that it went offline.
func TestServerShutdownWithLiveSession(t *testing.T) {
	srv := startServer(t, serverOpts{})
	r := servertest.OpenReplica(t, clinic.Schema, srv.syncURL("demo"), staffToken(t, srv, "demo", "dr"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Syncer.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("sync loop did not stop within 10s")
		}
	}()
	waitFor(t, 10*time.Second, "replica online", func() bool { st := r.Syncer.Status(); return st.Online && !st.CatchingUp })

	start := time.Now()
	if err := srv.stop(); err != nil {
		t.Fatalf("exit after SIGTERM with a live session: %v\n%s", err, srv.log)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %s with one idle session", d)
	}
	waitFor(t, 10*time.Second, "replica offline", func() bool { return !r.Syncer.Status().Online })
}

// waitFor polls cond until it holds or within passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a correctness wait
	}
}
