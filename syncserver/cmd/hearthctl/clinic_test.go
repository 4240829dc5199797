package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/engine/clinic"
)

func testCLI() (*cli, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &cli{stdout: out, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}, out
}

// TestClinicUsageErrors checks that every flag of the workflow commands is validated before
// anything is opened or sent: a usage error (exit status 2) that says what is wrong.
func TestClinicUsageErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	ok := []string{"--server", "http://127.0.0.1:1", "--tenant", "demo", "--given", "Ada", "--family", "Lovelace",
		"--birth", "1990-12-10", "--phone", "5551234567", "--region", "CA", "--reason", "cough", "--consent"}
	without := func(flag string) []string {
		var out []string
		for i := 0; i < len(ok); i++ {
			if ok[i] == flag {
				if flag != "--consent" {
					i++
				}
				continue
			}
			out = append(out, ok[i])
		}
		return out
	}
	intake := func(args ...string) []string { return append([]string{"intake"}, args...) }
	cases := []struct {
		args []string
		want string
	}{
		{intake(without("--tenant")...), "--tenant is required"},
		{intake(append(without("--tenant"), "--tenant", "Bad!")...), "bad tenant id"},
		{intake(append(without("--server"), "--server", "ftp://x")...), "server address"},
		{intake(without("--given")...), "--given is required"},
		{intake(append(without("--family"), "--family", "  ")...), "--family is required"},
		{intake(without("--birth")...), "--birth is required"},
		{intake(without("--region")...), "--region is required"},
		{intake(without("--reason")...), "--reason is required"},
		{intake(without("--phone")...), "--phone or --email"},
		{intake(without("--consent")...), "--consent is required"},
		{intake(append(ok, "--timeout", "0s")...), "--timeout must be positive"},
		{intake(append(ok, "extra")...), `unexpected argument "extra"`},
		{intake(append(ok, "--bogus")...), "bogus"},
		{[]string{"intake-status", "--server", "http://h:1"}, "--tenant is required"},
		{[]string{"intake-status", "--tenant", "demo", "--region", "C4"}, `bad region code "C4"`},
		{[]string{"intake-status", "--tenant", "demo", "--region", "CALI"}, `bad region code "CALI"`},
		{[]string{"intake-status", "--tenant", "demo", "x"}, `unexpected argument "x"`},

		{[]string{"region", "CA", "--mode", "open"}, "--dir is required"},
		{[]string{"region", "--dir", dir, "--mode", "open"}, "want one region CODE"},
		{[]string{"region", "--dir", dir, "CA", "PA", "--mode", "open"}, "want one region CODE"},
		{[]string{"region", "--dir", dir, "California", "--mode", "open"}, `bad region code "California"`},
		{[]string{"region", "--dir", dir, "CA", "--mode", "closed"}, `unknown --mode "closed"`},
		{[]string{"region", "--dir", dir, "CA", "--busy-limit", "-1"}, "--busy-limit must be 0 or more"},
		{[]string{"region", "--dir", dir, "CA", "--busy-limit", "many"}, "busy-limit"},
		{[]string{"region", "--dir", dir, "CA", "--hours", "weekdays 9-5"}, "--hours"},
		{[]string{"region", "--dir", dir, "CA", "--hours", "mon-fri 18:00-08:00"}, "closing time must come after"},
		{[]string{"region", "--dir", dir, "CA", "--time-zone", "Mars/Olympus"}, `--time-zone "Mars/Olympus"`},
		{[]string{"region", "--dir", dir, "CA", "--time-zone", "Local"}, `--time-zone "Local"`},
		{[]string{"region", "--dir", dir, "CA"}, "nothing to write"},

		{[]string{"staff", "dr-a", "--role", "provider"}, "--dir is required"},
		{[]string{"staff", "--dir", dir, "--role", "provider"}, "want one USER_ID"},
		{[]string{"staff", "--dir", dir, "dr a", "--role", "provider"}, `bad user id "dr a"`},
		{[]string{"staff", "--dir", dir, "dr-a", "--role", "patient"}, `unknown --role "patient"`},
		{[]string{"staff", "--dir", dir, "dr-a", "--regions", "CA,N1"}, `bad region code "N1"`},
		{[]string{"staff", "--dir", dir, "dr-a", "--on-shift", "maybe"}, `--on-shift must be true or false, not "maybe"`},
		{[]string{"staff", "--dir", dir, "dr-a"}, "nothing to write"},

		{[]string{"queue"}, "--dir is required"},
		{[]string{"queue", "--dir", dir, "--region", "1"}, `bad region code "1"`},
		{[]string{"queue", "--dir", dir, "CA"}, `unexpected argument "CA"`},

		{[]string{"claim", "v1"}, "--dir is required"},
		{[]string{"claim", "--dir", dir}, "want one VISIT_ID"},
		{[]string{"claim", "--dir", dir, "v1", "v2"}, "want one VISIT_ID"},
		{[]string{"claim", "--dir", dir, "no/such"}, `bad visit id "no/such"`},
		{[]string{"claim", "--dir", dir, "v1", "--timeout", "-1s"}, "--timeout must be positive"},
		{[]string{"release", "v1"}, "--dir is required"},
		{[]string{"release", "--dir", dir}, "want one VISIT_ID"},
		{[]string{"release", "--dir", dir, "v 1"}, `bad visit id "v 1"`},

		{[]string{"audit"}, "want a subcommand: verify or who"},
		{[]string{"audit", "erase"}, `unknown subcommand "erase"`},
		{[]string{"audit", "verify", "--data", dir}, "--tenant is required"},
		{[]string{"audit", "verify", "--data", dir, "--tenant", "demo", "x"}, `unexpected argument "x"`},
		{[]string{"audit", "who", "--data", dir, "--tenant", "demo"}, "--patient is required"},
		{[]string{"audit", "who", "--data", dir, "--tenant", "demo", "--patient", "a b"}, `bad patient id "a b"`},
		{[]string{"audit", "who", "--data", dir, "--tenant", "demo", "--patient", "p1", "--from", "yesterday"}, `--from "yesterday"`},
		{[]string{"audit", "who", "--data", dir, "--tenant", "demo", "--patient", "p1", "--to", "2025-02-30"}, `--to "2025-02-30"`},
		{[]string{"audit", "who", "--data", dir, "--tenant", "demo", "--patient", "p1", "--from", "2025-03-02", "--to", "2025-03-01"}, "--from must come before --to"},

		{[]string{"frobnicate"}, "intake-status, region, staff, queue, claim, release, audit"},
	}
	for _, c := range cases {
		cl, _ := testCLI()
		err := run(context.Background(), c.args, cl.getenv, cl.stdout, cl.stderr)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("hearthctl %s: got %v; want a usage error mentioning %q", strings.Join(c.args, " "), err, c.want)
		}
		if code := exitCode(err, io.Discard); err != nil && errors.As(err, &ue) && code != 2 {
			t.Errorf("hearthctl %s: exit %d, want 2", strings.Join(c.args, " "), code)
		}
	}
}

