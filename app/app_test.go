package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/app"
	"hearth/engine"
	"hearth/engine/clinic"
)

func TestSignInRefusesWhatItShould(t *testing.T) {
	s := setUp(t)
	d := openDesk(t, s, newNet(), "")
	if st := d.session.State(); st.SignedIn || st.Server != s.HTTP.URL || st.Clinic != tenant {
		t.Fatalf("fresh app state %+v: want signed out with the default server and clinic", st)
	}
	patient := s.Token(t, tenant, "pat", clinic.RolePatient, clinic.PatientScopes("v1")...)
	cases := []struct {
		name, server, clinic, token, want string
	}{
		{"no token", s.HTTP.URL, tenant, "  ", "paste the token"},
		{"forged token", s.HTTP.URL, tenant, "not-a-token", "not accepted"},
		{"patient's token", s.HTTP.URL, tenant, patient, "not a clinic staff member's"},
		{"bad address", "ftp://x", tenant, "x", "want http://HOST:PORT"},
		{"bad clinic", s.HTTP.URL, "a/b", "x", "not valid"},
		{"nobody listening", "http://127.0.0.1:1", tenant, "x", "cannot reach"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.session.SignIn(c.server, c.clinic, c.token)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("SignIn: %v; want an error saying %q", err, c.want)
			}
			if d.session.State().SignedIn {
				t.Fatal("signed in after a refusal")
			}
		})
	}
	if _, err := d.queue.View(); !errors.Is(err, app.ErrSignedOut) {
		t.Fatalf("queue while signed out: %v", err)
	}
}

// A clinician signs in once; after a restart with no network the app opens on the same
// replica, shows the queue, takes writes, and says why claiming is unavailable.
func TestRestartOfflineKeepsWorking(t *testing.T) {
	s := setUp(t)
	n := newNet()
	d := openDesk(t, s, n, "")
	d.signIn(t, s, "carol", clinic.RoleProvider)
	v := intake(t, s, "Ada", "CA")
	view := d.queueHas(t, v.Visit)
	if !view.CanClaim || !view.OnShift {
		t.Fatalf("online, on shift: canClaim=%v (%s)", view.CanClaim, view.ClaimBlocked)
	}
	waitFor(t, "the staff row's name", func() (bool, string) {
		st := d.session.State()
		return st.Name == "Carol Chen", st.Name
	})
	d.stop()

	n.cut()
	d2 := openDesk(t, s, n, d.dir)
	if st := d2.session.State(); !st.SignedIn || st.Locked || st.User != "carol" {
		t.Fatalf("after restart: %+v", st)
	}
	view = d2.queueHas(t, v.Visit)
	if view.CanClaim || !strings.Contains(view.ClaimBlocked, "Offline") {
		t.Fatalf("offline: canClaim=%v blocked=%q", view.CanClaim, view.ClaimBlocked)
	}
	if _, err := d2.queue.Claim(v.Visit); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("claim offline: %v", err)
	}
	if err := d2.queue.SetOnShift(false); err != nil {
		t.Fatal(err)
	}
	if st := d2.sync.Status(); st.Online || st.Pending != 1 {
		t.Fatalf("status after an offline write: %+v", st)
	}
	if pending := d2.ev.named(app.EventSync); len(pending) == 0 || pending[len(pending)-1].data.(app.SyncStatus).Pending != 1 {
		t.Fatalf("no sync event announced the pending change: %+v", pending)
	}
	n.restore()
	d2.waitSynced(t)
	if st := d2.sync.Status(); st.LastSync == 0 || st.Error != "" {
		t.Fatalf("after reconnecting: %+v", st)
	}
	info, err := os.Stat(filepath.Join(d.dir, "session.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v %v; want readable by its owner only", info.Mode(), err)
	}
}

