package clinic

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Waiting is one patient in a queue, as the wait estimate needs them.
type Waiting struct {
	Visit, Region string
	Since         time.Time // when they joined the queue
}

// Provider is one clinician as the wait estimate needs them. BusyUntil is the expected end
// of their current visit (see ExpectedEnd), zero when free.
type Provider struct {
	ID        string
	Regions   []string // region codes they are licensed in
	OnShift   bool
	BusyUntil time.Time
}

// Estimate is what a waiting patient is told about their wait. When Known is false no
// clinician who may see them is working, Wait means nothing, and Notice says why.
type Estimate struct {
	Position int // 1-based place in the region's queue
	Wait     time.Duration
	Known    bool
	Notice   string
}

// TypicalDuration is how long a region's visits usually take: the median of recent
// durations (ignoring those <= 0, which are bad clocks or aborted visits), or fallback when
// there are none. The median, because one visit that ran for hours must not move everyone's
// estimate.
func TypicalDuration(recent []time.Duration, fallback time.Duration) time.Duration {
	var ds []time.Duration
	for _, d := range recent {
		if d > 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return fallback
	}
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return ds[n/2-1] + (ds[n/2]-ds[n/2-1])/2
}

// ExpectedEnd is when a visit started at started should end: started+typical, or a minute
// from now when that has passed (the visit is running long, and its provider is still busy).
func ExpectedEnd(started time.Time, typical time.Duration, now time.Time) time.Time {
	end := started.Add(typical)
	if !end.After(now) {
		return now.Add(time.Minute)
	}
	return end
}

// ParseRegions reads a staff row's comma-separated region codes: trimmed, uppercased, empty
// entries dropped, each code once in first-seen order.
func ParseRegions(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		r = strings.ToUpper(strings.TrimSpace(r))
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// EstimateWaits estimates every waiting patient's position and wait, by visit id. It simulates
// the queues: patients are taken in arrival order (Since, then Visit id, across all
// regions); each on-shift provider is free from max(now, BusyUntil); each patient goes to
// the provider licensed in their region who is free earliest (tie: lower provider id), and
// waits from now until then; that provider is then busy for the region's typical duration
// (typical[region], or fallback when absent or not positive). Position is the 1-based rank
// within the patient's region. A patient whose region has no licensed provider on shift gets
// Known=false and a Notice saying so, and takes no provider's time.
//
// The result depends only on the arguments, so every replica that computes it agrees, and
// within one region waits never decrease with position.
func EstimateWaits(now time.Time, waiting []Waiting, providers []Provider, typical map[string]time.Duration, fallback time.Duration) map[string]Estimate {
	queue := slices.Clone(waiting)
	slices.SortStableFunc(queue, func(a, b Waiting) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.Visit, b.Visit)
	})
	type doc struct {
		id      string
		regions []string
		free    time.Time
	}
	var docs []*doc
	for _, p := range providers {
		if !p.OnShift {
			continue
		}
		free := now
		if p.BusyUntil.After(now) {
			free = p.BusyUntil
		}
		var regions []string
		for _, r := range p.Regions {
			regions = append(regions, strings.ToUpper(strings.TrimSpace(r)))
		}
		docs = append(docs, &doc{id: p.ID, regions: regions, free: free})
	}
	out := make(map[string]Estimate, len(queue))
	positions := map[string]int{}
	for _, w := range queue {
		if _, dup := out[w.Visit]; dup {
			continue
		}
		region := strings.ToUpper(strings.TrimSpace(w.Region))
		positions[region]++
		e := Estimate{Position: positions[region]}
		var best *doc
		for _, d := range docs {
			if !slices.Contains(d.regions, region) {
				continue
			}
			if best == nil || d.free.Before(best.free) || (d.free.Equal(best.free) && d.id < best.id) {
				best = d
			}
		}
		if best == nil {
			e.Notice = fmt.Sprintf("No clinician licensed in %s is on shift now; you will be told when one is.", region)
			out[w.Visit] = e
			continue
		}
		e.Known, e.Wait = true, best.free.Sub(now)
		d := typical[w.Region]
		if d <= 0 {
			d = typical[region]
		}
		if d <= 0 {
			d = fallback
		}
		best.free = best.free.Add(d)
		out[w.Visit] = e
	}
	return out
}
