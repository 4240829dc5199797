package clinic

// The requests the sync server runs for the clinic (see engine.Request), by name, with their
// arguments and results. Clients (desktop, patient page, hearthctl) and the server share these
// types, so both sides encode the same fields.
const (
	// RequestIntakeStatus (public) tells the clinic's public page which regions take new
	// patients now, and when closed ones open again.
	RequestIntakeStatus = "intake_status"
	// RequestIntake (public) starts an on-demand visit for a patient without an account.
	RequestIntake = "intake"
	// RequestClaim lets a provider take a waiting patient; the server arbitrates, so two
	// providers never get the same patient.
	RequestClaim = "claim"
	// RequestRelease puts a claimed patient back at their place in the queue.
	RequestRelease = "release"
)

// Codes of refusals specific to the clinic's requests (engine.Error.Code).
const (
	CodeNotFound       = "not_found"       // no such visit or region
	CodeAlreadyClaimed = "already_claimed" // another provider has the patient
	CodeNotLicensed    = "not_licensed"    // the provider is not licensed in the patient's region
	CodeOffShift       = "off_shift"       // the provider is not on shift
	CodeBusy           = "busy"            // the provider is already seeing a patient
	CodeTransition     = "transition"      // the visit has moved on (ended, cancelled)
)

// RegionStatus is one region as the public page shows it.
type RegionStatus struct {
	Code     string `msgpack:"code"`
	Name     string `msgpack:"name"`
	Open     bool   `msgpack:"open"`
	Reason   string `msgpack:"reason,omitempty"`
	NextOpen int64  `msgpack:"next_open,omitempty"` // Unix ms; 0 when unknown
	Notice   string `msgpack:"notice,omitempty"`
	Waiting  int    `msgpack:"waiting"`
}

// IntakeStatusArgs selects one region, or all when Region is empty.
type IntakeStatusArgs struct {
	Region string `msgpack:"region,omitempty"`
}

// IntakeResult answers RequestIntake. When Admitted is false nothing was stored and Reason
// and NextOpen say why and when to come back.
type IntakeResult struct {
	Admitted bool   `msgpack:"admitted"`
	Reason   string `msgpack:"reason,omitempty"`
	NextOpen int64  `msgpack:"next_open,omitempty"` // Unix ms
	Notice   string `msgpack:"notice,omitempty"`    // told even when admitted
	Visit    string `msgpack:"visit,omitempty"`
	Patient  string `msgpack:"patient,omitempty"`
	// NewPatient is false when the intake matched an existing patient (see SamePerson).
	NewPatient bool `msgpack:"new_patient,omitempty"`
	// Token is the patient's short-lived token for this one visit; Expires is Unix seconds.
	Token    string `msgpack:"token,omitempty"`
	Expires  int64  `msgpack:"expires,omitempty"`
	Position int    `msgpack:"position,omitempty"`
	WaitMS   int64  `msgpack:"wait_ms"` // -1 when unknown
}

// VisitArgs names the visit a request acts on.
type VisitArgs struct {
	Visit string `msgpack:"visit"`
}

// ClaimResult answers RequestClaim.
type ClaimResult struct {
	Visit     string `msgpack:"visit"`
	Patient   string `msgpack:"patient"`
	StartedAt int64  `msgpack:"started_at"` // Unix ms
}
