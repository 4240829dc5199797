package tests

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
	"hearth/syncserver/clinicapi/clinictest"
	"hearth/syncserver/servertest"
)

var daySeed = flag.Uint64("day.seed", 0, "seed of TestSimulatedClinicDay (0: random)")

// The simulated day's cast and schedule. Times are the clinic's (UTC), on Monday 2026-11-23.
var (
	dayStart = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	// Providers and the regions they are licensed in.
	dayProviders = map[string]string{"dr-1": "CA", "dr-2": "CA,NY", "dr-3": "NY", "dr-4": "NY,TX", "dr-5": "TX", "dr-6": "CA,TX"}
	daySupport   = []string{"desk-1", "desk-2"}
	// TX's three providers step away together from 09:00 to 09:45: TX has nobody on shift.
	dayBreakFrom, dayBreakTo = dayStart.Add(time.Hour), dayStart.Add(105 * time.Minute)
	dayOnBreak               = []string{"dr-4", "dr-5", "dr-6"}
	// desk-1 marks NY busy (at most 6 waiting) at 08:15 and opens it again at 09:30.
	dayBusyFrom, dayBusyTo = dayStart.Add(15 * time.Minute), dayStart.Add(90 * time.Minute)
	// desk-1 is offline (its connection drops) from 08:40 to 09:05, chatting all the same.
	dayOfflineFrom, dayOfflineTo = dayStart.Add(40 * time.Minute), dayStart.Add(65 * time.Minute)
)

const (
	dayPatients   = 300
	dayReplicaPct = 20 // share of patients whose visit page is a live replica (chat, estimate)
	dayMaxSteps   = 14 * 60
)

// dayRun is the state of one simulated day, as the test's participants see it.
type dayRun struct {
	t    *testing.T
	ctx  context.Context
	srv  *clinictest.Server
	rng  *rand.Rand
	mu   sync.Mutex
	reps map[string]*servertest.Replica // caregivers by user id
	// visits the test knows of, by id.
	visits map[string]*dayVisit
	// accesses counts what the audit trail must hold: intakes, claims, reads, writes.
	accesses int
	// chat holds every message sent, by id: visit and sender.
	chat map[string]string
	// claimRaces counts claims lost to another provider (already_claimed).
	claimRaces int
	// refused counts, by state, patients refused at intake (busy queue full, closed) with a reason.
	refused map[string]int
	// busy is what each provider is doing: the visit and when it ends.
	busy map[string]*dayVisit
	// offline are the caregivers whose network is down; offlineChats counts what they sent then.
	offline      map[string]bool
	offlineChats int
	offlineReads int
	// toldChecks counts waiting patients checked for a notice while their state had nobody.
	toldChecks int
}

type dayVisit struct {
	id, patient, region string
	arrived             time.Time
	estimate            time.Duration // at intake; -1 unknown
	notice              string
	claimedBy           string
	claimedAt           time.Time
	endAt               time.Time
	outcome             string
	patientRep          *servertest.Replica
	cancelAt            time.Time // patient gives up (zero: never)
}

