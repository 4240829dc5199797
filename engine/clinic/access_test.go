package clinic_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
)

var (
	admin    = clinic.Actor{User: "adm", Role: clinic.RoleAdmin, Device: "dev-a"}
	provider = clinic.Actor{User: "dr-lee", Role: clinic.RoleProvider, Device: "dev-p"}
	support  = clinic.Actor{User: "sam", Role: clinic.RoleSupport, Device: "dev-s"}
	patient  = clinic.Actor{User: "pat-1", Role: clinic.RolePatient, Device: "dev-b"}
)

// put builds a write of cols to table/id in scope: kv alternates column names and values.
func put(table, id, scope string, kv ...any) *engine.Change {
	ch := &engine.Change{Table: table, ID: id, Scope: scope}
	for i := 0; i < len(kv); i += 2 {
		ch.Cols = append(ch.Cols, kv[i].(string))
		ch.Vals = append(ch.Vals, kv[i+1])
	}
	return ch
}

func del(table, id, scope string) *engine.Change {
	return &engine.Change{Table: table, ID: id, Scope: scope, Delete: true}
}

// Current rows the cases write over. Values marked SECRET are patient data: no error message
// may repeat them.
var (
	patientRow   = clinic.Row{"given_name": "SECRET-Ana", "family_name": "SECRET-Diaz", "birth_date": "1980-02-03"}
	requestedRow = clinic.Row{"patient_id": "pat-1", "region": "CA", "status": clinic.StatusRequested}
	waitingRow   = clinic.Row{"patient_id": "pat-1", "region": "CA", "status": clinic.StatusWaiting, "reason": "SECRET cough"}
	inVisitRow   = clinic.Row{"patient_id": "pat-1", "region": "CA", "status": clinic.StatusInVisit, "provider_id": "dr-lee"}
	othersRow    = clinic.Row{"patient_id": "pat-2", "region": "CA", "status": clinic.StatusInVisit, "provider_id": "dr-kim"}
	completedRow = clinic.Row{"patient_id": "pat-1", "region": "CA", "status": clinic.StatusCompleted, "provider_id": "dr-lee"}
	myNote       = clinic.Row{"visit_id": "v1", "author_id": "dr-lee", "body": "SECRET note"}
	othersNote   = clinic.Row{"visit_id": "v1", "author_id": "dr-kim", "body": "SECRET note"}
	regionRow    = clinic.Row{"name": "California", "mode": clinic.ModeOpen}
	staffRow     = clinic.Row{"name": "Dr Lee", "role": clinic.RoleProvider, "regions": "CA", "on_shift": int64(0)}
)

// fakeLook serves rows from a map keyed "table/id".
func fakeLook(rows map[string]clinic.Row) clinic.Lookup {
	return func(table, id string) (clinic.Row, bool, error) {
		r, ok := rows[table+"/"+id]
		return r, ok, nil
	}
}

var visits = fakeLook(map[string]clinic.Row{"visits/v1": waitingRow, "visits/v2": othersRow})

// audit returns an audit_events insert attributed to actor, device and role.
func audit(user, role, device string) *engine.Change {
	return put("audit_events", "a1", clinic.AuditScope, "actor", user, "actor_role", role, "device", device,
		"action", clinic.ActionRead, "tbl", "patients", "record_id", "pat-1", "patient_id", "pat-1", "at", int64(1))
}

func chat(visit, sender, role string) *engine.Change {
	return put("chat_messages", "m1", "visit:"+visit, "visit_id", visit, "sender_id", sender, "sender_role", role, "body", "SECRET hello", "sent_at", int64(1))
}

func observation(kind string, value any, by string) *engine.Change {
	return put("observations", "o1", "visit:v1", "visit_id", "v1", "patient_id", "pat-1", "kind", kind, "value", value, "recorded_by", by, "recorded_at", int64(1))
}