// The queue shows only the provider's licensed states, in arrival order with estimates, and
// refreshes when a remote change arrives; claiming is decided by the server.
func TestQueueAndClaim(t *testing.T) {
	s := setUp(t)
	n := newNet()
	carol := openDesk(t, s, n, "")
	carol.signIn(t, s, "carol", clinic.RoleProvider)
	dan := openDesk(t, s, n, "")
	dan.signIn(t, s, "dan", clinic.RoleProvider)

	a := intake(t, s, "Ada", "CA")
	s.Clock.Advance(time.Minute)
	b := intake(t, s, "Bea", "CA")
	ny := intake(t, s, "Nia", "NY")
	before := len(carol.ev.named(app.EventChanged))
	view := carol.queueHas(t, b.Visit)
	waitFor(t, "a changed event", func() (bool, string) { return len(carol.ev.named(app.EventChanged)) > before, "" })
	if len(view.Regions) != 1 || view.Regions[0].Code != "CA" || view.Regions[0].Licensed != 1 {
		t.Fatalf("carol sees %+v; want CA only", view.Regions)
	}
	ps := view.Regions[0].Patients
	if len(ps) != 2 || ps[0].Visit != a.Visit || ps[1].Visit != b.Visit || ps[0].Position != 1 || ps[1].Position != 2 {
		t.Fatalf("queue %+v; want Ada then Bea", ps)
	}
	if ps[0].Name != "Ada Tester" || ps[0].EstimateMS != 0 || ps[1].EstimateMS != (15*time.Minute).Milliseconds() {
		t.Fatalf("estimates %+v; want Ada next and Bea after one typical visit", ps)
	}
	dan.queueHas(t, ny.Visit)

	got, err := carol.queue.Claim(a.Visit)
	if err != nil || got != a.Visit {
		t.Fatalf("claim: %q %v", got, err)
	}
	if _, err := dan.queue.Claim(a.Visit); err == nil || !strings.Contains(err.Error(), "could not take the patient") {
		t.Fatalf("dan claims carol's patient: %v", err)
	}
	waitFor(t, "the claimed visit among carol's", func() (bool, string) {
		v, err := carol.queue.View()
		return err == nil && len(v.Mine) == 1 && v.Mine[0].Visit == a.Visit && len(v.Regions[0].Patients) == 1, ""
	})
}

// A visit's chat, note and observation written while the server is unreachable reach the
// server, and another caregiver's replica, exactly once.
func TestVisitWorkOfflineArrivesOnce(t *testing.T) {
	s := setUp(t)
	n := newNet()
	carol := openDesk(t, s, n, "")
	carol.signIn(t, s, "carol", clinic.RoleProvider)
	v := intake(t, s, "Ada", "CA")
	carol.queueHas(t, v.Visit)
	if _, err := carol.queue.Claim(v.Visit); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the visit in progress", func() (bool, string) {
		vv, err := carol.visits.Open(v.Visit)
		return err == nil && vv.Visit.Status == clinic.StatusInVisit && vv.CanEnd, ""
	})
	n.cut()
	waitFor(t, "offline", func() (bool, string) { return !carol.sync.Status().Online, "" })
	if err := carol.visits.SendChat(v.Visit, "  How long has the cough lasted?  "); err != nil {
		t.Fatal(err)
	}
	note, err := carol.visits.SaveNote(v.Visit, "", "Dry cough, 3 days.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carol.visits.SaveNote(v.Visit, note, "Dry cough, 3 days. No fever."); err != nil {
		t.Fatal(err)
	}
	if err := carol.visits.AddObservation(v.Visit, "heart_rate", 72); err != nil {
		t.Fatal(err)
	}
	if err := carol.visits.AddObservation(v.Visit, "heart_rate", 720); err == nil {
		t.Fatal("an impossible heart rate was recorded")
	}
	if err := carol.visits.SendChat(v.Visit, ""); err == nil {
		t.Fatal("an empty message was sent")
	}
	vv, err := carol.visits.View(v.Visit)
	if err != nil {
		t.Fatal(err)
	}
	if vv.CanRelease || vv.ReleaseBlock == "" || vv.MyNote.ID != note || len(vv.Chat) != 1 || !vv.Chat[0].Mine ||
		vv.Chat[0].Body != "How long has the cough lasted?" || len(vv.Visit.Observations) != 1 {
		t.Fatalf("offline visit view %+v", vv)
	}
	if st := carol.sync.Status(); st.Pending < 4 {
		t.Fatalf("pending %d after four offline writes", st.Pending)
	}
	n.restore()
	carol.waitSynced(t)

	// Support's desk, signed in afresh, holds exactly what carol wrote.
	sam := openDesk(t, s, n, "")
	sam.signIn(t, s, "sam", clinic.RoleSupport)
	msgs, err := sam.chats.Chat(v.Visit)
	if err != nil || len(msgs) != 1 || msgs[0].Sender != "carol" {
		t.Fatalf("sam's copy of the chat: %+v %v", msgs, err)
	}
	sv, err := sam.visits.Open(v.Visit)
	if err != nil || len(sv.Visit.Notes) != 1 || sv.Visit.Notes[0].Body != "Dry cough, 3 days. No fever." || len(sv.Visit.Observations) != 1 {
		t.Fatalf("sam's copy of the visit: %+v %v", sv.Visit, err)
	}
	if err := sam.visits.End(v.Visit, ""); !errors.Is(err, clinic.ErrForbidden) && !errors.Is(err, clinic.ErrTransition) {
		t.Fatalf("support ended a provider's visit: %v", err)
	}
	if sv.Visit.ProviderName != "Carol Chen" || sv.Visit.Notes[0].AuthorName != "Carol Chen" || sv.Visit.Observations[0].RecordedByName != "Carol Chen" {
		t.Fatalf("names on sam's visit screen: %+v", sv.Visit)
	}
	if err := carol.visits.End(v.Visit, "advice given"); err != nil {
		t.Fatal(err)
	}
	carol.waitSynced(t)
}

