package app

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Charts is a patient's chart: demographics and past visits with their notes and
// observations, and finding a patient.
type Charts struct{ a *App }

// maxSearch caps a patient search's results.
const maxSearch = 50

// Open shows a patient's chart and records the read in the audit trail.
func (c *Charts) Open(patient string) (ChartView, error) { return c.show(patient, true) }

// View refreshes a chart opened with Open.
func (c *Charts) View(patient string) (ChartView, error) { return c.show(patient, false) }

// show reads the chart; open records the read, a refresh needs one recorded before.
func (c *Charts) show(patient string, open bool) (ChartView, error) {
	l, id, err := c.a.current()
	if err != nil {
		return ChartView{}, err
	}
	ctx := context.Background()
	view, err := c.a.chartView(ctx, l, patient)
	if err != nil {
		return ChartView{}, err
	}
	if err := c.a.checkRead(ctx, l, id, open, "patients", patient, patient, "opened the chart"); err != nil {
		return ChartView{}, err
	}
	return view, nil
}

func (a *App) chartView(ctx context.Context, l *live, patient string) (ChartView, error) {
	db := l.rep.Reader()
	p, err := readPatient(ctx, db, patient)
	if err != nil {
		return ChartView{}, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id FROM visits WHERE patient_id = ?`, patient)
	if err != nil {
		return ChartView{}, fmt.Errorf("read visits: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return ChartView{}, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	view := ChartView{Patient: p, Visits: []PastVisit{}}
	ptrs := make([]*PastVisit, 0, len(ids))
	for _, id := range ids {
		pv, _, err := readVisit(ctx, db, id)
		if err != nil {
			return ChartView{}, err
		}
		view.Visits = append(view.Visits, pv)
	}
	for i := range view.Visits {
		ptrs = append(ptrs, &view.Visits[i])
	}
	conflicted, err := a.conflictCounts(ctx, l)
	if err != nil {
		return ChartView{}, err
	}
	who, err := staffNames(ctx, db)
	if err != nil {
		return ChartView{}, err
	}
	if err := fillVisits(ctx, db, ptrs, conflicted, who); err != nil {
		return ChartView{}, err
	}
	sortVisitsNewestFirst(view.Visits)
	return view, nil
}

// Search finds patients by family name (prefix), "family, given", or birth date
// (YYYY-MM-DD). Results show demographics only; opening one is recorded.
func (c *Charts) Search(query string) ([]Patient, error) {
	l, _, err := c.a.current()
	if err != nil {
		return nil, err
	}
	query = strings.TrimSpace(query)
	if len(query) < 2 {
		return []Patient{}, nil
	}
	db := l.rep.Reader()
	const cols = `SELECT id, given_name, family_name, birth_date, phone, email, region FROM patients`
	var rows *sql.Rows
	if isDate(query) {
		rows, err = db.Query(cols+` WHERE birth_date = ? ORDER BY family_name, given_name LIMIT ?`, query, maxSearch)
	} else {
		family, given, _ := strings.Cut(query, ",")
		family, given = strings.TrimSpace(family), strings.TrimSpace(given)
		// LIKE ignores ASCII case, as people type names; escape its wildcards.
		rows, err = db.Query(cols+` WHERE family_name LIKE ? ESCAPE '\' AND given_name LIKE ? ESCAPE '\'
			ORDER BY family_name, given_name LIMIT ?`, likePrefix(family), likePrefix(given), maxSearch)
	}
	if err != nil {
		return nil, fmt.Errorf("search patients: %w", err)
	}
	defer rows.Close()
	out := []Patient{}
	for rows.Next() {
		var p Patient
		var given, family, birth, phone, email, region sql.NullString
		if err := rows.Scan(&p.ID, &given, &family, &birth, &phone, &email, &region); err != nil {
			return nil, err
		}
		p.GivenName, p.FamilyName, p.BirthDate, p.Phone, p.Email, p.Region = given.String, family.String, birth.String, phone.String, email.String, region.String
		out = append(out, p)
	}
	return out, rows.Err()
}

// likePrefix is a LIKE pattern matching names that start with s.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, r := range s {
		if i != 4 && i != 7 && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// sortVisitsNewestFirst orders a chart's visits by when they were requested, newest first.
func sortVisitsNewestFirst(vs []PastVisit) {
	slices.SortStableFunc(vs, func(a, b PastVisit) int {
		if a.RequestedAt != b.RequestedAt {
			return -compare(a.RequestedAt, b.RequestedAt)
		}
		return strings.Compare(a.ID, b.ID)
	})
}
