package clinicapi

import (
	"context"
	"slices"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/token"
)

// The estimator keeps each waiting patient's visit_estimates row current. A commit that
// changes the queue (a visit's status, a provider's shift, a region's settings) schedules a
// recomputation of the tenant's estimates; bursts are coalesced, and only estimates that moved
// (place in the queue, the notice, or the wait by a minute or more) are written, so that a
// Monday-morning burst of intakes costs a few writes per patient, not one per intake.

// queueTables are the tables whose changes move the estimates.
var queueTables = map[string]bool{"visits": true, "staff": true, "regions": true}

// minWaitChange is how much an estimate must move to be written again.
const minWaitChange = time.Minute

// committed schedules a recomputation after a commit that touched the queue.
func (s *Service) committed(t *syncserver.Tenant, changes []*engine.Change) {
	touched := false
	for _, ch := range changes {
		touched = touched || queueTables[ch.Table]
	}
	if !touched || s.ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	c, ok := s.estimates[t.ID]
	if !ok {
		c = engine.NewCoalescer(s.cfg.EstimateDelay, func() { s.recompute(t) })
		s.estimates[t.ID] = c
	}
	s.mu.Unlock()
	c.Trigger()
}

// recompute runs on the coalescer's goroutine, at most once per EstimateDelay per tenant.
func (s *Service) recompute(t *syncserver.Tenant) {
	s.wg.Add(1)
	defer s.wg.Done()
	if s.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	server := syncserver.Origin{Claims: token.Claims{Tenant: t.ID, User: "server", Role: clinic.RoleAdmin}}
	_, err := t.Run(ctx, server, nil, func(ctx context.Context, rc *syncserver.RequestContext) (any, error) {
		return nil, s.writeEstimates(ctx, rc)
	})
	if err != nil && s.ctx.Err() == nil {
		s.cfg.Logger.Warn("wait-time estimates not updated", "tenant", t.ID, "err", err)
	}
}

// writeEstimates recomputes every waiting patient's estimate and clears those of patients who
// left the queue.
func (s *Service) writeEstimates(ctx context.Context, rc *syncserver.RequestContext) error {
	now := s.cfg.Now()
	st, err := clinic.LoadState(ctx, rc, now, s.cfg.TypicalVisit)
	if err != nil {
		return err
	}
	ests := st.Estimates(now, s.cfg.TypicalVisit)
	visits := make([]string, 0, len(ests))
	for visit := range ests {
		visits = append(visits, visit)
	}
	olds, err := clinic.ReadEstimates(ctx, rc, visits)
	if err != nil {
		return err
	}
	write := map[string]clinic.Estimate{}
	for visit, e := range ests {
		if old, ok := olds[visit]; !ok || moved(old, e, now) {
			write[visit] = e
		}
	}
	gone, err := st.StaleEstimates(ctx, rc)
	if err != nil {
		return err
	}
	for _, id := range gone {
		write[id] = clinic.Estimate{Known: true}
	}
	ids := make([]string, 0, len(write))
	for id := range write {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the log's order, and so every replica's, does not depend on map order
	for _, id := range ids {
		if err := writeEstimate(rc, id, write[id], now); err != nil {
			return err
		}
	}
	return nil
}

// moved reports whether estimate e differs enough from the stored row to be written. The
// stored wait counts from its computed_at, so a wait that simply ran down is not a change.
func moved(old clinic.Row, e clinic.Estimate, now time.Time) bool {
	pos, _ := old["position"].(int64)
	wait, _ := old["wait_ms"].(int64)
	at, _ := old["computed_at"].(int64)
	notice, _ := old["notice"].(string)
	if int(pos) != e.Position || notice != e.Notice || (wait >= 0) != e.Known {
		return true
	}
	if !e.Known {
		return false
	}
	due := time.UnixMilli(at).Add(time.Duration(wait) * time.Millisecond)
	diff := now.Add(e.Wait).Sub(due)
	return diff >= minWaitChange || diff <= -minWaitChange
}

func writeEstimate(rc *syncserver.RequestContext, visit string, e clinic.Estimate, now time.Time) error {
	return rc.Write(engine.Mutation{Table: "visit_estimates", ID: visit, Values: map[string]any{
		"position": int64(e.Position), "wait_ms": waitMS(e), "notice": e.Notice, "computed_at": now.UnixMilli()}})
}
