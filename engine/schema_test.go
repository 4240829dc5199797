package engine_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"hearth/engine"
)

func addTable(t engine.Table) engine.Step { return engine.Step{AddTable: &t} }

func addColumn(table string, c engine.Column) engine.Step {
	return engine.Step{AddColumn: &engine.AddColumn{Table: table, Column: c}}
}

func v1(steps ...engine.Step) engine.Migration { return engine.Migration{Version: 1, Steps: steps} }

func textCol(name string) engine.Column { return engine.Column{Name: name, Type: engine.Text} }

func TestNewSchemaErrors(t *testing.T) {
	okTable := engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a")}}
	tests := []struct {
		name       string
		migrations []engine.Migration
		wantErr    string // substring of the error
		wantIs     error  // optional sentinel
	}{
		{"version starts at 2", []engine.Migration{{Version: 2, Steps: []engine.Step{addTable(okTable)}}}, "versions must run", nil},
		{"version zero", []engine.Migration{{Version: 0, Steps: []engine.Step{addTable(okTable)}}}, "versions must run", nil},
		{"version skips", []engine.Migration{v1(addTable(okTable)), {Version: 3}}, "versions must run", nil},
		{"version repeats", []engine.Migration{v1(addTable(okTable)), {Version: 1}}, "versions must run", nil},
		{"duplicate table", []engine.Migration{v1(addTable(okTable), addTable(okTable))}, "declared twice", nil},
		{"duplicate table across versions", []engine.Migration{v1(addTable(okTable)), {Version: 2, Steps: []engine.Step{addTable(okTable)}}}, "declared twice", nil},
		{"bad table name upper case", []engine.Migration{v1(addTable(engine.Table{Name: "Patients", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a")}}))}, "table name", nil},
		{"bad table name leading underscore", []engine.Migration{v1(addTable(engine.Table{Name: "_hearth", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a")}}))}, "table name", nil},
		{"bad table name quote", []engine.Migration{v1(addTable(engine.Table{Name: `t"; drop`, Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a")}}))}, "table name", nil},
		{"empty table name", []engine.Migration{v1(addTable(engine.Table{Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a")}}))}, "table name", nil},
		{"unknown policy", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: "mvr", Columns: []engine.Column{textCol("a")}}))}, "unknown policy", nil},
		{"no columns", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins}))}, "no columns", nil},
		{"duplicate column", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a"), textCol("a")}}))}, "declared twice", nil},
		{"column named id", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("id")}}))}, "bad column name", nil},
		{"bad column name", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("A-b")}}))}, "bad column name", nil},
		{"bad column type", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{{Name: "a", Type: "VARCHAR"}}}))}, "unknown type", nil},
		{"empty column type", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{{Name: "a"}}}))}, "unknown type", nil},
		{"two note columns", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{
			textCol("a"), {Name: "n1", Type: engine.Text, Note: true}, {Name: "n2", Type: engine.Text, Note: true}}}))}, "note column", nil},
		{"note column that is not text", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{
			{Name: "n", Type: engine.Blob, Note: true}}}))}, "note column", nil},
		{"note on append-only", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.AppendOnly, Columns: []engine.Column{
			textCol("a"), {Name: "n", Type: engine.Text, Note: true}}}))}, "note column", nil},
		{"second note added later", []engine.Migration{
			v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{{Name: "n", Type: engine.Text, Note: true}}})),
			{Version: 2, Steps: []engine.Step{addColumn("t", engine.Column{Name: "m", Type: engine.Text, Note: true})}}}, "note column", nil},
		{"note added later to append-only", []engine.Migration{
			v1(addTable(engine.Table{Name: "t", Policy: engine.AppendOnly, Columns: []engine.Column{textCol("a")}})),
			{Version: 2, Steps: []engine.Step{addColumn("t", engine.Column{Name: "n", Type: engine.Text, Note: true})}}}, "note column", nil},
		{"scope column missing", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{textCol("a")}}))}, "scope column", nil},
		{"scope column not text", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{{Name: "visit_id", Type: engine.Integer}}}))}, "scope column", nil},
		{"scope column without kind", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, ScopeColumn: "visit_id", Columns: []engine.Column{textCol("visit_id")}}))}, "scope column", nil},
		{"scope kind not an identifier", []engine.Migration{v1(addTable(engine.Table{Name: "t", Policy: engine.LastWriterWins, ScopeKind: "Visit:", ScopeColumn: "id", Columns: []engine.Column{textCol("a")}}))}, "scope column", nil},
		{"add column to unknown table", []engine.Migration{v1(addColumn("nope", textCol("a")))}, "add column", engine.ErrUnknownTable},
		{"add duplicate column later", []engine.Migration{v1(addTable(okTable)), {Version: 2, Steps: []engine.Step{addColumn("t", textCol("a"))}}}, "declared twice", nil},
		{"empty step", []engine.Migration{v1(engine.Step{})}, "exactly one", nil},
		{"step with both", []engine.Migration{v1(engine.Step{AddTable: &okTable, AddColumn: &engine.AddColumn{Table: "t", Column: textCol("b")}})}, "exactly one", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := engine.NewSchema(tt.migrations...)
			if err == nil {
				t.Fatalf("NewSchema succeeded with %d tables, want an error containing %q", len(s.Tables()), tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("error %q is not %v", err, tt.wantIs)
			}
			defer func() {
				if recover() == nil {
					t.Fatal("MustSchema did not panic")
				}
			}()
			engine.MustSchema(tt.migrations...)
		})
	}
}

