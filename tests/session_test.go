package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTwoReplicaSession is the README's session, scripted with the real binaries: a tenant,
// two users' replicas, a write on one that reaches the other through the server, an edit
// that flows back, and equal state hashes on both replicas and the server.
func TestTwoReplicaSession(t *testing.T) {
	srv := startServer(t, serverOpts{})
	data := srv.Data
	a, b := replicaDir(t, "alice"), replicaDir(t, "bob")

	if got := mustCtl(t, "tenant", "create", "--data", data, "--id", "clinic-a", "--name", "Clinic A"); got != "clinic-a" {
		t.Fatalf("tenant create printed %q", got)
	}
	list := mustCtl(t, "tenant", "list", "--data", data)
	if !strings.Contains(list, "clinic-a") || !strings.Contains(list, "Clinic A") || !strings.Contains(list, "Demo Clinic") {
		t.Fatalf("tenant list:\n%s", list)
	}
	tokA := mustCtl(t, "token", "--data", data, "--tenant", "clinic-a", "--user", "alice", "--role", "admin")
	tokB := mustCtl(t, "token", "--data", data, "--tenant", "clinic-a", "--user", "bob", "--role", "support")

	id := mustCtl(t, "put", "--dir", a, "patients", "new", "given_name=Ada", "region=CA", "created_at=1700000000000")
	if st := status(t, a); st.Pending != 1 {
		t.Fatalf("after put, pending = %d, want 1", st.Pending)
	}
	mustCtl(t, "sync", "--dir", a, "--server", srv.URL, "--tenant", "clinic-a", "--token", tokA)
	mustCtl(t, "sync", "--dir", b, "--server", srv.URL, "--tenant", "clinic-a", "--token", tokB)

	var rec map[string]any
	if err := json.Unmarshal([]byte(mustCtl(t, "get", "--dir", b, "patients", id)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["id"] != id || rec["given_name"] != "Ada" || rec["region"] != "CA" || rec["created_at"] != float64(1700000000000) {
		t.Fatalf("b sees %v", rec)
	}
	assertConverged(t, srv, "clinic-a", a, b)

	// The saved config.json lets later syncs run with --dir alone; it holds a token: 0600.
	for _, dir := range []string{a, b} {
		fi, err := os.Stat(filepath.Join(dir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s/config.json has mode %v, want 0600", dir, fi.Mode().Perm())
		}
	}
	mustCtl(t, "put", "--dir", b, "patients", id, "family_name=Lovelace")
	mustCtl(t, "sync", "--dir", b)
	mustCtl(t, "sync", "--dir", a)
	if err := json.Unmarshal([]byte(mustCtl(t, "get", "--dir", a, "patients", id)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["family_name"] != "Lovelace" || rec["given_name"] != "Ada" {
		t.Fatalf("a sees %v after b's edit", rec)
	}
	assertConverged(t, srv, "clinic-a", a, b)
	st := status(t, a)
	if st.Pending != 0 || st.Cursor == 0 || st.LastSync == "" || st.Tenant != "clinic-a" || st.Server != srv.URL || len(st.Site) != 16 {
		t.Fatalf("status of a: %+v", st)
	}

	// A delete travels like any write.
	mustCtl(t, "put", "--dir", a, "--delete", "patients", id)
	mustCtl(t, "sync", "--dir", a)
	mustCtl(t, "sync", "--dir", b)
	if r := ctl(t, "get", "--dir", b, "patients", id); r.Code != 1 || !strings.Contains(r.Stderr, "no row") {
		t.Fatalf("get of a deleted row: %+v", r)
	}
	if got := mustCtl(t, "get", "--dir", b, "patients"); got != "" {
		t.Fatalf("b still lists patients: %s", got)
	}
	assertConverged(t, srv, "clinic-a", a, b)
}

// TestNoteConflictSession edits one visit note on two replicas concurrently: both versions
// survive on every replica as a conflict that hearthctl lists, until one is resolved.
func TestNoteConflictSession(t *testing.T) {
	srv := startServer(t, serverOpts{})
	a, b := replicaDir(t, "a"), replicaDir(t, "b")
	// Administrators: visits come from intake, which this session skips by writing one directly.
	tokA := mustCtl(t, "token", "--data", srv.Data, "--tenant", "demo", "--user", "dr-a", "--role", "admin")
	tokB := mustCtl(t, "token", "--data", srv.Data, "--tenant", "demo", "--user", "dr-b", "--role", "admin")
	visit := mustCtl(t, "put", "--dir", a, "visits", "new", "status=requested", "reason=cough")
	note := mustCtl(t, "put", "--dir", a, "visit_notes", "new", "visit_id="+visit, "body=first draft")
	mustCtl(t, "sync", "--dir", a, "--server", srv.URL, "--tenant", "demo", "--token", tokA)
	mustCtl(t, "sync", "--dir", b, "--server", srv.URL, "--tenant", "demo", "--token", tokB)

	mustCtl(t, "put", "--dir", a, "visit_notes", note, "body=A's assessment")
	mustCtl(t, "put", "--dir", b, "visit_notes", note, "body=B's assessment")
	mustCtl(t, "sync", "--dir", a)
	mustCtl(t, "sync", "--dir", b)
	mustCtl(t, "sync", "--dir", a)
	for _, dir := range []string{a, b} {
		lines := nonEmptyLines(mustCtl(t, "conflicts", "--dir", dir))
		if len(lines) != 1 {
			t.Fatalf("%s: want 1 conflict, got %q", dir, lines)
		}
		var c struct{ Table, ID, Text string }
		if err := json.Unmarshal([]byte(lines[0]), &c); err != nil {
			t.Fatal(err)
		}
		if c.Table != "visit_notes" || c.ID != note || (c.Text != "A's assessment" && c.Text != "B's assessment") {
			t.Fatalf("%s: conflict %+v", dir, c)
		}
		if st := status(t, dir); st.Conflicts != 1 {
			t.Fatalf("%s: status shows %d conflicts, want 1", dir, st.Conflicts)
		}
	}
	assertConverged(t, srv, "demo", a, b)

	mustCtl(t, "put", "--dir", b, "--resolve", "visit_notes", note, "body=merged assessment")
	mustCtl(t, "sync", "--dir", b)
	mustCtl(t, "sync", "--dir", a)
	for _, dir := range []string{a, b} {
		if got := mustCtl(t, "conflicts", "--dir", dir); got != "" {
			t.Fatalf("%s: conflicts remain after resolving: %s", dir, got)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(mustCtl(t, "get", "--dir", dir, "visit_notes", note)), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["body"] != "merged assessment" {
			t.Fatalf("%s: note is %v", dir, rec)
		}
	}
	assertConverged(t, srv, "demo", a, b)
}

// replicaStatus mirrors hearthctl status --json.
type replicaStatus struct {
	Site      string
	Schema    int
	Server    string
	Tenant    string
	Cursor    uint64
	Pending   int
	LastSync  string `json:"last_sync"`
	Conflicts int
}

func status(t testing.TB, dir string) replicaStatus {
	t.Helper()
	var st replicaStatus
	if err := json.Unmarshal([]byte(mustCtl(t, "status", "--dir", dir, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// assertConverged checks that every replica and the server's tenant store hash the same.
func assertConverged(t testing.TB, srv *server, tenant string, dirs ...string) {
	t.Helper()
	want := mustCtl(t, "hash", "--data", srv.Data, "--tenant", tenant)
	if len(want) != 64 {
		t.Fatalf("server hash %q", want)
	}
	for _, d := range dirs {
		if got := mustCtl(t, "hash", "--dir", d); got != want {
			t.Fatalf("replica %s hash %s, server %s", d, got, want)
		}
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
