package engine_test

import (
	"fmt"
	"testing"

	"hearth/engine"
)

// BenchmarkDecodePage decodes a page of 2,000 clinic-shaped changes, as a catching-up replica
// does for every page it receives.
func BenchmarkDecodePage(b *testing.B) {
	page := &engine.Changes{Cursor: 2000}
	for i := range 2000 {
		page.Seqs = append(page.Seqs, uint64(i+1))
		page.Changes = append(page.Changes, engine.Change{Table: "visits", ID: fmt.Sprintf("v%06d", i), Scope: fmt.Sprintf("visit:v%06d", i),
			HLC: engine.NewHLC(1795000000000+int64(i), 0), Site: 1<<62 + 9, Create: true,
			Cols: []string{"patient_id", "reason", "region", "requested_at", "status"},
			Vals: []any{fmt.Sprintf("p%06d", i), "sore throat", "CA", int64(1795000000000 + i), "waiting"}})
	}
	buf, err := engine.EncodeFrame(&engine.Frame{Type: engine.MsgChanges, Changes: page})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engine.DecodeFrame(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2000), "ns/change")
}
