package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/app"
	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/syncserver/clinicapi/clinictest"
)

// The benchmarks' clinic: a few years of history on the device.
const (
	benchPatients = 50_000
	benchVisits   = 200_000
	benchWaiting  = 60 // of the visits, waiting now (the rest finished)
)

// seedHistory fills the replica of user in dataDir with a clinic's history, as if pulled
// from the server long ago: the rows are the device's replicated state, not its outbox, and
// the sync cursor stays at 0 so that the live server's own log still arrives on top.
func seedHistory(tb testing.TB, dataDir, user string, patients, visits int) {
	tb.Helper()
	path := filepath.Join(dataDir, "replicas", tenant, user+".db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	rep, err := sqlitestore.OpenReplica(ctx, path, clinic.Schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer rep.Close()
	site := engine.NewSiteID()
	hlc := engine.NewHLC(time.Now().Add(-time.Hour).UnixMilli(), 0)
	next := func() engine.HLC { hlc++; return hlc }
	start := time.Date(2023, 1, 2, 9, 0, 0, 0, time.UTC)
	regions := []string{"CA", "NY", "TX"}
	if patients == 0 {
		return
	}
	pids := make([]string, patients)
	var page []engine.Change
	flush := func() {
		if len(page) == 0 {
			return
		}
		if err := rep.ApplyRemote(ctx, &engine.Changes{Changes: page}); err != nil {
			tb.Fatal(err)
		}
		page = page[:0]
	}
	add := func(ch engine.Change) {
		ch.HLC, ch.Site, ch.Create = next(), site, true
		page = append(page, ch)
		if len(page) == 5000 {
			flush()
		}
	}
	for _, r := range regions {
		add(engine.Change{Table: "regions", ID: r, Scope: engine.ClinicScope, Cols: []string{"mode", "name"}, Vals: []any{clinic.ModeOpen, r}})
		add(engine.Change{Table: "staff", ID: "provider-" + r, Scope: engine.ClinicScope, Cols: []string{"name", "on_shift", "regions", "role"},
			Vals: []any{"Provider " + r, int64(1), r, clinic.RoleProvider}})
	}
	add(engine.Change{Table: "staff", ID: user, Scope: engine.ClinicScope, Cols: []string{"name", "on_shift", "regions", "role"},
		Vals: []any{user, int64(1), strings.Join(regions, ","), clinic.RoleProvider}})
	for i := range pids {
		pids[i] = engine.NewID()
		add(engine.Change{Table: "patients", ID: pids[i], Scope: engine.ClinicScope,
			Cols: []string{"birth_date", "created_at", "family_name", "given_name", "phone", "region"},
			Vals: []any{fmt.Sprintf("19%02d-%02d-%02d", 30+i%70, 1+i%12, 1+i%28), start.UnixMilli(), fmt.Sprintf("Family%05d", i),
				fmt.Sprintf("Given%05d", i), fmt.Sprintf("555-%03d-%04d", i/10000, i%10000), regions[i%3]}})
	}
	for i := range visits {
		id := engine.NewID()
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		region := regions[i%3]
		cols := []string{"patient_id", "provider_id", "reason", "region", "requested_at", "status"}
		vals := []any{pids[i%patients], "provider-" + region, "follow-up", region, at.UnixMilli()}
		if i >= visits-benchWaiting {
			vals = append(vals, clinic.StatusWaiting)
			vals[1] = nil
			vals[4] = time.Now().Add(-time.Duration(visits-i) * time.Minute).UnixMilli()
		} else {
			cols = append(cols, "ended_at", "started_at")
			vals = append(vals, clinic.StatusCompleted, at.Add(25*time.Minute).UnixMilli(), at.Add(10*time.Minute).UnixMilli())
		}
		add(engine.Change{Table: "visits", ID: id, Scope: clinic.VisitScope + ":" + id, Cols: cols, Vals: vals})
		if i%4 == 0 {
			add(engine.Change{Table: "visit_notes", ID: engine.NewID(), Scope: clinic.VisitScope + ":" + id,
				Cols: []string{"author_id", "body", "updated_at", "visit_id"},
				Vals: []any{"provider-" + region, "Assessment and plan: rest, fluids, review if worse.", at.UnixMilli(), id}})
		}
	}
	flush()
}

// writeSession saves a signed-in session in dataDir, as the app leaves it at exit.
func writeSession(tb testing.TB, dataDir, server, user, role, tok string) {
	tb.Helper()
	b, _ := json.Marshal(map[string]any{"identity": app.Identity{Server: server, Clinic: tenant, User: user, Role: role, Token: tok},
		"last_active": time.Now().UnixMilli()})
	if err := os.WriteFile(filepath.Join(dataDir, "session.json"), b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkColdStart measures opening the app on a saved session to its first queue screen
// (Startup, then Queue.View), with a clinic of 50,000 patients and 200,000 visits on the
// device and the server unreachable, against the same with an empty device in the same run.
// The OS page cache is warm after the first iteration: this is a restart, not a boot.
func BenchmarkColdStart(b *testing.B) {
	for _, c := range []struct {
		name             string
		patients, visits int
	}{{"empty", 0, 0}, {"50kPatients200kVisits", benchPatients, benchVisits}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			seedHistory(b, dir, "carol", c.patients, c.visits)
			writeSession(b, dir, "http://127.0.0.1:1", "carol", clinic.RoleProvider, "unused")
			var samples []time.Duration
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				a := app.New(app.Config{DataDir: dir, MinBackoff: time.Second})
				if err := a.Startup(context.Background(), &events{}); err != nil {
					b.Fatal(err)
				}
				view, err := queueOf(a).View()
				if err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
				b.StopTimer()
				if n := waitingIn(view); c.visits > 0 && n != benchWaiting {
					b.Fatalf("the queue shows %d waiting, want %d", n, benchWaiting)
				}
				a.Shutdown()
				b.StartTimer()
			}
			reportMedian(b, samples)
		})
	}
}

