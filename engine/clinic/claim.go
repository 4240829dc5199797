package clinic

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Claiming and releasing a patient are the only ways a visit enters or leaves in_visit and
// changes provider: they are requests the server runs as compare-and-set in the tenant's
// transaction (two providers must never take one patient), so CheckWrite refuses them as
// ordinary writes. These are the rules the server's handlers and the desktop share.

// CheckClaim decides whether provider a may take the visit whose current row is visit into
// a visit now; licensed are the regions a is licensed in (the staff row's, see
// ParseRegions). Refusals wrap ErrForbidden (not a provider), ErrTransition (no longer
// waiting, e.g. another provider was quicker) or ErrNotLicensed.
func CheckClaim(a Actor, visit Row, licensed []string) error {
	if a.Role != RoleProvider {
		return fmt.Errorf("%w: only providers take patients into a visit; as %s, ask a provider", ErrForbidden, roleName(a.Role))
	}
	if visit == nil {
		return fmt.Errorf("%w: the visit no longer exists; refresh the queue", ErrTransition)
	}
	switch status := textOf(visit["status"]); status {
	case StatusWaiting:
	case StatusInVisit:
		return fmt.Errorf("%w: another provider has already taken this patient (in_visit); pick another from the queue", ErrTransition)
	default:
		return fmt.Errorf("%w: the visit is %s, not waiting, so it cannot be taken; refresh the queue", ErrTransition, roleName(status))
	}
	region := strings.ToUpper(strings.TrimSpace(textOf(visit["region"])))
	if !slices.Contains(ParseRegions(strings.Join(licensed, ",")), region) {
		return fmt.Errorf("%w: you are not licensed in %s, where this patient is; a provider licensed there must take them", ErrNotLicensed, region)
	}
	return nil
}

// ClaimValues are the visit columns a successful claim by a writes.
func ClaimValues(a Actor, now time.Time) map[string]any {
	return map[string]any{"status": StatusInVisit, "provider_id": a.User, "started_at": now.UnixMilli()}
}

// CheckRelease decides whether provider a may give the visit whose current row is visit
// back to the queue: only the provider in the visit may, and only while it is in_visit.
func CheckRelease(a Actor, visit Row) error {
	if a.Role != RoleProvider {
		return fmt.Errorf("%w: only the visit's provider gives a patient back to the queue; as %s, ask them", ErrForbidden, roleName(a.Role))
	}
	if visit == nil || textOf(visit["status"]) != StatusInVisit {
		return fmt.Errorf("%w: the visit is not in progress, so there is nothing to release; refresh the queue", ErrTransition)
	}
	if textOf(visit["provider_id"]) != a.User {
		return fmt.Errorf("%w: this visit is another provider's; only they can release it", ErrForbidden)
	}
	return nil
}

// ReleaseValues are the visit columns a release writes: the patient waits again with no
// provider, keeping their place by their original requested_at.
func ReleaseValues() map[string]any {
	return map[string]any{"status": StatusWaiting, "provider_id": "", "started_at": nil}
}