// TestSimulatedClinicDay runs a Monday at a clinic through real replicas and the real sync
// server (in this process, with the clinic's clock driven by the test): 3 states, 6 providers,
// 2 support staff and 300 patients, most arriving between 8:00 and 8:30. Providers claim from
// their local queue (racing each other for the same patient), open the chart, write a note and
// an observation and end the visit; support staff chat with every waiting patient, one of them
// through an outage; a state is marked busy, another's providers all step away, a third closes
// at 11:00. It asserts that no patient is claimed twice, that nobody waits in a state with no
// licensed provider on shift without being told, that every chat message arrives exactly once
// everywhere it should, and that the audit chain verifies and holds exactly the accesses made;
// it reports the wait estimates' median absolute error.
//
// The clock moves a simulated minute at a time; after each minute the test waits until every
// live replica has sent its writes and received everything, so what each participant does is
// decided by what its own replica shows.
func TestSimulatedClinicDay(t *testing.T) {
	seed := *daySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: go test ./tests -run TestSimulatedClinicDay -day.seed %d)", seed, seed)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	srv := clinictest.Start(t, clinictest.Options{Start: dayStart.Add(-time.Minute)})
	d := &dayRun{t: t, ctx: ctx, srv: srv, rng: rand.New(rand.NewPCG(seed, 1)), reps: map[string]*servertest.Replica{},
		visits: map[string]*dayVisit{}, chat: map[string]string{}, refused: map[string]int{}, busy: map[string]*dayVisit{}, offline: map[string]bool{}}

	regions := []clinictest.Region{
		{Code: "CA", Name: "California", Mode: clinic.ModeOpen, Hours: "mon-fri 08:00-17:00"},
		{Code: "NY", Name: "New York", Mode: clinic.ModeOpen, Hours: "mon-fri 08:00-11:00"},
		{Code: "TX", Name: "Texas", Mode: clinic.ModeOpen},
	}
	var staff []clinictest.Staff
	for id, regs := range dayProviders {
		staff = append(staff, clinictest.Staff{ID: id, Name: id, Role: clinic.RoleProvider, Regions: regs, OnShift: true})
	}
	for _, id := range daySupport {
		staff = append(staff, clinictest.Staff{ID: id, Name: id, Role: clinic.RoleSupport})
	}
	srv.Configure(t, "clinic-a", regions, staff)
	var desk1Net *switchDialer
	for _, s := range staff {
		if s.ID == "desk-1" {
			d.reps[s.ID], desk1Net = d.cuttableReplica(s.ID, s.Role)
			continue
		}
		d.reps[s.ID] = srv.Live(t, "clinic-a", srv.StaffToken(t, "clinic-a", s.ID, s.Role))
	}
	arrivals := d.schedule()
	d.settle()

	step := 0
	for ; step < dayMaxSteps; step++ {
		now := dayStart.Add(time.Duration(step) * time.Minute)
		srv.Clock.Set(now)
		event := true
		switch now {
		case dayBusyFrom:
			d.write("desk-1", engine.Mutation{Table: "regions", ID: "NY", Values: map[string]any{"mode": clinic.ModeBusy, "busy_limit": int64(6), "updated_by": "desk-1", "updated_at": now.UnixMilli()}})
		case dayBusyTo:
			d.write("desk-1", engine.Mutation{Table: "regions", ID: "NY", Values: map[string]any{"mode": clinic.ModeOpen, "updated_by": "desk-1", "updated_at": now.UnixMilli()}})
		case dayBreakFrom, dayBreakTo:
			for _, p := range dayOnBreak {
				d.write(p, engine.Mutation{Table: "staff", ID: p, Values: map[string]any{"on_shift": boolInt(now == dayBreakTo), "updated_at": now.UnixMilli()}})
			}
		case dayOfflineFrom:
			desk1Net.set(true)
			d.offline["desk-1"] = true
		case dayOfflineTo:
			desk1Net.set(false)
			delete(d.offline, "desk-1")
		default:
			event = false
		}
		if event {
			d.settle() // a shift or a setting changes before anyone acts on it
		}
		for len(arrivals) > 0 && !arrivals[0].After(now) {
			d.intake(now)
			arrivals = arrivals[1:]
		}
		if d.patientsAct(now) {
			d.settle() // a patient who gave up is gone before providers look at the queue
		}
		d.providersAct(now)
		d.supportAct(now)
		d.settle()
		d.checkEveryoneTold(now)
		if len(arrivals) == 0 && d.idle() {
			break
		}
	}
	if step == dayMaxSteps {
		t.Fatalf("the day did not end by %s", dayStart.Add(dayMaxSteps*time.Minute).Format("15:04"))
	}
	t.Logf("day ended at %s after %d arrivals", srv.Clock.Now().Format("15:04"), dayPatients)
	d.checkClaims()
	d.checkChat()
	d.checkAudit()
	d.reportEstimates()
}