func TestCheckWrite(t *testing.T) {
	tests := []struct {
		name  string
		actor clinic.Actor
		ch    *engine.Change
		cur   clinic.Row
		want  error // nil when allowed
	}{
		// Roles and tables nobody knows.
		{"unknown role", clinic.Actor{User: "x", Role: "janitor"}, put("patients", "p1", "clinic", "given_name", "SECRET"), patientRow, clinic.ErrForbidden},
		{"no role", clinic.Actor{User: "x"}, put("patients", "p1", "clinic", "given_name", "SECRET"), patientRow, clinic.ErrForbidden},
		{"unknown table", admin, put("secrets", "s1", "clinic", "x", "y"), nil, clinic.ErrForbidden},
		{"unknown column", admin, put("patients", "p1", "clinic", "shoe_size", int64(9)), patientRow, clinic.ErrInvalid},
		{"wrong type", admin, put("regions", "CA", "clinic", "busy_limit", "SECRET"), regionRow, clinic.ErrInvalid},
		{"columns and values disagree", admin, &engine.Change{Table: "patients", ID: "p1", Cols: []string{"given_name"}}, patientRow, clinic.ErrInvalid},

		// Admin: anything, except the rules nobody is exempt from.
		{"admin edits patient", admin, put("patients", "p1", "clinic", "given_name", "SECRET-Anna"), patientRow, nil},
		{"admin deletes patient", admin, del("patients", "p1", "clinic"), patientRow, nil},
		{"admin creates visit", admin, put("visits", "v9", "visit:v9", "patient_id", "pat-1", "status", clinic.StatusWaiting, "region", "CA"), nil, nil},
		{"admin creates visit with empty provider", admin, put("visits", "v9", "visit:v9", "status", clinic.StatusWaiting, "provider_id", ""), nil, nil},
		{"admin reopens completed visit", admin, put("visits", "v1", "visit:v1", "status", clinic.StatusWaiting), completedRow, nil},
		{"admin sets in_visit", admin, put("visits", "v1", "visit:v1", "status", clinic.StatusInVisit), waitingRow, clinic.ErrForbidden},
		{"admin creates visit in_visit", admin, put("visits", "v9", "visit:v9", "status", clinic.StatusInVisit), nil, clinic.ErrForbidden},
		{"admin changes provider", admin, put("visits", "v1", "visit:v1", "provider_id", "dr-kim"), inVisitRow, clinic.ErrForbidden},
		{"admin rewrites same provider", admin, put("visits", "v1", "visit:v1", "provider_id", "dr-lee", "status", clinic.StatusInVisit), inVisitRow, nil},
		{"admin writes unknown status", admin, put("visits", "v1", "visit:v1", "status", "done"), waitingRow, clinic.ErrInvalid},
		{"admin creates region", admin, put("regions", "NV", "clinic", "name", "Nevada", "mode", clinic.ModeOpen, "hours", "mon-fri 08:00-18:00", "time_zone", "America/Los_Angeles"), nil, nil},
		{"admin bad region hours", admin, put("regions", "CA", "clinic", "hours", "weekdays 9-5"), regionRow, clinic.ErrInvalid},
		{"admin writes staff", admin, put("staff", "dr-kim", "clinic", "name", "Dr Kim", "regions", "CA,NV", "on_shift", int64(1)), nil, nil},
		{"admin writes note", admin, put("visit_notes", "n1", "visit:v1", "visit_id", "v1", "author_id", "dr-lee", "body", "SECRET"), nil, nil},
		{"admin own audit entry", admin, audit("adm", clinic.RoleAdmin, "dev-a"), nil, nil},
		{"admin audit in another's name", admin, audit("dr-lee", clinic.RoleAdmin, "dev-a"), nil, clinic.ErrForbidden},
		{"admin audit from another device", admin, audit("adm", clinic.RoleAdmin, "dev-x"), nil, clinic.ErrForbidden},
		{"admin audit with another role", admin, audit("adm", clinic.RoleProvider, "dev-a"), nil, clinic.ErrForbidden},
		{"admin audit entry without actor", admin, put("audit_events", "a1", clinic.AuditScope, "action", clinic.ActionRead), nil, clinic.ErrForbidden},
		{"admin deletes audit entry", admin, del("audit_events", "a1", clinic.AuditScope), clinic.Row{"actor": "adm"}, clinic.ErrForbidden},
		{"admin deletes chat", admin, del("chat_messages", "m1", "visit:v1"), clinic.Row{"visit_id": "v1"}, clinic.ErrForbidden},
		{"admin bad observation", admin, observation("heart_rate", 900.0, "adm"), nil, clinic.ErrInvalid},

		// Patient: their own chat and cancelling their own visit; nothing else.
		{"patient sends message", patient, chat("v1", "pat-1", clinic.RolePatient), nil, nil},
		{"patient message resent", patient, chat("v1", "pat-1", clinic.RolePatient), clinic.Row{"visit_id": "v1", "sender_id": "pat-1"}, nil},
		{"patient message as someone else", patient, chat("v1", "dr-lee", clinic.RolePatient), nil, clinic.ErrForbidden},
		{"patient message as provider", patient, chat("v1", "pat-1", clinic.RoleProvider), nil, clinic.ErrForbidden},
		{"patient message into other visit", patient, put("chat_messages", "m1", "visit:v1", "visit_id", "v2", "sender_id", "pat-1", "sender_role", "patient"), nil, clinic.ErrForbidden},
		{"patient message outside a visit scope", patient, put("chat_messages", "m1", "clinic", "visit_id", "v1", "sender_id", "pat-1", "sender_role", "patient"), nil, clinic.ErrForbidden},
		{"patient cancels waiting visit", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled), waitingRow, nil},
		{"patient cancels requested visit", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled), requestedRow, nil},
		{"patient cancels again", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled), clinic.Row{"status": clinic.StatusCancelled}, nil},
		{"patient cancels visit in progress", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled), inVisitRow, clinic.ErrTransition},
		{"patient cancels ended visit", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled), completedRow, clinic.ErrTransition},
		{"patient cancels another visit", patient, put("visits", "v2", "visit:v1", "status", clinic.StatusCancelled), waitingRow, clinic.ErrForbidden},
		{"patient completes visit", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCompleted), inVisitRow, clinic.ErrForbidden},
		{"patient moves to waiting", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusWaiting), requestedRow, clinic.ErrForbidden},
		{"patient cancels and edits reason", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled, "reason", "SECRET"), waitingRow, clinic.ErrForbidden},
		{"patient edits reason", patient, put("visits", "v1", "visit:v1", "reason", "SECRET"), waitingRow, clinic.ErrForbidden},
		{"patient creates visit", patient, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled), nil, clinic.ErrForbidden},
		{"patient deletes visit", patient, del("visits", "v1", "visit:v1"), waitingRow, clinic.ErrForbidden},
		{"patient edits own record", patient, put("patients", "pat-1", "clinic", "phone", "SECRET"), patientRow, clinic.ErrForbidden},
		{"patient writes note", patient, put("visit_notes", "n1", "visit:v1", "visit_id", "v1", "author_id", "pat-1", "body", "SECRET"), nil, clinic.ErrForbidden},
		{"patient writes observation", patient, observation("heart_rate", 80.0, "pat-1"), nil, clinic.ErrForbidden},
		{"patient writes audit", patient, audit("pat-1", clinic.RolePatient, "dev-b"), nil, clinic.ErrForbidden},
		{"patient writes estimate", patient, put("visit_estimates", "v1", "visit:v1", "position", int64(1)), nil, clinic.ErrForbidden},

		// Provider.
		{"provider creates patient", provider, put("patients", "p9", "clinic", "given_name", "SECRET"), nil, nil},
		{"provider edits patient", provider, put("patients", "p1", "clinic", "phone", "SECRET"), patientRow, nil},
		{"provider deletes patient", provider, del("patients", "p1", "clinic"), patientRow, clinic.ErrForbidden},
		{"provider completes own visit", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusCompleted, "ended_at", int64(5), "ended_by", "dr-lee", "end_reason", "SECRET"), inVisitRow, nil},
		{"provider marks own visit no-show", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusNoShow), inVisitRow, nil},
		{"provider releases own visit", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusWaiting), inVisitRow, nil},
		{"provider completes another's visit", provider, put("visits", "v2", "visit:v2", "status", clinic.StatusCompleted), othersRow, clinic.ErrForbidden},
		{"provider releases another's visit", provider, put("visits", "v2", "visit:v2", "status", clinic.StatusWaiting), othersRow, clinic.ErrForbidden},
		{"provider marks waiting patient no-show", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusNoShow), waitingRow, nil},
		{"provider cancels waiting visit", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled), waitingRow, clinic.ErrForbidden},
		{"provider admits requested visit", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusWaiting), requestedRow, nil},
		{"provider claims by write", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusInVisit), waitingRow, clinic.ErrForbidden},
		{"provider sets itself provider", provider, put("visits", "v1", "visit:v1", "provider_id", "dr-lee"), waitingRow, clinic.ErrForbidden},
		{"provider reopens ended visit", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusWaiting), completedRow, clinic.ErrTransition},
		{"provider edits reason", provider, put("visits", "v1", "visit:v1", "reason", "SECRET"), waitingRow, nil},
		{"provider edits visit region", provider, put("visits", "v1", "visit:v1", "region", "NV"), waitingRow, clinic.ErrForbidden},
		{"provider ends in another's name", provider, put("visits", "v1", "visit:v1", "status", clinic.StatusCompleted, "ended_by", "dr-kim"), inVisitRow, clinic.ErrForbidden},
		{"provider creates visit", provider, put("visits", "v9", "visit:v9", "status", clinic.StatusWaiting), nil, clinic.ErrForbidden},
		{"provider deletes visit", provider, del("visits", "v1", "visit:v1"), waitingRow, clinic.ErrForbidden},
		{"provider writes note", provider, put("visit_notes", "n1", "visit:v1", "visit_id", "v1", "author_id", "dr-lee", "body", "SECRET"), nil, nil},
		{"provider writes note as another", provider, put("visit_notes", "n1", "visit:v1", "visit_id", "v1", "author_id", "dr-kim", "body", "SECRET"), nil, clinic.ErrForbidden},
		{"provider writes note without author", provider, put("visit_notes", "n1", "visit:v1", "visit_id", "v1", "body", "SECRET"), nil, clinic.ErrForbidden},
		{"provider edits another's note", provider, put("visit_notes", "n1", "visit:v1", "body", "SECRET"), othersNote, nil},
		{"provider takes another's note", provider, put("visit_notes", "n1", "visit:v1", "author_id", "dr-lee"), othersNote, clinic.ErrForbidden},
		{"provider moves note", provider, put("visit_notes", "n1", "visit:v2", "visit_id", "v2"), myNote, clinic.ErrForbidden},
		{"provider deletes own note", provider, del("visit_notes", "n1", "visit:v1"), myNote, nil},
		{"provider deletes another's note", provider, del("visit_notes", "n1", "visit:v1"), othersNote, clinic.ErrForbidden},
		{"provider records observation", provider, observation("heart_rate", 72.0, "dr-lee"), nil, nil},
		{"provider records integer observation", provider, observation("pain_score", int64(7), "dr-lee"), nil, nil},
		{"provider records as another", provider, observation("heart_rate", 72.0, "dr-kim"), nil, clinic.ErrForbidden},
		{"provider records unknown kind", provider, observation("mood", 3.0, "dr-lee"), nil, clinic.ErrInvalid},
		{"provider records out of range", provider, observation("spo2", 101.0, "dr-lee"), nil, clinic.ErrInvalid},
		{"provider records NaN", provider, observation("spo2", math.NaN(), "dr-lee"), nil, clinic.ErrInvalid},
		{"provider records wrong unit", provider, put("observations", "o1", "visit:v1", "visit_id", "v1", "kind", "temperature", "value", 37.0, "unit", "°F", "recorded_by", "dr-lee"), nil, clinic.ErrInvalid},
		{"provider records right unit", provider, put("observations", "o1", "visit:v1", "visit_id", "v1", "kind", "temperature", "value", 37.0, "unit", "°C", "recorded_by", "dr-lee"), nil, nil},
		{"provider records without value", provider, put("observations", "o1", "visit:v1", "visit_id", "v1", "kind", "temperature", "recorded_by", "dr-lee"), nil, clinic.ErrInvalid},
		{"provider records for wrong patient", provider, put("observations", "o1", "visit:v1", "visit_id", "v1", "patient_id", "pat-2", "kind", "spo2", "value", 97.0, "recorded_by", "dr-lee"), nil, clinic.ErrInvalid},
		{"provider chats", provider, chat("v1", "dr-lee", clinic.RoleProvider), nil, nil},
		{"provider chats as support", provider, chat("v1", "dr-lee", clinic.RoleSupport), nil, clinic.ErrForbidden},
		{"provider chats as another", provider, chat("v1", "sam", clinic.RoleProvider), nil, clinic.ErrForbidden},
		{"provider starts shift", provider, put("staff", "dr-lee", "clinic", "on_shift", int64(1), "updated_at", int64(9)), staffRow, nil},
		{"provider shift as bool", provider, put("staff", "dr-lee", "clinic", "on_shift", true), staffRow, nil},
		{"provider shift of 2", provider, put("staff", "dr-lee", "clinic", "on_shift", int64(2)), staffRow, clinic.ErrInvalid},
		{"provider starts another's shift", provider, put("staff", "dr-kim", "clinic", "on_shift", int64(1)), staffRow, clinic.ErrForbidden},
		{"provider adds own licence", provider, put("staff", "dr-lee", "clinic", "regions", "CA,NV"), staffRow, clinic.ErrForbidden},
		{"provider creates own staff row", provider, put("staff", "dr-lee", "clinic", "on_shift", int64(1)), nil, clinic.ErrForbidden},
		{"provider pauses region", provider, put("regions", "CA", "clinic", "mode", clinic.ModePaused), regionRow, clinic.ErrForbidden},
		{"provider own audit entry", provider, audit("dr-lee", clinic.RoleProvider, "dev-p"), nil, nil},
		{"provider audit as another", provider, audit("adm", clinic.RoleProvider, "dev-p"), nil, clinic.ErrForbidden},
		{"provider writes estimate", provider, put("visit_estimates", "v1", "visit:v1", "position", int64(1)), nil, clinic.ErrForbidden},

		// Support.
		{"support edits patient", support, put("patients", "p1", "clinic", "email", "SECRET@example.com"), patientRow, nil},
		{"support deletes patient", support, del("patients", "p1", "clinic"), patientRow, clinic.ErrForbidden},
		{"support admits requested visit", support, put("visits", "v1", "visit:v1", "status", clinic.StatusWaiting), requestedRow, nil},
		{"support cancels waiting visit", support, put("visits", "v1", "visit:v1", "status", clinic.StatusCancelled, "ended_by", "sam", "end_reason", "SECRET"), waitingRow, nil},
		{"support marks no-show", support, put("visits", "v1", "visit:v1", "status", clinic.StatusNoShow), waitingRow, nil},
		{"support edits reason", support, put("visits", "v1", "visit:v1", "reason", "SECRET"), waitingRow, nil},
		{"support completes visit", support, put("visits", "v1", "visit:v1", "status", clinic.StatusCompleted), inVisitRow, clinic.ErrForbidden},
		{"support claims", support, put("visits", "v1", "visit:v1", "status", clinic.StatusInVisit), waitingRow, clinic.ErrForbidden},
		{"support reopens", support, put("visits", "v1", "visit:v1", "status", clinic.StatusWaiting), completedRow, clinic.ErrTransition},
		{"support edits patient_id", support, put("visits", "v1", "visit:v1", "patient_id", "pat-2"), waitingRow, clinic.ErrForbidden},
		{"support chats", support, chat("v1", "sam", clinic.RoleSupport), nil, nil},
		{"support chats as provider", support, chat("v1", "sam", clinic.RoleProvider), nil, clinic.ErrForbidden},
		{"support sets busy", support, put("regions", "CA", "clinic", "mode", clinic.ModeBusy, "busy_limit", int64(5), "updated_by", "sam", "updated_at", int64(9)), regionRow, nil},
		{"support pauses with message", support, put("regions", "CA", "clinic", "mode", clinic.ModePaused, "message", "Back at 2pm."), regionRow, nil},
		{"support sets hours and zone", support, put("regions", "CA", "clinic", "hours", "mon-fri 08:00-18:00, sat 09:00-13:00", "time_zone", "America/Los_Angeles"), regionRow, nil},
		{"support clears hours", support, put("regions", "CA", "clinic", "hours", ""), regionRow, nil},
		{"support unknown mode", support, put("regions", "CA", "clinic", "mode", "closed"), regionRow, clinic.ErrInvalid},
		{"support negative limit", support, put("regions", "CA", "clinic", "busy_limit", int64(-1)), regionRow, clinic.ErrInvalid},
		{"support bad hours", support, put("regions", "CA", "clinic", "hours", "mon-fri 18:00-08:00"), regionRow, clinic.ErrInvalid},
		{"support bad zone", support, put("regions", "CA", "clinic", "time_zone", "Mars/Olympus"), regionRow, clinic.ErrInvalid},
		{"support renames region", support, put("regions", "CA", "clinic", "name", "Cali"), regionRow, clinic.ErrForbidden},
		{"support signs as another", support, put("regions", "CA", "clinic", "mode", clinic.ModeOpen, "updated_by", "adm"), regionRow, clinic.ErrForbidden},
		{"support creates region", support, put("regions", "NV", "clinic", "mode", clinic.ModeOpen), nil, clinic.ErrForbidden},
		{"support deletes region", support, del("regions", "CA", "clinic"), regionRow, clinic.ErrForbidden},
		{"support own shift", support, put("staff", "sam", "clinic", "on_shift", int64(1)), clinic.Row{"name": "Sam"}, nil},
		{"support another's shift", support, put("staff", "dr-lee", "clinic", "on_shift", int64(1)), staffRow, clinic.ErrForbidden},
		{"support writes note", support, put("visit_notes", "n1", "visit:v1", "visit_id", "v1", "author_id", "sam", "body", "SECRET"), nil, clinic.ErrForbidden},
		{"support records observation", support, observation("heart_rate", 72.0, "sam"), nil, clinic.ErrForbidden},
		{"support own audit entry", support, audit("sam", clinic.RoleSupport, "dev-s"), nil, nil},
		{"support audit from another device", support, audit("sam", clinic.RoleSupport, "dev-p"), nil, clinic.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := clinic.CheckWrite(tt.actor, tt.ch, tt.cur, visits)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error repeats patient data: %v", err)
			}
		})
	}
}

