package clinic

import (
	"context"
	"fmt"
	"time"

	"hearth/engine"
)

// State is what admission and wait estimates are computed from: the regions' settings, the
// patients waiting, the providers with when each is expected to be free, and each region's
// typical visit length.
type State struct {
	Regions   map[string]Region
	Waiting   []Waiting
	Providers []Provider
	Typical   map[string]time.Duration
}

func loadRegions(ctx context.Context, r engine.RowReader) (map[string]Region, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "regions"})
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	out := map[string]Region{}
	for _, rec := range recs {
		id := text(rec, "id")
		row := Row{"name": text(rec, "name"), "mode": text(rec, "mode"), "hours": text(rec, "hours"),
			"time_zone": text(rec, "time_zone"), "message": text(rec, "message")}
		if limit, ok := rec["busy_limit"].(int64); ok {
			row["busy_limit"] = limit
		}
		region, err := RegionFromRow(id, row)
		if err != nil {
			continue // a region with bad settings takes no patients; support sees it in the app
		}
		out[id] = region
	}
	return out, nil
}

func loadWaiting(ctx context.Context, r engine.RowReader) ([]Waiting, error) {
	// In the order of the visits_queue index (status, region, requested_at, then the id), so
	// that a store reads the queue from its index alone and sorts nothing: the server runs
	// this on every intake and after every burst of queue changes.
	recs, err := r.Select(ctx, engine.Query{Table: "visits", Cols: []string{"region", "requested_at"},
		Where:   []engine.Cond{{Col: "status", Op: engine.Eq, Value: StatusWaiting}},
		OrderBy: []engine.Order{{Col: "region"}, {Col: "requested_at"}}})
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	var out []Waiting
	for _, rec := range recs {
		w := Waiting{Visit: text(rec, "id"), Region: text(rec, "region")}
		if since, ok := rec["requested_at"].(int64); ok {
			w.Since = time.UnixMilli(since)
		}
		out = append(out, w)
	}
	return out, nil
}

// loadTypical returns each region's typical visit length from its most recent finished
// visits (by arrival, which the queue index orders).
func loadTypical(ctx context.Context, r engine.RowReader, regions map[string]Region, fallback time.Duration) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for code := range regions {
		recs, err := r.Select(ctx, engine.Query{Table: "visits", Cols: []string{"started_at", "ended_at"}, Where: []engine.Cond{
			{Col: "status", Op: engine.Eq, Value: StatusCompleted}, {Col: "region", Op: engine.Eq, Value: code},
			{Col: "started_at", Op: engine.NotNull}, {Col: "ended_at", Op: engine.NotNull},
		}, OrderBy: []engine.Order{{Col: "requested_at", Desc: true}, {Col: "id", Desc: true}}, Limit: 20}) // visits_queue, backwards
		if err != nil {
			return nil, fmt.Errorf("read recent visits: %w", err)
		}
		var recent []time.Duration
		for _, rec := range recs {
			start, _ := rec["started_at"].(int64)
			end, _ := rec["ended_at"].(int64)
			recent = append(recent, time.Duration(end-start)*time.Millisecond)
		}
		out[code] = TypicalDuration(recent, fallback)
	}
	return out, nil
}

func loadProviders(ctx context.Context, r engine.RowReader, now time.Time, typical map[string]time.Duration, fallback time.Duration) ([]Provider, error) {
	staff, err := r.Select(ctx, engine.Query{Table: "staff", Cols: []string{"regions", "on_shift"},
		Where: []engine.Cond{{Col: "role", Op: engine.Eq, Value: RoleProvider}}})
	if err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	var out []Provider
	index := map[string]int{}
	for _, rec := range staff {
		id := text(rec, "id")
		onShift, _ := rec["on_shift"].(int64)
		index[id] = len(out)
		out = append(out, Provider{ID: id, Regions: ParseRegions(text(rec, "regions")), OnShift: onShift != 0})
	}
	busy, err := r.Select(ctx, engine.Query{Table: "visits", Cols: []string{"provider_id", "region", "started_at"},
		Where: []engine.Cond{{Col: "status", Op: engine.Eq, Value: StatusInVisit}}})
	if err != nil {
		return nil, fmt.Errorf("read visits in progress: %w", err)
	}
	for _, rec := range busy {
		i, ok := index[text(rec, "provider_id")]
		started, isSet := rec["started_at"].(int64)
		if !ok || !isSet {
			continue
		}
		d, ok := typical[text(rec, "region")]
		if !ok {
			d = fallback
		}
		end := ExpectedEnd(time.UnixMilli(started), d, now)
		if end.After(out[i].BusyUntil) {
			out[i].BusyUntil = end
		}
	}
	return out, nil
}

// LoadState reads the state the admission and estimate rules work from, at now, from any
// store of the clinic schema: the server inside a request's transaction, the desktop and
// hearthctl from a replica. fallback is the visit length assumed for a region without
// finished visits.
func LoadState(ctx context.Context, r engine.RowReader, now time.Time, fallback time.Duration) (*State, error) {
	st := &State{}
	var err error
	if st.Regions, err = loadRegions(ctx, r); err != nil {
		return nil, err
	}
	if st.Waiting, err = loadWaiting(ctx, r); err != nil {
		return nil, err
	}
	if st.Typical, err = loadTypical(ctx, r, st.Regions, fallback); err != nil {
		return nil, err
	}
	if st.Providers, err = loadProviders(ctx, r, now, st.Typical, fallback); err != nil {
		return nil, err
	}
	return st, nil
}

// StaleEstimates lists the visits whose estimate still gives a place in the queue though the
// visit is no longer waiting: their estimates are to be cleared. r must read what st was
// loaded from (the same transaction): only the estimates of visits outside st's queue, a
// handful after each burst, have their visit read, not every waiting patient's.
func (st *State) StaleEstimates(ctx context.Context, r engine.RowReader) ([]string, error) {
	ests, err := r.Select(ctx, engine.Query{Table: "visit_estimates", Cols: []string{},
		Where: []engine.Cond{{Col: "position", Op: engine.Ge, Value: int64(1)}}})
	if err != nil {
		return nil, fmt.Errorf("read estimates: %w", err)
	}
	waiting := make(map[string]bool, len(st.Waiting))
	for _, w := range st.Waiting {
		waiting[w.Visit] = true
	}
	var left []string
	for _, e := range ests {
		if id := text(e, "id"); !waiting[id] {
			left = append(left, id)
		}
	}
	visits, err := readByID(ctx, r, engine.Query{Table: "visits", Cols: []string{"status"}}, left)
	if err != nil {
		return nil, fmt.Errorf("read estimates: %w", err)
	}
	var gone []string
	for _, id := range left {
		if v, ok := visits[id]; ok {
			if s := text(v, "status"); s != "" && s != StatusWaiting {
				gone = append(gone, id)
			}
		}
	}
	return gone, nil
}

// WaitingIn counts the patients waiting in a region.
func (st *State) WaitingIn(region string) int {
	n := 0
	for _, w := range st.Waiting {
		if w.Region == region {
			n++
		}
	}
	return n
}

// LicensedOnShift counts the on-shift providers licensed in a region.
func (st *State) LicensedOnShift(region string) int {
	n := 0
	for _, p := range st.Providers {
		if !p.OnShift {
			continue
		}
		for _, r := range p.Regions {
			if r == region {
				n++
				break
			}
		}
	}
	return n
}

// Estimates are every waiting patient's estimate at now (see EstimateWaits).
func (st *State) Estimates(now time.Time, fallback time.Duration) map[string]Estimate {
	return EstimateWaits(now, st.Waiting, st.Providers, st.Typical, fallback)
}
