package clinicapi_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver/clinicapi/clinictest"
	"hearth/syncserver/servertest"
	"hearth/syncserver/token"
)

const tenant = "clinic-a"

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startClinic runs a clinic with CA (open 08:00-18:00), NY (busy, room for 1) and TX (no
// provider on shift), two CA providers and one NY provider on shift.
func startClinic(t *testing.T) *clinictest.Server {
	t.Helper()
	srv := clinictest.Start(t, clinictest.Options{})
	srv.Configure(t, tenant, []clinictest.Region{
		{Code: "CA", Name: "California", Mode: clinic.ModeOpen, Hours: "mon-fri 08:00-18:00"},
		{Code: "NY", Name: "New York", Mode: clinic.ModeBusy, BusyLimit: 1},
		{Code: "TX", Name: "Texas", Mode: clinic.ModeOpen},
	}, []clinictest.Staff{
		{ID: "dr-a", Name: "Dr A", Role: clinic.RoleProvider, Regions: "CA", OnShift: true},
		{ID: "dr-b", Name: "Dr B", Role: clinic.RoleProvider, Regions: "CA,NY", OnShift: true},
		{ID: "dr-c", Name: "Dr C", Role: clinic.RoleProvider, Regions: "TX", OnShift: false},
		{ID: "dr-n", Name: "Dr N", Role: clinic.RoleProvider, Regions: "NY", OnShift: true},
	})
	return srv
}

func person(given, region string) clinic.Intake {
	return clinic.Intake{GivenName: given, FamilyName: "Rivera", BirthDate: "1980-02-03", Phone: "+1 555 010 0100",
		Region: region, Reason: "sore throat", Consent: true}
}

func code(err error) string {
	var re *engine.RemoteError
	if errors.As(err, &re) {
		return re.Err.Code
	}
	return ""
}

func TestIntake(t *testing.T) {
	srv := startClinic(t)
	ctx := ctxFor(t)

	first, err := srv.Intake(ctx, tenant, person("Ana", "ca"))
	if err != nil || !first.Admitted || first.Visit == "" || first.Token == "" || !first.NewPatient {
		t.Fatalf("intake: %+v, %v", first, err)
	}
	if first.Position != 1 || first.WaitMS != 0 {
		t.Errorf("first patient with two free providers: position %d wait %dms, want 1 and 0", first.Position, first.WaitMS)
	}
	// The same person again (contact written differently) is matched, not duplicated.
	again := person("ANA ", "CA")
	again.Phone = strings.ReplaceAll(again.Phone, " ", "-")
	second, err := srv.Intake(ctx, tenant, again)
	if err != nil || !second.Admitted || second.NewPatient || second.Patient != first.Patient {
		t.Fatalf("repeat intake: %+v, %v; want patient %s matched", second, err, first.Patient)
	}
	// Same name and birth date but another contact: a new patient (see clinic.SamePerson).
	other := person("Ana", "CA")
	other.Phone, other.Email = "", "someone.else@example.org"
	third, err := srv.Intake(ctx, tenant, other)
	if err != nil || !third.NewPatient {
		t.Fatalf("different contact: %+v, %v; want a new patient", third, err)
	}

	// The patient's token reads that one visit, with its estimate.
	pat := servertest.OpenReplica(t, clinic.Schema, srv.URL(tenant), first.Token)
	pat.Sync(t)
	if v, err := pat.Get(ctx, "visits", first.Visit); err != nil || v["status"] != clinic.StatusWaiting || v["patient_id"] != first.Patient {
		t.Fatalf("patient's visit: %v, %v", v, err)
	}
	if n, _ := pat.List(ctx, "visits", "", 10); len(n) != 1 {
		t.Fatalf("the patient sees %d visits, want only their own", len(n))
	}
	if e, err := pat.Get(ctx, "visit_estimates", first.Visit); err != nil || e["position"] != int64(1) {
		t.Fatalf("patient's estimate: %v, %v", e, err)
	}

	// Refusals: bad input names the field, unknown region, busy queue full, outside hours.
	bad := person("Ana", "CA")
	bad.BirthDate = "1980-13-40"
	if _, err := srv.Intake(ctx, tenant, bad); code(err) != engine.CodeBadRequest || !strings.Contains(err.Error(), "birth") {
		t.Errorf("bad birth date: %v", err)
	}
	if _, err := srv.Intake(ctx, tenant, person("Ana", "ZZ")); code(err) != clinic.CodeNotFound {
		t.Errorf("unknown region: %v", err)
	}
	if r, err := srv.Intake(ctx, tenant, person("Ny", "NY")); err != nil || !r.Admitted || r.Notice == "" {
		t.Fatalf("busy region under its limit: %+v, %v; want admitted with a notice", r, err)
	}
	if r, err := srv.Intake(ctx, tenant, person("Nyx", "NY")); err != nil || r.Admitted || r.Reason == "" {
		t.Fatalf("busy region at its limit: %+v, %v; want refused with a reason", r, err)
	}
	if r, err := srv.Intake(ctx, tenant, person("Tex", "TX")); err != nil || !r.Admitted || r.WaitMS != -1 || !strings.Contains(r.Notice, "Texas") && !strings.Contains(r.Notice, "TX") {
		t.Fatalf("region without a provider on shift: %+v, %v; want admitted, told, wait unknown", r, err)
	}
	srv.Clock.Set(time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC))
	r, err := srv.Intake(ctx, tenant, person("Late", "CA"))
	if err != nil || r.Admitted || r.NextOpen != time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC).UnixMilli() {
		t.Fatalf("after hours: %+v, %v; want refused, open again Tuesday 08:00", r, err)
	}
	var status []clinic.RegionStatus
	if err := srv.Call(ctx, tenant, "", clinic.RequestIntakeStatus, clinic.IntakeStatusArgs{}, &status); err != nil || len(status) != 3 || status[0].Code != "CA" || status[0].Open {
		t.Fatalf("intake status after hours: %+v, %v", status, err)
	}
	// An anonymous connection can do nothing but the public requests.
	if err := srv.Call(ctx, tenant, "", clinic.RequestClaim, clinic.VisitArgs{Visit: first.Visit}, nil); code(err) != engine.CodeUnauthorized {
		t.Errorf("anonymous claim: %v, want unauthorized", err)
	}
}

