package clinic

// Roles, as the server's tokens carry them, declared here and nowhere else: the rules in
// CheckWrite, CheckTransition and VisibleRegions are decided by role, and tokenGrants
// (token_scopes.go) says which scopes each role's token grants.
const (
	RoleProvider = "provider" // sees and treats patients in the regions they are licensed in
	RoleSupport  = "support"  // runs the queues and regions, chats with waiting patients
	RoleAdmin    = "admin"    // manages the clinic
	RolePatient  = "patient"  // one visit, nothing else
)

// staffRole reports whether role is one of the clinic's caregiver or admin roles.
func staffRole(role string) bool {
	return role == RoleProvider || role == RoleSupport || role == RoleAdmin
}

// whoToAsk names, for a message, the people in role: "ask a provider".
func whoToAsk(role string) string {
	switch role {
	case RoleProvider:
		return "a provider"
	case RoleSupport:
		return "support staff"
	case RolePatient:
		return "the patient"
	}
	return "an admin"
}
