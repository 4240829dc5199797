package clinic

import "strings"

// SamePerson decides whether a normalized intake is the patient of an existing patients row,
// so a returning patient keeps one chart. The rule: the same birth date, the same given and
// family names (compared case-insensitively after trimming and collapsing inner spaces),
// and at least one contact in common (the canonical phone, or the email ignoring case).
//
// Name and birth date alone are not enough: two people often share both. Merging two
// people's charts is worse than a duplicate record, which staff can merge later, so a match
// without a shared contact is a new patient.
func SamePerson(existing Row, in Intake) bool {
	same := func(a, b string) bool { return strings.ToLower(collapseSpace(a)) == strings.ToLower(collapseSpace(b)) }
	if strings.TrimSpace(textOf(existing["birth_date"])) != strings.TrimSpace(in.BirthDate) ||
		!same(textOf(existing["given_name"]), in.GivenName) ||
		!same(textOf(existing["family_name"]), in.FamilyName) {
		return false
	}
	if p, ok := canonicalPhone(textOf(existing["phone"])); ok {
		if q, ok := canonicalPhone(in.Phone); ok && p == q {
			return true
		}
	}
	e := strings.ToLower(strings.TrimSpace(textOf(existing["email"])))
	return e != "" && e == strings.ToLower(strings.TrimSpace(in.Email))
}
