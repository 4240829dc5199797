package clinic

import (
	"fmt"
	"slices"
	"strings"

	"hearth/engine"
)

// tokenGrant is what a token of one role grants.
type tokenGrant struct {
	// scopes are the scopes an issuer puts in the token; in a per-visit token, oneVisit stands
	// for the id of the visit it is for.
	scopes []string
	// perVisit: the token is for one visit, named when it is issued (a patient's), not for
	// the whole clinic (staff).
	perVisit bool
}

// oneVisit stands, in a per-visit role's scopes, for the visit the token is for.
const oneVisit = "{visit}"

// tokenGrants declares every role a token may carry and the scopes its token grants. A role
// missing here is refused when a token is issued and when it is verified; the server's own
// anonymous role (a connection without a token) is not a token's.
//
// CheckTokenScopes holds a patient's token to exactly these scopes: the visit and its
// estimate, or the visit alone (tokens issued before estimates had their own scope). A staff
// token only has to grant something: it never reaches past its tenant, and tools and tests
// issue staff tokens wider (engine.AllScopes) than the ones listed here.
var tokenGrants = map[string]tokenGrant{
	RoleProvider: {scopes: []string{engine.ClinicScope, VisitScope + ":*"}},
	RoleSupport:  {scopes: []string{engine.ClinicScope, VisitScope + ":*"}},
	RoleAdmin:    {scopes: []string{engine.AllScopes}}, // admins also read the audit trail
	RolePatient:  {scopes: []string{VisitScope + ":" + oneVisit, EstimateScope + ":" + oneVisit}, perVisit: true},
}

// TokenForVisit reports whether a token of role is for one visit, named when it is issued (a
// patient's), rather than for the whole clinic; known is false for a role no token carries.
func TokenForVisit(role string) (perVisit, known bool) {
	g, ok := tokenGrants[role]
	return g.perVisit, ok
}

// TokenScopes returns the scopes a token of role grants: for a per-visit role, those of visit;
// for the others visit is ignored. It returns nil for a role no token carries, and for a
// per-visit role without a valid visit id, which the token signer then refuses.
func TokenScopes(role, visit string) []string {
	g, ok := tokenGrants[role]
	if !ok || (g.perVisit && !engine.ValidID(visit)) {
		return nil
	}
	out := make([]string, len(g.scopes))
	for i, s := range g.scopes {
		out[i] = strings.ReplaceAll(s, oneVisit, visit)
	}
	return out
}

// StaffScopes are what a caregiver's (provider's or support's) token grants: the clinic's
// shared rows and every visit, not the audit trail nor patients' estimates.
func StaffScopes() []string { return TokenScopes(RoleProvider, "") }

// PatientScopes are what a patient's token for one visit grants: the visit's rows and its
// wait-time estimate.
func PatientScopes(visit string) []string { return TokenScopes(RolePatient, visit) }

// CheckTokenScopes is the clinic's role policy for tokens: it returns nil when a token of role
// may grant scopes, and otherwise an error wrapping ErrInvalid that says why. The server's
// token signer runs it on every token it issues or verifies (see tokenGrants for the rules).
func CheckTokenScopes(role string, scopes []string) error {
	g, ok := tokenGrants[role]
	switch {
	case !ok:
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	case len(scopes) == 0:
		return fmt.Errorf("%w: a %s token grants no scope", ErrInvalid, role)
	case !g.perVisit:
		return nil
	}
	// The visit is the one the first scope names; the rest must be that visit's, in order.
	prefix, _, _ := strings.Cut(g.scopes[0], oneVisit)
	visit, ok := strings.CutPrefix(scopes[0], prefix)
	want := TokenScopes(role, visit)
	if !ok || want == nil || len(scopes) > len(want) || !slices.Equal(scopes, want[:len(scopes)]) {
		return fmt.Errorf("%w: a %s token grants exactly one visit's scopes (%s)", ErrInvalid, role, strings.Join(g.scopes, ", "))
	}
	return nil
}