// Two devices edit the same note while one is offline: the inbox shows both versions side by
// side, and resolving settles it everywhere.
func TestConflictInbox(t *testing.T) {
	s := setUp(t)
	n1, n2 := newNet(), newNet()
	laptop := openDesk(t, s, n1, "")
	laptop.signIn(t, s, "carol", clinic.RoleProvider)
	tablet := openDesk(t, s, n2, "")
	tablet.signIn(t, s, "carol", clinic.RoleProvider)
	v := intake(t, s, "Ada", "CA")
	laptop.queueHas(t, v.Visit)
	if _, err := laptop.queue.Claim(v.Visit); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the visit on the laptop", func() (bool, string) {
		vv, err := laptop.visits.Open(v.Visit)
		return err == nil && vv.CanEnd, ""
	})
	note, err := laptop.visits.SaveNote(v.Visit, "", "Plan: rest.")
	if err != nil {
		t.Fatal(err)
	}
	laptop.waitSynced(t)
	waitFor(t, "the note on the tablet", func() (bool, string) {
		vv, err := tablet.visits.Open(v.Visit)
		return err == nil && vv.MyNote.ID == note, ""
	})
	n2.cut()
	if _, err := tablet.visits.SaveNote(v.Visit, note, "Plan: rest and fluids."); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.visits.SaveNote(v.Visit, note, "Plan: rest, review in 2 days."); err != nil {
		t.Fatal(err)
	}
	laptop.waitSynced(t)
	n2.restore()
	tablet.waitSynced(t)

	var box app.InboxView
	waitFor(t, "the conflict in both inboxes", func() (bool, string) {
		b1, err1 := laptop.inbox.View()
		b2, err2 := tablet.inbox.View()
		box = b1
		return err1 == nil && err2 == nil && len(b1.Conflicts) == 1 && len(b2.Conflicts) == 1, ""
	})
	c := box.Conflicts[0]
	bodies := []string{c.Current.Body, c.Other.Body}
	if c.Note != note || c.Visit != v.Visit || c.Name != "Ada Tester" || !contains(bodies, "Plan: rest and fluids.") ||
		!contains(bodies, "Plan: rest, review in 2 days.") || c.Current.Here == c.Other.Here {
		t.Fatalf("conflict %+v", c)
	}
	waitFor(t, "the status to count the conflict", func() (bool, string) {
		st := laptop.sync.Status()
		return st.Conflicts == 1, fmt.Sprintf("%+v", st)
	})
	here := c.Current
	if c.Other.Here {
		here = c.Other
	}
	if here.Author != "carol" || here.AuthorName != "Carol Chen" {
		t.Fatalf("the version written here does not name its author: %+v", here)
	}
	vv, _ := laptop.visits.View(v.Visit)
	if vv.MyNote.Conflicts != 1 {
		t.Fatalf("the visit screen does not flag the note's conflict: %+v", vv.MyNote)
	}
	merged := "Plan: rest and fluids, review in 2 days."
	if err := tablet.inbox.Resolve(note, merged); err != nil {
		t.Fatal(err)
	}
	tablet.waitSynced(t)
	waitFor(t, "the resolution on the laptop", func() (bool, string) {
		b, err := laptop.inbox.View()
		vv, err2 := laptop.visits.View(v.Visit)
		return err == nil && err2 == nil && len(b.Conflicts) == 0 && vv.MyNote.Body == merged && laptop.sync.Status().Conflicts == 0, ""
	})
	if tablet.sync.Status().Conflicts != 0 {
		t.Fatalf("the resolving device still counts a conflict: %+v", tablet.sync.Status())
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Support toggles a state busy from the desktop; the server's admission follows. A provider
// may not.
func TestRegionsBusyToggle(t *testing.T) {
	s := setUp(t)
	n := newNet()
	sam := openDesk(t, s, n, "")
	sam.signIn(t, s, "sam", clinic.RoleSupport)
	intake(t, s, "Ada", "NY")
	var ny app.RegionSettings
	waitFor(t, "NY with one waiting", func() (bool, string) {
		rs, err := sam.regions.List()
		if err != nil || len(rs) != 2 {
			return false, ""
		}
		ny = rs[1]
		return ny.Code == "NY" && ny.Waiting == 1, ""
	})
	if !ny.CanEdit || ny.Licensed != 1 || !ny.Open {
		t.Fatalf("NY %+v", ny)
	}
	ny.Mode, ny.BusyLimit, ny.Message = clinic.ModeBusy, 1, "We are very busy."
	if err := sam.regions.Save(ny); err != nil {
		t.Fatal(err)
	}
	rs, err := sam.regions.List()
	if err != nil || rs[1].Open || rs[1].Admission == "" {
		t.Fatalf("NY after going busy with one waiting and a limit of one: %+v %v; want not taking patients, with why", rs[1], err)
	}
	bad := ny
	bad.Hours = "someday 25:00"
	if err := sam.regions.Save(bad); err == nil || !strings.Contains(err.Error(), "hours") {
		t.Fatalf("bad hours: %v", err)
	}
	sam.waitSynced(t)
	res, err := s.Intake(context.Background(), tenant, clinic.Intake{GivenName: "Bo", FamilyName: "Tester", BirthDate: "1990-01-01",
		Phone: "555-010-9999", Region: "NY", Reason: "rash", Consent: true})
	if err != nil || res.Admitted {
		t.Fatalf("intake while NY is busy and full: %+v %v", res, err)
	}

	carol := openDesk(t, s, n, "")
	carol.signIn(t, s, "carol", clinic.RoleProvider)
	rs, err = carol.regions.List()
	if err != nil || len(rs) != 2 || rs[0].CanEdit {
		t.Fatalf("provider's regions %+v %v", rs, err)
	}
	rs[0].Mode = clinic.ModePaused
	if err := carol.regions.Save(rs[0]); !errors.Is(err, clinic.ErrForbidden) {
		t.Fatalf("a provider paused a state: %v", err)
	}
}

// Opening a chart is recorded in the audit trail, once per opening; a refresh without
// opening is refused.
func TestChartReadsAreAudited(t *testing.T) {
	s := setUp(t)
	n := newNet()
	sam := openDesk(t, s, n, "")
	sam.signIn(t, s, "sam", clinic.RoleSupport)
	v := intake(t, s, "Ada", "CA")
	sam.queueHas(t, v.Visit)
	if _, err := sam.charts.View(v.Patient); err == nil {
		t.Fatal("a chart was read without being opened")
	}
	found, err := sam.charts.Search("test")
	if err != nil || len(found) != 1 || found[0].ID != v.Patient {
		t.Fatalf("search: %+v %v", found, err)
	}
	if found, _ := sam.charts.Search("1980-02-03"); len(found) != 1 {
		t.Fatalf("search by birth date: %+v", found)
	}
	ch, err := sam.charts.Open(v.Patient)
	if err != nil || ch.Patient.GivenName != "Ada" || len(ch.Visits) != 1 || ch.Visits[0].Status != clinic.StatusWaiting {
		t.Fatalf("chart %+v %v", ch, err)
	}
	if _, err := sam.charts.View(v.Patient); err != nil {
		t.Fatal(err)
	}
	if _, err := sam.charts.Open(v.Patient); err != nil {
		t.Fatal(err)
	}
	sam.waitSynced(t)
	admin := s.Live(t, tenant, s.StaffToken(t, tenant, "alice", clinic.RoleAdmin))
	waitFor(t, "the read in the audit trail", func() (bool, string) {
		var reads int
		err := admin.Reader().QueryRow(`SELECT count(*) FROM audit_events WHERE actor = 'sam' AND action = ? AND patient_id = ?`,
			clinic.ActionRead, v.Patient).Scan(&reads)
		return err == nil && reads == 1, ""
	})
}

// The screen locks after the configured inactivity; only the device's credential unlocks
// it, and a restart after a long idle opens locked.
func TestLockAfterInactivity(t *testing.T) {
	s := setUp(t)
	n := newNet()
	d := openDesk(t, s, n, "")
	d.signIn(t, s, "carol", clinic.RoleProvider)
	if _, err := d.session.SaveSettings(app.Settings{Server: s.HTTP.URL, Clinic: tenant, LockAfterSec: 5}); err == nil {
		t.Fatal("a 5-second lock was accepted")
	}
	if _, err := d.session.SaveSettings(app.Settings{Server: s.HTTP.URL, Clinic: tenant, LockAfterSec: 60}); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(30 * time.Second)
	d.session.Touch()
	s.Clock.Advance(45 * time.Second)
	d.CheckLock()
	if d.session.State().Locked {
		t.Fatal("locked 45 s after the last activity")
	}
	s.Clock.Advance(20 * time.Second)
	d.CheckLock()
	if !d.session.State().Locked {
		t.Fatal("not locked 65 s after the last activity")
	}
	if _, err := d.queue.View(); !errors.Is(err, app.ErrLocked) {
		t.Fatalf("queue while locked: %v", err)
	}
	if _, err := d.session.Unlock("wrong"); !errors.Is(err, app.ErrBadCredential) {
		t.Fatalf("unlock with a wrong token: %v", err)
	}
	if _, err := d.session.Unlock(s.StaffToken(t, tenant, "dan", clinic.RoleProvider)); !errors.Is(err, app.ErrBadCredential) {
		t.Fatalf("another caregiver's token unlocked the device: %v", err)
	}
	d.stop()
	d2 := openDesk(t, s, n, d.dir)
	if !d2.session.State().Locked {
		t.Fatal("a restart unlocked a locked screen")
	}
	if st, err := d2.session.Unlock(" " + d.token + "\n"); err != nil || st.Locked {
		t.Fatalf("unlock with the device's own token: %+v %v", st, err)
	}
	if _, err := d2.queue.View(); err != nil {
		t.Fatal(err)
	}
}

// Support's multi-chat lists every waiting patient's conversation, unread first.
func TestMultiChatUnread(t *testing.T) {
	s := setUp(t)
	n := newNet()
	sam := openDesk(t, s, n, "")
	sam.signIn(t, s, "sam", clinic.RoleSupport)
	a := intake(t, s, "Ada", "CA")
	b := intake(t, s, "Bea", "NY")
	patient := s.Live(t, tenant, a.Token)
	if _, err := patient.Write(context.Background(), engine.Mutation{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{
		"visit_id": a.Visit, "sender_id": "patient:" + a.Visit, "sender_role": clinic.RolePatient, "body": "Is it long now?",
		"sent_at": s.Clock.Now().UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	patient.Syncer.Notify()
	var list []app.Conversation
	waitFor(t, "the patient's message", func() (bool, string) {
		var err error
		list, err = sam.chats.List()
		return err == nil && len(list) == 2 && list[0].Unread == 1, fmt.Sprintf("%+v %v patient %+v", list, err, patient.Syncer.Status())
	})
	if list[0].Visit != a.Visit || list[0].Last != "Is it long now?" || list[0].LastFrom != clinic.RolePatient || list[1].Visit != b.Visit {
		t.Fatalf("conversations %+v", list)
	}
	msgs, err := sam.chats.Chat(a.Visit)
	if err != nil || len(msgs) != 1 || msgs[0].SenderName != "Ada Tester" || msgs[0].Mine {
		t.Fatalf("the conversation %+v %v: want the patient's message under her name", msgs, err)
	}
	s.Clock.Advance(time.Second)
	before := len(sam.ev.named(app.EventChanged))
	if err := sam.visits.MarkRead(a.Visit); err != nil {
		t.Fatal(err)
	}
	if evs := sam.ev.named(app.EventChanged); len(evs) == before || !contains(evs[len(evs)-1].data.(app.Changed).Tables, app.ReadsTable) {
		t.Fatalf("reading a conversation announced nothing for the unread badges: %+v", evs[before:])
	}
	if err := sam.visits.SendChat(b.Visit, "We will be with you soon."); err != nil {
		t.Fatal(err)
	}
	list, _ = sam.chats.List()
	if list[0].Unread != 0 || list[1].Unread != 0 || list[0].Visit != b.Visit {
		t.Fatalf("after reading and replying: %+v", list)
	}
	q, _ := sam.queue.View()
	if len(q.Regions) != 2 || q.CanClaim || !strings.Contains(q.ClaimBlocked, "Only providers") {
		t.Fatalf("support's queue %+v", q)
	}
}

// A device that joins a clinic with a long history shows a catch-up progress bar.
func TestCatchUpProgress(t *testing.T) {
	s := setUp(t)
	admin := s.Live(t, tenant, s.StaffToken(t, tenant, "alice", clinic.RoleAdmin))
	ctx := context.Background()
	for batch := 0; batch < 6; batch++ {
		muts := make([]engine.Mutation, 1000)
		for i := range muts {
			muts[i] = engine.Mutation{Table: "patients", ID: engine.NewID(), Values: map[string]any{"given_name": "P", "family_name": "Q"}}
		}
		if _, err := admin.Write(ctx, muts...); err != nil {
			t.Fatal(err)
		}
	}
	admin.Syncer.Notify()
	waitFor(t, "the history on the server", func() (bool, string) {
		st, err := admin.State(ctx)
		return err == nil && st.Pending == 0, fmt.Sprint(st, err)
	})
	d := openDesk(t, s, newNet(), "")
	d.signIn(t, s, "sam", clinic.RoleSupport)
	var partial, final bool
	for _, e := range d.ev.named(app.EventSync) {
		st := e.data.(app.SyncStatus)
		if st.CatchingUp && st.Progress > 0 && st.Progress < 1 {
			partial = true
		}
		final = !st.CatchingUp && st.Progress == 1
	}
	if !partial || !final {
		t.Fatalf("sync events %+v: want progress between 0 and 1 while catching up, then 1", d.ev.named(app.EventSync))
	}
}

// Signing out with changes not yet on the server needs a second, deliberate step.
func TestSignOutKeepsUnsyncedWork(t *testing.T) {
	s := setUp(t)
	n := newNet()
	d := openDesk(t, s, n, "")
	d.signIn(t, s, "sam", clinic.RoleSupport)
	v := intake(t, s, "Ada", "CA")
	d.queueHas(t, v.Visit)
	n.cut()
	if err := d.visits.SendChat(v.Visit, "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.session.SignOut(false); !errors.Is(err, app.ErrPendingChanges) {
		t.Fatalf("sign out with a pending change: %v", err)
	}
	st, err := d.session.SignOut(true)
	if err != nil || st.SignedIn {
		t.Fatalf("forced sign-out: %+v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "session.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the session outlived sign-out: %v", err)
	}
	// Signing in again as the same person sends what was kept.
	n.restore()
	d.signIn(t, s, "sam", clinic.RoleSupport)
	msgs, _ := d.chats.Chat(v.Visit)
	if len(msgs) != 1 {
		t.Fatalf("chat after signing in again: %+v", msgs)
	}
}

// A second copy of the app on the same data directory is refused: it would sync the same
// replica as a second device with the first one's identity.
func TestSecondInstanceRefused(t *testing.T) {
	s := setUp(t)
	d := openDesk(t, s, newNet(), "")
	second := app.New(app.Config{DataDir: d.dir})
	if err := second.Startup(context.Background(), &events{}); !errors.Is(err, app.ErrAlreadyRunning) {
		t.Fatalf("second instance: %v", err)
	}
	d.stop()
	if err := second.Startup(context.Background(), &events{}); err != nil {
		t.Fatalf("after the first exited: %v", err)
	}
	second.Shutdown()
}

// A provider reads only the conversations of the states they are licensed in.
func TestChatOutsideLicenceRefused(t *testing.T) {
	s := setUp(t)
	carol := openDesk(t, s, newNet(), "")
	carol.signIn(t, s, "carol", clinic.RoleProvider)
	ny := intake(t, s, "Nia", "NY")
	ca := intake(t, s, "Ada", "CA")
	carol.queueHas(t, ca.Visit)
	if _, err := carol.chats.Chat(ny.Visit); !errors.Is(err, clinic.ErrForbidden) {
		t.Fatalf("carol read a New York patient's chat: %v", err)
	}
	list, err := carol.chats.List()
	if err != nil || len(list) != 1 || list[0].Visit != ca.Visit {
		t.Fatalf("carol's conversations %+v %v", list, err)
	}
}
