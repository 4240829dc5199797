package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

// Queue is the queue screen: the waiting patients of the caregiver's regions with their
// estimated waits, the provider's own visits, claiming, and going on and off shift.
type Queue struct{ a *App }

// requestTimeout bounds a request that needs the server (claim, release).
const requestTimeout = 10 * time.Second

// offlineClaim is why claiming is greyed out while offline.
const offlineClaim = "Offline: claiming a patient needs the clinic's server, so that two providers never take the same patient. The queue keeps updating when the connection returns."

// View returns the queue screen as of now.
func (q *Queue) View() (QueueView, error) {
	l, id, err := q.a.current()
	if err != nil {
		return QueueView{}, err
	}
	return q.a.queueView(context.Background(), l, id)
}

func (a *App) queueView(ctx context.Context, l *live, id Identity) (QueueView, error) {
	db := l.rep
	now := a.cfg.Now()
	st, err := clinic.LoadState(ctx, l.rep, now, a.cfg.TypicalVisit)
	if err != nil {
		return QueueView{}, fmt.Errorf("read the queue: %w", err)
	}
	ests := st.Estimates(now, a.cfg.TypicalVisit)
	me, err := readStaff(ctx, db, id.User)
	if err != nil {
		return QueueView{}, err
	}
	all, visible := clinic.VisibleRegions(id.Role, me.regions)
	view := QueueView{OnShift: me.onShift, AsOf: now.UnixMilli(), Regions: []RegionQueue{}, Mine: []ActiveVisit{}}

	codes := visible
	if all {
		codes = codes[:0:0]
		for code := range st.Regions {
			codes = append(codes, code)
		}
		slices.Sort(codes)
	}
	byRegion := map[string]*RegionQueue{}
	for _, code := range codes {
		rq := RegionQueue{Code: code, Name: code, Licensed: st.LicensedOnShift(code), Patients: []QueuePatient{}}
		if r, ok := st.Regions[code]; ok {
			rq.Name, rq.Mode = r.Name, r.Mode
			rq.Open = r.Hours.OpenAt(now.In(location(r)))
		}
		view.Regions = append(view.Regions, rq)
	}
	for i := range view.Regions {
		byRegion[view.Regions[i].Code] = &view.Regions[i]
	}

	waiting, err := readWaiting(ctx, db)
	if err != nil {
		return QueueView{}, err
	}
	unread, err := a.unreadCounts(ctx, db, waiting)
	if err != nil {
		return QueueView{}, err
	}
	for _, p := range waiting {
		rq := byRegion[p.Region]
		if rq == nil {
			continue // a region this caregiver may not see (or one not set up)
		}
		p.EstimateMS = -1
		if e, ok := ests[p.Visit]; ok {
			p.Position = e.Position
			if e.Known {
				p.EstimateMS = e.Wait.Milliseconds()
			}
			p.Notice = e.Notice
		}
		p.Unread = unread[p.Visit]
		rq.Patients = append(rq.Patients, p)
	}
	for i := range view.Regions {
		ps := view.Regions[i].Patients
		slices.SortStableFunc(ps, func(x, y QueuePatient) int {
			if x.Since != y.Since {
				return compare(x.Since, y.Since)
			}
			return strings.Compare(x.Visit, y.Visit)
		})
	}

	if view.Mine, err = readActive(ctx, db, id.User); err != nil {
		return QueueView{}, err
	}
	view.CanClaim, view.ClaimBlocked = a.canClaim(id, me)
	return view, nil
}

// canClaim says whether the claim buttons are live, and if not, why.
func (a *App) canClaim(id Identity, me staffRow) (bool, string) {
	a.mu.Lock()
	online := a.status.Online
	a.mu.Unlock()
	switch {
	case id.Role != clinic.RoleProvider:
		return false, "Only providers take patients into visits."
	case !online:
		return false, offlineClaim
	case !me.onShift:
		return false, "You are off shift: go on shift to take patients."
	}
	return true, ""
}

// Claim takes a waiting patient into a visit with the signed-in provider. The server decides
// (two providers may try at once); offline it is refused at once with the reason. It
// returns the visit to open.
func (q *Queue) Claim(visit string) (string, error) {
	l, _, err := q.a.current()
	if err != nil {
		return "", err
	}
	if !engine.ValidID(visit) {
		return "", fmt.Errorf("no such visit %q", visit)
	}
	var res clinic.ClaimResult
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	err = l.syncer.Request(ctx, clinic.RequestClaim, clinic.VisitArgs{Visit: visit}, &res)
	if err != nil {
		return "", requestError("take the patient", err)
	}
	return res.Visit, nil
}

