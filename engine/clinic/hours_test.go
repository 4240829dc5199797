package clinic_test

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the tests' zones, whatever the machine has installed

	"hearth/engine/clinic"
)

func TestParseHoursCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"Mon-Fri 08:00-18:00, sat 09:00-13:00", "mon-fri 08:00-18:00, sat 09:00-13:00"},
		{"sat 09:00-13:00,mon 08:00-18:00,  tue-fri   08:00-18:00", "mon-fri 08:00-18:00, sat 09:00-13:00"},
		{"fri-mon 10:00-12:00", "mon 10:00-12:00, fri-sun 10:00-12:00"},
		{"mon 08:00-12:00, mon 11:00-14:00, mon 14:00-15:00", "mon 08:00-15:00"},
		{"mon-fri 13:00-17:00, mon-fri 08:00-12:00", "mon-fri 08:00-12:00, mon-fri 13:00-17:00"},
		{"sun 00:00-24:00", "sun 00:00-24:00"},
		{"mon-sun 00:00-24:00", "mon-sun 00:00-24:00"},
		{"wed-wed 09:00-10:00", "wed 09:00-10:00"},
	}
	for _, tt := range tests {
		h, err := clinic.ParseHours(tt.in)
		if err != nil {
			t.Errorf("ParseHours(%q): %v", tt.in, err)
			continue
		}
		if got := h.String(); got != tt.want {
			t.Errorf("ParseHours(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		if again, err := clinic.ParseHours(h.String()); err != nil || again.String() != h.String() {
			t.Errorf("canonical form %q does not parse back to itself: %q, %v", h.String(), again.String(), err)
		}
	}
}

