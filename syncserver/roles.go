package syncserver

// RoleAnonymous is the role of a connection without a token (a patient at the clinic's public
// page): it may make the server's public requests (Options.PublicRequests) and nothing else.
// It is the server's own, not one of the domain's roles, and no token carries it.
const RoleAnonymous = "anonymous"
