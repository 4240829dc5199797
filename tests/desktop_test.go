package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/tests/internal/desktopdrv"
)

// desktopBin is the real desktop binary, built once per test run by buildDesktop.
var desktopBin struct {
	once sync.Once
	path string
	err  error
}

// buildDesktop builds the desktop app once per test run with the project's own command,
// build/desktop.sh: the UI (npm run build), then the production binary with the tags a
// release uses (desktop,production,webkit2_41), not the tagless stub that only prints an
// error. build/install-deps.sh must have installed the UI's packages.
func buildDesktop(t testing.TB) string {
	t.Helper()
	desktopBin.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			desktopBin.err = err
			return
		}
		if _, err := os.Stat(filepath.Join(root, "frontend", "node_modules")); err != nil {
			desktopBin.err = fmt.Errorf("frontend/node_modules is missing: run bash build/install-deps.sh first")
			return
		}
		bin := filepath.Join(bins.dir, "hearth") // removed with the other binaries after the run
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build := exec.CommandContext(ctx, "bash", "build/desktop.sh", bin)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			desktopBin.err = fmt.Errorf("bash build/desktop.sh: %v\n%s", err, out)
			return
		}
		desktopBin.path = bin
	})
	if desktopBin.err != nil {
		t.Fatal(desktopBin.err)
	}
	return desktopBin.path
}

// ui wraps the driver for a test: every step fails the test with what it was doing.
type ui struct {
	t   *testing.T
	app *desktopdrv.App
	dir string // artifacts
}

const uiWait = 15 * time.Second

func (u *ui) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), uiWait+5*time.Second)
}

