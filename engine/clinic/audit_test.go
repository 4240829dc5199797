package clinic_test

import (
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

func TestAuditMutationRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 10, 17, 0, 0, 123e6, time.UTC)
	e := clinic.AuditEntry{Actor: "dr-lee", ActorRole: clinic.RoleProvider, Device: "dev-p", Action: clinic.ActionWrite,
		Table: "visit_notes", RecordID: "n1", PatientID: "pat-1", At: at, Detail: "signed"}
	m := e.Mutation()
	if m.Table != "audit_events" || !engine.ValidID(m.ID) || m.Delete {
		t.Fatalf("mutation %+v", m)
	}
	if m.Values["tbl"] != "visit_notes" || m.Values["at"] != at.UnixMilli() {
		t.Errorf("values %v", m.Values)
	}
	tb := clinic.Schema.Table("audit_events")
	for col := range m.Values {
		if tb.Col(col) < 0 {
			t.Errorf("audit_events has no column %q", col)
		}
	}
	if got := clinic.AuditFromRow(m.Values); got != e {
		t.Errorf("round trip\n %+v\nwant\n %+v", got, e)
	}
	if again := e.Mutation(); again.ID == m.ID {
		t.Error("two entries share an id")
	}
	// The entry passes the write rules for its own writer, and for nobody else.
	ch := &engine.Change{Table: m.Table, ID: m.ID, Scope: clinic.AuditScope}
	for col, v := range m.Values {
		ch.Cols, ch.Vals = append(ch.Cols, col), append(ch.Vals, v)
	}
	if err := clinic.CheckWrite(clinic.Actor{User: "dr-lee", Role: clinic.RoleProvider, Device: "dev-p"}, ch, nil, nil); err != nil {
		t.Errorf("own entry refused: %v", err)
	}
	if err := clinic.CheckWrite(clinic.Actor{User: "sam", Role: clinic.RoleSupport, Device: "dev-p"}, ch, nil, nil); err == nil {
		t.Error("an entry in another's name was accepted")
	}
}

func TestAuditFromRow(t *testing.T) {
	// Rows come back from SQLite and msgpack with other integer types, or with columns
	// missing.
	tests := []struct {
		row  clinic.Row
		want clinic.AuditEntry
	}{
		{clinic.Row{}, clinic.AuditEntry{}},
		{clinic.Row{"actor": "adm", "at": int64(0)}, clinic.AuditEntry{Actor: "adm"}},
		{clinic.Row{"action": []byte("read"), "at": uint32(1000)}, clinic.AuditEntry{Action: "read", At: time.UnixMilli(1000).UTC()}},
		{clinic.Row{"at": 2000.0}, clinic.AuditEntry{At: time.UnixMilli(2000).UTC()}},
	}
	for _, tt := range tests {
		if got := clinic.AuditFromRow(tt.row); got != tt.want {
			t.Errorf("AuditFromRow(%v) = %+v, want %+v", tt.row, got, tt.want)
		}
	}
	if m := (clinic.AuditEntry{Actor: "x"}).Mutation(); m.Values["at"] != int64(0) {
		t.Errorf("zero At stored as %v", m.Values["at"])
	}
}

func TestReadAccess(t *testing.T) {
	at := time.Date(2025, 3, 10, 17, 0, 0, 0, time.UTC)
	got := clinic.ReadAccess(clinic.Actor{User: "sam", Role: clinic.RoleSupport, Device: "dev-s"}, "patients", "pat-1", "pat-1", at)
	want := clinic.AuditEntry{Actor: "sam", ActorRole: clinic.RoleSupport, Device: "dev-s", Action: clinic.ActionRead,
		Table: "patients", RecordID: "pat-1", PatientID: "pat-1", At: at}
	if got != want {
		t.Errorf("ReadAccess = %+v", got)
	}
}
