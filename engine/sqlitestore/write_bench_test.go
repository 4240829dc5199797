//go:build !js

package sqlitestore_test

// Local write benchmarks: a Replica.Write of clinic `patients` rows (merge, column versions,
// outbox, clock) against the same insert into plain SQLite with the same pragmas, one writer
// connection and a prepared statement. Run them together so that the ratio is taken on one
// machine state:
//
//	go test ./engine/sqlitestore -run '^$' -bench 'LocalWrite|PlainInsert' -count 6
//
// ('PlainInsert' also selects BenchmarkPlainInsertWithoutRowid and BenchmarkPlainInsertIndexed.)
// docs/benchmarks.md records the figures and how they compare with the goal (< 1.5x).

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
)

// benchRowsPerTx are the transaction sizes measured: one row per transaction, as an app saves
// a form, and 100 rows per transaction, as an import does.
var benchRowsPerTx = []int{1, 100}

// benchPatient returns the column values of a realistic patients row.
func benchPatient(i int) map[string]any {
	return map[string]any{
		"given_name":  fmt.Sprintf("Given%d", i),
		"family_name": fmt.Sprintf("Family%d", i),
		"birth_date":  fmt.Sprintf("19%02d-%02d-%02d", 40+i%60, 1+i%12, 1+i%28),
		"phone":       fmt.Sprintf("+1-555-%07d", i%10000000),
		"email":       fmt.Sprintf("patient%d@example.org", i),
		"region":      []string{"CA", "NY", "TX", "WA"}[i%4],
		"created_at":  int64(1795000000000 + i),
	}
}

// benchIDs returns n fresh UUIDv7 row ids, generated outside the timed region.
func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = engine.NewID()
	}
	return ids
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}

// BenchmarkLocalWrite measures Replica.Write of new patients rows: one transaction per call,
// rows mutations per call.
func BenchmarkLocalWrite(b *testing.B) {
	for _, n := range benchRowsPerTx {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			ctx := context.Background()
			rep, err := sqlitestore.OpenReplica(ctx, filepath.Join(b.TempDir(), "replica.db"), clinic.Schema, sqlitestore.ReplicaOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer rep.Close()
			ids := benchIDs(b.N * n)
			muts := make([]engine.Mutation, b.N*n)
			for i := range muts {
				muts[i] = engine.Mutation{Table: "patients", ID: ids[i], Values: benchPatient(i)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := rep.Write(ctx, muts[i*n:(i+1)*n]...); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRows(b, b.N*n)
		})
	}
}

// plainDSN opens a file with the pragmas sqlitestore.Open uses.
func plainDSN(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", fmt.Sprint((5 * time.Second).Milliseconds()))
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// BenchmarkPlainInsert is the ceiling for BenchmarkLocalWrite: the same columns inserted into
// plain SQLite (WAL, synchronous=NORMAL, one writer connection, prepared statement), without
// change capture, into an ordinary (rowid) table with a text primary key.
func BenchmarkPlainInsert(b *testing.B) { benchPlainInsert(b, "") }

// BenchmarkPlainInsertWithoutRowid is BenchmarkPlainInsert into a WITHOUT ROWID table, the
// shape Hearth gives its replicated tables (the text primary key is the table's b-tree, with no
// separate primary-key index). Both baselines are reported, so that the ratio is not flattered
// by comparing against the slower plain shape.
func BenchmarkPlainInsertWithoutRowid(b *testing.B) { benchPlainInsert(b, " WITHOUT ROWID") }

// BenchmarkPlainInsertIndexed is BenchmarkPlainInsertWithoutRowid with the secondary indexes
// the clinic schema (v3) gives patients, so that the local write is compared like for like:
// most of a batch's cost is the index pages its rows dirty, which a bare table does not have.
// (patients is in the clinic scope, so it has no scope-column index.)
func BenchmarkPlainInsertIndexed(b *testing.B) {
	benchPlainInsert(b, " WITHOUT ROWID", patientIndexes()...)
}

// patientIndexes returns the CREATE INDEX statements of the clinic schema's indexes on
// patients, read from the schema so that the baseline follows it.
func patientIndexes() []string {
	var out []string
	for _, m := range clinic.Migrations {
		for _, st := range m.Steps {
			if ix := st.AddIndex; ix != nil && ix.Table == "patients" {
				out = append(out, fmt.Sprintf("CREATE INDEX %q ON patients(%s)", ix.Name, strings.Join(ix.Columns, ", ")))
			}
		}
	}
	return out
}

// benchPlainInsert runs the plain insert into a patients table created with the given table
// options ("" or " WITHOUT ROWID") and then the statements in ddl (its indexes).
func benchPlainInsert(b *testing.B, tableOptions string, ddl ...string) {
	for _, n := range benchRowsPerTx {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			db, err := sql.Open("sqlite3", plainDSN(filepath.Join(b.TempDir(), "plain.db")))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			db.SetMaxIdleConns(1)
			if _, err := db.Exec(`CREATE TABLE patients (id TEXT PRIMARY KEY NOT NULL, given_name TEXT, family_name TEXT,
				birth_date TEXT, phone TEXT, email TEXT, region TEXT, created_at INTEGER)` + tableOptions); err != nil {
				b.Fatal(err)
			}
			for _, q := range ddl {
				if _, err := db.Exec(q); err != nil {
					b.Fatal(err)
				}
			}
			ins, err := db.Prepare(`INSERT INTO patients (id, given_name, family_name, birth_date, phone, email, region, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				b.Fatal(err)
			}
			defer ins.Close()
			ids := benchIDs(b.N * n)
			vals := make([]map[string]any, b.N*n)
			for i := range vals {
				vals[i] = benchPatient(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				st := tx.Stmt(ins)
				for k := i * n; k < (i+1)*n; k++ {
					v := vals[k]
					if _, err := st.Exec(ids[k], v["given_name"], v["family_name"], v["birth_date"], v["phone"],
						v["email"], v["region"], v["created_at"]); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRows(b, b.N*n)
		})
	}
}
