package clinicapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
)

// checkPush holds every pushed change to the clinic's rules (clinic.CheckWrite), and records an
// audit entry for each write of patient data by a caregiver, in the push's own transaction:
// the write and its audit entry commit together or not at all. The entry's time is when the
// write was made (its HLC), which for a write made offline is earlier than its arrival.
func (s *Service) checkPush(ctx context.Context, rc *syncserver.RequestContext, ch *engine.Change) error {
	a := actor(rc)
	current, _, err := get(ctx, rc, ch.Table, ch.ID)
	if err != nil {
		return err
	}
	look := lookup(ctx, rc)
	if err := clinic.CheckWrite(a, ch, current, look); err != nil {
		return refusal(err)
	}
	if !clinic.PatientData(ch.Table) || a.Role == clinic.RolePatient {
		return nil
	}
	row := current
	if !ch.Delete {
		row = merged(current, ch)
	}
	patient, err := clinic.PatientOf(ch.Table, withID(row, ch.ID), look)
	switch {
	case errors.Is(err, clinic.ErrInvalid):
		patient = "" // a row not (yet) tied to a patient: the write is still recorded
	case err != nil:
		return fmt.Errorf("audit %s/%s: %w", ch.Table, ch.ID, err)
	}
	return writeAudit(rc, clinic.AuditEntry{Actor: a.User, ActorRole: a.Role, Device: a.Device, Action: clinic.ActionWrite,
		Table: ch.Table, RecordID: ch.ID, PatientID: patient, At: time.UnixMilli(ch.HLC.Millis())})
}

// merged is the row as the change would leave it, for finding whom it concerns.
func merged(current clinic.Row, ch *engine.Change) clinic.Row {
	out := clinic.Row{}
	for k, v := range current {
		out[k] = v
	}
	for i, c := range ch.Cols {
		if i < len(ch.Vals) {
			out[c] = ch.Vals[i]
		}
	}
	return out
}

func withID(r clinic.Row, id string) clinic.Row {
	if r == nil {
		r = clinic.Row{}
	}
	r["id"] = id
	return r
}
