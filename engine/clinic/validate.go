package clinic

import (
	"fmt"
	"time"
)

// validate refuses values the clinic cannot use, whoever writes them: a region whose hours
// do not parse would stop admitting patients, an impossible heart rate would mislead the
// next clinician. Errors wrap ErrInvalid and name the column, not the value.
func (w *write) validate() error {
	if w.ch.Delete {
		return nil
	}
	switch w.t.Name {
	case "visits":
		if w.has("status") && !KnownStatus(w.text("status")) {
			return fmt.Errorf("%w: visits.status must be one of requested, waiting, in_visit, completed, cancelled, no_show", ErrInvalid)
		}
	case "observations":
		return w.validObservation()
	case "regions":
		return w.validRegion()
	case "staff":
		if w.has("on_shift") {
			if n, ok := intOf(w.set["on_shift"]); !ok || (n != 0 && n != 1) {
				return fmt.Errorf("%w: staff.on_shift must be 0 (off shift) or 1 (on shift)", ErrInvalid)
			}
		}
	}
	return nil
}

// validObservation checks a measurement's kind, value and unit, and that it is filed
// against the patient its visit belongs to.
func (w *write) validObservation() error {
	if !w.has("kind") || !w.has("value") || w.set["value"] == nil {
		return fmt.Errorf("%w: an observation needs observations.kind and observations.value", ErrInvalid)
	}
	v, _ := floatOf(w.set["value"])
	unit, err := ValidateObservation(w.text("kind"), v)
	if err != nil {
		return err
	}
	if w.has("unit") && w.text("unit") != unit {
		return fmt.Errorf("%w: observations.unit for %s must be %q", ErrInvalid, w.text("kind"), unit)
	}
	if w.look == nil || !w.has("patient_id") {
		return nil
	}
	visit, ok, err := w.look("visits", w.text("visit_id"))
	if err != nil {
		return fmt.Errorf("check observation's visit: %w", err)
	}
	if ok && textOf(visit["patient_id"]) != w.text("patient_id") {
		return fmt.Errorf("%w: observations.patient_id must be the patient of the visit in observations.visit_id", ErrInvalid)
	}
	return nil
}

// validRegion checks the settings that Admit depends on.
func (w *write) validRegion() error {
	if w.has("mode") {
		switch w.text("mode") {
		case ModeOpen, ModeBusy, ModePaused:
		default:
			return fmt.Errorf("%w: regions.mode must be open, busy or paused", ErrInvalid)
		}
	}
	if w.has("busy_limit") {
		if n, ok := intOf(w.set["busy_limit"]); !ok || n < 0 {
			return fmt.Errorf("%w: regions.busy_limit must be a number of patients, 0 or more", ErrInvalid)
		}
	}
	if w.has("hours") {
		if _, err := ParseHours(w.text("hours")); err != nil {
			return fmt.Errorf("regions.hours: %w", err)
		}
	}
	if w.has("time_zone") && w.text("time_zone") != "" {
		if _, err := time.LoadLocation(w.text("time_zone")); err != nil {
			return fmt.Errorf("%w: regions.time_zone must be an IANA time zone such as America/Los_Angeles", ErrInvalid)
		}
	}
	return nil
}
