package clinicapi

import (
	"context"
	"fmt"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
)

// claim gives a waiting patient to the asking provider: a compare-and-set in the tenant's
// transaction, so two providers racing for one patient get one yes and one already_claimed.
// A claim retried after its answer was lost (engine.ErrRequestInDoubt) finds the visit already
// the caller's and succeeds again.
func (s *Service) claim(ctx context.Context, rc *syncserver.RequestContext) (any, error) {
	var args clinic.VisitArgs
	if err := rc.Decode(&args); err != nil {
		return nil, err
	}
	a := actor(rc)
	v, ok, err := get(ctx, rc, "visits", args.Visit)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(clinic.CodeNotFound, "this visit no longer exists; refresh the queue")
	}
	patient, _ := v["patient_id"].(string)
	if v["status"] == clinic.StatusInVisit && a.Role == clinic.RoleProvider {
		if v["provider_id"] == a.User {
			started, _ := v["started_at"].(int64)
			return clinic.ClaimResult{Visit: args.Visit, Patient: patient, StartedAt: started}, nil
		}
		return nil, refuse(clinic.CodeAlreadyClaimed, "another provider is already seeing this patient; pick another from the queue")
	}
	me, isStaff, err := get(ctx, rc, "staff", a.User)
	if err != nil {
		return nil, err
	}
	if !isStaff && a.Role == clinic.RoleProvider {
		return nil, refuse(clinic.CodeNotLicensed, "you are not on this clinic's staff list; ask an administrator to add you with your licenses")
	}
	regions, _ := me["regions"].(string)
	if err := clinic.CheckClaim(a, clinic.Row(v), clinic.ParseRegions(regions)); err != nil {
		return nil, refusal(err)
	}
	if on, _ := me["on_shift"].(int64); on == 0 {
		return nil, refuse(clinic.CodeOffShift, "you are off shift; start your shift to take patients")
	}
	current, err := clinic.ReadProviderVisits(ctx, rc, rc.Claims.User, clinic.StatusInVisit)
	if err != nil {
		return nil, err
	}
	if len(current) > 0 {
		return nil, refuse(clinic.CodeBusy, "you are already in a visit; end it or put that patient back in the queue first")
	}
	now := s.cfg.Now()
	if err := rc.Write(engine.Mutation{Table: "visits", ID: args.Visit, Values: clinic.ClaimValues(a, now)}); err != nil {
		return nil, fmt.Errorf("claim %s: %w", args.Visit, err)
	}
	if err := writeEstimate(rc, args.Visit, clinic.Estimate{Known: true}, now); err != nil {
		return nil, err
	}
	if err := writeAudit(rc, clinic.AuditEntry{Actor: a.User, ActorRole: a.Role, Device: a.Device, Action: clinic.ActionClaim,
		Table: "visits", RecordID: args.Visit, PatientID: patient, At: now}); err != nil {
		return nil, err
	}
	return clinic.ClaimResult{Visit: args.Visit, Patient: patient, StartedAt: now.UnixMilli()}, nil
}

// release puts the provider's patient back in the queue at their original place (their
// arrival time is unchanged), for instance when the call could not connect.
func (s *Service) release(ctx context.Context, rc *syncserver.RequestContext) (any, error) {
	var args clinic.VisitArgs
	if err := rc.Decode(&args); err != nil {
		return nil, err
	}
	v, ok, err := get(ctx, rc, "visits", args.Visit)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(clinic.CodeNotFound, "this visit no longer exists")
	}
	a := actor(rc)
	patient, _ := v["patient_id"].(string)
	if v["status"] == clinic.StatusWaiting && a.Role == clinic.RoleProvider {
		return nil, nil // released already: a retry after a lost answer
	}
	if err := clinic.CheckRelease(a, clinic.Row(v)); err != nil {
		return nil, refusal(err)
	}
	if err := rc.Write(engine.Mutation{Table: "visits", ID: args.Visit, Values: clinic.ReleaseValues()}); err != nil {
		return nil, fmt.Errorf("release %s: %w", args.Visit, err)
	}
	return nil, writeAudit(rc, clinic.AuditEntry{Actor: a.User, ActorRole: a.Role, Device: a.Device, Action: clinic.ActionRelease,
		Table: "visits", RecordID: args.Visit, PatientID: patient, At: s.cfg.Now()})
}
