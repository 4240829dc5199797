package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/engine/clinic"
	"hearth/syncserver/token"
)

// TestHelp checks that every command's --help exits 0 and describes what it should.
func TestHelp(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"tenant", "token", "put", "get", "sync", "status", "conflicts", "hash",
			"intake", "intake-status", "region", "staff", "queue", "claim", "release", "audit"}},
		{[]string{"help"}, []string{"tenant", "token", "put", "get", "sync", "status", "conflicts", "hash",
			"intake", "intake-status", "region", "staff", "queue", "claim", "release", "audit"}},
		{[]string{"tenant", "--help"}, []string{"create", "list", "--data"}},
		{[]string{"tenant", "create", "--help"}, []string{"-id", "-name", "-region", "-node", "-data"}},
		{[]string{"tenant", "list", "--help"}, []string{"-data", "-json"}},
		{[]string{"token", "--help"}, []string{"-tenant", "-user", "-role", "-visit", "-ttl", "-key-file", "patient"}},
		{[]string{"put", "--help"}, []string{"TABLE", "new", "-delete", "-resolve", "-dir", "col=value"}},
		{[]string{"get", "--help"}, []string{"TABLE", "-dir"}},
		{[]string{"sync", "--help"}, []string{"-server", "-tenant", "-token", "-dir", "config.json"}},
		{[]string{"status", "--help"}, []string{"-dir", "-json", "pending"}},
		{[]string{"conflicts", "--help"}, []string{"-dir", "--resolve"}},
		{[]string{"hash", "--help"}, []string{"-dir", "-data", "-tenant"}},
		{[]string{"help", "put"}, []string{"-delete"}},
	}
	for _, c := range cases {
		r := ctl(t, c.args...)
		if r.Code != 0 {
			t.Errorf("hearthctl %s: exit %d, stderr %s", strings.Join(c.args, " "), r.Code, r.Stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("hearthctl %s: help does not mention %q:\n%s", strings.Join(c.args, " "), w, r.Stdout)
			}
		}
	}

	out, code := runServerOnce(t, []string{"--help"})
	if code != 0 {
		t.Fatalf("hearth-server --help: exit %d\n%s", code, out)
	}
	for _, w := range []string{"--addr", "HEARTH_ADDR", "--data", "HEARTH_DATA", "HEARTH_TOKEN_KEY_FILE", "--demo", "--retention",
		"--compact-every", "--max-batch", "--page-size", "--max-drift", "--log-level", "127.0.0.1:8686"} {
		if !strings.Contains(out, w) {
			t.Errorf("hearth-server --help does not mention %q:\n%s", w, out)
		}
	}
}

