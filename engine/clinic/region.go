package clinic

import (
	"fmt"
	"strings"
	"time"
)

// Region modes: the switch support staff flip to manage demand. Busy keeps admitting until a
// limit; paused admits nobody whatever the hours.
const (
	ModeOpen   = "open"
	ModeBusy   = "busy"
	ModePaused = "paused"
)

// Region is one region a clinic serves, as admission needs it: the patient is told about
// their own region because providers may only see patients where they are licensed.
type Region struct {
	Code, Name, Mode string
	BusyLimit        int // most patients waiting while busy
	Hours            Hours
	Location         *time.Location // where Hours are read; nil means UTC
	Message          string         // shown to patients
}

// RegionFromRow reads a regions row into a Region. An empty mode reads as open, an empty name
// as the code and an empty time zone as UTC. Loading the zone needs the time zone database:
// the server and desktop have it; a browser build that calls this must import time/tzdata.
// Errors wrap ErrInvalid and name the column.
func RegionFromRow(code string, r Row) (Region, error) {
	g := Region{
		Code:     code,
		Name:     strings.TrimSpace(textOf(r["name"])),
		Mode:     textOf(r["mode"]),
		Message:  textOf(r["message"]),
		Location: time.UTC,
	}
	if g.Name == "" {
		g.Name = code
	}
	switch g.Mode {
	case "":
		g.Mode = ModeOpen
	case ModeOpen, ModeBusy, ModePaused:
	default:
		return Region{}, fmt.Errorf("%w: region %s: regions.mode must be open, busy or paused", ErrInvalid, code)
	}
	if v := r["busy_limit"]; v != nil {
		n, ok := intOf(v)
		if !ok || n < 0 {
			return Region{}, fmt.Errorf("%w: region %s: regions.busy_limit must be a number of patients, 0 or more", ErrInvalid, code)
		}
		g.BusyLimit = int(n)
	}
	var err error
	if g.Hours, err = ParseHours(textOf(r["hours"])); err != nil {
		return Region{}, fmt.Errorf("region %s: regions.hours: %w", code, err)
	}
	if tz := textOf(r["time_zone"]); tz != "" {
		if g.Location, err = time.LoadLocation(tz); err != nil {
			return Region{}, fmt.Errorf("%w: region %s: regions.time_zone %q is not a known time zone; use an IANA name such as America/Los_Angeles", ErrInvalid, code, tz)
		}
	}
	return g, nil
}

// Admission is whether a new patient may join a region's queue now, and what to tell them.
type Admission struct {
	Open     bool      // a new patient may join the queue now
	Reason   string    // why not, for the patient: paused / busy (queue full) / closed (outside hours)
	NextOpen time.Time // when to come back (zero if unknown)
	Notice   string    // told even when admitted, e.g. no licensed clinician is on shift
}

// Err returns nil when admitted, otherwise an error wrapping ErrClosed whose message is the
// Reason, for the intake request to refuse with.
func (a Admission) Err() error {
	if a.Open {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrClosed, a.Reason)
}

// Admit decides whether a new patient may join region r's queue at now, given how many are
// waiting and how many clinicians licensed in r are on shift. In order:
//   - paused: closed, with r.Message if set; NextOpen is the next opening of the hours after
//     now (a guess: staff may resume sooner), zero when the hours never close;
//   - outside the hours: closed until they open;
//   - busy with BusyLimit or more waiting: closed (the queue is full), no NextOpen;
//   - busy under the limit: admitted, told to expect a longer wait;
//   - open: admitted.
//
// A patient admitted while no licensed clinician is on shift is told so. An unknown mode
// admits nobody: a mistyped switch must not open a queue nobody watches.
func Admit(r Region, now time.Time, waiting, licensedOnShift int) Admission {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	name := r.Name
	if name == "" {
		name = r.Code
	}
	var ad Admission
	switch {
	case r.Mode == ModePaused:
		ad.Reason = fmt.Sprintf("%s is not taking new patients right now.", name)
		if m := strings.TrimSpace(r.Message); m != "" {
			ad.Reason += " " + m
		}
		ad.NextOpen = nextOpening(r.Hours, t)
		return ad
	case r.Mode != ModeOpen && r.Mode != ModeBusy && r.Mode != "":
		ad.Reason = fmt.Sprintf("%s is not taking new patients right now. Please try again later.", name)
		return ad
	case !r.Hours.OpenAt(t):
		ad.Reason = fmt.Sprintf("%s is closed now. Please come back during opening hours.", name)
		ad.NextOpen, _ = r.Hours.NextOpen(t)
		return ad
	case r.Mode == ModeBusy && waiting >= r.BusyLimit:
		ad.Reason = fmt.Sprintf("The queue for %s is full right now. Please try again in a little while.", name)
		return ad
	}
	ad.Open = true
	var notes []string
	if r.Mode == ModeBusy {
		notes = append(notes, fmt.Sprintf("%s is busy right now, so waits are longer than usual.", name))
	}
	if licensedOnShift <= 0 {
		notes = append(notes, fmt.Sprintf("No clinician licensed in %s is on shift now; you may wait longer, and you will be told when one is.", name))
	}
	ad.Notice = strings.Join(notes, " ")
	return ad
}

// nextOpening is the first opening strictly after the open period t is in (or, when closed
// at t, the next opening): when a paused region would next open by its hours.
func nextOpening(h Hours, t time.Time) time.Time {
	if h.OpenAt(t) {
		end, ok := h.ClosesAt(t)
		if !ok {
			return time.Time{}
		}
		t = end
	}
	next, _ := h.NextOpen(t)
	return next
}
