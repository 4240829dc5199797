package syncserver_test

// Workload helpers shared by the server benchmarks (ingest_bench_test.go,
// catchup_bench_test.go). They build clinic-shaped writes: patients, visits, visit notes and
// chat messages with realistic columns, scopes, site ids and HLCs.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

// benchMix is the share of each table in a stream of new rows, per 10 changes: a clinic day
// is mostly chat and notes around fewer visits and patients.
//
//	1 patient, 2 visits, 2 visit notes, 5 chat messages
var benchMix = []string{"patients", "visits", "visits", "visit_notes", "visit_notes",
	"chat_messages", "chat_messages", "chat_messages", "chat_messages", "chat_messages"}

// benchGen generates clinic writes. It remembers the last visit and patient so that notes
// and messages point at real parents, as an app would write them.
type benchGen struct {
	n       int
	patient string
	visit   string
	visits  []string // visits created, for status updates
}

func (g *benchGen) row(table string) engine.Mutation {
	i := g.n
	g.n++
	id := engine.NewID()
	var v map[string]any
	switch table {
	case "patients":
		g.patient = id
		v = map[string]any{
			"given_name": fmt.Sprintf("Given%d", i), "family_name": fmt.Sprintf("Family%d", i),
			"birth_date": fmt.Sprintf("19%02d-%02d-%02d", 40+i%60, 1+i%12, 1+i%28),
			"phone":      fmt.Sprintf("+1-555-%07d", i%10000000), "email": fmt.Sprintf("patient%d@example.org", i),
			"region": "CA", "created_at": int64(1795000000000 + i),
		}
	case "visits":
		if g.patient == "" {
			g.patient = engine.NewID()
		}
		g.visit = id
		g.visits = append(g.visits, id)
		v = map[string]any{
			"patient_id": g.patient, "region": "CA", "status": "requested",
			"reason": "Follow-up on persistent cough and mild fever", "provider_id": "prov-0001",
			"requested_at": int64(1795000000000 + i),
		}
	case "visit_notes":
		if g.visit == "" {
			g.visit = engine.NewID()
		}
		v = map[string]any{
			"visit_id": g.visit, "author_id": "prov-0001", "updated_at": int64(1795000000000 + i),
			"body": "Subjective: cough for 5 days, no dyspnea. Objective: T 37.9, lungs clear. " +
				"Assessment: viral URI. Plan: fluids, rest, return if worse.",
		}
	case "chat_messages":
		if g.visit == "" {
			g.visit = engine.NewID()
		}
		v = map[string]any{
			"visit_id": g.visit, "sender_id": "pat-0001", "sender_role": "patient",
			"body": fmt.Sprintf("Message %d: thank you, I will pick up the prescription tomorrow.", i), "sent_at": int64(1795000000000 + i),
		}
	default:
		panic("benchGen: unknown table " + table)
	}
	return engine.Mutation{Table: table, ID: id, Values: v}
}

// newRows returns n mutations that create rows, in the benchMix proportions.
func (g *benchGen) newRows(n int) []engine.Mutation {
	out := make([]engine.Mutation, n)
	for i := range out {
		out[i] = g.row(benchMix[g.n%len(benchMix)])
	}
	return out
}

// day returns n mutations of a clinic's working day: per 10 writes, 1 patient, 1 visit, 2
// status updates of an earlier visit, 1 note, 5 chat messages. Updates make the replica
// merge into rows it already holds, as real catch-up does.
func (g *benchGen) day(n int) []engine.Mutation {
	pattern := []string{"patients", "visits", "update", "visit_notes", "chat_messages", "chat_messages",
		"update", "chat_messages", "chat_messages", "chat_messages"}
	statuses := []string{"waiting", "in_visit", "completed"}
	out := make([]engine.Mutation, 0, n)
	for k := 0; len(out) < n; k++ {
		kind := pattern[k%len(pattern)]
		if kind == "update" {
			j := k / len(pattern)
			vid := g.visits[j%len(g.visits)]
			out = append(out, engine.Mutation{Table: "visits", ID: vid, Values: map[string]any{
				"status": statuses[j%len(statuses)], "started_at": int64(1795000000000 + k)}})
			continue
		}
		g.n++
		out = append(out, g.row(kind))
	}
	return out
}

