package clinic_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hearth/engine/clinic"
)

func TestRegionFromRow(t *testing.T) {
	r, err := clinic.RegionFromRow("CA", clinic.Row{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != "CA" || r.Name != "CA" || r.Mode != clinic.ModeOpen || r.Location != time.UTC || r.BusyLimit != 0 || r.Hours.String() != "" {
		t.Errorf("defaults: %+v", r)
	}
	r, err = clinic.RegionFromRow("CA", clinic.Row{"name": "California", "mode": clinic.ModeBusy, "busy_limit": 5.0,
		"hours": "Mon-Fri 08:00-18:00", "time_zone": "America/Los_Angeles", "message": "Flu season."})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "California" || r.Mode != clinic.ModeBusy || r.BusyLimit != 5 || r.Hours.String() != "mon-fri 08:00-18:00" ||
		r.Location.String() != "America/Los_Angeles" || r.Message != "Flu season." {
		t.Errorf("read %+v", r)
	}
	for name, row := range map[string]clinic.Row{
		"mode":       {"mode": "closed"},
		"busy_limit": {"busy_limit": int64(-2)},
		"busy limit": {"busy_limit": "five"},
		"hours":      {"hours": "weekdays"},
		"time_zone":  {"time_zone": "Mars/Olympus"},
	} {
		if _, err := clinic.RegionFromRow("CA", row); !errors.Is(err, clinic.ErrInvalid) {
			t.Errorf("bad %s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestAdmit(t *testing.T) {
	loc := la(t)
	hours := mustHours(t, "mon-fri 08:00-18:00")
	ca := func(mode string, edit ...func(*clinic.Region)) clinic.Region {
		r := clinic.Region{Code: "CA", Name: "California", Mode: mode, BusyLimit: 3, Hours: hours, Location: loc}
		for _, e := range edit {
			e(&r)
		}
		return r
	}
	monday9 := time.Date(2025, 3, 10, 9, 0, 0, 0, loc).UTC() // Admit reads it in the region's zone
	monday7 := time.Date(2025, 3, 10, 7, 0, 0, 0, loc).UTC()
	tests := []struct {
		name            string
		r               clinic.Region
		now             time.Time
		waiting, onDuty int
		open            bool
		reason          string // a part of Reason
		next            time.Time
		notice          []string // parts of Notice; none means empty
	}{
		{"open", ca(clinic.ModeOpen), monday9, 10, 2, true, "", time.Time{}, nil},
		{"open, nobody licensed on shift", ca(clinic.ModeOpen), monday9, 0, 0, true, "", time.Time{},
			[]string{"No clinician licensed in California is on shift now", "told when one is"}},
		{"outside hours", ca(clinic.ModeOpen), monday7, 0, 2, false, "California is closed now", time.Date(2025, 3, 10, 8, 0, 0, 0, loc), nil},
		{"paused, with message", ca(clinic.ModePaused, func(r *clinic.Region) { r.Message = "Back at 2pm." }), monday9, 0, 2, false,
			"California is not taking new patients right now. Back at 2pm.", time.Date(2025, 3, 11, 8, 0, 0, 0, loc), nil},
		{"paused outside hours", ca(clinic.ModePaused), monday7, 0, 2, false, "not taking new patients", time.Date(2025, 3, 10, 8, 0, 0, 0, loc), nil},
		{"paused, always open", ca(clinic.ModePaused, func(r *clinic.Region) { r.Hours = clinic.Hours{} }), monday9, 0, 2, false, "not taking new patients", time.Time{}, nil},
		{"busy and full", ca(clinic.ModeBusy), monday9, 3, 2, false, "The queue for California is full right now", time.Time{}, nil},
		{"busy with limit 0", ca(clinic.ModeBusy, func(r *clinic.Region) { r.BusyLimit = 0 }), monday9, 0, 2, false, "full", time.Time{}, nil},
		{"busy under the limit", ca(clinic.ModeBusy), monday9, 2, 2, true, "", time.Time{}, []string{"longer than usual"}},
		{"busy, nobody on shift", ca(clinic.ModeBusy), monday9, 2, 0, true, "", time.Time{}, []string{"longer than usual", "No clinician licensed in California"}},
		{"busy outside hours", ca(clinic.ModeBusy), monday7, 0, 2, false, "closed now", time.Date(2025, 3, 10, 8, 0, 0, 0, loc), nil},
		{"unknown mode admits nobody", ca("closed"), monday9, 0, 2, false, "not taking new patients", time.Time{}, nil},
		{"no location is UTC", clinic.Region{Code: "CA", Mode: clinic.ModeOpen, Hours: hours}, time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC), 0, 1, true, "", time.Time{}, nil},
		{"no name uses the code", clinic.Region{Code: "NV", Mode: clinic.ModePaused}, monday9, 0, 1, false, "NV is not taking", time.Time{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := clinic.Admit(tt.r, tt.now, tt.waiting, tt.onDuty)
			if a.Open != tt.open || !strings.Contains(a.Reason, tt.reason) || (tt.open && a.Reason != "") || !a.NextOpen.Equal(tt.next) {
				t.Errorf("Admit = %+v; want open %v, reason ~%q, next %v", a, tt.open, tt.reason, tt.next)
			}
			if len(tt.notice) == 0 && a.Notice != "" {
				t.Errorf("unexpected notice %q", a.Notice)
			}
			for _, n := range tt.notice {
				if !strings.Contains(a.Notice, n) {
					t.Errorf("notice %q lacks %q", a.Notice, n)
				}
			}
			if err := a.Err(); (err == nil) != tt.open || (err != nil && (!errors.Is(err, clinic.ErrClosed) || !strings.Contains(err.Error(), a.Reason))) {
				t.Errorf("Err() = %v", err)
			}
		})
	}
}