// BenchmarkQueueRefresh measures how long after a patient's intake commits on the server the
// provider's queue screen data includes them: the change's trip to the device, the "changed"
// event, and Queue.View over the device's store. The store holds 50,000 patients and
// 200,000 visits, against an empty one in the same run.
func BenchmarkQueueRefresh(b *testing.B) {
	for _, c := range []struct {
		name             string
		patients, visits int
	}{{"empty", 0, 0}, {"50kPatients200kVisits", benchPatients, benchVisits}} {
		b.Run(c.name, func(b *testing.B) {
			s := clinictest.Start(b, clinictest.Options{Start: time.Now()})
			s.Configure(b, tenant, []clinictest.Region{{Code: "CA", Name: "California", Mode: clinic.ModeOpen}, {Code: "NY", Name: "New York", Mode: clinic.ModeOpen}, {Code: "TX", Name: "Texas", Mode: clinic.ModeOpen}},
				[]clinictest.Staff{{ID: "carol", Name: "Carol", Role: clinic.RoleProvider, Regions: "CA,NY,TX", OnShift: true}})
			dir := b.TempDir()
			seedHistory(b, dir, "carol", c.patients, c.visits)
			writeSession(b, dir, s.HTTP.URL, "carol", clinic.RoleProvider, s.StaffToken(b, tenant, "carol", clinic.RoleProvider))
			ev := &refreshEvents{ch: make(chan app.Changed, 64)}
			a := app.New(app.Config{DataDir: dir, Now: s.Clock.Now})
			if err := a.Startup(context.Background(), ev); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(a.Shutdown)
			q := queueOf(a)
			var samples []time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				drain(ev.ch)
				b.StartTimer()
				t0 := time.Now()
				res, err := s.Intake(context.Background(), tenant, clinic.Intake{GivenName: fmt.Sprintf("New%d", i), FamilyName: "Patient",
					BirthDate: "1990-01-01", Phone: fmt.Sprintf("555-900-%04d", i%10000), Region: "CA", Reason: "cough", Consent: true})
				if err != nil || !res.Admitted {
					b.Fatalf("intake: %+v %v", res, err)
				}
				if err := waitQueued(ev.ch, func() (bool, error) {
					view, err := q.View()
					if err != nil {
						return false, err
					}
					return queued(view, res.Visit), nil
				}); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
			}
			reportMedian(b, samples)
		})
	}
}

// refreshEvents passes "changed" events to the benchmark as the UI would receive them.
type refreshEvents struct{ ch chan app.Changed }

func (e *refreshEvents) Emit(name string, data any) {
	if c, ok := data.(app.Changed); ok && name == app.EventChanged {
		select {
		case e.ch <- c:
		default:
		}
	}
}

func drain(ch chan app.Changed) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// waitQueued refreshes the queue on each "changed" event, as the queue screen does, until
// check passes (at most 10 s).
func waitQueued(ch chan app.Changed, check func() (bool, error)) error {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-ch:
			ok, err := check()
			if err != nil || ok {
				return err
			}
		case <-deadline:
			return fmt.Errorf("the new patient never reached the queue screen")
		}
	}
}

func waitingIn(v app.QueueView) int {
	n := 0
	for _, r := range v.Regions {
		n += len(r.Patients)
	}
	return n
}

func queued(v app.QueueView, visit string) bool {
	for _, r := range v.Regions {
		for _, p := range r.Patients {
			if p.Visit == visit {
				return true
			}
		}
	}
	return false
}

var reportMu sync.Mutex

// reportMedian reports the median and 90th percentile of samples.
func reportMedian(b *testing.B, samples []time.Duration) {
	reportMu.Lock()
	defer reportMu.Unlock()
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(samples[len(samples)*9/10].Microseconds())/1000, "p90-ms")
}

func queueOf(a *app.App) *app.Queue {
	for _, s := range a.Services() {
		if q, ok := s.(*app.Queue); ok {
			return q
		}
	}
	panic("no queue service")
}
