package clinic_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/memstore"
)

// clinicStore is a replica of the clinic's schema in memory, holding a small clinic.
func clinicStore(t *testing.T) *engine.Replica {
	t.Helper()
	r, err := engine.OpenReplica(context.Background(), memstore.New(clinic.Schema), engine.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := func(table, id string, kv ...any) {
		t.Helper()
		m := engine.Mutation{Table: table, ID: id, Values: map[string]any{}}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Values[kv[i].(string)] = kv[i+1]
		}
		if _, err := r.Write(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	w("staff", "carol", "name", "Carol Chen", "role", clinic.RoleProvider, "regions", "CA, ny", "on_shift", int64(1))
	w("staff", "sam", "role", clinic.RoleSupport)
	w("patients", "p1", "given_name", "Ada", "family_name", "Lovelace", "birth_date", "1990-12-10", "region", "CA", "phone", "+15551234567")
	w("patients", "p2", "given_name", "Alan", "family_name", "lovell", "birth_date", "1912-06-23", "region", "NY")
	w("patients", "p3", "given_name", "Grace", "family_name", "Hopper", "birth_date", "1990-12-10", "region", "CA")
	w("visits", "v1", "patient_id", "p1", "region", "CA", "status", clinic.StatusWaiting, "requested_at", int64(300))
	w("visits", "v2", "patient_id", "p2", "region", "NY", "status", clinic.StatusWaiting, "requested_at", int64(100))
	w("visits", "v3", "patient_id", "p3", "region", "CA", "status", clinic.StatusInVisit, "provider_id", "carol", "requested_at", int64(50), "started_at", int64(400))
	w("visits", "v4", "patient_id", "p1", "region", "CA", "status", clinic.StatusCompleted, "provider_id", "carol", "requested_at", int64(10), "started_at", int64(20), "ended_at", int64(30))
	w("visits", "v5", "patient_id", "gone", "region", "CA", "status", clinic.StatusInVisit, "provider_id", "carol", "requested_at", int64(60), "started_at", int64(70))
	w("chat_messages", "c1", "visit_id", "v1", "sender_id", "p1", "sender_role", clinic.RolePatient, "body", "hello", "sent_at", int64(310))
	w("chat_messages", "c2", "visit_id", "v1", "sender_id", "sam", "sender_role", clinic.RoleSupport, "body", "hi", "sent_at", int64(320))
	w("chat_messages", "c3", "visit_id", "v1", "sender_id", "p1", "sender_role", clinic.RolePatient, "body", "still here", "sent_at", int64(330))
	w("chat_messages", "c4", "visit_id", "v2", "sender_id", "p2", "sender_role", clinic.RolePatient, "body", "hi", "sent_at", int64(110))
	w("visit_notes", "n1", "visit_id", "v3", "author_id", "carol", "body", "sore throat", "updated_at", int64(410))
	w("observations", "o1", "visit_id", "v3", "patient_id", "p3", "kind", "temp", "value", 38.5, "unit", "C", "recorded_by", "carol", "recorded_at", int64(420))
	w("visit_estimates", "v1", "position", int64(2), "wait_ms", int64(60000))
	w("visit_estimates", "v3", "position", int64(1), "wait_ms", int64(0)) // v3 is in a visit now
	w("visit_estimates", "v4", "position", int64(0), "wait_ms", int64(-1))
	w("audit_events", "a1", "actor", "carol", "action", clinic.ActionRead, "tbl", "patients", "record_id", "p1", "patient_id", "p1", "at", int64(500))
	w("audit_events", "a2", "actor", "sam", "action", clinic.ActionRead, "tbl", "patients", "record_id", "p1", "patient_id", "p1", "at", int64(900))
	w("audit_events", "a3", "actor", "sam", "action", clinic.ActionRead, "tbl", "patients", "record_id", "p3", "patient_id", "p3", "at", int64(600))
	w("regions", "CA", "name", "California", "mode", clinic.ModeOpen, "busy_limit", int64(5), "hours", "mon-sun 00:00-24:00")
	return r
}

func visitIDs(vs []clinic.Visit) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func TestReads(t *testing.T) {
	ctx := context.Background()
	r := clinicStore(t)
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	s, ok, err := clinic.ReadStaff(ctx, r, "carol")
	check("staff", line(s, ok, err), line(clinic.StaffMember{ID: "carol", Name: "Carol Chen", Role: clinic.RoleProvider, Regions: []string{"CA", "NY"}, OnShift: true}, true, nil))
	_, ok, err = clinic.ReadStaff(ctx, r, "nobody")
	check("missing staff", line(ok, err), "false <nil>")
	names, err := clinic.ReadStaffNames(ctx, r)
	check("names", line(names, err), "map[carol:Carol Chen] <nil>")

	q, err := clinic.ReadVisitsIn(ctx, r, clinic.StatusWaiting)
	check("queue in arrival order", line(visitIDs(q), err), "[v2 v1] <nil>")
	q, _ = clinic.ReadVisitsIn(ctx, r, clinic.StatusWaiting, clinic.StatusInVisit)
	check("waiting or in a visit", visitIDs(q), []string{"v3", "v5", "v2", "v1"})
	qe, err := clinic.ReadQueue(ctx, r, "")
	check("queue by region", line(len(qe), qe[0].Visit, qe[0].Since.UnixMilli(), qe[1].Visit, err), "2 v1 300 v2 <nil>")
	qe, _ = clinic.ReadQueue(ctx, r, "NY")
	check("one region's queue", line(len(qe), qe[0].Visit), "1 v2")
	mine, _ := clinic.ReadProviderVisits(ctx, r, "carol", clinic.StatusInVisit)
	check("a provider's visits by start", visitIDs(mine), []string{"v5", "v3"})
	hist, _ := clinic.ReadPatientVisits(ctx, r, "p1")
	check("a patient's visits, newest first", visitIDs(hist), []string{"v1", "v4"})
	v, ok, _ := clinic.ReadVisit(ctx, r, "v4")
	check("visit", line(v, ok), fmt.Sprint(clinic.Visit{ID: "v4", Patient: "p1", Status: clinic.StatusCompleted, Region: "CA", Provider: "carol", RequestedAt: 10, StartedAt: 20, EndedAt: 30}, true))

	ps, err := clinic.ReadPatients(ctx, r, []string{"p1", "p3", "gone"})
	check("patients by id", line(len(ps), ps["p1"].Name(), ps["p3"].BirthDate, err), "2 Ada Lovelace 1990-12-10 <nil>")
	for _, tt := range []struct{ query, want string }{
		{"LOV", "[p1 p2]"}, // ignoring case; "Lovelace" sorts before "lovell" bytewise
		{"lovelace, a", "[p1]"},
		{"1990-12-10", "[p3 p1]"},
		{"hop, x", "[]"},
		{"zz", "[]"},
	} {
		got, err := clinic.SearchPatients(ctx, r, tt.query, 50)
		ids := []string{}
		for _, p := range got {
			ids = append(ids, p.ID)
		}
		check("search "+tt.query, line(ids, err), tt.want+" <nil>")
	}

	chat, _ := clinic.ReadChat(ctx, r, "v1")
	check("chat in order", len(chat), 3)
	check("chat first", chat[0].Body, "hello")
	last, ok, _ := clinic.ReadLastMessage(ctx, r, "v1")
	check("last message", line(last.ID, ok), "c3 true")
	_, ok, _ = clinic.ReadLastMessage(ctx, r, "v3")
	check("no message", ok, false)
	times, _ := clinic.ReadPatientMessageTimes(ctx, r, []string{"v1", "v2", "v3"})
	for _, v := range times {
		slices.Sort(v)
	}
	check("patient message times", times, map[string][]int64{"v1": {310, 330}, "v2": {110}})

	notes, _ := clinic.ReadNotes(ctx, r, "v3")
	check("notes", line(len(notes), notes[0].Body, notes[0].Author), "1 sore throat carol")
	n, ok, _ := clinic.ReadNote(ctx, r, "n1")
	check("note", line(n.Visit, ok), "v3 true")
	obs, _ := clinic.ReadObservations(ctx, r, "v3")
	check("observations", line(len(obs), obs[0].Value, obs[0].Unit), "1 38.5 C")
	for _, tt := range []struct {
		in   clinic.Intake
		want string
	}{
		{clinic.Intake{GivenName: " ada ", FamilyName: "LOVELACE", BirthDate: "1990-12-10", Phone: "+15551234567"}, "p1 true"},
		{clinic.Intake{GivenName: "Ada", FamilyName: "Lovelace", BirthDate: "1990-12-10", Phone: "+15550000000"}, " false"}, // no contact in common
		{clinic.Intake{GivenName: "Ada", FamilyName: "Lovelace", BirthDate: "1990-12-11", Phone: "+15551234567"}, " false"},
	} {
		id, ok, err := clinic.MatchPatient(ctx, r, tt.in)
		check("match "+tt.in.GivenName+" "+tt.in.BirthDate+" "+tt.in.Phone, line(id, ok, err), tt.want+" <nil>")
	}
	acc, err := clinic.ReadAccesses(ctx, r, "p1", time.UnixMilli(0), time.UnixMilli(900))
	check("accesses before 900", line(len(acc), acc[0].Actor, acc[0].At.UnixMilli(), err), "1 carol 500 <nil>")
	st, err := clinic.LoadState(ctx, r, time.UnixMilli(1000), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := st.StaleEstimates(ctx, r)
	check("stale estimates", line(stale, err), "[v3] <nil>")
	ests, err := clinic.ReadEstimates(ctx, r, []string{"v1", "v4", "v9"})
	check("estimates", line(len(ests), ests["v1"]["position"], ests["v1"]["wait_ms"], ests["v4"]["wait_ms"], err), "2 2 60000 -1 <nil>")
	regions, _ := clinic.ReadRegionSettings(ctx, r)
	check("regions", line(len(regions), regions[0].Name, regions[0].BusyLimit), "1 California 5")
}

// line renders values separated by spaces.
func line(vs ...any) string { return strings.TrimSuffix(fmt.Sprintln(vs...), "\n") }