// TestWorkflowHelp checks that every new command answers --help with its flags.
func TestWorkflowHelp(t *testing.T) {
	for cmd, want := range map[string][]string{
		"intake":        {"-given", "-family", "-birth", "-phone", "-email", "-region", "-reason", "-consent", "-json", "Exit status", "3", "comes in a later"},
		"intake-status": {"-server", "-tenant", "-region", "-json"},
		"region":        {"-mode", "-busy-limit", "-hours", "-time-zone", "-message", "-name", "updated_by"},
		"staff":         {"-role", "-regions", "-on-shift", "-name"},
		"queue":         {"-dir", "-region", "-json"},
		"claim":         {"-dir", "-timeout", "already_claimed", "not_licensed", "off_shift", "busy", "transition"},
		"release":       {"-dir", "-timeout"},
		"audit":         {"verify", "who"},
	} {
		cl, out := testCLI()
		err := run(context.Background(), []string{cmd, "--help"}, cl.getenv, cl.stdout, cl.stderr)
		if err != nil && exitCode(err, io.Discard) != 0 {
			t.Errorf("%s --help: %v", cmd, err)
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s --help does not mention %q:\n%s", cmd, w, out)
			}
		}
	}
	for _, sub := range []string{"verify", "who"} {
		cl, out := testCLI()
		run(context.Background(), []string{"audit", sub, "--help"}, cl.getenv, cl.stdout, cl.stderr)
		if !strings.Contains(out.String(), "-tenant") || !strings.Contains(out.String(), "-data") {
			t.Errorf("audit %s --help:\n%s", sub, out)
		}
	}
}

