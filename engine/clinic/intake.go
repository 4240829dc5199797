package clinic

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Intake is what a patient types to join a queue from the browser, before they have a
// record or a visit. Normalize it before use: the server stores only normalized intakes.
type Intake struct {
	GivenName, FamilyName, BirthDate, Phone, Email, Region, Reason string
	Consent                                                        bool
}

// Normalize trims and canonicalizes every field (names' inner spaces collapsed, phone to its
// digits, email and region case-folded) and validates them, so that matching and display see
// one form whatever was typed. today decides what "in the future" means for the birth date.
// It reports every problem at once, each wrapping ErrInvalid and naming the field (never its
// value), so the form can mark them all; on error in is left unchanged.
func (in *Intake) Normalize(today time.Time) error {
	out := *in
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: "+format, append([]any{ErrInvalid, field}, args...)...))
	}
	out.GivenName, out.FamilyName = collapseSpace(in.GivenName), collapseSpace(in.FamilyName)
	for _, f := range []struct{ name, v string }{{"given name", out.GivenName}, {"family name", out.FamilyName}} {
		if n := utf8.RuneCountInString(f.v); n < 1 || n > 100 {
			bad(f.name, "enter 1 to 100 characters")
		}
	}
	out.BirthDate = strings.TrimSpace(in.BirthDate)
	if err := checkBirthDate(out.BirthDate, today); err != nil {
		bad("birth date", "%v", err)
	}
	out.Phone, out.Email = strings.TrimSpace(in.Phone), strings.ToLower(strings.TrimSpace(in.Email))
	if out.Phone == "" && out.Email == "" {
		bad("phone or email", "enter at least one way to reach the patient")
	}
	if out.Phone != "" {
		p, ok := canonicalPhone(out.Phone)
		if !ok {
			bad("phone", "enter 7 to 15 digits, optionally starting with +")
		}
		out.Phone = p
	}
	if out.Email != "" && !validEmail(out.Email) {
		bad("email", "enter an address such as name@example.com")
	}
	out.Region = strings.ToUpper(strings.TrimSpace(in.Region))
	if !validRegionCode(out.Region) {
		bad("region", "choose the state or region the patient is in now (2 or 3 letters, such as CA)")
	}
	out.Reason = strings.TrimSpace(in.Reason)
	if n := utf8.RuneCountInString(out.Reason); n < 1 || n > 500 {
		bad("reason", "describe the reason for the visit in 1 to 500 characters")
	}
	if !in.Consent {
		bad("consent", "the patient must consent to a virtual visit before joining the queue")
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*in = out
	return nil
}

// checkBirthDate accepts a real YYYY-MM-DD date from 1900-01-01 to today.
func checkBirthDate(s string, today time.Time) error {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("enter a real date as YYYY-MM-DD")
	}
	y, m, dd := today.Date()
	if d.After(time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)) {
		return fmt.Errorf("the date is in the future; check the year")
	}
	if d.Year() < 1900 {
		return fmt.Errorf("the date is before 1900; check the year")
	}
	return nil
}

// canonicalPhone strips spaces, dashes, dots and parentheses and keeps a leading +, so
// "(555) 123-4567" and "555.123.4567" are one number; ok is false unless 7 to 15 digits
// remain and nothing else.
func canonicalPhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	if plus {
		b.WriteByte('+')
		s = s[1:]
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	return b.String(), digits >= 7 && digits <= 15
}

// validEmail is a plausibility check, not RFC 5322: one @, something before it, and a dotted
// domain after it. Whether the address works is only known by writing to it.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.Contains(domain, "@") && !strings.ContainsAny(s, " \t\r\n") &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validRegionCode accepts 2 or 3 uppercase ASCII letters.
func validRegionCode(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// PatientValues are the patients row an intake creates (given_name, family_name,
// birth_date, phone, email, region, created_at), for a write under a new id.
func (in Intake) PatientValues(now time.Time) map[string]any {
	return map[string]any{
		"given_name":  in.GivenName,
		"family_name": in.FamilyName,
		"birth_date":  in.BirthDate,
		"phone":       in.Phone,
		"email":       in.Email,
		"region":      in.Region,
		"created_at":  now.UnixMilli(),
	}
}

// VisitValues are the visits row an intake creates for patientID: waiting in the region's
// queue from now, with the consent the intake recorded.
func (in Intake) VisitValues(patientID string, now time.Time) map[string]any {
	return map[string]any{
		"patient_id":   patientID,
		"region":       in.Region,
		"status":       StatusWaiting,
		"reason":       in.Reason,
		"requested_at": now.UnixMilli(),
		"consent_at":   now.UnixMilli(),
	}
}
