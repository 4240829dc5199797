package clinic

import "errors"

// Sentinel errors of the clinic's rules. Each returned error wraps one of them with what was
// refused (table, column, status; never a patient's data), so callers branch with errors.Is
// and show the message as it is.
var (
	// ErrForbidden means the actor's role may not make this change at all: retrying will not
	// help; someone in a role that may must do it.
	ErrForbidden = errors.New("not permitted")
	// ErrInvalid means the input itself is wrong (a malformed date, an unknown kind, a value
	// out of range): the person entering it can correct it and try again.
	ErrInvalid = errors.New("invalid input")
	// ErrTransition means the visit's current status does not allow the requested status:
	// the visit has usually moved on (ended, claimed, cancelled) since the screen was drawn.
	ErrTransition = errors.New("visit status change not allowed")
	// ErrClosed means a region is not taking new patients now (paused, full or outside its
	// hours); the patient can come back later.
	ErrClosed = errors.New("not taking new patients now")
	// ErrNotLicensed means a provider is not licensed in the region the patient is in, so
	// may not see them: another provider must take the visit.
	ErrNotLicensed = errors.New("not licensed in the patient's region")
)
