package clinicapi

import (
	"context"
	"fmt"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

// Accesses answers "who accessed patient X between two dates": the audit entries about the
// patient with from <= at < to, oldest first, from a tenant's store (or any reader of the
// clinic schema).
func Accesses(ctx context.Context, r engine.RowReader, patient string, from, to time.Time) ([]clinic.AuditEntry, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "audit_events", Where: []engine.Cond{
		{Col: "patient_id", Op: engine.Eq, Value: patient},
		{Col: "at", Op: engine.Ge, Value: from.UnixMilli()}, {Col: "at", Op: engine.Lt, Value: to.UnixMilli()},
	}, OrderBy: []engine.Order{{Col: "at"}}})
	if err != nil {
		return nil, fmt.Errorf("accesses to patient: %w", err)
	}
	out := make([]clinic.AuditEntry, 0, len(recs))
	for _, rec := range recs {
		text := func(col string) string { s, _ := rec[col].(string); return s }
		at, _ := rec["at"].(int64)
		out = append(out, clinic.AuditEntry{Actor: text("actor"), ActorRole: text("actor_role"), Device: text("device"), Action: text("action"),
			Table: text("tbl"), RecordID: text("record_id"), PatientID: text("patient_id"), At: time.UnixMilli(at).UTC(), Detail: text("detail")})
	}
	return out, nil
}
