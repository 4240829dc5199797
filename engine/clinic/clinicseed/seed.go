// Package clinicseed fills a replica with a clinic's history, for benchmarks that need a
// device holding years of visits (the desktop's cold start and queue refresh). The rows go
// in as if pulled from the server long ago: they are the replica's state, not its outbox,
// and the sync cursor stays at 0, so a live server's own log still arrives on top of them.
package clinicseed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
)

// Options size the history.
type Options struct {
	Patients, Visits int
	// Waiting of the visits are waiting now (the newest); the rest are completed.
	Waiting int
	// Regions served (default CA, NY, TX); each gets one on-shift provider.
	Regions []string
	// User, when set, gets a staff row as a provider licensed in every region, on shift.
	User string
	// NoteEvery gives every n-th visit a note (default 4; negative: none).
	NoteEvery int
}

// History writes the history into the replica at path (created if missing).
func History(ctx context.Context, path string, o Options) error {
	if o.Patients <= 0 {
		return nil
	}
	if len(o.Regions) == 0 {
		o.Regions = []string{"CA", "NY", "TX"}
	}
	if o.NoteEvery == 0 {
		o.NoteEvery = 4
	}
	rep, err := sqlitestore.OpenReplica(ctx, path, clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		return err
	}
	defer rep.Close()
	w := &writer{ctx: ctx, rep: rep, site: engine.NewSiteID(), hlc: engine.NewHLC(time.Now().Add(-time.Hour).UnixMilli(), 0)}
	for _, r := range o.Regions {
		w.add(engine.Change{Table: "regions", ID: r, Scope: engine.ClinicScope, Cols: []string{"mode", "name"}, Vals: []any{clinic.ModeOpen, r}})
		w.add(engine.Change{Table: "staff", ID: "provider-" + r, Scope: engine.ClinicScope, Cols: []string{"name", "on_shift", "regions", "role"},
			Vals: []any{"Provider " + r, int64(1), r, clinic.RoleProvider}})
	}
	if o.User != "" {
		w.add(engine.Change{Table: "staff", ID: o.User, Scope: engine.ClinicScope, Cols: []string{"name", "on_shift", "regions", "role"},
			Vals: []any{o.User, int64(1), strings.Join(o.Regions, ","), clinic.RoleProvider}})
	}
	start := time.Date(2023, 1, 2, 9, 0, 0, 0, time.UTC)
	pids := make([]string, o.Patients)
	for i := range pids {
		pids[i] = engine.NewID()
		w.add(engine.Change{Table: "patients", ID: pids[i], Scope: engine.ClinicScope,
			Cols: []string{"birth_date", "created_at", "family_name", "given_name", "phone", "region"},
			Vals: []any{fmt.Sprintf("19%02d-%02d-%02d", 30+i%70, 1+i%12, 1+i%28), start.UnixMilli(), fmt.Sprintf("Family%05d", i),
				fmt.Sprintf("Given%05d", i), fmt.Sprintf("555-%03d-%04d", i/10000, i%10000), o.Regions[i%len(o.Regions)]}})
	}
	now := time.Now()
	for i := range o.Visits {
		id := engine.NewID()
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		region := o.Regions[i%len(o.Regions)]
		cols := []string{"patient_id", "provider_id", "reason", "region", "requested_at", "status"}
		vals := []any{pids[i%len(pids)], "provider-" + region, "follow-up", region, at.UnixMilli()}
		if i >= o.Visits-o.Waiting {
			vals[1], vals[4] = nil, now.Add(-time.Duration(o.Visits-i)*time.Minute).UnixMilli()
			vals = append(vals, clinic.StatusWaiting)
		} else {
			cols = append(cols, "ended_at", "started_at")
			vals = append(vals, clinic.StatusCompleted, at.Add(25*time.Minute).UnixMilli(), at.Add(10*time.Minute).UnixMilli())
		}
		w.add(engine.Change{Table: "visits", ID: id, Scope: clinic.VisitScope + ":" + id, Cols: cols, Vals: vals})
		if o.NoteEvery > 0 && i%o.NoteEvery == 0 {
			w.add(engine.Change{Table: "visit_notes", ID: engine.NewID(), Scope: clinic.VisitScope + ":" + id,
				Cols: []string{"author_id", "body", "updated_at", "visit_id"},
				Vals: []any{"provider-" + region, "Assessment and plan: rest, fluids, review if worse.", at.UnixMilli(), id}})
		}
	}
	return w.flush()
}

// writer applies changes in pages of 5,000, as a catch-up would.
type writer struct {
	ctx  context.Context
	rep  *sqlitestore.Replica
	site engine.SiteID
	hlc  engine.HLC
	page []engine.Change
	err  error
}

func (w *writer) add(ch engine.Change) {
	w.hlc++
	ch.HLC, ch.Site, ch.Create = w.hlc, w.site, true
	w.page = append(w.page, ch)
	if len(w.page) == 5000 {
		w.flush()
	}
}

func (w *writer) flush() error {
	if w.err != nil || len(w.page) == 0 {
		return w.err
	}
	if err := w.rep.ApplyRemote(w.ctx, &engine.Changes{Changes: w.page}); err != nil {
		w.err = fmt.Errorf("seed: %w", err)
	}
	w.page = w.page[:0]
	return w.err
}