// SetOnShift puts the signed-in caregiver on or off shift: wait estimates count only
// providers on shift. It is an ordinary write, so it works offline.
func (q *Queue) SetOnShift(on bool) error {
	l, id, err := q.a.current()
	if err != nil {
		return err
	}
	v := int64(0)
	if on {
		v = 1
	}
	return q.a.write(context.Background(), l, engine.Mutation{Table: "staff", ID: id.User,
		Values: map[string]any{"on_shift": v, "updated_at": q.a.cfg.Now().UnixMilli()}})
}

// requestError turns a request's failure into what a person should read.
func requestError(what string, err error) error {
	var re *engine.RemoteError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, engine.ErrOffline):
		return fmt.Errorf("cannot %s while offline: it needs the clinic's server; try again when the connection returns", what)
	case errors.Is(err, engine.ErrRequestInDoubt):
		return fmt.Errorf("the connection dropped while asking to %s: the queue will show whether it happened once it reconnects", what)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the server did not answer in time to %s: try again", what)
	case errors.As(err, &re):
		return fmt.Errorf("could not %s: %s", what, re.Err.Message)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// staffRow is the signed-in caregiver's staff row.
type staffRow struct {
	name    string
	regions []string
	onShift bool
}

func readStaff(ctx context.Context, r engine.RowReader, user string) (staffRow, error) {
	s, _, err := clinic.ReadStaff(ctx, r, user) // not set up yet, or not synced: sees no licensed queues
	if err != nil {
		return staffRow{}, err
	}
	return staffRow{name: s.Name, regions: s.Regions, onShift: s.OnShift}, nil
}

// patientsOf reads the patients of visits, by id.
func patientsOf(ctx context.Context, r engine.RowReader, vs []clinic.Visit) (map[string]clinic.Patient, error) {
	ids := make([]string, 0, len(vs))
	for _, v := range vs {
		if v.Patient != "" {
			ids = append(ids, v.Patient)
		}
	}
	return clinic.ReadPatients(ctx, r, ids)
}

// readWaiting lists every waiting patient with their name, by the queue index.
func readWaiting(ctx context.Context, r engine.RowReader) ([]QueuePatient, error) {
	vs, err := clinic.ReadVisitsIn(ctx, r, clinic.StatusWaiting)
	if err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	pats, err := patientsOf(ctx, r, vs)
	if err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	out := make([]QueuePatient, len(vs))
	for i, v := range vs {
		p := pats[v.Patient]
		out[i] = QueuePatient{Visit: v.ID, Patient: v.Patient, Region: v.Region, Reason: v.Reason, Since: v.RequestedAt,
			Name: p.Name(), BirthDate: p.BirthDate}
	}
	return out, nil
}

// readActive lists the provider's visits in progress.
func readActive(ctx context.Context, r engine.RowReader, user string) ([]ActiveVisit, error) {
	vs, err := clinic.ReadProviderVisits(ctx, r, user, clinic.StatusInVisit)
	if err != nil {
		return nil, fmt.Errorf("read your visits: %w", err)
	}
	pats, err := patientsOf(ctx, r, vs)
	if err != nil {
		return nil, fmt.Errorf("read your visits: %w", err)
	}
	out := make([]ActiveVisit, len(vs))
	for i, v := range vs {
		out[i] = ActiveVisit{Visit: v.ID, Patient: v.Patient, Region: v.Region, Reason: v.Reason, Started: v.StartedAt,
			Name: pats[v.Patient].Name()}
	}
	return out, nil
}

// unreadCounts counts, per visit, the patient's chat messages newer than what was read here.
func (a *App) unreadCounts(ctx context.Context, r engine.RowReader, waiting []QueuePatient) (map[string]int, error) {
	out := map[string]int{}
	if len(waiting) == 0 {
		return out, nil
	}
	a.mu.Lock()
	reads := make(map[string]int64, len(waiting))
	visits := make([]string, len(waiting))
	for i, p := range waiting {
		reads[p.Visit], visits[i] = a.reads[p.Visit], p.Visit
	}
	a.mu.Unlock()
	sent, err := clinic.ReadPatientMessageTimes(ctx, r, visits)
	if err != nil {
		return nil, err
	}
	for visit, times := range sent {
		for _, at := range times {
			if at > reads[visit] {
				out[visit]++
			}
		}
	}
	return out, nil
}

func location(r clinic.Region) *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return time.UTC
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
