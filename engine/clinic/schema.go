package clinic

import "hearth/engine"

// Scope kinds: a visit's rows (the visit, its notes, its chat) belong to scope "visit:<id>",
// which is all a patient's token grants.
const VisitScope = "visit"

// AuditScope holds the audit trail apart from the clinic's scope: a whole-clinic grant does
// not read it, so every device can write entries without every device receiving them all.
const AuditScope = "audit"

// EstimateScope holds a waiting patient's wait-time estimate ("estimate:<visit>"), which the
// server rewrites whenever the queue moves. Only the patient's token grants it: caregivers
// compute the same estimates from their own replica (EstimateWaits), so the stream of updates
// does not reach every caregiver's device.
const EstimateScope = "estimate"

// Migrations are the clinic schema's numbered steps. Append new steps; never edit old ones:
// devices in the field are at every version.
var Migrations = []engine.Migration{
	{Version: 1, Steps: []engine.Step{
		{AddTable: &engine.Table{Name: "patients", Policy: engine.LastWriterWins, Columns: []engine.Column{
			{Name: "given_name", Type: engine.Text},
			{Name: "family_name", Type: engine.Text},
			{Name: "birth_date", Type: engine.Text}, // YYYY-MM-DD
			{Name: "phone", Type: engine.Text},
			{Name: "email", Type: engine.Text},
			{Name: "region", Type: engine.Text},        // state the patient is in, e.g. "CA"
			{Name: "created_at", Type: engine.Integer}, // Unix milliseconds
		}}},
		{AddTable: &engine.Table{Name: "visits", Policy: engine.LastWriterWins, ScopeKind: VisitScope, ScopeColumn: "id", Columns: []engine.Column{
			{Name: "patient_id", Type: engine.Text},
			{Name: "region", Type: engine.Text},
			{Name: "status", Type: engine.Text}, // requested, waiting, in_visit, completed, cancelled, no_show
			{Name: "reason", Type: engine.Text},
			{Name: "provider_id", Type: engine.Text},
			{Name: "requested_at", Type: engine.Integer},
			{Name: "started_at", Type: engine.Integer},
			{Name: "ended_at", Type: engine.Integer},
		}}},
		{AddTable: &engine.Table{Name: "visit_notes", Policy: engine.LastWriterWins, ScopeKind: VisitScope, ScopeColumn: "visit_id", Columns: []engine.Column{
			{Name: "visit_id", Type: engine.Text},
			{Name: "author_id", Type: engine.Text},
			{Name: "body", Type: engine.Text, Note: true},
			{Name: "updated_at", Type: engine.Integer},
		}}},
		{AddTable: &engine.Table{Name: "chat_messages", Policy: engine.AppendOnly, ScopeKind: VisitScope, ScopeColumn: "visit_id", Columns: []engine.Column{
			{Name: "visit_id", Type: engine.Text},
			{Name: "sender_id", Type: engine.Text},
			{Name: "sender_role", Type: engine.Text},
			{Name: "body", Type: engine.Text},
			{Name: "sent_at", Type: engine.Integer},
		}}},
	}},
	{Version: 2, Steps: []engine.Step{
		// A virtual visit needs the patient's recorded consent, and who ended it and why.
		{AddColumn: &engine.AddColumn{Table: "visits", Column: engine.Column{Name: "consent_at", Type: engine.Integer}}}, // Unix ms
		{AddColumn: &engine.AddColumn{Table: "visits", Column: engine.Column{Name: "ended_by", Type: engine.Text}}},      // user id
		{AddColumn: &engine.AddColumn{Table: "visits", Column: engine.Column{Name: "end_reason", Type: engine.Text}}},
		// One row per region a clinic serves (id = region code such as "CA"): its switch
		// between open, busy and paused, and its hours. See Region and Admit.
		{AddTable: &engine.Table{Name: "regions", Policy: engine.LastWriterWins, Columns: []engine.Column{
			{Name: "name", Type: engine.Text},
			{Name: "mode", Type: engine.Text},          // ModeOpen, ModeBusy, ModePaused
			{Name: "busy_limit", Type: engine.Integer}, // most patients waiting while busy
			{Name: "hours", Type: engine.Text},         // ParseHours' format; empty = always open
			{Name: "time_zone", Type: engine.Text},     // IANA name, e.g. "America/Los_Angeles"
			{Name: "message", Type: engine.Text},       // shown to patients
			{Name: "updated_by", Type: engine.Text},
			{Name: "updated_at", Type: engine.Integer},
		}}},
		// One row per caregiver (id = the user id in their token): where a provider may
		// practise and whether they are working now, which is what wait estimates need.
		{AddTable: &engine.Table{Name: "staff", Policy: engine.LastWriterWins, Columns: []engine.Column{
			{Name: "name", Type: engine.Text},
			{Name: "role", Type: engine.Text},
			{Name: "regions", Type: engine.Text},     // comma-separated region codes; see ParseRegions
			{Name: "on_shift", Type: engine.Integer}, // 0 or 1
			{Name: "updated_at", Type: engine.Integer},
		}}},
		// Vital signs and scores taken during a visit: measurements are facts, never edited.
		{AddTable: &engine.Table{Name: "observations", Policy: engine.AppendOnly, ScopeKind: VisitScope, ScopeColumn: "visit_id", Columns: []engine.Column{
			{Name: "visit_id", Type: engine.Text},
			{Name: "patient_id", Type: engine.Text},
			{Name: "kind", Type: engine.Text}, // see ObservationKinds
			{Name: "value", Type: engine.Real},
			{Name: "unit", Type: engine.Text},
			{Name: "recorded_by", Type: engine.Text},
			{Name: "recorded_at", Type: engine.Integer},
		}}},
		// What the server tells a waiting patient about their wait (id = the visit id, so it
		// reaches the patient's browser in the visit's scope).
		{AddTable: &engine.Table{Name: "visit_estimates", Policy: engine.LastWriterWins, ScopeKind: EstimateScope, ScopeColumn: "id", Columns: []engine.Column{
			{Name: "position", Type: engine.Integer}, // 1-based place in its region's queue, 0 when not waiting
			{Name: "wait_ms", Type: engine.Integer},  // -1 = unknown
			{Name: "notice", Type: engine.Text},      // e.g. no licensed provider on shift
			{Name: "computed_at", Type: engine.Integer},
		}}},
		// Who touched which patient's data: every replica writes entries, the server chains
		// them by hash, and only those granted AuditScope read them back.
		{AddTable: &engine.Table{Name: "audit_events", Policy: engine.AppendOnly, Scope: AuditScope, Inbox: true, Chained: true, Columns: []engine.Column{
			{Name: "actor", Type: engine.Text},
			{Name: "actor_role", Type: engine.Text},
			{Name: "device", Type: engine.Text},
			{Name: "action", Type: engine.Text}, // ActionRead, ActionWrite, ...
			{Name: "tbl", Type: engine.Text},
			{Name: "record_id", Type: engine.Text},
			{Name: "patient_id", Type: engine.Text},
			{Name: "at", Type: engine.Integer},  // Unix ms
			{Name: "detail", Type: engine.Text}, // never patient data
		}}},
		// The queries replicas run: the queue by arrival, a patient's visits, a provider's
		// visits, look-up by birth date at intake, one patient's audit trail.
		{AddIndex: &engine.Index{Name: "visits_queue", Table: "visits", Columns: []string{"status", "region", "requested_at"}}},
		{AddIndex: &engine.Index{Name: "visits_patient", Table: "visits", Columns: []string{"patient_id"}}},
		{AddIndex: &engine.Index{Name: "visits_provider", Table: "visits", Columns: []string{"provider_id", "status"}}},
		{AddIndex: &engine.Index{Name: "patients_birth", Table: "patients", Columns: []string{"birth_date"}}},
		{AddIndex: &engine.Index{Name: "audit_patient", Table: "audit_events", Columns: []string{"patient_id", "at"}}},
	}},
	{Version: 3, Steps: []engine.Step{
		// What the desktop's screens read per visit: its chat, its notes and its
		// observations, in a clinic that keeps years of visits.
		{AddIndex: &engine.Index{Name: "chat_visit", Table: "chat_messages", Columns: []string{"visit_id", "sent_at"}}},
		{AddIndex: &engine.Index{Name: "notes_visit", Table: "visit_notes", Columns: []string{"visit_id"}}},
		{AddIndex: &engine.Index{Name: "observations_visit", Table: "observations", Columns: []string{"visit_id", "recorded_at"}}},
		{AddIndex: &engine.Index{Name: "patients_family", Table: "patients", Columns: []string{"family_name", "given_name"}}},
	}},
}

// Schema is the clinic schema at its newest version.
var Schema = engine.MustSchema(Migrations...)
