package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/clinic/clinicseed"
	"hearth/engine/wstransport"
	"hearth/tests/internal/desktopdrv"
)

// BenchmarkDesktopColdStart measures the real desktop binary, under Xvfb, from starting the
// process to the queue screen showing its patients, on a device signed in to a clinic whose
// replica holds 50,000 patients and 200,000 visits (60 waiting), with the server unreachable;
// against the same binary on a device holding only the 60 waiting patients, in the same run,
// so that the ratio is the history's cost (the window and the 60 rows cost the same in both).
// Run it with
//
//	go test ./tests -run '^$' -bench DesktopColdStart -benchtime 5x
//
// The OS page cache is warm after the first start: this is an app restart, not a boot.
func BenchmarkDesktopColdStart(b *testing.B) {
	bin := buildDesktop(b)
	d := desktopdrv.StartDisplay(b)
	for _, c := range []struct {
		name             string
		patients, visits int
		waiting          int
	}{{"60WaitingNoHistory", 60, 60, 60}, {"60Waiting50kPatients200kVisits", 50_000, 200_000, 60}} {
		b.Run(c.name, func(b *testing.B) {
			dir := seededDesktop(b, "http://127.0.0.1:1", "unused", clinicseed.Options{Patients: c.patients, Visits: c.visits, Waiting: c.waiting})
			ready := fmt.Sprintf(`!!document.querySelector('[data-testid="queue-screen"]') && document.querySelectorAll('[data-testid^="queue-patient-"]').length === %d`, c.waiting)
			var samples []time.Duration
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				app := desktopdrv.Launch(b, d, bin, []string{"--data-dir", dir}, nil, "")
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				err := app.WaitFor(ctx, ready, 30*time.Second)
				cancel()
				samples = append(samples, time.Since(start))
				b.StopTimer()
				if err != nil {
					b.Fatalf("queue screen: %v", err)
				}
				if err := app.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			slices.Sort(samples)
			b.ReportMetric(float64(samples[len(samples)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(samples[len(samples)-1].Milliseconds()), "max-ms")
		})
	}
}

// BenchmarkDesktopQueueRefresh measures, in the real desktop binary under Xvfb, how long
// after a patient's intake is sent to the real hearth-server their row appears on the
// provider's queue screen: the server's commit and fan-out, the replica's apply, the
// "changed" event, Queue.View through Wails' bridge, and the render. The page stamps the
// row's appearance with a MutationObserver (Date.now(), the same clock as the test's). The
// device holds 50,000 patients and 200,000 visits; the baseline an empty replica.
func BenchmarkDesktopQueueRefresh(b *testing.B) {
	bin := buildDesktop(b)
	d := desktopdrv.StartDisplay(b)
	for _, c := range []struct {
		name             string
		patients, visits int
	}{{"empty", 0, 0}, {"50kPatients200kVisits", 50_000, 200_000}} {
		b.Run(c.name, func(b *testing.B) {
			srv := startServer(b, serverOpts{})
			mustCtl(b, "tenant", "create", "--data", srv.Data, "--id", "clinic-a", "--name", "Clinic A")
			admin := filepath.Join(b.TempDir(), "admin")
			mustCtl(b, "sync", "--dir", admin, "--server", srv.URL, "--tenant", "clinic-a", "--token",
				mustCtl(b, "token", "--data", srv.Data, "--tenant", "clinic-a", "--user", "alice", "--role", "admin"))
			mustCtl(b, "region", "--dir", admin, "CA", "--name", "California", "--mode", "open")
			mustCtl(b, "staff", "--dir", admin, "carol", "--name", "Carol", "--role", "provider", "--regions", "CA,NY,TX", "--on-shift", "true")
			mustCtl(b, "sync", "--dir", admin)
			tok := mustCtl(b, "token", "--data", srv.Data, "--tenant", "clinic-a", "--user", "carol", "--role", "provider")

			dir := seededDesktop(b, srv.URL, tok, clinicseed.Options{Patients: c.patients, Visits: c.visits})
			app := desktopdrv.Launch(b, d, bin, []string{"--data-dir", dir}, nil, "")
			b.Cleanup(func() { app.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := app.WaitFor(ctx, `!!document.querySelector('[data-testid="queue-screen"]') && document.querySelector('[data-testid="status-online"]')?.dataset.online === "true"`, 30*time.Second); err != nil {
				b.Fatal(err)
			}
			// Stamp every queue row when it first appears.
			if _, err := app.Eval(ctx, `(() => {
				window.__seen = {};
				const stamp = () => document.querySelectorAll('[data-testid^="queue-patient-"]').forEach(el => {
					window.__seen[el.dataset.testid] ??= Date.now();
				});
				new MutationObserver(stamp).observe(document.body, {childList: true, subtree: true});
				stamp();
				return true;
			})()`); err != nil {
				b.Fatal(err)
			}
			url := "ws://" + srv.Addr + "/v1/tenants/clinic-a/sync"
			var samples []time.Duration
			b.ResetTimer()
			for i := range b.N {
				in := clinic.Intake{GivenName: fmt.Sprintf("New%d", i), FamilyName: "Patient", BirthDate: "1990-01-01",
					Phone: fmt.Sprintf("555-900-%04d", i), Region: "CA", Reason: "cough", Consent: true}
				var res clinic.IntakeResult
				sent := time.Now()
				if err := engine.Call(ctx, &wstransport.Dialer{URL: url}, engine.CallOptions{Schema: clinic.Schema.Version(), Client: "bench"},
					clinic.RequestIntake, in, &res); err != nil || !res.Admitted {
					b.Fatalf("intake: %+v %v", res, err)
				}
				key := "queue-patient-" + res.Visit
				if err := app.WaitFor(ctx, fmt.Sprintf(`!!window.__seen[%q]`, key), 10*time.Second); err != nil {
					b.Fatal(err)
				}
				raw, err := app.Eval(ctx, fmt.Sprintf(`window.__seen[%q]`, key))
				if err != nil {
					b.Fatal(err)
				}
				var shownAt int64
				if err := json.Unmarshal(raw, &shownAt); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.UnixMilli(shownAt).Sub(sent))
			}
			b.StopTimer()
			slices.Sort(samples)
			b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(samples[len(samples)*9/10].Microseconds())/1000, "p90-ms")
			b.ReportMetric(float64(samples[len(samples)-1].Microseconds())/1000, "max-ms")
		})
	}
}

// seededDesktop returns a desktop data directory signed in as carol (a provider) to server
// with tok, whose replica holds the history o describes, as the app leaves it at exit.
func seededDesktop(b *testing.B, server, tok string, o clinicseed.Options) string {
	b.Helper()
	dir := b.TempDir()
	rep := filepath.Join(dir, "replicas", "clinic-a", "carol.db")
	if err := os.MkdirAll(filepath.Dir(rep), 0o700); err != nil {
		b.Fatal(err)
	}
	o.User = "carol"
	if err := clinicseed.History(context.Background(), rep, o); err != nil {
		b.Fatal(err)
	}
	session, _ := json.Marshal(map[string]any{"identity": map[string]string{"server": server, "clinic": "clinic-a",
		"user": "carol", "role": "provider", "token": tok}, "last_active": time.Now().UnixMilli()})
	if err := os.WriteFile(filepath.Join(dir, "session.json"), session, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}
