// Package clinicsql reads the clinic's state for its rules (admission, wait estimates) from
// a store of the clinic schema with SQL: the sync server inside a request's transaction, the
// desktop and hearthctl from a replica's read pool. The rules themselves are in engine/clinic;
// the queries use the schema's local indexes (visits_queue, visits_provider).
package clinicsql

import (
	"database/sql"
	"fmt"
	"time"

	"hearth/engine/clinic"
)

// Querier runs a read query: *sql.DB and the sync server's request context both do.
type Querier interface {
	Query(query string, args ...any) (*sql.Rows, error)
}

// State is what admission and wait estimates are computed from: the regions' settings, the
// patients waiting, the providers with when each is expected to be free, and each region's
// typical visit length.
type State struct {
	Regions   map[string]clinic.Region
	Waiting   []clinic.Waiting
	Providers []clinic.Provider
	Typical   map[string]time.Duration
}

func loadRegions(q Querier) (map[string]clinic.Region, error) {
	rows, err := q.Query(`SELECT id, name, mode, busy_limit, hours, time_zone, message FROM regions`)
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	defer rows.Close()
	out := map[string]clinic.Region{}
	for rows.Next() {
		var id string
		var name, mode, hours, tz, msg *string
		var limit *int64
		if err := rows.Scan(&id, &name, &mode, &limit, &hours, &tz, &msg); err != nil {
			return nil, err
		}
		row := clinic.Row{"name": deref(name), "mode": deref(mode), "hours": deref(hours), "time_zone": deref(tz), "message": deref(msg)}
		if limit != nil {
			row["busy_limit"] = *limit
		}
		r, err := clinic.RegionFromRow(id, row)
		if err != nil {
			continue // a region with bad settings takes no patients; support sees it in the app
		}
		out[id] = r
	}
	return out, rows.Err()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func loadWaiting(q Querier) ([]clinic.Waiting, error) {
	rows, err := q.Query(`SELECT id, region, requested_at FROM visits WHERE status = ?`, clinic.StatusWaiting)
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	defer rows.Close()
	var out []clinic.Waiting
	for rows.Next() {
		var w clinic.Waiting
		var region *string
		var since *int64
		if err := rows.Scan(&w.Visit, &region, &since); err != nil {
			return nil, err
		}
		w.Region = deref(region)
		if since != nil {
			w.Since = time.UnixMilli(*since)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// loadTypical returns each region's typical visit length from its most recent finished
// visits (by arrival, which the queue index orders).
func loadTypical(q Querier, regions map[string]clinic.Region, fallback time.Duration) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for code := range regions {
		rows, err := q.Query(`SELECT started_at, ended_at FROM visits WHERE status = ? AND region = ?
			AND started_at IS NOT NULL AND ended_at IS NOT NULL ORDER BY requested_at DESC LIMIT 20`, clinic.StatusCompleted, code)
		if err != nil {
			return nil, fmt.Errorf("read recent visits: %w", err)
		}
		var recent []time.Duration
		for rows.Next() {
			var start, end int64
			if err := rows.Scan(&start, &end); err != nil {
				rows.Close()
				return nil, err
			}
			recent = append(recent, time.Duration(end-start)*time.Millisecond)
		}
		rows.Close()
		out[code] = clinic.TypicalDuration(recent, fallback)
	}
	return out, nil
}

func loadProviders(q Querier, now time.Time, typical map[string]time.Duration, fallback time.Duration) ([]clinic.Provider, error) {
	rows, err := q.Query(`SELECT id, regions, on_shift FROM staff WHERE role = ?`, clinic.RoleProvider)
	if err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	var out []clinic.Provider
	index := map[string]int{}
	for rows.Next() {
		var id string
		var regions *string
		var onShift *int64
		if err := rows.Scan(&id, &regions, &onShift); err != nil {
			rows.Close()
			return nil, err
		}
		index[id] = len(out)
		out = append(out, clinic.Provider{ID: id, Regions: clinic.ParseRegions(deref(regions)), OnShift: onShift != nil && *onShift != 0})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	busy, err := q.Query(`SELECT provider_id, region, started_at FROM visits WHERE status = ?`, clinic.StatusInVisit)
	if err != nil {
		return nil, fmt.Errorf("read visits in progress: %w", err)
	}
	defer busy.Close()
	for busy.Next() {
		var provider, region *string
		var started *int64
		if err := busy.Scan(&provider, &region, &started); err != nil {
			return nil, err
		}
		i, ok := index[deref(provider)]
		if !ok || started == nil {
			continue
		}
		d, ok := typical[deref(region)]
		if !ok {
			d = fallback
		}
		end := clinic.ExpectedEnd(time.UnixMilli(*started), d, now)
		if end.After(out[i].BusyUntil) {
			out[i].BusyUntil = end
		}
	}
	return out, busy.Err()
}

// Load reads the state at now; fallback is the visit length assumed for a region without
// finished visits.
func Load(q Querier, now time.Time, fallback time.Duration) (*State, error) {
	st := &State{}
	var err error
	if st.Regions, err = loadRegions(q); err != nil {
		return nil, err
	}
	if st.Waiting, err = loadWaiting(q); err != nil {
		return nil, err
	}
	if st.Typical, err = loadTypical(q, st.Regions, fallback); err != nil {
		return nil, err
	}
	if st.Providers, err = loadProviders(q, now, st.Typical, fallback); err != nil {
		return nil, err
	}
	return st, nil
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

// Estimates are every waiting patient's estimate at now (see clinic.EstimateWaits).
func (st *State) Estimates(now time.Time, fallback time.Duration) map[string]clinic.Estimate {
	return clinic.EstimateWaits(now, st.Waiting, st.Providers, st.Typical, fallback)
}