func TestCheckWriteNamesWhatWasRefused(t *testing.T) {
	err := clinic.CheckWrite(support, put("regions", "CA", "clinic", "name", "Cali"), regionRow, nil)
	if err == nil || !strings.Contains(err.Error(), "regions.name") {
		t.Errorf("refusal %v does not name regions.name", err)
	}
	err = clinic.CheckWrite(provider, put("regions", "CA", "clinic", "mode", "busy"), regionRow, nil)
	if err == nil || !strings.Contains(err.Error(), "regions") || !strings.Contains(err.Error(), "provider") {
		t.Errorf("refusal %v does not name the table and role", err)
	}
}

func TestCheckWriteWithoutLookup(t *testing.T) {
	// Without a lookup the observation's patient cannot be compared with its visit's; the
	// rest of the rules still hold.
	ch := put("observations", "o1", "visit:v1", "visit_id", "v1", "patient_id", "pat-2", "kind", "spo2", "value", 97.0, "recorded_by", "dr-lee")
	if err := clinic.CheckWrite(provider, ch, nil, nil); err != nil {
		t.Errorf("without lookup: %v", err)
	}
	failing := func(string, string) (clinic.Row, bool, error) { return nil, false, errors.New("disk on fire") }
	if err := clinic.CheckWrite(provider, ch, nil, failing); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("lookup error lost: %v", err)
	}
	if err := clinic.CheckWrite(provider, nil, nil, nil); !errors.Is(err, clinic.ErrInvalid) {
		t.Errorf("nil change: %v", err)
	}
}
