package clinic

import (
	"fmt"
	"slices"
)

// Visit statuses. A visit starts requested or waiting, is claimed into in_visit by one
// provider, and ends completed, cancelled or no_show; ended visits never change again, so
// what a chart says happened stays what happened.
const (
	StatusRequested = "requested"
	StatusWaiting   = "waiting"
	StatusInVisit   = "in_visit"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
	StatusNoShow    = "no_show"
)

// transitions lists, for each allowed (from, to), the roles that may make it.
var transitions = map[[2]string][]string{
	{StatusRequested, StatusWaiting}:   {RoleProvider, RoleSupport, RoleAdmin, RolePatient},
	{StatusRequested, StatusCancelled}: {RoleProvider, RoleSupport, RoleAdmin, RolePatient},
	{StatusWaiting, StatusInVisit}:     {RoleProvider},
	{StatusWaiting, StatusCancelled}:   {RoleSupport, RoleAdmin, RolePatient},
	{StatusWaiting, StatusNoShow}:      {RoleSupport, RoleProvider, RoleAdmin},
	{StatusInVisit, StatusCompleted}:   {RoleProvider},
	{StatusInVisit, StatusNoShow}:      {RoleProvider},
	{StatusInVisit, StatusWaiting}:     {RoleProvider}, // released back to the queue
}

// KnownStatus reports whether s is one of the visit statuses, so that a typo never becomes a
// status no queue or rule knows about.
func KnownStatus(s string) bool {
	switch s {
	case StatusRequested, StatusWaiting, StatusInVisit, StatusCompleted, StatusCancelled, StatusNoShow:
		return true
	}
	return false
}

// Terminal reports whether a visit with this status has ended: nothing may change its status
// again.
func Terminal(status string) bool {
	return status == StatusCompleted || status == StatusCancelled || status == StatusNoShow
}

// CheckTransition decides whether role may move a visit from status from to status to, so
// the desktop, the patient's page and the server refuse the same moves. Writing the same
// status again is always allowed (it changes nothing).
//
// waiting → in_visit is listed for providers, but only the server's claim request may make
// it: the claim is a compare-and-set that stops two providers taking one patient, and
// CheckWrite refuses it as an ordinary write from anyone.
func CheckTransition(from, to, role string) error {
	if from == to {
		return nil
	}
	switch {
	case !KnownStatus(to):
		return fmt.Errorf("%w: %q is not a visit status (from %q); use one of requested, waiting, in_visit, completed, cancelled, no_show", ErrTransition, to, from)
	case Terminal(from):
		return fmt.Errorf("%w: the visit has already ended (%s), so it cannot become %s; start a new visit instead", ErrTransition, from, to)
	}
	roles, ok := transitions[[2]string{from, to}]
	if !ok {
		return fmt.Errorf("%w: a visit cannot go from %s to %s; reload it, it may have changed", ErrTransition, from, to)
	}
	if !slices.Contains(roles, role) {
		return fmt.Errorf("%w: as %s, you may not move a visit from %s to %s; ask %s", ErrForbidden, roleName(role), from, to, whoToAsk(roles[0]))
	}
	return nil
}

// roleName keeps an empty or odd role readable in a message.
func roleName(role string) string {
	if role == "" {
		return "(none)"
	}
	return role
}