// benchChange turns a mutation that creates a row into the change a replica would push: sorted
// columns, normalized values, the table's scope, a new-row flag, a site and an HLC.
func benchChange(m engine.Mutation, site engine.SiteID, hlc engine.HLC) engine.Change {
	t := clinic.Schema.Table(m.Table)
	ch := engine.Change{Table: m.Table, ID: m.ID, Site: site, HLC: hlc, Create: true}
	for c := range m.Values {
		ch.Cols = append(ch.Cols, c)
	}
	sort.Strings(ch.Cols)
	for _, c := range ch.Cols {
		v, err := engine.NormalizeValue(t.Columns[t.Col(c)].Type, m.Values[c])
		if err != nil {
			panic(err)
		}
		ch.Vals = append(ch.Vals, v)
	}
	var err error
	switch t.ScopeColumn {
	case "":
		ch.Scope = engine.ClinicScope
	case "id":
		ch.Scope, err = t.ScopeOf(m.ID)
	default:
		ch.Scope, err = t.ScopeOf(m.Values[t.ScopeColumn])
	}
	if err != nil {
		panic(err)
	}
	return ch
}

// benchSites are the replicas that push in the ingest benchmarks, in turn.
var benchSites = func() []engine.SiteID {
	s := make([]engine.SiteID, 4)
	for i := range s {
		s[i] = engine.NewSiteID()
	}
	return s
}()

// benchBatches returns count pushes of size new-row changes each, in the benchMix proportions
// (or patients only), each from one of benchSites with increasing HLCs.
func benchBatches(count, size int, patientsOnly bool) []engine.Push {
	g := &benchGen{}
	ms := time.Now().UnixMilli()
	out := make([]engine.Push, count)
	for b := range out {
		site := benchSites[b%len(benchSites)]
		var muts []engine.Mutation
		if patientsOnly {
			muts = make([]engine.Mutation, size)
			for i := range muts {
				muts[i] = g.row("patients")
			}
		} else {
			muts = g.newRows(size)
		}
		chs := make([]engine.Change, size)
		for i, m := range muts {
			chs[i] = benchChange(m, site, engine.NewHLC(ms+int64(b), uint16(i)))
		}
		out[b] = engine.Push{Batch: fmt.Sprintf("%s-%d", site, b), Changes: chs}
	}
	return out
}

// plainDB is a plain SQLite file with the clinic tables' columns (no change capture) and the
// pragmas sqlitestore uses: WAL, synchronous=NORMAL, one writer connection.
type plainDB struct {
	db  *sql.DB
	ins map[string]*sql.Stmt
}

func openPlain(b *testing.B) *plainDB {
	b.Helper()
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "plain.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	p := &plainDB{db: db, ins: map[string]*sql.Stmt{}}
	for _, t := range clinic.Schema.Tables() {
		cols, marks := "id", "?"
		for _, c := range t.Columns {
			cols += fmt.Sprintf(", %q", c.Name)
			marks += ", ?"
		}
		ddl := fmt.Sprintf("CREATE TABLE %q (id TEXT PRIMARY KEY NOT NULL", t.Name)
		for _, c := range t.Columns {
			ddl += fmt.Sprintf(", %q %s", c.Name, c.Type)
		}
		if _, err := db.Exec(ddl + ")"); err != nil {
			b.Fatal(err)
		}
		if t.ScopeColumn != "" && t.ScopeColumn != "id" {
			if _, err := db.Exec(fmt.Sprintf("CREATE INDEX %q ON %q(%q)", t.Name+"_"+t.ScopeColumn, t.Name, t.ScopeColumn)); err != nil {
				b.Fatal(err)
			}
		}
		st, err := db.Prepare(fmt.Sprintf("INSERT INTO %q (%s) VALUES (%s)", t.Name, cols, marks))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		p.ins[t.Name] = st
	}
	return p
}

// insert writes the rows the changes create, in one transaction, with the prepared statements.
func (p *plainDB) insert(ctx context.Context, chs []engine.Change) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	for i := range chs {
		ch := &chs[i]
		st, ok := stmts[ch.Table]
		if !ok {
			st = tx.Stmt(p.ins[ch.Table])
			stmts[ch.Table] = st
		}
		t := clinic.Schema.Table(ch.Table)
		args := make([]any, 1+len(t.Columns))
		args[0] = ch.ID
		for k, c := range ch.Cols {
			args[1+t.Col(c)] = ch.Vals[k]
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func reportChanges(b *testing.B, changes int) {
	b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
}
