package clinic

import (
	"slices"
	"strings"
	"time"
)

// QueueEntry is one waiting patient as the staff queue shows them.
type QueueEntry struct {
	Visit, Patient, Region, Reason string
	Since                          time.Time // joined the queue
	Waited                         time.Duration
}

// SortQueue puts q in arrival order (Since, then Visit id, so every screen shows the same
// order) and fills each Waited as of now; a Since in the future (a skewed clock) counts as
// no wait rather than a negative one.
func SortQueue(q []QueueEntry, now time.Time) {
	slices.SortStableFunc(q, func(a, b QueueEntry) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.Visit, b.Visit)
	})
	for i := range q {
		q[i].Waited = max(now.Sub(q[i].Since), 0)
	}
}

// VisibleRegions says whose queues a caregiver sees: providers only the regions they are
// licensed in (they may not see other patients), support and admins all of them. Other
// roles (patients) see no queue: all=false and no regions.
func VisibleRegions(role string, staffRegions []string) (all bool, regions []string) {
	switch role {
	case RoleSupport, RoleAdmin:
		return true, nil
	case RoleProvider:
		return false, ParseRegions(strings.Join(staffRegions, ","))
	}
	return false, nil
}