// runServerOnce runs hearth-server expecting it to exit by itself (help, bad configuration).
func runServerOnce(t testing.TB, args []string, env ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.server, args...)
	cmd.Env = cleanEnv(env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("hearth-server %v did not exit within 30s:\n%s", args, out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestBadInput checks that mistakes get a clear message and the right exit status: 2 for a
// wrong command line, 1 for an operation that failed.
func TestBadInput(t *testing.T) {
	srv := startServer(t, serverOpts{})
	rep := replicaDir(t, "r")
	mustCtl(t, "put", "--dir", rep, "patients", "new", "given_name=Ada")
	ghost := srv.token(t, token.Claims{Tenant: "ghost", User: "u", Role: clinic.RoleProvider, Scopes: []string{"*"}})
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"get", "--dir", rep, "--bogus", "patients"}, 2, "bogus"},
		{"unknown table", []string{"put", "--dir", rep, "doctors", "new", "name=x"}, 2, `unknown table "doctors"`},
		{"unknown table in get", []string{"get", "--dir", rep, "doctors"}, 2, `unknown table "doctors"`},
		{"bad column", []string{"put", "--dir", rep, "patients", "new", "shoe_size=9"}, 2, `no column "shoe_size"`},
		{"not col=value", []string{"put", "--dir", rep, "patients", "new", "given_name"}, 2, "not col=value"},
		{"bad integer", []string{"put", "--dir", rep, "patients", "new", "created_at=yesterday"}, 2, "not a whole number"},
		{"bad JSON", []string{"put", "--dir", rep, "patients", "new", "created_at:=[1"}, 2, "not JSON"},
		{"missing scope column", []string{"put", "--dir", rep, "visit_notes", "new", "body=hi"}, 2, "visit_id"},
		{"bad row id", []string{"put", "--dir", rep, "patients", "a b", "given_name=x"}, 2, "bad id"},
		{"no values", []string{"put", "--dir", rep, "patients", "new"}, 2, "no values"},
		{"delete missing row", []string{"put", "--dir", rep, "--delete", "patients", "nope"}, 1, "not found"},
		{"append-only edit", []string{"put", "--dir", rep, "--delete", "chat_messages", "nope"}, 1, "append-only"},
		{"no --dir", []string{"get", "patients"}, 2, "--dir is required"},
		{"missing replica", []string{"status", "--dir", filepath.Join(t.TempDir(), "nowhere")}, 1, "no replica"},
		{"bad tenant id", []string{"tenant", "create", "--data", srv.Data, "--id", "Clinic_A"}, 2, `bad tenant id "Clinic_A"`},
		{"tenant exists", []string{"tenant", "create", "--data", srv.Data, "--id", "demo"}, 1, "already exists"},
		{"tenant subcommand", []string{"tenant", "delete"}, 2, `unknown subcommand "delete"`},
		{"no tenant directory", []string{"tenant", "list", "--data", t.TempDir()}, 1, "no tenant directory"},
		{"token bad tenant id", []string{"token", "--data", srv.Data, "--tenant", "../etc", "--user", "u"}, 2, "bad tenant id"},
		{"token unknown tenant", []string{"token", "--data", srv.Data, "--tenant", "ghost", "--user", "u"}, 1, `no tenant "ghost"`},
		{"token unknown role", []string{"token", "--data", srv.Data, "--tenant", "demo", "--user", "u", "--role", "king"}, 2, `unknown --role "king"`},
		{"patient without visit", []string{"token", "--data", srv.Data, "--tenant", "demo", "--user", "u", "--role", "patient"}, 2, "--visit"},
		{"staff with visit", []string{"token", "--data", srv.Data, "--tenant", "demo", "--user", "u", "--visit", "v1"}, 2, "--visit"},
		{"token without key", []string{"token", "--tenant", "demo", "--user", "u"}, 2, "--data DIR or --key-file"},
		{"sync bad tenant id", []string{"sync", "--dir", rep, "--server", srv.URL, "--tenant", "Bad!", "--token", "x"}, 2, "bad tenant id"},
		{"sync bad server URL", []string{"sync", "--dir", rep, "--server", "ftp://x", "--tenant", "demo", "--token", "x"}, 2, "server address"},
		{"sync bad token", []string{"sync", "--dir", rep, "--server", srv.URL, "--tenant", "demo", "--token", "forged"}, 1, "unauthorized"},
		{"sync unknown tenant", []string{"sync", "--dir", rep, "--server", srv.URL, "--tenant", "ghost", "--token", ghost}, 1, "unknown_tenant"},
		{"sync server down", []string{"sync", "--dir", rep, "--server", "http://127.0.0.1:1", "--tenant", "demo", "--token", "x"}, 1, "is hearth-server running"},
		{"hash both modes", []string{"hash", "--dir", rep, "--data", srv.Data, "--tenant", "demo"}, 2, "not both"},
		{"hash unknown tenant", []string{"hash", "--data", srv.Data, "--tenant", "ghost"}, 1, `no store for tenant "ghost"`},
	}
	for _, c := range cases {
		r := ctl(t, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%s: hearthctl %s: exit %d, stderr %q; want exit %d and %q", c.name, strings.Join(c.args, " "), r.Code, r.Stderr, c.code, c.want)
		}
	}
	// Refused syncs must not have replaced the replica's (empty) saved settings.
	if _, err := os.Stat(filepath.Join(rep, "config.json")); err == nil {
		cfg, _ := os.ReadFile(filepath.Join(rep, "config.json"))
		if strings.Contains(string(cfg), "ghost") || strings.Contains(string(cfg), "forged") {
			t.Errorf("a refused sync saved its settings: %s", cfg)
		}
	}

	for _, c := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--bogus"}, nil, "bogus"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{nil, []string{"HEARTH_MAX_BATCH=lots"}, "HEARTH_MAX_BATCH"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--page-size", "0"}, nil, "--page-size"},
	} {
		out, code := runServerOnce(t, c.args, c.env...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("hearth-server %v %v: exit %d, output %q; want exit 2 and %q", c.args, c.env, code, out, c.want)
		}
	}
}
