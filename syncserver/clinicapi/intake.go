package clinicapi

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/token"
)

// intakeStatus answers the public page: which regions take new patients now.
func (s *Service) intakeStatus(ctx context.Context, rc *syncserver.RequestContext) (any, error) {
	var args clinic.IntakeStatusArgs
	if err := rc.Decode(&args); err != nil {
		return nil, err
	}
	args.Region = strings.ToUpper(strings.TrimSpace(args.Region))
	now := s.cfg.Now()
	st, err := clinic.LoadState(ctx, rc, now, s.cfg.TypicalVisit)
	if err != nil {
		return nil, err
	}
	var out []clinic.RegionStatus
	for code, r := range st.Regions {
		if args.Region != "" && code != args.Region {
			continue
		}
		out = append(out, status(r, st, now))
	}
	if args.Region != "" && len(out) == 0 {
		return nil, refuse(clinic.CodeNotFound, fmt.Sprintf("this clinic does not see patients in %q", args.Region))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func status(r clinic.Region, st *clinic.State, now time.Time) clinic.RegionStatus {
	waiting := st.WaitingIn(r.Code)
	a := clinic.Admit(r, now, waiting, st.LicensedOnShift(r.Code))
	rs := clinic.RegionStatus{Code: r.Code, Name: r.Name, Open: a.Open, Reason: a.Reason, Notice: a.Notice, Waiting: waiting}
	if !a.NextOpen.IsZero() {
		rs.NextOpen = a.NextOpen.UnixMilli()
	}
	return rs
}

// intake starts an on-demand visit: it validates what the patient entered, admits them to the
// region's queue (or says why not and when to come back), finds or creates the patient,
// creates the visit, and returns a token for that one visit with the first estimate.
func (s *Service) intake(ctx context.Context, rc *syncserver.RequestContext) (any, error) {
	var in clinic.Intake
	if err := rc.Decode(&in); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if err := in.Normalize(now); err != nil {
		return nil, refusal(err)
	}
	st, err := clinic.LoadState(ctx, rc, now, s.cfg.TypicalVisit)
	if err != nil {
		return nil, err
	}
	r, ok := st.Regions[in.Region]
	if !ok {
		return nil, refuse(clinic.CodeNotFound, fmt.Sprintf("this clinic does not see patients in %s; choose the state you are in now", in.Region))
	}
	a := clinic.Admit(r, now, st.WaitingIn(r.Code), st.LicensedOnShift(r.Code))
	if !a.Open {
		res := clinic.IntakeResult{Reason: a.Reason, WaitMS: -1}
		if !a.NextOpen.IsZero() {
			res.NextOpen = a.NextOpen.UnixMilli()
		}
		return res, nil
	}
	patient, known, err := clinic.MatchPatient(ctx, rc, in)
	if err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	isNew := !known
	if isNew {
		patient = engine.NewID()
		if err := rc.Write(engine.Mutation{Table: "patients", ID: patient, Values: in.PatientValues(now)}); err != nil {
			return nil, fmt.Errorf("intake: create patient: %w", err)
		}
	}
	visit := engine.NewID()
	if err := rc.Write(engine.Mutation{Table: "visits", ID: visit, Values: in.VisitValues(patient, now)}); err != nil {
		return nil, fmt.Errorf("intake: create visit: %w", err)
	}
	who := clinic.Actor{User: "patient:" + visit, Role: clinic.RolePatient, Device: rc.Site.String()}
	if err := writeAudit(rc, clinic.AuditEntry{Actor: who.User, ActorRole: who.Role, Device: who.Device,
		Action: clinic.ActionIntake, Table: "visits", RecordID: visit, PatientID: patient, At: now}); err != nil {
		return nil, err
	}
	// The new patient's estimate now, from the queue as it stands with them in it; everyone
	// else's follows from the estimator once this commits.
	st.Waiting = append(st.Waiting, clinic.Waiting{Visit: visit, Region: in.Region, Since: now})
	est := st.Estimates(now, s.cfg.TypicalVisit)[visit]
	if err := writeEstimate(rc, visit, est, now); err != nil {
		return nil, err
	}
	claims := token.Claims{Tenant: rc.Tenant().ID, User: "patient:" + visit, Role: clinic.RolePatient, Scopes: clinic.PatientScopes(visit)}
	tok, err := s.cfg.Signer.Issue(claims, s.cfg.PatientTokenTTL)
	if err != nil {
		return nil, fmt.Errorf("intake: patient token: %w", err)
	}
	if claims, err = s.cfg.Signer.Verify(tok); err != nil { // for its expiry, by the signer's clock
		return nil, fmt.Errorf("intake: patient token: %w", err)
	}
	res := clinic.IntakeResult{Admitted: true, Notice: joinNotices(a.Notice, est.Notice), Visit: visit, Patient: patient, NewPatient: isNew,
		Token: tok, Expires: claims.Expires, Position: est.Position, WaitMS: waitMS(est)}
	return res, nil
}

func joinNotices(a, b string) string {
	switch {
	case a == "" || a == b:
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

func waitMS(e clinic.Estimate) int64 {
	if !e.Known {
		return -1
	}
	return e.Wait.Milliseconds()
}