func TestParseHoursRefuses(t *testing.T) {
	for _, in := range []string{
		"mon",
		"08:00-18:00",
		"mon 8:00-18:00",
		"mon 08:00-08:00",
		"mon 18:00-08:00",
		"mon 24:00-24:00",
		"mon 08:00-24:01",
		"mon 08:00-25:00",
		"mon 08:60-09:00",
		"mon 08:00-18:00,",
		"mon-fri 08:00 18:00",
		"monday 08:00-18:00",
		"mon-xyz 08:00-18:00",
		"-fri 08:00-18:00",
		"mon 08:00",
		"mon 0a:00-09:00",
	} {
		if _, err := clinic.ParseHours(in); !errors.Is(err, clinic.ErrInvalid) {
			t.Errorf("ParseHours(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

func mustHours(t *testing.T, s string) clinic.Hours {
	t.Helper()
	h, err := clinic.ParseHours(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func la(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestHoursOpenNextCloses(t *testing.T) {
	loc := la(t)
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, loc) }
	week := "mon-fri 08:00-18:00, sat 09:00-13:00"
	overnight := "fri-sat 20:00-24:00, sat-sun 00:00-06:00"
	never := time.Time{}
	tests := []struct {
		name, hours string
		t           time.Time
		open        bool
		next        time.Time // NextOpen; zero when never
		closes      time.Time // ClosesAt; zero when not ok
	}{
		// 2025-03-10 is a Monday.
		{"before opening", week, at(2025, 3, 10, 7, 59), false, at(2025, 3, 10, 8, 0), never},
		{"at opening", week, at(2025, 3, 10, 8, 0), true, at(2025, 3, 10, 8, 0), at(2025, 3, 10, 18, 0)},
		{"last second", week, at(2025, 3, 10, 17, 59).Add(59 * time.Second), true, at(2025, 3, 10, 17, 59).Add(59 * time.Second), at(2025, 3, 10, 18, 0)},
		{"at closing", week, at(2025, 3, 10, 18, 0), false, at(2025, 3, 11, 8, 0), never},
		{"friday evening", week, at(2025, 3, 14, 18, 30), false, at(2025, 3, 15, 9, 0), never},
		{"saturday afternoon", week, at(2025, 3, 15, 13, 30), false, at(2025, 3, 17, 8, 0), never},
		{"sunday", week, at(2025, 3, 16, 12, 0), false, at(2025, 3, 17, 8, 0), never},
		{"overnight runs past midnight", overnight, at(2025, 3, 14, 22, 0), true, at(2025, 3, 14, 22, 0), at(2025, 3, 15, 6, 0)},
		{"overnight early saturday", overnight, at(2025, 3, 15, 3, 0), true, at(2025, 3, 15, 3, 0), at(2025, 3, 15, 6, 0)},
		{"overnight saturday evening", overnight, at(2025, 3, 15, 21, 0), true, at(2025, 3, 15, 21, 0), at(2025, 3, 16, 6, 0)},
		{"overnight closed", overnight, at(2025, 3, 15, 12, 0), false, at(2025, 3, 15, 20, 0), never},
		{"wrapping range", "fri-mon 10:00-12:00", at(2025, 3, 11, 9, 0), false, at(2025, 3, 14, 10, 0), never},
		{"always open", "", at(2025, 3, 16, 3, 0), true, at(2025, 3, 16, 3, 0), never},
		{"open all week never closes", "mon-sun 00:00-24:00", at(2025, 3, 16, 3, 0), true, at(2025, 3, 16, 3, 0), never},
		{"only earlier today", "mon 08:00-09:00", at(2025, 3, 10, 10, 0), false, at(2025, 3, 17, 8, 0), never},
		// Daylight saving time starts 2025-03-09 at 02:00 in Los Angeles.
		{"dst: closes at wall 04:00", "sun 01:00-04:00", at(2025, 3, 9, 1, 30), true, at(2025, 3, 9, 1, 30), at(2025, 3, 9, 4, 0)},
		{"dst: opening in the gap moves after it", "sun 02:00-05:00", at(2025, 3, 9, 0, 0), false, at(2025, 3, 9, 3, 0), never},
		{"dst: period lost in the gap", "sun 02:00-02:30", at(2025, 3, 9, 0, 0), false, at(2025, 3, 16, 2, 0), never},
		{"dst: opening stays at wall 08:00", week, at(2025, 3, 8, 14, 0), false, at(2025, 3, 10, 8, 0), never},
		{"dst: opening inside the gap is the jump", "sun 02:30-04:00", at(2025, 3, 9, 0, 0), false, at(2025, 3, 9, 3, 0), never},
		{"dst: closing inside the gap is the jump", "sun 01:00-02:30", at(2025, 3, 9, 1, 45), true, at(2025, 3, 9, 1, 45), at(2025, 3, 9, 3, 0)},
		// And ends 2025-11-02: 01:00-02:00 happens twice, first PDT, then PST.
		{"dst end: wall-clock hours", "sun 08:00-10:00", at(2025, 11, 2, 0, 30), false, at(2025, 11, 2, 8, 0), never},
		{"dst end: opening in the second 01:xx", "sun 01:30-03:00", at(2025, 11, 2, 1, 15).Add(time.Hour), false, at(2025, 11, 2, 1, 30).Add(time.Hour), never},
		{"dst end: closing in the second 01:xx", "sun 00:00-01:30", at(2025, 11, 2, 1, 15).Add(time.Hour), true, at(2025, 11, 2, 1, 15).Add(time.Hour), at(2025, 11, 2, 1, 30).Add(time.Hour)},
		{"dst end: closing in the first 01:xx", "sun 00:00-01:30", at(2025, 11, 2, 1, 15), true, at(2025, 11, 2, 1, 15), at(2025, 11, 2, 1, 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHours(t, tt.hours)
			if got := h.OpenAt(tt.t); got != tt.open {
				t.Errorf("OpenAt = %v", got)
			}
			next, ok := h.NextOpen(tt.t)
			if ok != !tt.next.IsZero() || !next.Equal(tt.next) {
				t.Errorf("NextOpen = %v, %v; want %v", next, ok, tt.next)
			}
			if ok && next.Hour() != tt.next.Hour() {
				t.Errorf("NextOpen wall clock %v, want %v", next, tt.next)
			}
			closes, ok := h.ClosesAt(tt.t)
			if ok != !tt.closes.IsZero() || !closes.Equal(tt.closes) {
				t.Errorf("ClosesAt = %v, %v; want %v", closes, ok, tt.closes)
			}
		})
	}
}

func TestHoursSkippedDay(t *testing.T) {
	// A zone can skip a whole day: Samoa skipped Friday 2011-12-30. The next opening is then
	// the next Friday that exists.
	apia, err := time.LoadLocation("Pacific/Apia")
	if err != nil {
		t.Fatal(err)
	}
	h := mustHours(t, "fri 10:00-11:00")
	next, ok := h.NextOpen(time.Date(2011, 12, 29, 12, 0, 0, 0, apia))
	if !ok || next.Weekday() != time.Friday || next.Day() != 6 {
		t.Errorf("NextOpen across the skipped Friday = %v, %v; want Friday 2012-01-06", next, ok)
	}
}
