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

	"hearth/engine/clinic/clinicseed"
	"hearth/tests/internal/desktopdrv"
)

// BenchmarkDesktopColdStart measures the real desktop binary, under Xvfb, from starting the
// process to the queue screen showing its patients, on a device signed in to a clinic whose
// replica holds 50,000 patients and 200,000 visits (60 waiting), with the server unreachable;
// against the same binary on a device with an empty replica, in the same run. Run it with
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
	}{{"empty", 0, 0, 0}, {"50kPatients200kVisits", 50_000, 200_000, 60}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			rep := filepath.Join(dir, "replicas", "clinic-a", "carol.db")
			if err := os.MkdirAll(filepath.Dir(rep), 0o700); err != nil {
				b.Fatal(err)
			}
			if err := clinicseed.History(context.Background(), rep, clinicseed.Options{Patients: c.patients, Visits: c.visits, Waiting: c.waiting, User: "carol"}); err != nil {
				b.Fatal(err)
			}
			session, _ := json.Marshal(map[string]any{"identity": map[string]string{"server": "http://127.0.0.1:1", "clinic": "clinic-a",
				"user": "carol", "role": "provider", "token": "unused"}, "last_active": time.Now().UnixMilli()})
			if err := os.WriteFile(filepath.Join(dir, "session.json"), session, 0o600); err != nil {
				b.Fatal(err)
			}
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
