package tests

import (
	"database/sql"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"hearth/syncserver/sqlitetenant"
)

// TestClinicCLIHelp checks that the workflow commands are listed and describe themselves.
func TestClinicCLIHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}} {
		out := mustCtl(t, args...)
		for _, w := range []string{"intake", "intake-status", "region", "staff", "queue", "claim", "release", "audit", "3 when an intake"} {
			if !strings.Contains(out, w) {
				t.Errorf("hearthctl %s does not mention %q:\n%s", args[0], w, out)
			}
		}
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"intake", "--help"}, []string{"-given", "-birth", "-consent", "-json", "#token=", "Exit status", "3 when not admitted"}},
		{[]string{"intake-status", "--help"}, []string{"-server", "-tenant", "-region", "-json"}},
		{[]string{"region", "--help"}, []string{"CODE", "-mode", "-hours", "-time-zone", "-busy-limit", "-message"}},
		{[]string{"staff", "--help"}, []string{"USER_ID", "-role", "-regions", "-on-shift"}},
		{[]string{"queue", "--help"}, []string{"-dir", "-region", "-json"}},
		{[]string{"claim", "--help"}, []string{"VISIT_ID", "-timeout", "already_claimed", "not_licensed"}},
		{[]string{"release", "--help"}, []string{"VISIT_ID", "-timeout"}},
		{[]string{"audit", "--help"}, []string{"verify", "who"}},
		{[]string{"audit", "who", "--help"}, []string{"-patient", "-from", "-to", "-json"}},
		{[]string{"help", "audit"}, []string{"verify", "who"}},
	} {
		out := mustCtl(t, c.args...)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("hearthctl %s does not mention %q:\n%s", strings.Join(c.args, " "), w, out)
			}
		}
	}
}

// intakeJSON is what hearthctl intake --json prints.
type intakeJSON struct {
	Admitted   bool   `json:"admitted"`
	Reason     string `json:"reason"`
	Visit      string `json:"visit"`
	Patient    string `json:"patient"`
	NewPatient bool   `json:"new_patient"`
	Token      string `json:"token"`
	Expires    int64  `json:"expires"`
	Position   int    `json:"position"`
	WaitMS     int64  `json:"wait_ms"`
	Link       string `json:"link"`
}

