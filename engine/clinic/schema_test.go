package clinic_test

import (
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
	}{
		{"patients", engine.LastWriterWins, "", "", ""},
		{"visits", engine.LastWriterWins, clinic.VisitScope, "id", ""},
		{"visit_notes", engine.LastWriterWins, clinic.VisitScope, "visit_id", "body"},
		{"chat_messages", engine.AppendOnly, clinic.VisitScope, "visit_id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			tb := clinic.Schema.Table(tt.table)
			if tb == nil {
				t.Fatalf("no table %q", tt.table)
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
			// A visit's rows belong to that visit's scope: what a patient's token grants.
			if tt.scopeKind != "" {
				if got, err := tb.ScopeOf("v1"); err != nil || got != "visit:v1" {
					t.Errorf("ScopeOf(v1) = %q, %v", got, err)
				}
			} else if got, _ := tb.ScopeOf(nil); got != engine.ClinicScope {
				t.Errorf("clinic-wide table in scope %q", got)
			}
		})
	}
}
