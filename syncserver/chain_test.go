package syncserver_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"hearth/engine"
	"hearth/syncserver"

	_ "github.com/mattn/go-sqlite3"
)

var chainSchema = engine.MustSchema(engine.Migration{Version: 1, Steps: []engine.Step{
	{AddTable: &engine.Table{Name: "events", Policy: engine.AppendOnly, Scope: "audit", Inbox: true, Chained: true, Columns: []engine.Column{
		{Name: "actor", Type: engine.Text}, {Name: "at", Type: engine.Integer}, {Name: "score", Type: engine.Real}}}},
}})

func TestChainDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  string // SQL run on the file behind the server's back; %s is the third row's id
		problem string // part of the report's problem
		broken  int64  // the first broken link
	}{
		{"row edited", `UPDATE events SET actor = 'someone-else' WHERE id = '%s'`, "content", 3},
		{"row removed", `DELETE FROM events WHERE id = '%s'`, "missing", 3},
		{"link removed", `DELETE FROM _server_chain WHERE rid = '%s'`, "removed", 4},
		{"row added", `INSERT INTO events (id, actor, at, _v) VALUES ('forged-%s', 'x', 1, x'00')`, "outside the server", 6},
		{"links swapped", `UPDATE _server_chain SET link = -1 WHERE link = 2; UPDATE _server_chain SET link = 2 WHERE link = 3; UPDATE _server_chain SET link = 3 WHERE link = -1`, "changed", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "tenant.db")
			tn := openTenant(t, path, chainSchema)
			clk := engine.NewClock(nil, 0)
			site := engine.NewSiteID()
			var ids []string
			for i := range 5 {
				id := engine.NewID()
				ids = append(ids, id)
				ch := engine.Change{Table: "events", ID: id, Scope: "audit", HLC: clk.Now(), Site: site, Create: true,
					Cols: []string{"actor", "at", "score"}, Vals: []any{fmt.Sprintf("user-%d", i), int64(1000 + i), 0.5 * float64(i)}}
				if _, err := tn.Push(ctx, syncserver.Origin{Site: site}, &engine.Push{Batch: fmt.Sprint(i), Changes: []engine.Change{ch}}); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := tn.VerifyChain(ctx)
			if err != nil || !rep.OK || rep.Links != 5 {
				t.Fatalf("untouched chain: %+v, %v", rep, err)
			}
			tn.Close()

			db, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			q := tt.tamper
			if strings.Contains(q, "%s") {
				q = fmt.Sprintf(q, ids[2])
			}
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
			db.Close()

			tn = openTenant(t, path, chainSchema)
			defer tn.Close()
			rep, err = tn.VerifyChain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BrokenLink != tt.broken || !strings.Contains(rep.Problem, tt.problem) {
				t.Fatalf("after %s: %+v; want link %d broken (%s)", tt.name, rep, tt.broken, tt.problem)
			}
		})
	}
}
