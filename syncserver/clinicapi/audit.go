package clinicapi

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"hearth/engine/clinic"
)

// Accesses answers "who accessed patient X between two dates": the audit entries about the
// patient with from <= at < to, oldest first, from a tenant's store (read-only pool).
func Accesses(ctx context.Context, db *sql.DB, patient string, from, to time.Time) ([]clinic.AuditEntry, error) {
	rows, err := db.QueryContext(ctx, `SELECT actor, actor_role, device, action, tbl, record_id, patient_id, at, detail
		FROM audit_events WHERE patient_id = ? AND at >= ? AND at < ? ORDER BY at, id`, patient, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("accesses to patient: %w", err)
	}
	defer rows.Close()
	var out []clinic.AuditEntry
	for rows.Next() {
		var actor, role, device, action, tbl, rid, pid, detail sql.NullString
		var at int64
		if err := rows.Scan(&actor, &role, &device, &action, &tbl, &rid, &pid, &at, &detail); err != nil {
			return nil, err
		}
		out = append(out, clinic.AuditEntry{Actor: actor.String, ActorRole: role.String, Device: device.String, Action: action.String,
			Table: tbl.String, RecordID: rid.String, PatientID: pid.String, At: time.UnixMilli(at).UTC(), Detail: detail.String})
	}
	return out, rows.Err()
}
