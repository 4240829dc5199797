package clinic

import (
	"time"

	"hearth/engine"
)

// Audit actions: what an audit entry records someone did with a patient's data.
const (
	ActionRead    = "read"    // opened or viewed
	ActionWrite   = "write"   // created or changed
	ActionClaim   = "claim"   // took a waiting patient into a visit
	ActionRelease = "release" // gave a visit back to the queue
	ActionIntake  = "intake"  // a patient joined a queue
)

// AuditEntry is one line of the audit trail: who (user, role, device) did what to which
// record of which patient, and when. Detail is free text for context such as "opened from
// the queue"; it must never carry patient data (names, values, notes), because the trail is
// read by people who may not see the chart itself.
type AuditEntry struct {
	Actor, ActorRole, Device, Action, Table, RecordID, PatientID string
	At                                                           time.Time
	Detail                                                       string
}

// Mutation is the write that records the entry in audit_events under a new id, for the
// replica's ordinary write path: the entry then syncs like any row and the server chains it.
// A zero At is stored as 0.
func (a AuditEntry) Mutation() engine.Mutation {
	var at int64
	if !a.At.IsZero() {
		at = a.At.UnixMilli()
	}
	return engine.Mutation{Table: "audit_events", ID: engine.NewID(), Values: map[string]any{
		"actor":      a.Actor,
		"actor_role": a.ActorRole,
		"device":     a.Device,
		"action":     a.Action,
		"tbl":        a.Table,
		"record_id":  a.RecordID,
		"patient_id": a.PatientID,
		"at":         at,
		"detail":     a.Detail,
	}}
}

// AuditFromRow reads an audit_events row back, for the screens and exports that show the
// trail. At is in UTC (zero when stored as 0); missing columns read as empty.
func AuditFromRow(r Row) AuditEntry {
	e := AuditEntry{
		Actor:     textOf(r["actor"]),
		ActorRole: textOf(r["actor_role"]),
		Device:    textOf(r["device"]),
		Action:    textOf(r["action"]),
		Table:     textOf(r["tbl"]),
		RecordID:  textOf(r["record_id"]),
		PatientID: textOf(r["patient_id"]),
		Detail:    textOf(r["detail"]),
	}
	if ms, ok := intOf(r["at"]); ok && ms != 0 {
		e.At = time.UnixMilli(ms).UTC()
	}
	return e
}

// ReadAccess is the entry that records actor reading a record of a patient at at: reads
// change nothing, so without it the trail would not show who looked at a chart.
func ReadAccess(actor Actor, table, recordID, patientID string, at time.Time) AuditEntry {
	return AuditEntry{
		Actor: actor.User, ActorRole: actor.Role, Device: actor.Device,
		Action: ActionRead, Table: table, RecordID: recordID, PatientID: patientID, At: at,
	}
}