func (u *ui) waitFor(what, cond string) {
	u.t.Helper()
	ctx, cancel := u.ctx()
	defer cancel()
	if err := u.app.WaitFor(ctx, cond, uiWait); err != nil {
		u.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		u.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (u *ui) waitTestID(id string) { u.t.Helper(); u.waitFor(id, exists(id)) }

func (u *ui) click(id string) {
	u.t.Helper()
	ctx, cancel := u.ctx()
	defer cancel()
	if err := u.app.Click(ctx, sel(id)); err != nil {
		u.shot("failed-click-" + id)
		u.t.Fatalf("click %s: %v", id, err)
	}
}

func (u *ui) set(id, text string) {
	u.t.Helper()
	ctx, cancel := u.ctx()
	defer cancel()
	if err := u.app.SetValue(ctx, sel(id), text); err != nil {
		u.t.Fatalf("type into %s: %v", id, err)
	}
}

// eval evaluates js (awaiting a promise) and decodes its JSON value into v.
func (u *ui) eval(js string, v any) {
	u.t.Helper()
	ctx, cancel := u.ctx()
	defer cancel()
	raw, err := u.app.Eval(ctx, js)
	if err != nil {
		u.t.Fatalf("eval %s: %v", js, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			u.t.Fatalf("eval %s: decode %s: %v", js, raw, err)
		}
	}
}

func (u *ui) attr(id, name string) string {
	u.t.Helper()
	var s string
	u.eval(fmt.Sprintf(`(document.querySelector(%q)?.getAttribute(%q) ?? "")`, sel(id), name), &s)
	return s
}

// scrollTop scrolls every scrolled pane back to its top, so a screenshot shows a screen as
// it opens.
func (u *ui) scrollTop() {
	u.t.Helper()
	// Resolve after two frames, so that the screenshot shows the repainted screen.
	u.eval(`new Promise(done => {
		document.querySelectorAll("*").forEach(e => { if (e.scrollTop) e.scrollTop = 0 });
		window.scrollTo(0, 0);
		requestAnimationFrame(() => requestAnimationFrame(() => done(true)));
	})`, nil)
}

// shot keeps a screenshot of the whole screen for a person to look at, after two frames so
// that it shows the screen as last rendered.
func (u *ui) shot(name string) {
	u.t.Helper()
	u.eval(`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`, nil)
	u.app.Screenshot(u.t, filepath.Join(u.dir, name+".png"))
}

func sel(testID string) string { return fmt.Sprintf(`[data-testid=%q]`, testID) }

func exists(testID string) string { return fmt.Sprintf(`!!document.querySelector(%q)`, sel(testID)) }

// desktopTenant is the clinic the desktop tests set up.
const desktopTenant = "clinic-a"

// desktopClinic is a real hearth-server with a clinic set up by its administrator through
// hearthctl: California and New York, carol a provider licensed in California, sam at the
// support desk.
type desktopClinic struct {
	t    *testing.T
	srv  *server
	data string
}

func startDesktopClinic(t *testing.T) *desktopClinic {
	t.Helper()
	c := &desktopClinic{t: t, data: t.TempDir()}
	c.srv = crashServerAt(t, c.data, "127.0.0.1:0")
	mustCtl(t, "tenant", "create", "--data", c.data, "--id", desktopTenant, "--name", "Clinic A")
	admin := replicaDir(t, "admin")
	mustCtl(t, "sync", "--dir", admin, "--server", c.srv.URL, "--tenant", desktopTenant, "--token", c.token("alice", "admin"))
	mustCtl(t, "region", "--dir", admin, "CA", "--name", "California", "--mode", "open")
	mustCtl(t, "region", "--dir", admin, "NY", "--name", "New York", "--mode", "open")
	mustCtl(t, "staff", "--dir", admin, "carol", "--name", "Carol Chen", "--role", "provider", "--regions", "CA", "--on-shift", "true")
	mustCtl(t, "staff", "--dir", admin, "sam", "--name", "Sam Support", "--role", "support")
	mustCtl(t, "sync", "--dir", admin)
	return c
}

// token issues a caregiver's enrollment token, as the clinic's administrator would.
func (c *desktopClinic) token(user, role string) string {
	c.t.Helper()
	return mustCtl(c.t, "token", "--data", c.data, "--tenant", desktopTenant, "--user", user, "--role", role)
}

// intake brings a patient in through the public intake, as the patient's page would.
func (c *desktopClinic) intake(given, family, region, reason string) intakeJSON {
	c.t.Helper()
	out := mustCtl(c.t, "intake", "--server", c.srv.URL, "--tenant", desktopTenant, "--given", given, "--family", family,
		"--birth", "1987-04-12", "--phone", fmt.Sprintf("555-01%d-1234", len(given)), "--region", region, "--reason", reason, "--consent", "--json")
	var r intakeJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil || !r.Admitted {
		c.t.Fatalf("intake %s: %s %v", given, out, err)
	}
	return r
}

// TestDesktopShiftThroughAnOutage is a clinician's shift in the real desktop app, in a real
// window under Xvfb, against the real sync server: sign in, see the queue live, claim a
// patient, write a note and a chat message while the server is down, bring it back, and
// find both on the server and on another replica exactly once; then a note edited on two
// devices lands in the conflict inbox and is resolved there. Screenshots of the queue online
// and offline, the visit and the conflict inbox are kept in the artifacts directory.
func TestDesktopShiftThroughAnOutage(t *testing.T) {
	bin := buildDesktop(t)
	c := startDesktopClinic(t)
	srv, data, tok, intake := c.srv, c.data, c.token, c.intake
	ada := intake("Ada", "Lovelace", "CA", "Sore throat for three days")

	d := desktopdrv.StartDisplay(t)
	art := desktopdrv.ArtifactDir(t, "desktop")
	const tenant = desktopTenant
	carolTok := tok("carol", "provider")
	app := desktopdrv.Launch(t, d, bin, []string{"--data-dir", t.TempDir(), "--server", srv.URL, "--clinic", tenant, "--max-backoff", "300ms"},
		nil, filepath.Join(art, "hearth.log"))
	u := &ui{t: t, app: app, dir: art}

	// Sign in with the enrollment token; the server and clinic come prefilled from the flags.
	u.waitTestID("signin-token")
	var prefilled string
	u.eval(fmt.Sprintf(`document.querySelector(%q).value`, sel("signin-server")), &prefilled)
	if v := prefilled; v != srv.URL {
		t.Fatalf("sign-in server prefilled with %q, want %q", v, srv.URL)
	}
	u.set("signin-token", carolTok)
	u.click("signin-submit")
	u.waitTestID("queue-screen")
	u.waitTestID("queue-patient-" + ada.Visit)
	u.waitFor("online", fmt.Sprintf(`document.querySelector(%q)?.dataset.online === "true"`, sel("status-online")))

	// The queue is live: a patient who arrives now appears without any action.
	bea := intake("Bea", "Okafor", "CA", "Rash on both arms")
	u.waitTestID("queue-patient-" + bea.Visit)
	intake("Nia", "Adams", "NY", "Headache") // NY: carol is not licensed there, and never sees her
	u.shot("queue-online")
	var nyShown bool
	u.eval(exists("queue-region-NY"), &nyShown)
	if nyShown {
		t.Fatal("the queue shows New York, where carol is not licensed")
	}

	// Claim Ada: the visit screen opens.
	u.click("claim-" + ada.Visit)
	u.waitTestID("visit-screen")
	u.waitTestID("video-placeholder")
	u.set("note-editor", "Sore throat, no fever.")
	u.click("note-save")
	u.waitFor("the note saved", fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").includes("Saved")`, sel("note-status")))
	var note struct {
		MyNote struct{ ID string } `json:"myNote"`
	}
	u.eval(fmt.Sprintf(`window.go.app.Visits.View(%q)`, ada.Visit), &note)
	if note.MyNote.ID == "" {
		t.Fatal("the note has no id after saving")
	}
	u.waitFor("everything synced", fmt.Sprintf(`document.querySelector(%q)?.dataset.pending === "0"`, sel("status-pending")))
	// Another device of carol's holds the note as of now, for the conflict later.
	tablet := replicaDir(t, "tablet")
	mustCtl(t, "sync", "--dir", tablet, "--server", srv.URL, "--tenant", tenant, "--token", carolTok)
	u.scrollTop()
	u.shot("visit")

	// The server goes down.
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	u.waitFor("offline", fmt.Sprintf(`document.querySelector(%q)?.dataset.online === "false"`, sel("status-online")))
	chat := "Please hold the phone closer to your throat."
	u.set("chat-input", chat)
	u.click("chat-send")
	u.waitFor("the chat message on screen", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(m => m.textContent.includes(%q))`, sel("chat-message"), chat))
	noteText := "Sore throat, no fever. Tonsils red, no exudate."
	u.set("note-editor", noteText)
	u.click("note-save")
	u.set("obs-kind", "temperature")
	u.set("obs-value", "37.9")
	u.click("obs-add")
	u.waitTestID("observation")
	u.waitFor("three changes pending", fmt.Sprintf(`Number(document.querySelector(%q)?.dataset.pending) >= 3`, sel("status-pending")))
	u.scrollTop()
	u.shot("visit-offline")
	u.click("nav-queue")
	u.waitTestID("queue-patient-" + bea.Visit)
	u.waitTestID("claim-blocked")
	var claimDisabled bool
	u.eval(fmt.Sprintf(`document.querySelector(%q).disabled`, sel("claim-"+bea.Visit)), &claimDisabled)
	if !claimDisabled {
		t.Fatal("claiming is not greyed out while offline")
	}
	u.shot("queue-offline")

	// The server comes back on the same address and data.
	srv = crashServerAt(t, data, srv.Addr)
	u.waitFor("online again", fmt.Sprintf(`document.querySelector(%q)?.dataset.online === "true"`, sel("status-online")))
	u.waitFor("the offline work synced", fmt.Sprintf(`document.querySelector(%q)?.dataset.pending === "0"`, sel("status-pending")))

	// Exactly once on the server and on another replica.
	other := replicaDir(t, "support")
	mustCtl(t, "sync", "--dir", other, "--server", srv.URL, "--tenant", tenant, "--token", tok("sam", "support"))
	st := openCrashStore(t, data, tenant)
	for _, c := range []struct {
		what  string
		query string
		args  []any
	}{
		{"chat message on the server", `SELECT count(*) FROM chat_messages WHERE visit_id = ? AND body = ?`, []any{ada.Visit, chat}},
		{"note on the server", `SELECT count(*) FROM visit_notes WHERE visit_id = ? AND body = ?`, []any{ada.Visit, noteText}},
	} {
		if n := st.count(c.query, c.args...); n != 1 {
			t.Errorf("%s: %d rows, want 1", c.what, n)
		}
	}
	var chats []map[string]any
	for _, line := range strings.Split(mustCtl(t, "get", "--dir", other, "chat_messages"), "\n") {
		var row map[string]any
		if json.Unmarshal([]byte(line), &row) == nil && row["body"] == chat {
			chats = append(chats, row)
		}
	}
	if len(chats) != 1 || chats[0]["sender_id"] != "carol" {
		t.Errorf("the support desk's replica holds the chat message %d times: %v", len(chats), chats)
	}
	if got := mustCtl(t, "get", "--dir", other, "visit_notes", note.MyNote.ID); !strings.Contains(got, "Tonsils red") {
		t.Errorf("the support desk's replica holds the note as %s", got)
	}

	// The tablet edits the note from the version it saw: concurrent with the desktop's
	// offline edit. The conflict reaches the desktop's inbox with both versions.
	mustCtl(t, "put", "--dir", tablet, "visit_notes", note.MyNote.ID, "body=Sore throat. Advised fluids and rest.")
	mustCtl(t, "sync", "--dir", tablet)
	u.waitFor("the conflict on the desktop", `window.go.app.Inbox.View().then(v => v.conflicts.length > 0)`)
	u.click("nav-inbox")
	u.waitTestID("conflict-" + note.MyNote.ID)
	inbox, _ := u.app.Text(context.Background(), sel("conflict-"+note.MyNote.ID))
	for _, w := range []string{"Tonsils red", "Advised fluids and rest", "Ada Lovelace"} {
		if !strings.Contains(inbox, w) {
			t.Errorf("the conflict inbox does not show %q: %s", w, inbox)
		}
	}
	u.shot("conflict-inbox")
	u.click("resolve-merged-" + note.MyNote.ID)
	u.waitFor("the conflict resolved", "!"+exists("conflict-"+note.MyNote.ID))
	u.waitFor("the resolution synced", fmt.Sprintf(`document.querySelector(%q)?.dataset.pending === "0"`, sel("status-pending")))
	mustCtl(t, "sync", "--dir", tablet)
	if out := mustCtl(t, "conflicts", "--dir", tablet); out != "" {
		t.Errorf("the tablet still lists conflicts after the desktop resolved them: %s", out)
	}
	got := mustCtl(t, "get", "--dir", tablet, "visit_notes", note.MyNote.ID)
	if !strings.Contains(got, "Tonsils red") || !strings.Contains(got, "Advised fluids") {
		t.Errorf("the merged note on the tablet: %s", got)
	}

	// The visit ends: Ada leaves "My visits", and the server has it completed by carol.
	u.click("nav-queue")
	u.waitTestID("my-visit-" + ada.Visit)
	u.click("my-visit-" + ada.Visit)
	u.waitTestID("end-visit")
	u.click("end-visit")
	u.waitTestID("end-visit-reason")
	u.set("end-visit-reason", "Advice given; review if fever.")
	u.click("end-visit-confirm")
	u.waitFor("the visit ended", fmt.Sprintf(`window.go.app.Visits.View(%q).then(v => v.visit.status === "completed")`, ada.Visit))
	u.waitFor("the end synced", fmt.Sprintf(`document.querySelector(%q)?.dataset.pending === "0"`, sel("status-pending")))
	if n := st.count(`SELECT count(*) FROM visits WHERE id = ? AND status = 'completed' AND ended_by = 'carol'`, ada.Visit); n != 1 {
		t.Errorf("the server does not have Ada's visit completed by carol")
	}
	if err := app.Close(); err != nil {
		t.Errorf("the app did not quit cleanly: %v", err)
	}
}

// TestDesktopSupportDesk is a support desk's morning in the real desktop app: the multi-chat
// with patients waiting in two states, a state set busy from the regions screen (and the
// server's public intake status following it), a chart found by search, the settings, the
// lock screen, and a restart with the server down that opens straight onto the same desk,
// offline. Each screen is kept as a screenshot.
func TestDesktopSupportDesk(t *testing.T) {
	bin := buildDesktop(t)
	c := startDesktopClinic(t)
	ada := c.intake("Ada", "Lovelace", "CA", "Sore throat for three days")
	nia := c.intake("Nia", "Adams", "NY", "Migraine since this morning")
	// Ada writes from her visit page (a replica holding only her visit, with her visit token).
	page := replicaDir(t, "ada-page")
	mustCtl(t, "sync", "--dir", page, "--server", c.srv.URL, "--tenant", desktopTenant, "--token", ada.Token)
	mustCtl(t, "put", "--dir", page, "chat_messages", "new", "visit_id="+ada.Visit, "sender_id=patient:"+ada.Visit,
		"sender_role=patient", "body=Is it much longer? My throat hurts.", fmt.Sprintf("sent_at=%d", time.Now().UnixMilli()))
	mustCtl(t, "sync", "--dir", page)

	d := desktopdrv.StartDisplay(t)
	art := desktopdrv.ArtifactDir(t, "desktop-support")
	dataDir := t.TempDir()
	args := []string{"--data-dir", dataDir, "--server", c.srv.URL, "--clinic", desktopTenant, "--max-backoff", "300ms"}
	app := desktopdrv.Launch(t, d, bin, args, nil, filepath.Join(art, "hearth.log"))
	u := &ui{t: t, app: app, dir: art}
	samTok := c.token("sam", "support")

	u.waitTestID("signin-token")
	u.shot("sign-in")
	u.set("signin-token", "not a token")
	u.click("signin-submit")
	u.waitTestID("signin-error")
	u.set("signin-token", samTok)
	u.click("signin-submit")

	// Support lands on the multi-chat: Ada's unread message first.
	u.waitTestID("chats-screen")
	u.waitTestID("conversation-" + ada.Visit)
	u.waitTestID("conversation-" + nia.Visit)
	var first string
	u.eval(`document.querySelector('[data-testid^="conversation-"]').dataset.testid`, &first)
	if first != "conversation-"+ada.Visit {
		t.Fatalf("the first conversation is %s, want Ada's (unread)", first)
	}
	u.click("conversation-" + ada.Visit)
	u.waitFor("Ada's message", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(m => m.textContent.includes("My throat hurts"))`, sel("chat-message")))
	reply := "A clinician will be with you in about 10 minutes."
	u.set("chat-input", reply)
	u.click("chat-send")
	u.waitFor("the reply on screen", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(m => m.textContent.includes(%q))`, sel("chat-message"), reply))
	u.waitFor("the reply synced", fmt.Sprintf(`document.querySelector(%q)?.dataset.pending === "0"`, sel("status-pending")))
	u.scrollTop()
	u.shot("multi-chat")
	mustCtl(t, "sync", "--dir", page)
	if got := mustCtl(t, "get", "--dir", page, "chat_messages"); !strings.Contains(got, reply) {
		t.Errorf("Ada's page did not receive the reply: %s", got)
	}

	// New York gets busy: at most one waiting, and Nia already waits.
	u.click("nav-regions")
	u.waitTestID("region-row-NY")
	u.click("region-mode-NY-busy")
	u.set("region-limit-NY", "1")
	u.set("region-message-NY", "We are very busy this morning; please try again after 11.")
	u.click("region-save-NY")
	u.waitFor("the regions saved", fmt.Sprintf(`document.querySelector(%q)?.dataset.pending === "0"`, sel("status-pending")))
	var status struct {
		Open   bool   `json:"open"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(mustCtl(t, "intake-status", "--server", c.srv.URL, "--tenant", desktopTenant, "--region", "NY", "--json")), &status); err != nil {
		t.Fatal(err)
	}
	if status.Open {
		t.Errorf("New York still takes patients after the desk set it busy and full: %+v", status)
	}
	u.scrollTop()
	u.shot("regions")

	// A chart, found by name.
	u.click("nav-chart")
	u.waitTestID("chart-search")
	u.set("chart-search", "Lovel")
	u.waitTestID("chart-result-" + ada.Patient)
	u.click("chart-result-" + ada.Patient)
	u.waitFor("Ada's chart", fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").includes("Sore throat for three days")`, sel("chart-screen")))
	u.scrollTop()
	u.shot("chart")

	// Settings, then the lock screen: only the device's own token unlocks it.
	u.click("nav-settings")
	u.waitTestID("settings-screen")
	u.waitFor("the settings loaded", fmt.Sprintf(`document.querySelector(%q)?.value === %q`, sel("settings-clinic"), desktopTenant))
	u.shot("settings")
	u.click("lock-now")
	u.waitTestID("lock-screen")
	var chartVisible bool
	u.eval(exists("chart-screen")+" || "+exists("nav-queue"), &chartVisible)
	if chartVisible {
		t.Fatal("the locked screen still shows the app behind it")
	}
	u.set("lock-token", c.token("carol", "provider"))
	u.click("lock-submit")
	u.waitTestID("error-banner")
	u.shot("locked")
	u.set("lock-token", samTok)
	u.click("lock-submit")
	u.waitTestID("nav-settings")

	// Restart with the server down: the desk opens signed in, offline, with its data.
	if err := app.Close(); err != nil {
		t.Fatalf("quit: %v", err)
	}
	if err := c.srv.stop(); err != nil {
		t.Fatal(err)
	}
	app = desktopdrv.Launch(t, d, bin, args, nil, filepath.Join(art, "hearth-restart.log"))
	u.app = app
	u.waitTestID("chats-screen")
	u.waitTestID("conversation-" + nia.Visit)
	u.waitFor("offline", fmt.Sprintf(`document.querySelector(%q)?.dataset.online === "false"`, sel("status-online")))
	u.click("conversation-" + ada.Visit)
	u.waitFor("the conversation, offline", fmt.Sprintf(`[...document.querySelectorAll(%q)].some(m => m.textContent.includes(%q))`, sel("chat-message"), reply))
	u.shot("restart-offline")
	if err := app.Close(); err != nil {
		t.Errorf("quit: %v", err)
	}
}
