package clinic_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"hearth/engine/clinic"
)

func TestEstimateWaits(t *testing.T) {
	now := time.Date(2025, 3, 10, 17, 0, 0, 0, time.UTC)
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	mins := func(m int) time.Duration { return time.Duration(m) * time.Minute }
	typical := map[string]time.Duration{"CA": mins(15), "NV": mins(10)}
	fallback := mins(20)
	known := func(pos, wait int) clinic.Estimate {
		return clinic.Estimate{Position: pos, Wait: mins(wait), Known: true}
	}
	tests := []struct {
		name      string
		waiting   []clinic.Waiting
		providers []clinic.Provider
		want      map[string]clinic.Estimate
	}{
		{"one provider, three patients",
			[]clinic.Waiting{{"v3", "CA", ago(10)}, {"v1", "CA", ago(30)}, {"v2", "CA", ago(20)}},
			[]clinic.Provider{{ID: "a", Regions: []string{"CA"}, OnShift: true}},
			map[string]clinic.Estimate{"v1": known(1, 0), "v2": known(2, 15), "v3": known(3, 30)}},
		{"two providers share the queue, ties to the lower id",
			[]clinic.Waiting{{"v1", "CA", ago(30)}, {"v2", "CA", ago(20)}, {"v3", "CA", ago(10)}},
			[]clinic.Provider{{ID: "b", Regions: []string{"CA"}, OnShift: true}, {ID: "a", Regions: []string{"CA"}, OnShift: true}},
			map[string]clinic.Estimate{"v1": known(1, 0), "v2": known(2, 0), "v3": known(3, 15)}},
		{"a provider licensed in two regions",
			[]clinic.Waiting{{"v1", "CA", ago(30)}, {"v2", "NV", ago(20)}, {"v3", "CA", ago(10)}, {"v4", "NV", ago(5)}},
			[]clinic.Provider{{ID: "a", Regions: []string{"CA", "NV"}, OnShift: true}, {ID: "b", Regions: []string{"NV"}, OnShift: true}},
			// v1→a (a free at 15); v2→b (b free at 10); v3→a at 15; v4→b at 10.
			map[string]clinic.Estimate{"v1": known(1, 0), "v2": known(1, 0), "v3": known(2, 15), "v4": known(2, 10)}},
		{"no licensed provider on shift",
			[]clinic.Waiting{{"v1", "OR", ago(30)}, {"v2", "CA", ago(20)}},
			[]clinic.Provider{{ID: "a", Regions: []string{"CA"}, OnShift: true}, {ID: "z", Regions: []string{"OR"}, OnShift: false}},
			map[string]clinic.Estimate{
				"v1": {Position: 1, Notice: "No clinician licensed in OR is on shift now; you will be told when one is."},
				"v2": known(1, 0)}},
		{"busy provider",
			[]clinic.Waiting{{"v1", "CA", ago(30)}, {"v2", "CA", ago(20)}},
			[]clinic.Provider{{ID: "a", Regions: []string{"CA"}, OnShift: true, BusyUntil: now.Add(mins(10))}},
			map[string]clinic.Estimate{"v1": known(1, 10), "v2": known(2, 25)}},
		{"busy until the past is free now",
			[]clinic.Waiting{{"v1", "CA", ago(30)}},
			[]clinic.Provider{{ID: "a", Regions: []string{"CA"}, OnShift: true, BusyUntil: ago(5)}},
			map[string]clinic.Estimate{"v1": known(1, 0)}},
		{"region without a typical duration uses the fallback",
			[]clinic.Waiting{{"v1", "AZ", ago(30)}, {"v2", "AZ", ago(20)}},
			[]clinic.Provider{{ID: "a", Regions: []string{" az "}, OnShift: true}},
			map[string]clinic.Estimate{"v1": known(1, 0), "v2": known(2, 20)}},
		{"same arrival: lower visit id first, duplicates once",
			[]clinic.Waiting{{"vb", "CA", ago(10)}, {"va", "CA", ago(10)}, {"va", "CA", ago(10)}},
			[]clinic.Provider{{ID: "a", Regions: []string{"CA"}, OnShift: true}},
			map[string]clinic.Estimate{"va": known(1, 0), "vb": known(2, 15)}},
		{"nobody waiting", nil, []clinic.Provider{{ID: "a", Regions: []string{"CA"}, OnShift: true}}, map[string]clinic.Estimate{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clinic.EstimateWaits(now, tt.waiting, tt.providers, typical, fallback)
			if len(got) != len(tt.want) {
				t.Errorf("%d estimates, want %d: %+v", len(got), len(tt.want), got)
			}
			for v, w := range tt.want {
				if got[v] != w {
					t.Errorf("%s: %+v, want %+v", v, got[v], w)
				}
			}
		})
	}
}