func TestClaim(t *testing.T) {
	srv := startClinic(t)
	ctx := ctxFor(t)
	in, err := srv.Intake(ctx, tenant, person("Ana", "CA"))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := srv.Intake(ctx, tenant, person("Tex", "TX"))
	if err != nil {
		t.Fatal(err)
	}
	a := srv.Live(t, tenant, srv.StaffToken(t, tenant, "dr-a", clinic.RoleProvider))
	b := srv.Live(t, tenant, srv.StaffToken(t, tenant, "dr-b", clinic.RoleProvider))
	n := srv.Live(t, tenant, srv.StaffToken(t, tenant, "dr-n", clinic.RoleProvider))
	c := srv.Live(t, tenant, srv.StaffToken(t, tenant, "dr-c", clinic.RoleProvider))
	desk := srv.Live(t, tenant, srv.StaffToken(t, tenant, "desk", clinic.RoleSupport))

	claim := func(r *servertest.Replica, visit string) (clinic.ClaimResult, error) {
		var res clinic.ClaimResult
		err := r.Syncer.Request(ctx, clinic.RequestClaim, clinic.VisitArgs{Visit: visit}, &res)
		return res, err
	}
	if _, err := claim(n, in.Visit); code(err) != clinic.CodeNotLicensed {
		t.Errorf("NY-only provider claims a CA patient: %v", err)
	}
	if _, err := claim(c, tx.Visit); code(err) != clinic.CodeOffShift {
		t.Errorf("off-shift provider: %v", err)
	}
	if err := desk.Syncer.Request(ctx, clinic.RequestClaim, clinic.VisitArgs{Visit: in.Visit}, nil); code(err) != engine.CodeForbidden {
		t.Errorf("support claims: %v", err)
	}
	// Two licensed providers race: exactly one gets the patient.
	type got struct {
		who string
		err error
	}
	race := make(chan got, 2)
	for who, r := range map[string]*servertest.Replica{"dr-a": a, "dr-b": b} {
		go func() { _, err := claim(r, in.Visit); race <- got{who, err} }()
	}
	g1, g2 := <-race, <-race
	if (g1.err == nil) == (g2.err == nil) {
		t.Fatalf("race: %s: %v; %s: %v; want exactly one winner", g1.who, g1.err, g2.who, g2.err)
	}
	winner, loser := g1, g2
	if g1.err != nil {
		winner, loser = g2, g1
	}
	if code(loser.err) != clinic.CodeAlreadyClaimed {
		t.Errorf("loser: %v, want already_claimed", loser.err)
	}
	wr := map[string]*servertest.Replica{"dr-a": a, "dr-b": b}[winner.who]
	// A retry by the winner (after a lost answer) succeeds again.
	if res, err := claim(wr, in.Visit); err != nil || res.Patient != in.Patient {
		t.Fatalf("retried claim: %+v, %v", res, err)
	}
	// The claim reaches every caregiver as an ordinary change.
	waitFor(t, func() bool {
		v, err := desk.Get(ctx, "visits", in.Visit)
		return err == nil && v["status"] == clinic.StatusInVisit && v["provider_id"] == winner.who
	}, "the claim on the support desk's replica")
	// Release puts the patient back; only the provider seeing them may.
	if err := desk.Syncer.Request(ctx, clinic.RequestRelease, clinic.VisitArgs{Visit: in.Visit}, nil); code(err) != engine.CodeForbidden {
		t.Errorf("release by support: %v", err)
	}
	if err := wr.Syncer.Request(ctx, clinic.RequestRelease, clinic.VisitArgs{Visit: in.Visit}, nil); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := claim(map[string]*servertest.Replica{"dr-a": b, "dr-b": a}[winner.who], in.Visit); err != nil {
		t.Fatalf("claim after release by the other provider: %v", err)
	}
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPushRulesAndAudit(t *testing.T) {
	srv := startClinic(t)
	ctx := ctxFor(t)
	in, err := srv.Intake(ctx, tenant, person("Ana", "CA"))
	if err != nil {
		t.Fatal(err)
	}
	dr := srv.Live(t, tenant, srv.StaffToken(t, tenant, "dr-a", clinic.RoleProvider))
	if err := dr.Syncer.Request(ctx, clinic.RequestClaim, clinic.VisitArgs{Visit: in.Visit}, nil); err != nil {
		t.Fatal(err)
	}
	// The provider reads the chart (audited on the device, uploaded with the next sync), writes
	// a note and an observation, and completes the visit.
	read := clinic.ReadAccess(clinic.Actor{User: "dr-a", Role: clinic.RoleProvider, Device: dr.SiteID().String()}, "patients", in.Patient, in.Patient, srv.Clock.Now())
	note := engine.NewID()
	if _, err := dr.Write(ctx, read.Mutation(),
		engine.Mutation{Table: "visit_notes", ID: note, Values: map[string]any{"visit_id": in.Visit, "author_id": "dr-a", "body": "Pharyngitis, likely viral."}},
		engine.Mutation{Table: "observations", ID: engine.NewID(), Values: map[string]any{"visit_id": in.Visit, "patient_id": in.Patient, "kind": "temperature", "value": 38.2, "unit": "°C", "recorded_by": "dr-a", "recorded_at": srv.Clock.Now().UnixMilli()}},
		engine.Mutation{Table: "visits", ID: in.Visit, Values: map[string]any{"status": clinic.StatusCompleted, "ended_at": srv.Clock.Now().Add(10 * time.Minute).UnixMilli(), "ended_by": "dr-a"}},
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st, err := dr.State(ctx)
		if e := dr.Syncer.Status().Err; e != "" {
			t.Fatalf("the provider's writes were refused: %s", e)
		}
		return err == nil && st.Pending == 0
	}, "the provider's writes to reach the server")

	// A patient may chat in their visit but not change it.
	pat := servertest.OpenReplica(t, clinic.Schema, srv.URL(tenant), in.Token)
	pat.Sync(t)
	if _, err := pat.Write(ctx, engine.Mutation{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{
		"visit_id": in.Visit, "sender_id": "patient:" + in.Visit, "sender_role": clinic.RolePatient, "body": "thanks", "sent_at": srv.Clock.Now().UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	pat.Sync(t)
	// A refused write is not applied; the server restates the visit, so the patient's own copy
	// comes back to it, and the replica keeps the refused change to show.
	if _, err := pat.Write(ctx, engine.Mutation{Table: "visits", ID: in.Visit, Values: map[string]any{"provider_id": "me"}}); err != nil {
		t.Fatal(err)
	}
	pat.Sync(t)
	if st := pat.Syncer.Status(); st.Rejected != 1 || !strings.Contains(st.Rejection, "provider") {
		t.Fatalf("status after a refused write: %+v", st)
	}
	if v, err := pat.Get(ctx, "visits", in.Visit); err != nil || v["provider_id"] != "dr-a" {
		t.Fatalf("the patient's copy of the visit after the refusal: %v, %v", v, err)
	}
	if rej, err := pat.Rejected(ctx); err != nil || len(rej) != 1 || rej[0].Change.Table != "visits" || rej[0].Code != engine.CodeForbidden {
		t.Fatalf("kept refused changes: %+v, %v", rej, err)
	}

	// The audit trail: the intake, the claim, the read, and each write of patient data.
	tn, err := srv.Tenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	// Writes are audited at the time they were made (their HLC, wall time here), reads and
	// requests on the clinic's clock (simulated here): ask for all time.
	got, err := clinic.ReadAccesses(ctx, tn.Store(), in.Patient, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range got {
		actions = append(actions, e.Actor+" "+e.Action+" "+e.Table)
	}
	want := []string{"patient:" + in.Visit + " intake visits", "dr-a claim visits", "dr-a read patients", "dr-a write visit_notes", "dr-a write observations", "dr-a write visits"}
	if fmt.Sprint(sorted(actions)) != fmt.Sprint(sorted(want)) {
		t.Fatalf("audit of the patient:\n got %q\nwant %q", actions, want)
	}
	rep, err := tn.VerifyChain(ctx)
	if err != nil || !rep.OK || rep.Links != len(want) {
		t.Fatalf("chain: %+v, %v; want %d links that verify", rep, err, len(want))
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestRefusedWritesConverge: a write the rules refuse (often one made offline after the record
// moved on) does not stop the replica's other writes, and the replica comes back to the
// server's state: a refused new row is removed, a refused delete undone.
func TestRefusedWritesConverge(t *testing.T) {
	srv := startClinic(t)
	ctx := ctxFor(t)
	in, err := srv.Intake(ctx, tenant, person("Ana", "CA"))
	if err != nil {
		t.Fatal(err)
	}
	desk := servertest.OpenReplica(t, clinic.Schema, srv.URL(tenant), srv.StaffToken(t, tenant, "desk", clinic.RoleSupport))
	desk.Sync(t)
	note, chat := engine.NewID(), engine.NewID()
	if _, err := desk.Write(ctx,
		engine.Mutation{Table: "visit_notes", ID: note, Values: map[string]any{"visit_id": in.Visit, "author_id": "desk", "body": "support may not write notes"}},
		engine.Mutation{Table: "patients", ID: in.Patient, Delete: true},
		engine.Mutation{Table: "chat_messages", ID: chat, Values: map[string]any{"visit_id": in.Visit, "sender_id": "desk", "sender_role": clinic.RoleSupport, "body": "hello", "sent_at": int64(1)}},
	); err != nil {
		t.Fatal(err)
	}
	desk.Sync(t)
	if st := desk.Syncer.Status(); st.Rejected != 2 {
		t.Fatalf("status: %+v, want 2 refused changes", st)
	}
	if _, err := desk.Get(ctx, "visit_notes", note); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the refused note is still on the desk's replica: %v", err)
	}
	if p, err := desk.Get(ctx, "patients", in.Patient); err != nil || p["given_name"] != "Ana" {
		t.Errorf("the refused delete was not undone on the desk's replica: %v, %v", p, err)
	}
	tn, err := srv.Tenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Store().Get(ctx, "chat_messages", chat); err != nil {
		t.Errorf("the allowed message in the same batch did not arrive: %v", err)
	}
	staff := token.Claims{Scopes: clinic.StaffScopes()}
	b, err := tn.Store().Hash(ctx, staff.Grants)
	if err != nil {
		t.Fatal(err)
	}
	if a := servertest.Hash(t, desk); a != b {
		t.Errorf("desk and server differ after the refusals: %s vs %s", a, b)
	}
}

// TestClaimRightAfterEndingAVisit: a provider's writes made before a request reach the server
// before it, so ending a visit and claiming the next patient at once is not refused as busy.
func TestClaimRightAfterEndingAVisit(t *testing.T) {
	srv := startClinic(t)
	ctx := ctxFor(t)
	first, err := srv.Intake(ctx, tenant, person("Ana", "CA"))
	if err != nil {
		t.Fatal(err)
	}
	next := person("Ben", "CA")
	next.BirthDate = "1991-04-05"
	second, err := srv.Intake(ctx, tenant, next)
	if err != nil {
		t.Fatal(err)
	}
	dr := srv.Live(t, tenant, srv.StaffToken(t, tenant, "dr-a", clinic.RoleProvider))
	for round := range 5 {
		visit := []string{first.Visit, second.Visit}[round%2]
		if err := dr.Syncer.Request(ctx, clinic.RequestClaim, clinic.VisitArgs{Visit: visit}, nil); err != nil {
			t.Fatalf("round %d: claim right after ending the last visit: %v", round, err)
		}
		// Put the patient back rather than ending the visit, so the two can alternate.
		if round < 4 {
			if err := dr.Syncer.Request(ctx, clinic.RequestRelease, clinic.VisitArgs{Visit: visit}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := dr.Write(ctx, engine.Mutation{Table: "visits", ID: first.Visit, Values: map[string]any{
		"status": clinic.StatusCompleted, "ended_at": srv.Clock.Now().UnixMilli(), "ended_by": "dr-a"}}); err != nil {
		t.Fatal(err)
	}
	if err := dr.Syncer.Request(ctx, clinic.RequestClaim, clinic.VisitArgs{Visit: second.Visit}, nil); err != nil {
		t.Fatalf("claim right after ending a visit: %v", err)
	}
}