// schedule draws the day's arrival times: 70% between 8:00 and 8:30, the rest until noon.
func (d *dayRun) schedule() []time.Time {
	out := make([]time.Time, dayPatients)
	for i := range out {
		span := 30 * time.Minute
		from := dayStart
		if d.rng.IntN(100) >= 70 {
			from, span = dayStart.Add(30*time.Minute), 210*time.Minute
		}
		out[i] = from.Add(time.Duration(d.rng.Int64N(int64(span))))
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// write makes caregiver user's local writes (queued when offline).
func (d *dayRun) write(user string, muts ...engine.Mutation) {
	d.t.Helper()
	if _, err := d.reps[user].Write(d.ctx, muts...); err != nil {
		d.t.Fatalf("%s writes: %v", user, err)
	}
}

// switchDialer is a connection that can be cut: while off, dials fail and the open connection
// is closed, as when a laptop's network drops.
type switchDialer struct {
	inner engine.Dialer
	mu    sync.Mutex
	off   bool
	conns []engine.Conn
}

func (s *switchDialer) Dial(ctx context.Context) (engine.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off {
		return nil, fmt.Errorf("network is down")
	}
	c, err := s.inner.Dial(ctx)
	if err == nil {
		s.conns = append(s.conns, c)
	}
	return c, err
}

func (s *switchDialer) set(off bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.off = off
	if off {
		for _, c := range s.conns {
			c.Close()
		}
		s.conns = nil
	}
}

// cuttableReplica opens a caregiver replica whose network the test can cut.
func (d *dayRun) cuttableReplica(user, role string) (*servertest.Replica, *switchDialer) {
	d.t.Helper()
	rep, err := sqlitestore.OpenReplica(d.ctx, filepath.Join(d.t.TempDir(), "replica.db"), clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { rep.Close() })
	sw := &switchDialer{inner: &wstransport.Dialer{URL: d.srv.URL("clinic-a")}}
	s := engine.NewSyncer(rep, sw, engine.SyncOptions{Token: d.srv.StaffToken(d.t, "clinic-a", user, role), MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	rep.OnLocalWrite(s.Notify)
	r := &servertest.Replica{Replica: rep, Syncer: s}
	clinictest.RunLive(d.t, r)
	return r, sw
}

var dayNames = []string{"Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lea", "Mo", "Nia", "Omar", "Pia"}

// intake is one patient starting a visit from the public page.
func (d *dayRun) intake(now time.Time) {
	d.t.Helper()
	n := len(d.visits) + d.total(d.refused)
	region := []string{"CA", "CA", "CA", "CA", "NY", "NY", "NY", "TX", "TX", "TX"}[d.rng.IntN(10)]
	in := clinic.Intake{GivenName: dayNames[n%len(dayNames)], FamilyName: fmt.Sprintf("Day%03d", n), BirthDate: fmt.Sprintf("19%02d-0%d-1%d", 40+n%60, 1+n%9, n%10),
		Phone: fmt.Sprintf("+1 555 %07d", n), Region: region, Reason: "fever", Consent: true}
	res, err := d.srv.Intake(d.ctx, "clinic-a", in)
	if err != nil {
		d.t.Fatalf("intake %d in %s at %s: %v", n, region, now.Format("15:04"), err)
	}
	if !res.Admitted {
		if res.Reason == "" {
			d.t.Errorf("intake in %s at %s refused without a reason", region, now.Format("15:04"))
		}
		d.refused[region]++
		return
	}
	d.accesses++ // the intake's own audit entry
	v := &dayVisit{id: res.Visit, patient: res.Patient, region: region, arrived: now, estimate: time.Duration(res.WaitMS) * time.Millisecond, notice: res.Notice}
	if res.WaitMS < 0 {
		v.estimate = -1
	}
	if noneOnShift(region, now) && (res.WaitMS >= 0 || !strings.Contains(res.Notice, "No clinician")) {
		d.t.Errorf("patient admitted to %s at %s with nobody licensed on shift was not told: %+v", region, now.Format("15:04"), res)
	}
	if d.rng.IntN(100) < dayReplicaPct {
		v.patientRep = d.srv.Live(d.t, "clinic-a", res.Token)
		if d.rng.IntN(10) == 0 {
			v.cancelAt = now.Add(time.Duration(5+d.rng.IntN(30)) * time.Minute) // gives up waiting
		}
	}
	d.visits[v.id] = v
}

func dayProviderIDs() []string {
	return slices.Sorted(maps.Keys(dayProviders))
}

func (d *dayRun) total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// noneOnShift reports whether region has no licensed provider on shift at now.
func noneOnShift(region string, now time.Time) bool {
	for id, regs := range dayProviders {
		onBreak := slices.Contains(dayOnBreak, id) && !now.Before(dayBreakFrom) && now.Before(dayBreakTo)
		if !onBreak && slices.Contains(clinic.ParseRegions(regs), region) {
			return false
		}
	}
	return true
}

// patientsAct: patients with a visit page reply to the desk's first message and some give up.
// It reports whether anyone gave up.
func (d *dayRun) patientsAct(now time.Time) bool {
	left := false
	for _, v := range d.sortedVisits() {
		r := v.patientRep
		if r == nil || v.outcome != "" {
			continue
		}
		if !v.cancelAt.IsZero() && !now.Before(v.cancelAt) && v.claimedBy == "" {
			cur, err := r.Get(d.ctx, "visits", v.id)
			if err == nil && cur["status"] == clinic.StatusWaiting {
				if _, err := r.Write(d.ctx, engine.Mutation{Table: "visits", ID: v.id, Values: map[string]any{"status": clinic.StatusCancelled}}); err != nil {
					d.t.Fatalf("patient cancels: %v", err)
				}
				v.outcome = clinic.StatusCancelled
				left = true
				continue
			}
		}
		// Reply once to the desk, from the visit page, when its message has arrived.
		msgs, err := r.Reader().QueryContext(d.ctx, `SELECT count(*), sum(sender_role = 'patient') FROM chat_messages WHERE visit_id = ?`, v.id)
		if err != nil {
			d.t.Fatal(err)
		}
		var all int
		var mine sql.NullInt64
		msgs.Next()
		err = msgs.Scan(&all, &mine)
		msgs.Close()
		if err != nil {
			d.t.Fatal(err)
		}
		if all > 0 && mine.Int64 == 0 {
			d.chatFrom(r, v.id, "patient:"+v.id, clinic.RolePatient, "thank you, I'll wait")
		}
	}
	return left
}

func (d *dayRun) chatFrom(r *servertest.Replica, visit, sender, role, body string) {
	id := engine.NewID()
	if _, err := r.Write(d.ctx, engine.Mutation{Table: "chat_messages", ID: id, Values: map[string]any{
		"visit_id": visit, "sender_id": sender, "sender_role": role, "body": body, "sent_at": d.srv.Clock.Now().UnixMilli()}}); err != nil {
		d.t.Fatalf("%s chats: %v", sender, err)
	}
	d.chat[id] = visit + " " + sender
	if role != clinic.RolePatient {
		d.accesses++ // a caregiver's write of patient data
	}
}

func (d *dayRun) sortedVisits() []*dayVisit {
	out := make([]*dayVisit, 0, len(d.visits))
	for _, v := range d.visits {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// providersAct: providers end visits that are over, then the free ones on shift claim the
// oldest patient in their queue, all at once, so those who share a state race for the same
// patient; a provider who loses takes the next one.
func (d *dayRun) providersAct(now time.Time) {
	ended := false
	for _, p := range dayProviderIDs() {
		v := d.busy[p]
		if v == nil || now.Before(v.endAt) {
			continue
		}
		outcome := clinic.StatusCompleted
		if d.rng.IntN(25) == 0 {
			outcome = clinic.StatusNoShow
		}
		muts := []engine.Mutation{{Table: "visits", ID: v.id, Values: map[string]any{"status": outcome, "ended_at": now.UnixMilli(), "ended_by": p}}}
		if outcome == clinic.StatusCompleted {
			muts = append(muts,
				engine.Mutation{Table: "visit_notes", ID: engine.NewID(), Values: map[string]any{"visit_id": v.id, "author_id": p, "body": "Assessment and plan.", "updated_at": now.UnixMilli()}},
				engine.Mutation{Table: "observations", ID: engine.NewID(), Values: map[string]any{"visit_id": v.id, "patient_id": v.patient, "kind": "heart_rate",
					"value": float64(60 + d.rng.IntN(40)), "unit": "bpm", "recorded_by": p, "recorded_at": now.UnixMilli()}})
		}
		d.write(p, muts...)
		d.accesses += len(muts)
		v.outcome = outcome
		delete(d.busy, p)
		ended = true
	}
	if ended {
		d.settle() // the server knows the visit ended before the provider claims the next
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	queues := map[string][]string{}
	for _, p := range dayProviderIDs() {
		if d.busy[p] == nil && (!slices.Contains(dayOnBreak, p) || now.Before(dayBreakFrom) || !now.Before(dayBreakTo)) {
			queues[p] = d.queueOf(p)
		}
	}
	for p, queue := range queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range queue[:min(len(queue), 3)] {
				var res clinic.ClaimResult
				err := d.reps[p].Syncer.Request(d.ctx, clinic.RequestClaim, clinic.VisitArgs{Visit: id}, &res)
				mu.Lock()
				switch code(err) {
				case "":
					if err != nil {
						mu.Unlock()
						d.t.Errorf("%s claims %s: %v", p, id, err)
						return
					}
					v := d.visits[id]
					if v.claimedBy != "" {
						d.t.Errorf("patient %s claimed by %s and by %s", id, v.claimedBy, p)
					}
					v.claimedBy, v.claimedAt = p, time.UnixMilli(res.StartedAt).UTC()
					v.endAt = now.Add(time.Duration(4+d.rng.IntN(7)) * time.Minute)
					d.busy[p] = v
					d.accesses++ // the claim
					mu.Unlock()
					return
				case clinic.CodeAlreadyClaimed, clinic.CodeTransition:
					d.claimRaces++ // another provider was quicker, or the patient left
				default:
					d.t.Errorf("%s claims %s: %v", p, id, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Opening the chart of the new patient is a read the device records for the audit trail.
	for _, p := range dayProviderIDs() {
		if v := d.busy[p]; v != nil && v.claimedAt.Equal(now) {
			e := clinic.ReadAccess(clinic.Actor{User: p, Role: clinic.RoleProvider, Device: d.reps[p].SiteID().String()}, "patients", v.patient, v.patient, now)
			d.write(p, e.Mutation())
			d.accesses++
		}
	}
}

func code(err error) string {
	if re, ok := err.(*engine.RemoteError); ok {
		return re.Err.Code
	}
	if err != nil {
		return "error"
	}
	return ""
}

// queueOf reads provider p's queue from p's own replica: waiting patients in the states p is
// licensed in, oldest first.
func (d *dayRun) queueOf(p string) []string {
	regs := clinic.ParseRegions(dayProviders[p])
	args := make([]any, len(regs))
	for i, r := range regs {
		args[i] = r
	}
	return d.ids(p, `SELECT id FROM visits WHERE status = 'waiting' AND region IN (`+strings.TrimSuffix(strings.Repeat("?,", len(regs)), ",")+`)
		ORDER BY requested_at, id LIMIT 5`, args...)
}

// supportAct: the desks greet every newly waiting patient they see in their replica, taking
// turns, and check in every half hour with the patients they greeted who still wait (multi-chat:
// each desk holds many conversations at once). Offline, a desk keeps chatting with the
// patients it knows; its messages go out when it reconnects.
func (d *dayRun) supportAct(now time.Time) {
	for i, desk := range daySupport {
		greet := d.ids(desk, `SELECT v.id FROM visits v WHERE v.status = 'waiting'
			AND NOT EXISTS (SELECT 1 FROM chat_messages c WHERE c.visit_id = v.id AND c.sender_role = 'support') ORDER BY v.requested_at, v.id`)
		for k, id := range greet {
			if k%len(daySupport) == i { // the other desk takes the others
				d.deskSays(desk, id, "Hello, a clinician will be with you soon.")
			}
		}
		again := d.ids(desk, `SELECT v.id FROM visits v JOIN chat_messages c ON c.visit_id = v.id AND c.sender_id = ?
			WHERE v.status = 'waiting' GROUP BY v.id HAVING max(c.sent_at) <= ? ORDER BY v.id`, desk, now.Add(-30*time.Minute).UnixMilli())
		for _, id := range again {
			d.deskSays(desk, id, "Thank you for waiting; you are still in the queue.")
		}
	}
}

func (d *dayRun) deskSays(desk, visit, body string) {
	d.chatFrom(d.reps[desk], visit, desk, clinic.RoleSupport, body)
	if !d.offline[desk] {
		return
	}
	d.offlineChats++
	// Offline, the desk also opens the patient's record before writing: a read its device
	// records for the audit trail and uploads when it reconnects.
	v := d.visits[visit]
	e := clinic.ReadAccess(clinic.Actor{User: desk, Role: clinic.RoleSupport, Device: d.reps[desk].SiteID().String()}, "patients", v.patient, v.patient, d.srv.Clock.Now())
	d.write(desk, e.Mutation())
	d.accesses++
	d.offlineReads++
}

// ids runs a query of ids on a caregiver's replica.
func (d *dayRun) ids(user, query string, args ...any) []string {
	d.t.Helper()
	rows, err := d.reps[user].Reader().QueryContext(d.ctx, query, args...)
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			d.t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// live returns every replica that is connected: caregivers online and patients still waiting
// or in their visit.
func (d *dayRun) live() map[string]*servertest.Replica {
	out := map[string]*servertest.Replica{}
	for id, r := range d.reps {
		if !d.offline[id] {
			out[id] = r
		}
	}
	for _, v := range d.visits {
		if v.patientRep != nil {
			out["patient "+v.id] = v.patientRep
		}
	}
	return out
}

// settle waits until every live replica has sent its writes and holds the server's whole
// log, and the server has stopped writing (its estimates follow each change shortly after).
func (d *dayRun) settle() {
	d.t.Helper()
	tn, err := d.srv.Tenant(d.ctx, "clinic-a")
	if err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	stable := 0
	var last uint64
	for stable < 3 {
		if time.Now().After(deadline) {
			d.t.Fatalf("replicas did not settle at %s", d.srv.Clock.Now().Format("15:04"))
		}
		time.Sleep(3 * time.Millisecond)
		head, err := tn.Head(d.ctx)
		if err != nil {
			d.t.Fatal(err)
		}
		synced := true
		for name, r := range d.live() {
			st, err := r.State(d.ctx)
			if err != nil {
				d.t.Fatal(err)
			}
			if st := r.Syncer.Status(); st.Rejected > 0 || strings.Contains(st.Err, "bad_request") {
				d.t.Fatalf("%s: the server refused a write: %s %s", name, st.Rejection, st.Err)
			}
			if st.Pending > 0 || st.Cursor < head {
				synced = false
				break
			}
		}
		if synced && head == last {
			stable++
		} else {
			stable = 0
		}
		last = head
	}
}

// idle reports whether every admitted patient's visit is over.
func (d *dayRun) idle() bool {
	for _, v := range d.visits {
		if v.outcome == "" {
			return false
		}
	}
	return true
}

// checkEveryoneTold: while a state has no licensed provider on shift, every patient waiting
// there has been told so, on the server and on their own visit page.
func (d *dayRun) checkEveryoneTold(now time.Time) {
	d.t.Helper()
	for _, region := range []string{"CA", "NY", "TX"} {
		if !noneOnShift(region, now) {
			continue
		}
		for _, v := range d.sortedVisits() {
			if v.region != region || v.outcome != "" || v.claimedBy != "" {
				continue
			}
			d.toldChecks++
			e := d.serverRow("visit_estimates", v.id)
			if n, _ := e["notice"].(string); n == "" || e["wait_ms"] != int64(-1) {
				d.t.Errorf("%s: patient waiting in %s with nobody on shift, not told: estimate %v", now.Format("15:04"), region, e)
			}
			if v.patientRep != nil {
				pe, err := v.patientRep.Get(d.ctx, "visit_estimates", v.id)
				if n, _ := pe["notice"].(string); err != nil || n == "" {
					d.t.Errorf("%s: the visit page of a patient waiting in %s shows no notice: %v, %v", now.Format("15:04"), region, pe, err)
				}
			}
		}
	}
}

func (d *dayRun) serverRow(table, id string) map[string]any {
	d.t.Helper()
	tn, err := d.srv.Tenant(d.ctx, "clinic-a")
	if err != nil {
		d.t.Fatal(err)
	}
	r, err := tn.Store().Get(d.ctx, table, id)
	if err != nil {
		d.t.Fatalf("server %s/%s: %v", table, id, err)
	}
	return r
}

// checkClaims: every patient seen was claimed once, by the provider the server recorded, and
// providers did race.
func (d *dayRun) checkClaims() {
	d.t.Helper()
	seen := 0
	for _, v := range d.sortedVisits() {
		row := d.serverRow("visits", v.id)
		want := v.outcome
		if row["status"] != want {
			d.t.Errorf("visit %s: server status %v, the day says %s", v.id, row["status"], want)
		}
		if v.claimedBy == "" {
			continue
		}
		seen++
		if row["provider_id"] != v.claimedBy {
			d.t.Errorf("visit %s: server says provider %v, the claim went to %s", v.id, row["provider_id"], v.claimedBy)
		}
	}
	tn, _ := d.srv.Tenant(d.ctx, "clinic-a")
	var claims, visits int
	err := servertest.StoreDB(d.t, tn).Reader().QueryRowContext(d.ctx, `SELECT count(*), count(DISTINCT record_id) FROM audit_events WHERE action = ?`, clinic.ActionClaim).Scan(&claims, &visits)
	if err != nil || claims != visits || claims != seen {
		d.t.Errorf("claims in the audit trail: %d for %d visits (%v); the day made %d", claims, visits, err, seen)
	}
	if d.claimRaces == 0 {
		d.t.Error("no provider ever lost a race for a patient: the race was not exercised")
	}
	refused := d.total(d.refused)
	d.t.Logf("%d admitted, %d refused with a reason (%v), %d seen, %d claims lost to another provider", len(d.visits), refused, d.refused, seen, d.claimRaces)
}

// checkChat: every message is on the server once, on every desk, and on its patient's page.
func (d *dayRun) checkChat() {
	d.t.Helper()
	count := func(db *sqlitestore.DB, where string, args ...any) int {
		var n int
		if err := db.Reader().QueryRowContext(d.ctx, `SELECT count(*) FROM chat_messages `+where, args...).Scan(&n); err != nil {
			d.t.Fatal(err)
		}
		return n
	}
	tn, _ := d.srv.Tenant(d.ctx, "clinic-a")
	if n := count(servertest.StoreDB(d.t, tn), ""); n != len(d.chat) {
		d.t.Errorf("server holds %d chat messages, %d were sent", n, len(d.chat))
	}
	for id := range d.chat {
		if n := count(servertest.StoreDB(d.t, tn), "WHERE id = ?", id); n != 1 {
			d.t.Fatalf("message %s is on the server %d times", id, n)
		}
	}
	for _, desk := range daySupport {
		if n := count(d.reps[desk].DB, ""); n != len(d.chat) {
			d.t.Errorf("%s holds %d chat messages, %d were sent", desk, n, len(d.chat))
		}
	}
	pages, onPages := 0, 0
	for _, v := range d.visits {
		if v.patientRep == nil {
			continue
		}
		pages++
		want := 0
		for _, who := range d.chat {
			if strings.HasPrefix(who, v.id+" ") {
				want++
			}
		}
		if n := count(v.patientRep.DB, ""); n != want {
			d.t.Errorf("visit page %s holds %d messages, want its own %d", v.id, n, want)
		}
		onPages += want
	}
	if d.offlineChats == 0 || onPages == 0 {
		d.t.Errorf("%d messages sent offline, %d on visit pages: the outage or the visit pages were not exercised", d.offlineChats, onPages)
	}
	d.t.Logf("%d chat messages, %d of them written offline, each once on the server, both desks and %d visit pages", len(d.chat), d.offlineChats, pages)
}

// checkAudit: the chain verifies and holds exactly the accesses made.
func (d *dayRun) checkAudit() {
	d.t.Helper()
	tn, _ := d.srv.Tenant(d.ctx, "clinic-a")
	rep, err := tn.VerifyChain(d.ctx)
	if err != nil || !rep.OK {
		d.t.Fatalf("audit chain: %+v, %v", rep, err)
	}
	if rep.Links != d.accesses {
		d.t.Errorf("audit trail holds %d entries; %d accesses were made", rep.Links, d.accesses)
	}
	// One patient's history, as "who accessed patient X" answers it.
	v := d.sortedVisits()[0]
	got, err := clinic.ReadAccesses(d.ctx, tn.Store(), v.patient, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil || len(got) == 0 {
		d.t.Errorf("accesses to one patient: %v, %v", got, err)
	}
	var uploaded int
	if err := servertest.StoreDB(d.t, tn).Reader().QueryRowContext(d.ctx, `SELECT count(*) FROM audit_events WHERE actor = 'desk-1' AND action = ?`, clinic.ActionRead).Scan(&uploaded); err != nil || uploaded != d.offlineReads || uploaded == 0 {
		d.t.Errorf("reads recorded by desk-1 while offline: %d on the server (%v), %d made", uploaded, err, d.offlineReads)
	}
	d.t.Logf("audit chain verifies: %d links = %d accesses (%d reads recorded offline); %d checks that patients waiting with nobody on shift were told", rep.Links, d.accesses, d.offlineReads, d.toldChecks)
	if d.toldChecks == 0 {
		d.t.Error("nobody waited in TX during the break: the case was not exercised")
	}
}

// reportEstimates logs the median absolute error of the wait estimate each patient got at
// intake against the wait they had.
func (d *dayRun) reportEstimates() {
	var errs, waits []time.Duration
	unknown := 0
	for _, v := range d.visits {
		if v.claimedBy == "" {
			continue
		}
		if v.estimate < 0 {
			unknown++
			continue
		}
		actual := v.claimedAt.Sub(v.arrived)
		e := v.estimate - actual
		if e < 0 {
			e = -e
		}
		errs = append(errs, e)
		waits = append(waits, actual)
	}
	if len(errs) == 0 {
		d.t.Fatal("no estimate to compare")
	}
	slices.Sort(errs)
	slices.Sort(waits)
	d.t.Logf("wait estimates at intake: median absolute error %s over %d patients (90th percentile %s); median actual wait %s; %d told the wait was unknown",
		errs[len(errs)/2].Round(time.Second), len(errs), errs[len(errs)*9/10].Round(time.Second), waits[len(waits)/2].Round(time.Second), unknown)
}
