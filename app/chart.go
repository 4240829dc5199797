package app

import (
	"context"
	"hearth/engine/clinic"
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
	db := l.rep
	p, err := readPatient(ctx, db, patient)
	if err != nil {
		return ChartView{}, err
	}
	vs, err := clinic.ReadPatientVisits(ctx, db, patient)
	if err != nil {
		return ChartView{}, err
	}
	view := ChartView{Patient: p, Visits: make([]PastVisit, len(vs))}
	ptrs := make([]*PastVisit, len(vs))
	for i, v := range vs {
		view.Visits[i] = pastVisit(v)
		ptrs[i] = &view.Visits[i]
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
	found, err := clinic.SearchPatients(context.Background(), l.rep, query, maxSearch)
	if err != nil {
		return nil, err
	}
	out := make([]Patient, len(found))
	for i, p := range found {
		out[i] = patientView(p)
	}
	return out, nil
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
