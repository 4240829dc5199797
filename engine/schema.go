package engine

import (
	"fmt"
	"regexp"
)

// ColumnType is the storage type of a replicated column.
type ColumnType string

// Column types. Values travel as msgpack and are stored natively in SQLite.
const (
	Text    ColumnType = "TEXT"
	Integer ColumnType = "INTEGER"
	Real    ColumnType = "REAL"
	Blob    ColumnType = "BLOB"
)

// Policy is how concurrent changes to a table's rows are merged.
type Policy string

const (
	// LastWriterWins merges each column independently: the value with the greatest
	// (HLC, site id) version wins. Deletes are tombstones that beat older writes.
	LastWriterWins Policy = "lww"
	// AppendOnly tables take inserts only: rows never change, so they never conflict.
	AppendOnly Policy = "append"
)

// Column declares one replicated column.
type Column struct {
	Name string
	Type ColumnType
	// Note marks clinical free text: concurrent edits never silently lose a version; the
	// losing version is kept as a conflict record until a person resolves it. At most one
	// Note column per table.
	Note bool
}

// Table declares one replicated table. Every table has an implicit text primary key "id".
type Table struct {
	Name    string
	Policy  Policy
	Columns []Column
	// ScopeKind and ScopeColumn place each row in a scope: a row whose ScopeColumn holds X
	// belongs to scope ScopeKind+":"+X. Tables without a ScopeColumn belong to ClinicScope.
	ScopeKind   string
	ScopeColumn string
	// Scope, for a table without a ScopeColumn, names the one scope all its rows belong to
	// (default ClinicScope): a table can be kept apart from what a whole-clinic grant reads,
	// as the audit trail is.
	Scope string
	// Inbox marks rows that every replica writes but few read, such as audit entries: a token
	// may push them whatever scopes it reads, and the server's own checks decide who may.
	Inbox bool
	// Chained (append-only tables only) makes the server link each new row to the one before
	// it by hash as it stores it, so that an edited, removed or reordered row is detectable.
	Chained bool

	index map[string]int
	note  int // index of the Note column, -1 if none
}

// ClinicScope is the scope of rows that belong to the whole tenant.
const ClinicScope = "clinic"

// AllScopes, as a grant, reads and writes every scope of a tenant.
const AllScopes = "*"

// Col returns the index of the named column, or -1.
func (t *Table) Col(name string) int {
	if i, ok := t.index[name]; ok {
		return i
	}
	return -1
}

// NoteCol returns the index of the table's Note column, or -1.
func (t *Table) NoteCol() int { return t.note }

// ScopeOf returns the scope of a row given its value in the scope column (ignored for
// tables without one).
func (t *Table) ScopeOf(scopeValue any) (string, error) {
	if t.ScopeColumn == "" {
		if t.Scope != "" {
			return t.Scope, nil
		}
		return ClinicScope, nil
	}
	s, ok := scopeValue.(string)
	if !ok || !ValidID(s) {
		return "", fmt.Errorf("%w: %s.%s must name a %s", ErrBadValue, t.Name, t.ScopeColumn, t.ScopeKind)
	}
	return t.ScopeKind + ":" + s, nil
}

func (t *Table) reindex() {
	t.index = make(map[string]int, len(t.Columns))
	t.note = -1
	for i, c := range t.Columns {
		t.index[c.Name] = i
		if c.Note {
			t.note = i
		}
	}
}

// Migration is one numbered, additive step of the schema. Versions start at 1 and increase by
// one. Steps only add tables and columns, so a replica one version behind can keep syncing
// with a newer server: it keeps what it cannot store yet and applies it after upgrading.
type Migration struct {
	Version int
	Steps   []Step
}

// Step is one additive schema change: exactly one of its fields is set.
type Step struct {
	AddTable  *Table
	AddColumn *AddColumn
	AddIndex  *Index
}

// Index is a local secondary index over a table's columns, for the queries a replica runs
// (a queue ordered by arrival, a patient looked up by birth date). It changes nothing that
// replicates: each store builds its own.
type Index struct {
	Name    string
	Table   string
	Columns []string
}

// AddColumn adds Column to an existing table.
type AddColumn struct {
	Table  string
	Column Column
}

// Schema is a versioned set of replicated tables, built from its migrations.
type Schema struct {
	migrations []Migration
	tables     []*Table
	byName     map[string]*Table
}

var identRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// NewSchema builds the schema that results from applying migrations in order.
func NewSchema(migrations ...Migration) (*Schema, error) {
	s := &Schema{byName: map[string]*Table{}}
	for i, m := range migrations {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %d: versions must run 1, 2, 3, ... (got %d)", i+1, m.Version)
		}
		for j, st := range m.Steps {
			if err := s.apply(st); err != nil {
				return nil, fmt.Errorf("migration %d step %d: %w", m.Version, j+1, err)
			}
		}
		s.migrations = append(s.migrations, m)
	}
	return s, nil
}

// MustSchema is NewSchema for package-level schema declarations; it panics on error.
func MustSchema(migrations ...Migration) *Schema {
	s, err := NewSchema(migrations...)
	if err != nil {
		panic(err)
	}
	return s
}

