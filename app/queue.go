package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/clinic/clinicsql"
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
	db := l.rep.Reader()
	now := a.cfg.Now()
	st, err := clinicsql.Load(ctx, l.rep, now, a.cfg.TypicalVisit)
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

func readStaff(ctx context.Context, db *sql.DB, user string) (staffRow, error) {
	var name, regions sql.NullString
	var onShift sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT name, regions, on_shift FROM staff WHERE id = ?`, user).Scan(&name, &regions, &onShift)
	if errors.Is(err, sql.ErrNoRows) {
		return staffRow{}, nil // not set up yet, or not synced: sees no licensed queues
	}
	if err != nil {
		return staffRow{}, fmt.Errorf("read staff %s: %w", user, err)
	}
	return staffRow{name: name.String, regions: clinic.ParseRegions(regions.String), onShift: onShift.Int64 != 0}, nil
}

// readWaiting lists every waiting patient with their name, by the queue index.
func readWaiting(ctx context.Context, db *sql.DB) ([]QueuePatient, error) {
	rows, err := db.QueryContext(ctx, `SELECT v.id, v.patient_id, v.region, v.reason, v.requested_at,
		p.given_name, p.family_name, p.birth_date
		FROM visits v LEFT JOIN patients p ON p.id = v.patient_id WHERE v.status = ?`, clinic.StatusWaiting)
	if err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	defer rows.Close()
	var out []QueuePatient
	for rows.Next() {
		var p QueuePatient
		var patient, region, reason, given, family, birth sql.NullString
		var since sql.NullInt64
		if err := rows.Scan(&p.Visit, &patient, &region, &reason, &since, &given, &family, &birth); err != nil {
			return nil, err
		}
		p.Patient, p.Region, p.Reason, p.Since = patient.String, region.String, reason.String, since.Int64
		p.Name, p.BirthDate = fullName(given.String, family.String), birth.String
		out = append(out, p)
	}
	return out, rows.Err()
}

// readActive lists the provider's visits in progress.
func readActive(ctx context.Context, db *sql.DB, user string) ([]ActiveVisit, error) {
	rows, err := db.QueryContext(ctx, `SELECT v.id, v.patient_id, v.region, v.reason, v.started_at, p.given_name, p.family_name
		FROM visits v LEFT JOIN patients p ON p.id = v.patient_id
		WHERE v.provider_id = ? AND v.status = ? ORDER BY v.started_at`, user, clinic.StatusInVisit)
	if err != nil {
		return nil, fmt.Errorf("read your visits: %w", err)
	}
	defer rows.Close()
	out := []ActiveVisit{}
	for rows.Next() {
		var v ActiveVisit
		var patient, region, reason, given, family sql.NullString
		var started sql.NullInt64
		if err := rows.Scan(&v.Visit, &patient, &region, &reason, &started, &given, &family); err != nil {
			return nil, err
		}
		v.Patient, v.Region, v.Reason, v.Started = patient.String, region.String, reason.String, started.Int64
		v.Name = fullName(given.String, family.String)
		out = append(out, v)
	}
	return out, rows.Err()
}

// unreadCounts counts, per visit, the patient's chat messages newer than what was read here.
func (a *App) unreadCounts(ctx context.Context, db *sql.DB, waiting []QueuePatient) (map[string]int, error) {
	out := map[string]int{}
	if len(waiting) == 0 {
		return out, nil
	}
	a.mu.Lock()
	reads := make(map[string]int64, len(waiting))
	for _, p := range waiting {
		reads[p.Visit] = a.reads[p.Visit]
	}
	a.mu.Unlock()
	// One indexed query per chunk of visits, not one per visit.
	const chunk = 400
	for i := 0; i < len(waiting); i += chunk {
		part := waiting[i:min(i+chunk, len(waiting))]
		args := make([]any, 0, len(part)+1)
		args = append(args, clinic.RolePatient)
		for _, p := range part {
			args = append(args, p.Visit)
		}
		rows, err := db.QueryContext(ctx, `SELECT visit_id, sent_at FROM chat_messages
			WHERE sender_role = ? AND visit_id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read chat: %w", err)
		}
		for rows.Next() {
			var visit string
			var at sql.NullInt64
			if err := rows.Scan(&visit, &at); err != nil {
				rows.Close()
				return nil, err
			}
			if at.Int64 > reads[visit] {
				out[visit]++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fullName(given, family string) string {
	return strings.TrimSpace(given + " " + family)
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
