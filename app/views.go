package app

// The types the UI receives. Wails turns them into TypeScript classes (frontend/src/wailsjs/go/
// models.ts), so the JSON names are the UI's field names. Times are Unix milliseconds (0 for
// none): the UI formats them in the caregiver's own time zone.

// SessionState is who is signed in on this device, and whether the screen is locked.
type SessionState struct {
	SignedIn bool   `json:"signedIn"`
	Locked   bool   `json:"locked"`
	Server   string `json:"server"`
	Clinic   string `json:"clinic"`
	User     string `json:"user"`
	Name     string `json:"name"` // the staff row's name, or the user id until it has synced
	Role     string `json:"role"`
	// LockAfterSec is the inactivity after which the screen locks.
	LockAfterSec int `json:"lockAfterSec"`
	// Problem is why the app could not open what was saved (shown instead of the screens).
	Problem string `json:"problem"`
}

// Settings are what a person may change on the settings screen. They are kept in the app's
// data directory and apply at once.
type Settings struct {
	Server       string `json:"server"`       // the sync server, e.g. http://127.0.0.1:8686
	Clinic       string `json:"clinic"`       // the clinic (tenant) id
	LockAfterSec int    `json:"lockAfterSec"` // 60..3600
}

// SyncStatus is what the online indicator, the pending count and the catch-up bar show.
type SyncStatus struct {
	Online     bool    `json:"online"`
	CatchingUp bool    `json:"catchingUp"`
	Progress   float64 `json:"progress"` // 0..1 while catching up, 1 otherwise
	Pending    int     `json:"pending"`  // local changes the server has not acknowledged
	LastSync   int64   `json:"lastSync"`
	Error      string  `json:"error"`
	Rejected   int     `json:"rejected"`  // local changes the clinic's rules refused, kept for review
	Conflicts  int     `json:"conflicts"` // note versions waiting in the conflict inbox
}

// QueuePatient is one waiting patient on the queue screen.
type QueuePatient struct {
	Visit      string `json:"visit"`
	Patient    string `json:"patient"`
	Name       string `json:"name"`
	BirthDate  string `json:"birthDate"`
	Region     string `json:"region"`
	Reason     string `json:"reason"`
	Since      int64  `json:"since"`
	Position   int    `json:"position"`   // 1-based place in the region's queue
	EstimateMS int64  `json:"estimateMs"` // -1 when unknown (nobody licensed on shift)
	Notice     string `json:"notice"`
	Unread     int    `json:"unread"` // chat messages from the patient not yet read here
}

// RegionQueue is one region's queue as the signed-in caregiver may see it.
type RegionQueue struct {
	Code     string         `json:"code"`
	Name     string         `json:"name"`
	Mode     string         `json:"mode"` // open, busy, paused
	Open     bool           `json:"open"` // within its hours now
	Licensed int            `json:"licensed"`
	Patients []QueuePatient `json:"patients"`
}

// ActiveVisit is a visit the signed-in provider has claimed and not yet ended.
type ActiveVisit struct {
	Visit   string `json:"visit"`
	Patient string `json:"patient"`
	Name    string `json:"name"`
	Region  string `json:"region"`
	Reason  string `json:"reason"`
	Started int64  `json:"started"`
}

// QueueView is the queue screen.
type QueueView struct {
	Regions []RegionQueue `json:"regions"`
	Mine    []ActiveVisit `json:"mine"`
	// CanClaim is false when claiming is impossible now; ClaimBlocked says why.
	CanClaim     bool   `json:"canClaim"`
	ClaimBlocked string `json:"claimBlocked"`
	OnShift      bool   `json:"onShift"`
	AsOf         int64  `json:"asOf"`
}

// Patient is a patient's demographics.
type Patient struct {
	ID         string `json:"id"`
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	BirthDate  string `json:"birthDate"`
	Phone      string `json:"phone"`
	Email      string `json:"email"`
	Region     string `json:"region"`
}

// Note is one visit note.
type Note struct {
	ID         string `json:"id"`
	Author     string `json:"author"`
	AuthorName string `json:"authorName"`
	Body       string `json:"body"`
	UpdatedAt  int64  `json:"updatedAt"`
	Conflicts  int    `json:"conflicts"` // unresolved concurrent versions
}

// Observation is one recorded measurement.
type Observation struct {
	ID             string  `json:"id"`
	Kind           string  `json:"kind"`
	Value          float64 `json:"value"`
	Unit           string  `json:"unit"`
	RecordedBy     string  `json:"recordedBy"`
	RecordedByName string  `json:"recordedByName"`
	RecordedAt     int64   `json:"recordedAt"`
}

