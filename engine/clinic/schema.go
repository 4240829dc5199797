// Package clinic declares Hearth's clinical data: the replicated tables that the desktop app,
// the patient's browser and the sync server share. The engine itself knows nothing of clinics.
package clinic

import "hearth/engine"

// Scope kinds: a visit's rows (the visit, its notes, its chat) belong to scope "visit:<id>",
// which is all a patient's token grants.
const VisitScope = "visit"

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
}

// Schema is the clinic schema at its newest version.
var Schema = engine.MustSchema(Migrations...)
