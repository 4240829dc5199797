package clinic_test

import (
	"strings"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
)

func TestSchemaBuilds(t *testing.T) {
	s, err := engine.NewSchema(clinic.Migrations...)
	if err != nil {
		t.Fatalf("clinic migrations: %v", err)
	}
	if s.Version() != len(clinic.Migrations) || clinic.Schema.Version() != s.Version() {
		t.Fatalf("versions: built %d, package Schema %d, %d migrations", s.Version(), clinic.Schema.Version(), len(clinic.Migrations))
	}
	for v := 1; v <= s.Version(); v++ {
		if _, err := s.At(v); err != nil {
			t.Errorf("At(%d): %v", v, err)
		}
	}
}

func TestSchemaTables(t *testing.T) {
	tests := []struct {
		table       string
		policy      engine.Policy
		scopeKind   string
		scopeColumn string
		note        string // name of the note column, "" for none
		scope       string // fixed scope of a table without a scope column
		inbox       bool
		chained     bool
	}{
		{"patients", engine.LastWriterWins, "", "", "", engine.ClinicScope, false, false},
		{"visits", engine.LastWriterWins, clinic.VisitScope, "id", "", "", false, false},
		{"visit_notes", engine.LastWriterWins, clinic.VisitScope, "visit_id", "body", "", false, false},
		{"chat_messages", engine.AppendOnly, clinic.VisitScope, "visit_id", "", "", false, false},
		{"regions", engine.LastWriterWins, "", "", "", engine.ClinicScope, false, false},
		{"staff", engine.LastWriterWins, "", "", "", engine.ClinicScope, false, false},
		{"observations", engine.AppendOnly, clinic.VisitScope, "visit_id", "", "", false, false},
		{"visit_estimates", engine.LastWriterWins, clinic.EstimateScope, "id", "", "", false, false},
		// The audit trail: every device writes it, no whole-clinic grant reads it, the
		// server chains it.
		{"audit_events", engine.AppendOnly, "", "", "", clinic.AuditScope, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			tb := clinic.Schema.Table(tt.table)
			if tb == nil {
				t.Fatalf("no table %q", tt.table)
			}
			if tb.Inbox != tt.inbox || tb.Chained != tt.chained {
				t.Errorf("inbox %v chained %v; want %v %v", tb.Inbox, tb.Chained, tt.inbox, tt.chained)
			}
			if tb.Policy != tt.policy || tb.ScopeKind != tt.scopeKind || tb.ScopeColumn != tt.scopeColumn {
				t.Errorf("policy %q scope %q/%q; want %q %q/%q", tb.Policy, tb.ScopeKind, tb.ScopeColumn, tt.policy, tt.scopeKind, tt.scopeColumn)
			}
			switch i := tb.NoteCol(); {
			case tt.note == "" && i >= 0:
				t.Errorf("unexpected note column %q", tb.Columns[i].Name)
			case tt.note != "" && (i < 0 || tb.Columns[i].Name != tt.note):
				t.Errorf("note column index %d, want %q", i, tt.note)
			}
			// A visit's rows belong to that visit's scope (its estimate to the visit's estimate
			// scope): what a patient's token grants.
			if tt.scopeKind != "" {
				if got, err := tb.ScopeOf("v1"); err != nil || got != tt.scopeKind+":v1" {
					t.Errorf("ScopeOf(v1) = %q, %v", got, err)
				}
			} else if got, _ := tb.ScopeOf(nil); got != tt.scope {
				t.Errorf("table in scope %q, want %q", got, tt.scope)
			}
		})
	}
}

func TestSchemaColumns(t *testing.T) {
	tests := []struct {
		table, column string
		typ           engine.ColumnType
	}{
		{"visits", "consent_at", engine.Integer},
		{"visits", "ended_by", engine.Text},
		{"visits", "end_reason", engine.Text},
		{"regions", "busy_limit", engine.Integer},
		{"regions", "hours", engine.Text},
		{"regions", "time_zone", engine.Text},
		{"staff", "regions", engine.Text},
		{"staff", "on_shift", engine.Integer},
		{"observations", "value", engine.Real},
		{"observations", "recorded_at", engine.Integer},
		{"visit_estimates", "wait_ms", engine.Integer},
		{"visit_estimates", "notice", engine.Text},
		{"audit_events", "tbl", engine.Text},
		{"audit_events", "at", engine.Integer},
	}
	for _, tt := range tests {
		tb := clinic.Schema.Table(tt.table)
		if tb == nil {
			t.Fatalf("no table %q", tt.table)
		}
		if i := tb.Col(tt.column); i < 0 || tb.Columns[i].Type != tt.typ {
			t.Errorf("%s.%s: index %d, want a %s column", tt.table, tt.column, i, tt.typ)
		}
	}
	// Migration 1 stays as devices in the field have it: the visit columns came later.
	v1, err := clinic.Schema.At(1)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Table("visits").Col("consent_at") >= 0 || v1.Table("regions") != nil {
		t.Error("schema version 1 has version 2's columns or tables")
	}
}

func TestSchemaIndexes(t *testing.T) {
	want := map[string]string{
		"visits_queue":    "visits(status,region,requested_at)",
		"visits_patient":  "visits(patient_id)",
		"visits_provider": "visits(provider_id,status)",
		"patients_birth":  "patients(birth_date)",
		"audit_patient":   "audit_events(patient_id,at)",
		// v3: the desktop's per-visit screens and patient search.
		"chat_visit":         "chat_messages(visit_id,sent_at)",
		"notes_visit":        "visit_notes(visit_id)",
		"observations_visit": "observations(visit_id,recorded_at)",
		"patients_family":    "patients(family_name,given_name)",
	}
	got := map[string]string{}
	for _, m := range clinic.Migrations {
		for _, st := range m.Steps {
			if ix := st.AddIndex; ix != nil {
				got[ix.Name] = ix.Table + "(" + strings.Join(ix.Columns, ",") + ")"
			}
		}
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("index %s = %q, want %q", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("indexes %v, want %v", got, want)
	}
}