func TestNewSchemaValid(t *testing.T) {
	tests := []struct {
		name  string
		table engine.Table
	}{
		{"plain", engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a"), {Name: "b", Type: engine.Integer}, {Name: "c", Type: engine.Real}, {Name: "d", Type: engine.Blob}}}},
		{"append-only", engine.Table{Name: "t", Policy: engine.AppendOnly, Columns: []engine.Column{textCol("a")}}},
		{"note last", engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a"), {Name: "n", Type: engine.Text, Note: true}}}},
		// A note as the first (or only) column is as valid as anywhere else.
		{"note first", engine.Table{Name: "t", Policy: engine.LastWriterWins, Columns: []engine.Column{{Name: "n", Type: engine.Text, Note: true}, textCol("a")}}},
		{"scope column", engine.Table{Name: "t", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{textCol("visit_id")}}},
		{"scope by id", engine.Table{Name: "t", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "id", Columns: []engine.Column{textCol("a")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := engine.NewSchema(v1(addTable(tt.table)))
			if err != nil {
				t.Fatalf("NewSchema: %v", err)
			}
			tb := s.Table("t")
			if tb == nil || len(tb.Columns) != len(tt.table.Columns) {
				t.Fatalf("table t = %+v", tb)
			}
			wantNote := slices.IndexFunc(tt.table.Columns, func(c engine.Column) bool { return c.Note })
			if tb.NoteCol() != wantNote {
				t.Errorf("NoteCol = %d, want %d", tb.NoteCol(), wantNote)
			}
			for i, c := range tt.table.Columns {
				if tb.Col(c.Name) != i {
					t.Errorf("Col(%q) = %d, want %d", c.Name, tb.Col(c.Name), i)
				}
			}
			if tb.Col("nope") != -1 || tb.Col("id") != -1 {
				t.Errorf("Col of an undeclared column must be -1")
			}
		})
	}
}

func TestSchemaVersionsAndAt(t *testing.T) {
	patients := &engine.Table{Name: "patients", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("name")}}
	migrations := []engine.Migration{
		{Version: 1, Steps: []engine.Step{{AddTable: patients}}},
		{Version: 2, Steps: []engine.Step{
			addColumn("patients", textCol("phone")),
			addTable(engine.Table{Name: "notes", Policy: engine.LastWriterWins, Columns: []engine.Column{{Name: "body", Type: engine.Text, Note: true}}}),
		}},
		{Version: 3, Steps: []engine.Step{addColumn("patients", engine.Column{Name: "age", Type: engine.Integer})}},
	}
	// Build version 1 on its own first: later schemas must not reach into its tables.
	s1, err := engine.NewSchema(migrations[:1]...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := engine.NewSchema(migrations...)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != 3 || len(s.Migrations()) != 3 {
		t.Fatalf("Version = %d, %d migrations", s.Version(), len(s.Migrations()))
	}
	names := func(tb *engine.Table) []string {
		var out []string
		for _, c := range tb.Columns {
			out = append(out, c.Name)
		}
		return out
	}
	if got := names(s.Table("patients")); !slices.Equal(got, []string{"name", "phone", "age"}) {
		t.Fatalf("patients at v3 = %v", got)
	}
	if got := len(s.Tables()); got != 2 || s.Tables()[0].Name != "patients" || s.Tables()[1].Name != "notes" {
		t.Fatalf("Tables() not in declaration order: %d tables", got)
	}
	// AddColumn replaces the table in Tables() too, not only in Table(name).
	if s.Tables()[0] != s.Table("patients") {
		t.Fatal("Tables()[0] and Table(\"patients\") differ")
	}

	wantAt := map[int][]string{1: {"name"}, 2: {"name", "phone"}, 3: {"name", "phone", "age"}}
	for v, want := range wantAt {
		at, err := s.At(v)
		if err != nil {
			t.Fatalf("At(%d): %v", v, err)
		}
		if at.Version() != v {
			t.Errorf("At(%d).Version() = %d", v, at.Version())
		}
		if got := names(at.Table("patients")); !slices.Equal(got, want) {
			t.Errorf("At(%d) patients = %v, want %v", v, got, want)
		}
		if got := at.Table("patients").Col("age"); (v < 3) != (got < 0) {
			t.Errorf("At(%d) Col(age) = %d", v, got)
		}
		if (at.Table("notes") != nil) != (v >= 2) {
			t.Errorf("At(%d) has notes table: %v", v, at.Table("notes") != nil)
		}
	}
	for _, v := range []int{0, -1, 4} {
		if _, err := s.At(v); !errors.Is(err, engine.ErrSchemaVersion) {
			t.Errorf("At(%d) = %v, want ErrSchemaVersion", v, err)
		}
	}

	// Tables are copied: later AddColumn leaves earlier schemas and the declaring struct alone.
	if got := names(s1.Table("patients")); !slices.Equal(got, []string{"name"}) {
		t.Errorf("schema v1 built earlier now has patients %v", got)
	}
	if s1.Table("patients").Col("phone") != -1 {
		t.Error("schema v1 sees a column added at v2")
	}
	if got := names(patients); !slices.Equal(got, []string{"name"}) {
		t.Errorf("the migration's own table declaration was modified: %v", got)
	}
	if s1.Table("patients") == s.Table("patients") || s1.Table("patients") == patients {
		t.Error("schemas share table structs")
	}
}

func TestTableScopeOf(t *testing.T) {
	s := engine.MustSchema(v1(
		addTable(engine.Table{Name: "clinicwide", Policy: engine.LastWriterWins, Columns: []engine.Column{textCol("a")}}),
		addTable(engine.Table{Name: "docs", Policy: engine.LastWriterWins, ScopeKind: "visit", ScopeColumn: "visit_id", Columns: []engine.Column{textCol("visit_id")}}),
	))
	if got, err := s.Table("clinicwide").ScopeOf("anything"); err != nil || got != engine.ClinicScope {
		t.Errorf("clinic-wide ScopeOf = %q, %v", got, err)
	}
	docs := s.Table("docs")
	if got, err := docs.ScopeOf("v1"); err != nil || got != "visit:v1" {
		t.Errorf("ScopeOf(v1) = %q, %v", got, err)
	}
	for _, bad := range []any{nil, "", 42, "has space", []byte("v1")} {
		if got, err := docs.ScopeOf(bad); !errors.Is(err, engine.ErrBadValue) {
			t.Errorf("ScopeOf(%#v) = %q, %v; want ErrBadValue", bad, got, err)
		}
	}
	if s.Table("nope") != nil {
		t.Error("Table of an undeclared name is not nil")
	}
}
