package clinic_test

import (
	"errors"
	"testing"

	"hearth/engine/clinic"
)

func TestPatientData(t *testing.T) {
	for _, tb := range clinic.Schema.Tables() {
		want := map[string]bool{"patients": true, "visits": true, "visit_notes": true, "observations": true, "chat_messages": true}[tb.Name]
		if got := clinic.PatientData(tb.Name); got != want {
			t.Errorf("PatientData(%q) = %v", tb.Name, got)
		}
	}
}

func TestPatientOf(t *testing.T) {
	look := fakeLook(map[string]clinic.Row{"visits/v1": waitingRow, "visits/v3": {"status": clinic.StatusWaiting}})
	failing := func(string, string) (clinic.Row, bool, error) { return nil, false, errors.New("disk on fire") }
	tests := []struct {
		name, table string
		row         clinic.Row
		look        clinic.Lookup
		want        string
		err         bool
	}{
		{"a patient is itself", "patients", clinic.Row{"id": "pat-9", "given_name": "x"}, nil, "pat-9", false},
		{"a patient row without id", "patients", clinic.Row{"given_name": "x"}, nil, "", true},
		{"a visit names its patient", "visits", waitingRow, nil, "pat-1", false},
		{"a visit without patient", "visits", clinic.Row{"status": "waiting"}, nil, "", true},
		{"a note through its visit", "visit_notes", myNote, look, "pat-1", false},
		{"chat through its visit", "chat_messages", clinic.Row{"visit_id": "v1"}, look, "pat-1", false},
		{"an observation names its patient", "observations", clinic.Row{"visit_id": "v2", "patient_id": "pat-7"}, nil, "pat-7", false},
		{"an observation without patient_id", "observations", clinic.Row{"visit_id": "v1"}, look, "pat-1", false},
		{"a visit not on this device", "chat_messages", clinic.Row{"visit_id": "v2"}, look, "", true},
		{"a visit without patient", "chat_messages", clinic.Row{"visit_id": "v3"}, look, "", true},
		{"no visit_id", "visit_notes", clinic.Row{"body": "x"}, look, "", true},
		{"no lookup", "visit_notes", myNote, nil, "", true},
		{"lookup fails", "visit_notes", myNote, failing, "", true},
		{"not patient data", "regions", regionRow, nil, "", false},
		{"audit entries are about patients but are not their data", "audit_events", clinic.Row{"patient_id": "pat-1"}, nil, "", false},
	}
	for _, tt := range tests {
		got, err := clinic.PatientOf(tt.table, tt.row, tt.look)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%s: %q, %v; want %q (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
}