func (s *Schema) apply(st Step) error {
	set := 0
	for _, ok := range []bool{st.AddTable != nil, st.AddColumn != nil, st.AddIndex != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("a step sets exactly one of AddTable, AddColumn, AddIndex")
	}
	switch {
	case st.AddIndex != nil:
		return s.addIndex(st.AddIndex)
	case st.AddTable != nil:
		t := *st.AddTable
		t.Columns = append([]Column(nil), t.Columns...)
		if !identRE.MatchString(t.Name) || t.Name[0] == '_' {
			return fmt.Errorf("table name %q: want lowercase letters, digits and _", t.Name)
		}
		if _, dup := s.byName[t.Name]; dup {
			return fmt.Errorf("table %q declared twice", t.Name)
		}
		if t.Policy != LastWriterWins && t.Policy != AppendOnly {
			return fmt.Errorf("table %q: unknown policy %q", t.Name, t.Policy)
		}
		if len(t.Columns) == 0 {
			return fmt.Errorf("table %q has no columns", t.Name)
		}
		cols := t.Columns
		t.Columns = nil
		// Start from an empty index: a declared Table's zero note field (0) would otherwise read
		// as "column 0 is already the note" and refuse a note declared as the first column.
		t.reindex()
		for _, c := range cols {
			if err := addColumn(&t, c); err != nil {
				return err
			}
		}
		if t.ScopeColumn != "" {
			i := t.Col(t.ScopeColumn)
			if (i < 0 && t.ScopeColumn != "id") || (i >= 0 && t.Columns[i].Type != Text) || !identRE.MatchString(t.ScopeKind) {
				return fmt.Errorf("table %q: scope column %q must be a text column (or id) with a scope kind", t.Name, t.ScopeColumn)
			}
		}
		if t.Scope != "" && (t.ScopeColumn != "" || !identRE.MatchString(t.Scope)) {
			return fmt.Errorf("table %q: a fixed scope %q needs no scope column and a plain name", t.Name, t.Scope)
		}
		if t.Chained && t.Policy != AppendOnly {
			return fmt.Errorf("table %q: only append-only tables can be chained", t.Name)
		}
		s.tables = append(s.tables, &t)
		s.byName[t.Name] = &t
	default:
		old, ok := s.byName[st.AddColumn.Table]
		if !ok {
			return fmt.Errorf("add column: %w %q", ErrUnknownTable, st.AddColumn.Table)
		}
		t := *old // copy so that schemas at earlier versions keep their own tables
		t.Columns = append([]Column(nil), old.Columns...)
		if err := addColumn(&t, st.AddColumn.Column); err != nil {
			return err
		}
		for i := range s.tables {
			if s.tables[i] == old {
				s.tables[i] = &t
			}
		}
		s.byName[t.Name] = &t
	}
	return nil
}

func (s *Schema) addIndex(ix *Index) error {
	t, ok := s.byName[ix.Table]
	if !ok {
		return fmt.Errorf("add index: %w %q", ErrUnknownTable, ix.Table)
	}
	if !identRE.MatchString(ix.Name) || len(ix.Columns) == 0 {
		return fmt.Errorf("index %q on %q: want a plain name and at least one column", ix.Name, ix.Table)
	}
	for _, c := range ix.Columns {
		if t.Col(c) < 0 && c != "id" {
			return fmt.Errorf("index %q: table %q has no column %q", ix.Name, ix.Table, c)
		}
	}
	return nil
}

func addColumn(t *Table, c Column) error {
	if !identRE.MatchString(c.Name) || c.Name == "id" {
		return fmt.Errorf("table %q: bad column name %q", t.Name, c.Name)
	}
	if t.Col(c.Name) >= 0 {
		return fmt.Errorf("table %q: column %q declared twice", t.Name, c.Name)
	}
	switch c.Type {
	case Text, Integer, Real, Blob:
	default:
		return fmt.Errorf("table %q column %q: unknown type %q", t.Name, c.Name, c.Type)
	}
	if c.Note && (c.Type != Text || t.NoteCol() >= 0 || t.Policy != LastWriterWins) {
		return fmt.Errorf("table %q column %q: a note column is text, one per last-writer-wins table", t.Name, c.Name)
	}
	t.Columns = append(t.Columns, c)
	t.reindex()
	return nil
}

// Version returns the schema version: the number of its last migration.
func (s *Schema) Version() int { return len(s.migrations) }

// Migrations returns the migrations the schema was built from.
func (s *Schema) Migrations() []Migration { return s.migrations }

// Tables returns the tables in declaration order.
func (s *Schema) Tables() []*Table { return s.tables }

// Table returns the named table, or nil.
func (s *Schema) Table(name string) *Table { return s.byName[name] }

// At returns the schema as it was at version v (1 <= v <= Version()).
func (s *Schema) At(v int) (*Schema, error) {
	if v < 1 || v > len(s.migrations) {
		return nil, fmt.Errorf("%w: version %d not in 1..%d", ErrSchemaVersion, v, len(s.migrations))
	}
	return NewSchema(s.migrations[:v]...)
}