// TestRegionAndStaffWrite writes settings into a replica: only the given columns, canonical
// forms, updated_at, and updated_by from the saved token's user.
func TestRegionAndStaffWrite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "r")
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"tid":"demo","sub":"alice","role":"admin","scp":["*"]}`))
	// The replica must exist before its config; sync would create both.
	mustRun := func(args ...string) string {
		t.Helper()
		cl, out := testCLI()
		if err := run(ctx, args, cl.getenv, cl.stdout, cl.stderr); err != nil {
			t.Fatalf("hearthctl %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	mustRun("region", "--dir", dir, "ca", "--name", "California", "--mode", "paused", "--hours", "sat-sun 00:00-24:00, mon-fri 00:00-24:00",
		"--time-zone", "America/Los_Angeles", "--message", " Back soon. ", "--busy-limit", "3")
	if err := saveConfig(dir, replicaConfig{Server: "http://h:1", Tenant: "demo", Token: payload + ".sig"}); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UnixMilli()
	out := mustRun("region", "--dir", dir, "CA", "--mode", "open")
	if !strings.Contains(out, "region CA: wrote mode (") {
		t.Fatalf("region printed %q", out)
	}
	mustRun("staff", "--dir", dir, "dr-a", "--role", "provider", "--regions", " ny, ca,NY,", "--on-shift", "true")
	mustRun("staff", "--dir", dir, "dr-a", "--on-shift", "false")

	rep, err := openReplica(ctx, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	r, err := rep.Get(ctx, "regions", "CA")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "California", "mode": "open", "hours": "mon-sun 00:00-24:00", "time_zone": "America/Los_Angeles",
		"message": "Back soon.", "busy_limit": int64(3), "updated_by": "alice"}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("regions/CA.%s = %#v, want %#v", k, r[k], v)
		}
	}
	if at, _ := r["updated_at"].(int64); at < before {
		t.Errorf("regions/CA.updated_at = %v, want >= %d", r["updated_at"], before)
	}
	if _, err := clinic.RegionFromRow("CA", clinic.Row(r)); err != nil {
		t.Errorf("the region written does not read back: %v", err)
	}
	s, err := rep.Get(ctx, "staff", "dr-a")
	if err != nil {
		t.Fatal(err)
	}
	if s["role"] != "provider" || s["regions"] != "NY,CA" || s["on_shift"] != int64(0) || s["name"] != nil || s["updated_at"] == nil {
		t.Errorf("staff/dr-a = %v", s)
	}
}

func TestTokenClaims(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	if c, ok := tokenClaims(enc(`{"tid":"demo","sub":"bob","role":"support"}`) + ".x"); !ok || c.User != "bob" || c.Role != "support" {
		t.Fatalf("claims %+v ok %v", c, ok)
	}
	for _, bad := range []string{"", "nodot", "!!!.x", enc(`[1]`) + ".x", enc(`{"tid":"demo"}`) + ".x"} {
		if c, ok := tokenClaims(bad); ok {
			t.Errorf("tokenClaims(%q) = %+v, true", bad, c)
		}
	}
}

func TestFormats(t *testing.T) {
	for ms, want := range map[int64]string{-1: "unknown", 0: "less than a minute", 29_000: "less than a minute",
		31_000: "about 1 min", 15 * 60_000: "about 15 min", 95 * 60_000: "about 1h 35min"} {
		if got := formatWait(ms); got != want {
			t.Errorf("formatWait(%d) = %q, want %q", ms, got, want)
		}
	}
	if got := formatMillis(0, "unknown"); got != "unknown" {
		t.Errorf("formatMillis(0) = %q", got)
	}
	if got := formatMillis(1700000000000, ""); got != "2023-11-14T22:13:20Z" {
		t.Errorf("formatMillis = %q", got)
	}
	for in, want := range map[string]string{"http://h:1/": "http://h:1", "ws://h:1": "http://h:1", "wss://h/api": "https://h/api"} {
		if got := pageURL(in); got != want {
			t.Errorf("pageURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := oneLine("a\tb\nc"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
}

func TestAuditRange(t *testing.T) {
	from, to, err := auditRange("", "")
	if err != nil || from.UnixMilli() != math.MinInt64 || to.UnixMilli() != math.MaxInt64 {
		t.Fatalf("all time: %v %v %v", from.UnixMilli(), to.UnixMilli(), err)
	}
	from, to, err = auditRange("2025-03-01", "2025-03-01")
	if err != nil || !from.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("one day: %v %v %v", from, to, err)
	}
	from, to, err = auditRange("2025-03-01T09:00:00+02:00", "2025-03-01T10:00:00Z")
	if err != nil || from.UTC().Hour() != 7 || to.UTC().Hour() != 10 {
		t.Fatalf("RFC 3339: %v %v %v", from, to, err)
	}
}

func TestExitStatusNotAdmitted(t *testing.T) {
	var buf bytes.Buffer
	err := fmt.Errorf("wrapped: %w", &statusError{code: exitNotAdmitted, err: errors.New("intake: not admitted to PA: paused")})
	if code := exitCode(err, &buf); code != 3 || !strings.Contains(buf.String(), "not admitted to PA") {
		t.Fatalf("exit %d, stderr %q", code, buf.String())
	}
}
