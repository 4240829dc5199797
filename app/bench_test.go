package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"hearth/app"
	"hearth/engine/clinic"
	"hearth/engine/clinic/clinicseed"
	"hearth/syncserver/clinicapi/clinictest"
)

// The benchmarks' clinic: a few years of history on the device.
const (
	benchPatients = 50_000
	benchVisits   = 200_000
	benchWaiting  = 60 // of the visits, waiting now (the rest finished)
)

// seedHistory fills the replica of user in dataDir with a clinic's history.
func seedHistory(tb testing.TB, dataDir, user string, patients, visits int) {
	tb.Helper()
	path := filepath.Join(dataDir, "replicas", tenant, user+".db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		tb.Fatal(err)
	}
	err := clinicseed.History(context.Background(), path, clinicseed.Options{Patients: patients, Visits: visits, Waiting: benchWaiting, User: user})
	if err != nil {
		tb.Fatal(err)
	}
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
				a := app.New(app.Config{DataDir: dir, MinBackoff: time.Second, Logger: quiet})
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
			a := app.New(app.Config{DataDir: dir, Now: s.Clock.Now, Logger: quiet})
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

// quiet drops the apps' logs, which would bury the results.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

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
