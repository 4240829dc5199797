package clinic

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Hours is a region's weekly opening hours, read from the form staff type into the regions
// table: comma-separated rules of days and times, such as "mon-fri 08:00-18:00, sat
// 09:00-13:00". Days are mon..sun, one day or a range (ranges may wrap: "fri-mon"); times
// are 24-hour HH:MM, end after start, "24:00" allowed as an end. Overlapping rules add up.
// The zero Hours, parsed from "", is always open: a clinic that sets no hours closes never.
//
// Hours are wall-clock times in the region's own zone: callers pass times already in the
// region's location, so opening at 08:00 stays 08:00 across daylight-saving changes.
type Hours struct {
	limited bool      // false: always open
	days    [7][]span // by time.Weekday; sorted, merged
}

// span is an open period within one day, in minutes since midnight, end exclusive.
type span struct{ start, end int }

const dayMinutes = 24 * 60

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseHours reads the hours format above. Errors wrap ErrInvalid and quote the rule that
// could not be read, so staff can correct it.
func ParseHours(s string) (Hours, error) {
	var h Hours
	if strings.TrimSpace(s) == "" {
		return h, nil
	}
	h.limited = true
	for _, rule := range strings.Split(s, ",") {
		rule = strings.ToLower(strings.TrimSpace(rule))
		f := strings.Fields(rule)
		if len(f) != 2 {
			return Hours{}, fmt.Errorf("%w: hours rule %q: write days then times, such as \"mon-fri 08:00-18:00\"", ErrInvalid, rule)
		}
		days, err := parseDays(f[0])
		if err != nil {
			return Hours{}, fmt.Errorf("%w: hours rule %q: %v", ErrInvalid, rule, err)
		}
		sp, err := parseSpan(f[1])
		if err != nil {
			return Hours{}, fmt.Errorf("%w: hours rule %q: %v", ErrInvalid, rule, err)
		}
		for _, d := range days {
			h.days[d] = append(h.days[d], sp)
		}
	}
	for d := range h.days {
		h.days[d] = merge(h.days[d])
	}
	return h, nil
}

// parseDays reads "mon" or "fri-mon" into weekdays (as indexes of dayNames).
func parseDays(s string) ([]int, error) {
	from, to, isRange := strings.Cut(s, "-")
	a, b := slices.Index(dayNames[:], from), slices.Index(dayNames[:], to)
	if !isRange {
		b = a
	}
	if a < 0 || b < 0 {
		return nil, fmt.Errorf("days must be mon, tue, wed, thu, fri, sat or sun, or a range such as mon-fri")
	}
	days := []int{a}
	for d := a; d != b; {
		d = (d + 1) % 7
		days = append(days, d)
	}
	return days, nil
}

// parseSpan reads "08:00-18:00".
func parseSpan(s string) (span, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return span{}, fmt.Errorf("times must be a range such as 08:00-18:00")
	}
	a, errA := parseClock(from)
	b, errB := parseClock(to)
	switch {
	case errA != nil || errB != nil || a == dayMinutes:
		return span{}, fmt.Errorf("times must be 24-hour HH:MM, from 00:00 to 24:00")
	case b <= a:
		return span{}, fmt.Errorf("the closing time must come after the opening time")
	}
	return span{a, b}, nil
}

// parseClock reads "HH:MM" into minutes since midnight; "24:00" is the end of the day.
func parseClock(s string) (int, error) {
	var hh, mm int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("bad time")
	}
	for i, c := range []byte(s) {
		if i == 2 {
			continue
		}
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad time")
		}
	}
	hh = int(s[0]-'0')*10 + int(s[1]-'0')
	mm = int(s[3]-'0')*10 + int(s[4]-'0')
	if mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time")
	}
	return hh*60 + mm, nil
}