// Within a region, a later place in the queue never waits less, and the answer does not
// depend on the order the queue was read in.
func TestEstimateWaitsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	regions := []string{"CA", "NV", "OR", "WA"}
	now := time.Date(2025, 3, 10, 17, 0, 0, 0, time.UTC)
	for round := 0; round < 500; round++ {
		var waiting []clinic.Waiting
		for i := range rng.IntN(30) {
			waiting = append(waiting, clinic.Waiting{Visit: fmt.Sprintf("v%02d", i), Region: regions[rng.IntN(len(regions))],
				Since: now.Add(-time.Duration(rng.IntN(20)) * time.Minute)}) // repeats test the tie-break
		}
		var providers []clinic.Provider
		for i := range rng.IntN(5) {
			p := clinic.Provider{ID: fmt.Sprintf("p%d", i), OnShift: rng.IntN(4) > 0}
			for _, r := range regions {
				if rng.IntN(2) == 0 {
					p.Regions = append(p.Regions, r)
				}
			}
			if rng.IntN(2) == 0 {
				p.BusyUntil = now.Add(time.Duration(rng.IntN(40)-10) * time.Minute)
			}
			providers = append(providers, p)
		}
		typical := map[string]time.Duration{"CA": time.Duration(1+rng.IntN(30)) * time.Minute}
		got := clinic.EstimateWaits(now, waiting, providers, typical, 12*time.Minute)

		byRegion := map[string][]clinic.Estimate{}
		for _, w := range waiting {
			byRegion[w.Region] = append(byRegion[w.Region], got[w.Visit])
		}
		for r, es := range byRegion {
			slices.SortFunc(es, func(a, b clinic.Estimate) int { return a.Position - b.Position })
			for i, e := range es {
				if e.Position != i+1 {
					t.Fatalf("round %d region %s: positions %+v are not 1..n", round, r, es)
				}
				if i > 0 && e.Known && es[i-1].Known && e.Wait < es[i-1].Wait {
					t.Fatalf("round %d region %s: position %d waits %s, less than position %d's %s", round, r, e.Position, e.Wait, i, es[i-1].Wait)
				}
				if e.Known != es[0].Known || (!e.Known && !strings.Contains(e.Notice, r)) {
					t.Fatalf("round %d region %s: %+v", round, r, e)
				}
			}
		}
		shuffled := slices.Clone(waiting)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again := clinic.EstimateWaits(now, shuffled, providers, typical, 12*time.Minute)
		for v, e := range got {
			if again[v] != e {
				t.Fatalf("round %d: %s is %+v read in one order, %+v in another", round, v, e, again[v])
			}
		}
	}
}

func TestTypicalDuration(t *testing.T) {
	m := time.Minute
	tests := []struct {
		recent []time.Duration
		want   time.Duration
	}{
		{nil, 7 * m},
		{[]time.Duration{0, -m}, 7 * m},
		{[]time.Duration{5 * m}, 5 * m},
		{[]time.Duration{m, 3 * m, 2 * m}, 2 * m},
		{[]time.Duration{4 * m, m, 3 * m, 2 * m}, 2*m + 30*time.Second},
		{[]time.Duration{0, 20 * m, -5 * m, 10 * m}, 15 * m},
		{[]time.Duration{10 * m, 11 * m, 9 * m, 5 * time.Hour}, 10*m + 30*time.Second}, // one long visit barely moves it
	}
	for _, tt := range tests {
		before := slices.Clone(tt.recent)
		if got := clinic.TypicalDuration(tt.recent, 7*m); got != tt.want {
			t.Errorf("TypicalDuration(%v) = %s, want %s", tt.recent, got, tt.want)
		}
		if !slices.Equal(before, tt.recent) {
			t.Errorf("TypicalDuration reordered its argument")
		}
	}
}

func TestExpectedEnd(t *testing.T) {
	now := time.Date(2025, 3, 10, 17, 0, 0, 0, time.UTC)
	tests := []struct {
		started time.Time
		want    time.Time
	}{
		{now.Add(-5 * time.Minute), now.Add(10 * time.Minute)},
		{now.Add(-15 * time.Minute), now.Add(time.Minute)}, // due now: running long
		{now.Add(-time.Hour), now.Add(time.Minute)},
	}
	for _, tt := range tests {
		if got := clinic.ExpectedEnd(tt.started, 15*time.Minute, now); !got.Equal(tt.want) {
			t.Errorf("ExpectedEnd(%v) = %v, want %v", tt.started, got, tt.want)
		}
	}
}

func TestParseRegions(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"CA", []string{"CA"}},
		{" ca, NV ,,ca, or ", []string{"CA", "NV", "OR"}},
	}
	for _, tt := range tests {
		if got := clinic.ParseRegions(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ParseRegions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