// TestClinicCLISession is the README's "patient's visit from the command line" session with
// the real binaries: an admin sets up regions and staff from a replica, patients come in
// through the public intake, providers claim from their own replicas (the server arbitrates),
// and the audit trail records who touched the patient, and shows when it was tampered with.
func TestClinicCLISession(t *testing.T) {
	srv := startServer(t, serverOpts{})
	data := srv.Data
	const tenant = "clinic-a"
	mustCtl(t, "tenant", "create", "--data", data, "--id", tenant, "--name", "Clinic A")
	admin, drCA, drPA := replicaDir(t, "admin"), replicaDir(t, "dr-ca"), replicaDir(t, "dr-pa")
	tok := func(user, role string) string {
		return mustCtl(t, "token", "--data", data, "--tenant", tenant, "--user", user, "--role", role)
	}

	// The admin's replica saves its server, clinic and token first, so that region rows
	// record who changed them.
	mustCtl(t, "sync", "--dir", admin, "--server", srv.URL, "--tenant", tenant, "--token", tok("alice", "admin"))
	out := mustCtl(t, "region", "--dir", admin, "CA", "--name", "California", "--mode", "open",
		"--hours", "mon-sun 00:00-24:00", "--time-zone", "America/Los_Angeles")
	if !strings.Contains(out, "region CA: wrote") || !strings.Contains(out, "hours") {
		t.Fatalf("region CA printed %q", out)
	}
	mustCtl(t, "region", "--dir", admin, "pa", "--name", "Pennsylvania", "--mode", "paused", "--message", "Back on Monday at 8.")
	mustCtl(t, "staff", "--dir", admin, "dr-ca", "--name", "Dr. Ca", "--role", "provider", "--regions", "ca", "--on-shift", "true")
	mustCtl(t, "staff", "--dir", admin, "dr-pa", "--name", "Dr. Pa", "--role", "provider", "--regions", "PA", "--on-shift", "true")
	if out := mustCtl(t, "sync", "--dir", admin); !strings.Contains(out, "pushed 4 changes") {
		t.Fatalf("admin sync: %s", out)
	}
	var region map[string]any
	if err := json.Unmarshal([]byte(mustCtl(t, "get", "--dir", admin, "regions", "CA")), &region); err != nil {
		t.Fatal(err)
	}
	if region["updated_by"] != "alice" || region["hours"] != "mon-sun 00:00-24:00" || region["mode"] != "open" {
		t.Fatalf("regions/CA = %v", region)
	}

	// The public page's view: CA open, PA closed with the clinic's message.
	status := mustCtl(t, "intake-status", "--server", srv.URL, "--tenant", tenant)
	lines := strings.Split(status, "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^CA\s+California\s+open\s+0\b`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^PA\s+Pennsylvania\s+closed\s+0\b.*not taking new patients.*Back on Monday at 8\.`).MatchString(lines[2]) {
		t.Fatalf("intake-status:\n%s", status)
	}
	var pa struct {
		Code   string `json:"code"`
		Open   bool   `json:"open"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(mustCtl(t, "intake-status", "--server", srv.URL, "--tenant", tenant, "--region", "pa", "--json")), &pa); err != nil {
		t.Fatal(err)
	}
	if pa.Code != "PA" || pa.Open || !strings.Contains(pa.Reason, "Back on Monday at 8.") {
		t.Fatalf("intake-status --region pa --json: %+v", pa)
	}

	// A patient comes in, then comes again: the same patient, a second visit behind the first.
	intake := func(region, birth string, extra ...string) result {
		args := append([]string{"intake", "--server", srv.URL, "--tenant", tenant, "--given", "Ada", "--family", "Lovelace",
			"--birth", birth, "--phone", "(555) 123-4567", "--region", region, "--reason", "sore throat", "--consent"}, extra...)
		return ctl(t, args...)
	}
	r := intake("CA", "1990-12-10", "--json")
	var first intakeJSON
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &first) != nil {
		t.Fatalf("intake: %+v", r)
	}
	if !first.Admitted || first.Visit == "" || first.Patient == "" || !first.NewPatient || first.Position != 1 || first.Token == "" ||
		first.Expires == 0 || first.Link != srv.URL+"/visit/"+first.Visit+"#token="+first.Token {
		t.Fatalf("first intake: %+v", first)
	}
	r = intake("ca", "1990-12-10")
	if r.Code != 0 {
		t.Fatalf("second intake: %+v", r)
	}
	for _, w := range []string{"admitted:   yes", "patient:    " + first.Patient + " (matched an existing patient)", "position:   2",
		"wait:       about 15 min", "visit link: " + srv.URL + "/visit/"} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("second intake does not say %q:\n%s", w, r.Stdout)
		}
	}
	second := regexp.MustCompile(`(?m)^visit:\s+(\S+)$`).FindStringSubmatch(r.Stdout)
	if second == nil || second[1] == first.Visit {
		t.Fatalf("second intake's visit: %q", r.Stdout)
	}

	// Closed regions turn patients away with exit status 3; bad input is refused, naming the field.
	r = intake("PA", "1990-12-10")
	if r.Code != 3 || !strings.Contains(r.Stdout, "admitted:   no") || !strings.Contains(r.Stdout, "Back on Monday at 8.") ||
		!strings.Contains(r.Stderr, "not admitted to PA") {
		t.Fatalf("intake into paused PA: %+v", r)
	}
	r = intake("CA", "1990-02-30")
	if r.Code != 1 || !strings.Contains(r.Stderr, "refused (bad_request)") || !strings.Contains(r.Stderr, "birth date") {
		t.Fatalf("intake with a bad birth date: %+v", r)
	}

	// The CA provider sees the queue from their replica.
	mustCtl(t, "sync", "--dir", drCA, "--server", srv.URL, "--tenant", tenant, "--token", tok("dr-ca", "provider"))
	mustCtl(t, "sync", "--dir", drPA, "--server", srv.URL, "--tenant", tenant, "--token", tok("dr-pa", "provider"))
	queue := mustCtl(t, "queue", "--dir", drCA, "--region", "CA")
	lines = strings.Split(queue, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "REGION") ||
		!regexp.MustCompile(`^CA\s+1\s+`+first.Visit+`\s+`+first.Patient+`\s+\S+\s+less than a minute\s+sore throat`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^CA\s+2\s+`+second[1]+`\s`).MatchString(lines[2]) {
		t.Fatalf("queue:\n%s", queue)
	}
	var q struct {
		Visit    string `json:"visit"`
		Position int    `json:"position"`
		WaitedMS int64  `json:"waited_ms"`
	}
	if err := json.Unmarshal([]byte(strings.Split(mustCtl(t, "queue", "--dir", drCA, "--json"), "\n")[0]), &q); err != nil {
		t.Fatal(err)
	}
	if q.Visit != first.Visit || q.Position != 1 || q.WaitedMS < 0 {
		t.Fatalf("queue --json first line: %+v", q)
	}

	// The PA provider may not take a CA patient; the CA provider does; then nobody else can.
	r = ctl(t, "claim", "--dir", drPA, first.Visit)
	if r.Code != 1 || !strings.Contains(r.Stderr, "not_licensed") || !strings.Contains(r.Stderr, "not licensed in CA") {
		t.Fatalf("PA provider's claim: %+v", r)
	}
	out = mustCtl(t, "claim", "--dir", drCA, first.Visit)
	if !strings.Contains(out, "claimed visit "+first.Visit+" (patient "+first.Patient+")") {
		t.Fatalf("claim printed %q", out)
	}
	var visit map[string]any
	if err := json.Unmarshal([]byte(mustCtl(t, "get", "--dir", drCA, "visits", first.Visit)), &visit); err != nil {
		t.Fatal(err)
	}
	if visit["status"] != "in_visit" || visit["provider_id"] != "dr-ca" {
		t.Fatalf("after claim, the provider's replica holds %v", visit)
	}
	r = ctl(t, "claim", "--dir", drPA, first.Visit)
	if r.Code != 1 || !strings.Contains(r.Stderr, "already_claimed") || !strings.Contains(r.Stderr, "another provider") {
		t.Fatalf("second claim: %+v", r)
	}
	if queue := mustCtl(t, "queue", "--dir", drCA); strings.Contains(queue, first.Visit) || !strings.Contains(queue, second[1]) {
		t.Fatalf("queue after claim:\n%s", queue)
	}
	if out := mustCtl(t, "release", "--dir", drCA, first.Visit); !strings.Contains(out, "released visit "+first.Visit) {
		t.Fatalf("release printed %q", out)
	}
	if err := json.Unmarshal([]byte(mustCtl(t, "get", "--dir", drCA, "visits", first.Visit)), &visit); err != nil {
		t.Fatal(err)
	}
	if visit["status"] != "waiting" || visit["provider_id"] != "" {
		t.Fatalf("after release, the provider's replica holds %v", visit)
	}

	// The audit trail: intact, and it shows who touched the patient (ids only).
	out = mustCtl(t, "audit", "verify", "--data", data, "--tenant", tenant)
	m := regexp.MustCompile(`^ok: (\d+) links$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("audit verify: %q", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 4 { // two intakes, a claim, a release
		t.Fatalf("audit verify: %d links", n)
	}
	who := mustCtl(t, "audit", "who", "--data", data, "--tenant", tenant, "--patient", first.Patient)
	for _, re := range []string{
		`(?m)^\S+Z\s+patient:` + first.Visit + `\s+patient\s+intake\s+visits/` + first.Visit + `\s+\S+$`,
		`(?m)^\S+Z\s+patient:` + second[1] + `\s+patient\s+intake\s+visits/` + second[1] + `\s`,
		`(?m)^\S+Z\s+dr-ca\s+provider\s+claim\s+visits/` + first.Visit + `\s+\S+$`,
		`(?m)^\S+Z\s+dr-ca\s+provider\s+release\s+visits/` + first.Visit + `\s`,
	} {
		if !regexp.MustCompile(re).MatchString(who) {
			t.Errorf("audit who does not match %s:\n%s", re, who)
		}
	}
	// The phone in any form it could be stored in (ids are random hex and may hold "555").
	if strings.Contains(who, "Lovelace") || strings.Contains(who, "sore throat") || strings.Contains(who, "1234567") || strings.Contains(who, "123-4567") {
		t.Errorf("audit who prints patient data:\n%s", who)
	}
	if out := mustCtl(t, "audit", "who", "--data", data, "--tenant", tenant, "--patient", first.Patient, "--to", "2000-01-01"); !strings.Contains(out, "no accesses") {
		t.Errorf("audit who before any visit: %q", out)
	}

	// Claims need the server: with it stopped, claim fails at once and says why.
	if err := srv.stop(); err != nil {
		t.Fatalf("stop hearth-server: %v", err)
	}
	r = ctl(t, "claim", "--dir", drCA, second[1], "--timeout", "1s")
	if r.Code != 1 || !strings.Contains(r.Stderr, "offline") || !strings.Contains(r.Stderr, "needs a live connection") {
		t.Fatalf("claim offline: %+v", r)
	}

	// Someone edits an audit entry behind the server's back: verify names the broken link.
	db, err := sql.Open("sqlite3", sqlitetenant.Path(data, tenant))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var link int
	var rid string
	err = db.QueryRow(`SELECT c.link, c.rid FROM _server_chain c JOIN audit_events a ON a.id = c.rid
		WHERE c.tbl = 'audit_events' AND a.actor = 'dr-ca' AND a.action = 'claim'`).Scan(&link, &rid)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := db.Exec(`UPDATE audit_events SET actor = 'x' WHERE id = ?`, rid); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tampering changed %d rows", n)
	}
	db.Close()
	r = ctl(t, "audit", "verify", "--data", data, "--tenant", tenant)
	wantLine := "broken: link " + strconv.Itoa(link) + " (audit_events/" + rid + "): the row's content or the link before it was changed"
	if r.Code != 1 || strings.TrimSpace(r.Stdout) != wantLine || !strings.Contains(r.Stderr, "broken at link "+strconv.Itoa(link)) {
		t.Fatalf("audit verify after tampering: %+v\nwant stdout %q", r, wantLine)
	}
}