// PastVisit is one visit in a patient's chart.
type PastVisit struct {
	ID           string        `json:"id"`
	Status       string        `json:"status"`
	Region       string        `json:"region"`
	Reason       string        `json:"reason"`
	Provider     string        `json:"provider"`
	ProviderName string        `json:"providerName"`
	RequestedAt  int64         `json:"requestedAt"`
	StartedAt    int64         `json:"startedAt"`
	EndedAt      int64         `json:"endedAt"`
	EndReason    string        `json:"endReason"`
	Notes        []Note        `json:"notes"`
	Observations []Observation `json:"observations"`
}

// ChartView is a patient's chart.
type ChartView struct {
	Patient Patient     `json:"patient"`
	Visits  []PastVisit `json:"visits"` // newest first
}

// ChatMessage is one chat message of a visit.
type ChatMessage struct {
	ID         string `json:"id"`
	Sender     string `json:"sender"`
	SenderName string `json:"senderName"`
	SenderRole string `json:"senderRole"`
	Body       string `json:"body"`
	SentAt     int64  `json:"sentAt"`
	Mine       bool   `json:"mine"`
}

// ObservationKind is a kind of measurement the visit screen offers.
type ObservationKind struct {
	Name string  `json:"name"`
	Unit string  `json:"unit"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// VisitView is the visit screen.
type VisitView struct {
	Visit        PastVisit         `json:"visit"`
	Patient      Patient           `json:"patient"`
	Chat         []ChatMessage     `json:"chat"`
	MyNote       Note              `json:"myNote"` // the signed-in caregiver's note ("" id: none yet)
	Kinds        []ObservationKind `json:"kinds"`
	CanEnd       bool              `json:"canEnd"`
	CanRelease   bool              `json:"canRelease"`
	ReleaseBlock string            `json:"releaseBlock"` // why release is unavailable (offline)
}

// Conversation is one patient's chat on the support staff's multi-chat screen.
type Conversation struct {
	Visit    string `json:"visit"`
	Patient  string `json:"patient"`
	Name     string `json:"name"`
	Region   string `json:"region"`
	Status   string `json:"status"`
	Last     string `json:"last"` // the last message, shortened
	LastAt   int64  `json:"lastAt"`
	LastFrom string `json:"lastFrom"` // the last sender's role
	Unread   int    `json:"unread"`
}

// RegionSettings is one region on the busy and hours screen.
type RegionSettings struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Mode      string `json:"mode"`
	BusyLimit int    `json:"busyLimit"`
	Hours     string `json:"hours"`
	TimeZone  string `json:"timeZone"`
	Message   string `json:"message"`
	// Open says whether the region takes new patients now (its mode, hours and busy limit,
	// as the server's intake decides); Admission says why not.
	Open          bool   `json:"open"`
	Admission     string `json:"admission"`
	Waiting       int    `json:"waiting"`
	Licensed      int    `json:"licensed"`
	UpdatedBy     string `json:"updatedBy"`
	UpdatedByName string `json:"updatedByName"`
	UpdatedAt     int64  `json:"updatedAt"`
	CanEdit       bool   `json:"canEdit"`
}

// NoteVersion is one side of a note conflict.
type NoteVersion struct {
	Body       string `json:"body"`
	Author     string `json:"author"` // "" when unknown (a losing version records no author)
	AuthorName string `json:"authorName"`
	At         int64  `json:"at"`
	Version    string `json:"version"`
	Here       bool   `json:"here"` // written on this device
}

// NoteConflict is a visit note edited on two devices at once: the version the note shows and
// a version that lost, both kept until a person resolves them.
type NoteConflict struct {
	Note     string      `json:"note"`
	Visit    string      `json:"visit"`
	Patient  string      `json:"patient"`
	Name     string      `json:"name"`
	Current  NoteVersion `json:"current"`
	Other    NoteVersion `json:"other"`
	Versions int         `json:"versions"` // losing versions in all (usually 1)
}

// RefusedChange is a local change the clinic's rules refused: shown so that a person can
// redo it properly.
type RefusedChange struct {
	Table   string `json:"table"`
	Row     string `json:"row"`
	Code    string `json:"code"`
	Message string `json:"message"`
	At      int64  `json:"at"`
}

// InboxView is the conflict inbox screen.
type InboxView struct {
	Conflicts []NoteConflict  `json:"conflicts"`
	Refused   []RefusedChange `json:"refused"`
}
