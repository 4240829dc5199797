package clinic_test

import (
	"slices"
	"testing"
	"time"

	"hearth/engine/clinic"
)

func TestSortQueue(t *testing.T) {
	now := time.Date(2025, 3, 10, 17, 0, 0, 0, time.UTC)
	q := []clinic.QueueEntry{
		{Visit: "v3", Since: now.Add(-5 * time.Minute)},
		{Visit: "v2", Since: now.Add(-20 * time.Minute)},
		{Visit: "v1", Since: now.Add(-20 * time.Minute)},
		{Visit: "v4", Since: now.Add(time.Minute)}, // a skewed clock
	}
	clinic.SortQueue(q, now)
	var order []string
	var waited []time.Duration
	for _, e := range q {
		order, waited = append(order, e.Visit), append(waited, e.Waited)
	}
	if want := []string{"v1", "v2", "v3", "v4"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if want := []time.Duration{20 * time.Minute, 20 * time.Minute, 5 * time.Minute, 0}; !slices.Equal(waited, want) {
		t.Errorf("waited %v, want %v", waited, want)
	}
}

func TestVisibleRegions(t *testing.T) {
	tests := []struct {
		role    string
		staff   []string
		all     bool
		regions []string
	}{
		{clinic.RoleProvider, []string{"ca", " NV", "CA"}, false, []string{"CA", "NV"}},
		{clinic.RoleProvider, nil, false, nil},
		{clinic.RoleSupport, []string{"CA"}, true, nil},
		{clinic.RoleAdmin, nil, true, nil},
		{clinic.RolePatient, []string{"CA"}, false, nil},
		{"janitor", []string{"CA"}, false, nil},
	}
	for _, tt := range tests {
		all, regions := clinic.VisibleRegions(tt.role, tt.staff)
		if all != tt.all || !slices.Equal(regions, tt.regions) {
			t.Errorf("VisibleRegions(%q, %q) = %v %q, want %v %q", tt.role, tt.staff, all, regions, tt.all, tt.regions)
		}
	}
}