// merge sorts spans and joins those that overlap or touch.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(x, y span) int { return x.start - y.start })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && s.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// String returns the canonical form: days from Monday, consecutive days with the same
// times as one range, so equal hours print equally whatever way they were typed.
func (h Hours) String() string {
	if !h.limited {
		return ""
	}
	week := []int{1, 2, 3, 4, 5, 6, 0} // Monday first
	var rules []string
	for i := 0; i < len(week); {
		j := i
		for j+1 < len(week) && slices.Equal(h.days[week[j+1]], h.days[week[i]]) {
			j++
		}
		days := dayNames[week[i]]
		if j > i {
			days += "-" + dayNames[week[j]]
		}
		for _, s := range h.days[week[i]] {
			rules = append(rules, fmt.Sprintf("%s %s-%s", days, clock(s.start), clock(s.end)))
		}
		i = j + 1
	}
	return strings.Join(rules, ", ")
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// OpenAt reports whether the hours are open at t (t already in the region's location).
func (h Hours) OpenAt(t time.Time) bool {
	if !h.limited {
		return true
	}
	_, ok := h.spanAt(t)
	return ok
}

// spanAt finds the open period of t's day that contains t's wall-clock time.
func (h Hours) spanAt(t time.Time) (span, bool) {
	sec := t.Hour()*3600 + t.Minute()*60 + t.Second()
	for _, s := range h.days[t.Weekday()] {
		if s.start*60 <= sec && sec < s.end*60 {
			return s, true
		}
	}
	return span{}, false
}

// searchDays bounds how far NextOpen and ClosesAt look: a weekly schedule repeats within
// seven days, and one more covers an opening lost to a daylight-saving jump.
const searchDays = 8

// NextOpen returns the earliest instant at or after t when the hours are open (t itself if
// open), so a patient turned away can be told when to come back. ok is false when the hours
// never open within searchDays days.
func (h Hours) NextOpen(t time.Time) (next time.Time, ok bool) {
	if h.OpenAt(t) {
		return t, true
	}
	y, m, d := t.Date()
	for k := 0; k <= searchDays; k++ {
		for _, s := range h.days[(int(t.Weekday())+k)%7] {
			// A start inside a daylight-saving gap becomes the jump; OpenAt then tells
			// whether that is still within the period.
			c := wallTime(y, m, d+k, s.start, t)
			if !c.Before(t) && h.OpenAt(c) {
				return c, true
			}
		}
	}
	return time.Time{}, false
}

// ClosesAt returns when the open period containing t ends, following periods that run past
// midnight into the next day, so staff can see how long a region stays open. ok is false
// when closed at t, and when open with no end in sight (always-open hours): call OpenAt to
// tell the two apart.
func (h Hours) ClosesAt(t time.Time) (end time.Time, ok bool) {
	if !h.limited {
		return time.Time{}, false
	}
	s, open := h.spanAt(t)
	if !open {
		return time.Time{}, false
	}
	k, stop := 0, s.end
	for stop == dayMinutes {
		next := h.days[(int(t.Weekday())+k+1)%7]
		if len(next) == 0 || next[0].start != 0 {
			break
		}
		if k++; k > searchDays {
			return time.Time{}, false
		}
		stop = next[0].end
	}
	y, m, d := t.Date()
	return wallTime(y, m, d+k, stop, t), true
}

// wallTime is the instant when the wall clock in notBefore's location reads the given
// minute of day y-m-d. When the clocks go back and it reads that twice, it is the reading at
// or after notBefore; when they jump forward over it, it is the jump. time.Date alone gives
// the first reading, and for a skipped time an instant before the jump.
func wallTime(y int, m time.Month, d, minute int, notBefore time.Time) time.Time {
	c := time.Date(y, m, d, minute/60, minute%60, 0, 0, notBefore.Location())
	want := time.Date(y, m, d, minute/60, minute%60, 0, 0, time.UTC)
	got := time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), time.UTC)
	if got.Before(want) { // skipped: the first instant past it is where the zone changes
		if _, end := c.ZoneBounds(); end.After(c) {
			return end
		}
		return c.Add(want.Sub(got))
	}
	if c.Before(notBefore) { // a second reading after the clocks go back?
		if _, end := c.ZoneBounds(); end.After(c) {
			_, now := c.Zone()
			_, next := end.Zone()
			if later := c.Add(time.Duration(now-next) * time.Second); now > next && !later.Before(notBefore) &&
				later.Hour() == c.Hour() && later.Minute() == c.Minute() {
				return later
			}
		}
	}
	return c
}
