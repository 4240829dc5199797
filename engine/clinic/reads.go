package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"hearth/engine"
)

// The clinic's reads: what its screens and requests read, written once over any store
// (engine.RowReader), so that the desktop's SQLite replica, the server's tenant store and the
// patient's browser store answer the same way. The queries use the schema's local indexes
// (visits_queue, visits_patient, visits_provider, chat_visit, notes_visit, observations_visit,
// patients_birth, patients_family) where a store has them.

// StaffMember is a caregiver's row in the staff table.
type StaffMember struct {
	ID, Name, Role string
	Regions        []string // licensed regions (providers)
	OnShift        bool
}

// Visit is a visit's row.
type Visit struct {
	ID, Patient, Status, Region, Reason, Provider, EndReason string
	RequestedAt, StartedAt, EndedAt                          int64 // Unix ms, 0 when not set
}

// Patient is a patient's demographics.
type Patient struct {
	ID, GivenName, FamilyName, BirthDate, Phone, Email, Region string
}

// Name is the patient's full name as screens show it.
func (p Patient) Name() string { return FullName(p.GivenName, p.FamilyName) }

// FullName joins a given and a family name.
func FullName(given, family string) string { return strings.TrimSpace(given + " " + family) }

// ChatMessage is one message of a visit's chat.
type ChatMessage struct {
	ID, Visit, Sender, SenderRole, Body string
	SentAt                              int64
}

// VisitNote is a visit's clinical note as it stands (its winning version).
type VisitNote struct {
	ID, Visit, Author, Body string
	UpdatedAt               int64
}

// Observation is one recorded measurement of a visit.
type Observation struct {
	ID, Visit, Kind, Unit, RecordedBy string
	Value                             float64
	RecordedAt                        int64
}

// RegionSettings is a region's row as support staff edit it (unparsed: a region whose settings
// do not parse is shown so that it can be fixed).
type RegionSettings struct {
	Code, Name, Mode, Hours, TimeZone, Message, UpdatedBy string
	BusyLimit                                             int
	UpdatedAt                                             int64
}

func text(r engine.Record, col string) string {
	s, _ := r[col].(string)
	return s
}

func integer(r engine.Record, col string) int64 {
	switch v := r[col].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

func float(r engine.Record, col string) float64 {
	switch v := r[col].(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// get reads one row; ok is false when the store does not hold it.
func get(ctx context.Context, r engine.RowReader, table, id string) (engine.Record, bool, error) {
	rec, err := r.Get(ctx, table, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s %s: %w", table, id, err)
	}
	return rec, true, nil
}

func eq(col string, v any) engine.Cond { return engine.Cond{Col: col, Op: engine.Eq, Value: v} }

// ReadStaff reads a caregiver's staff row; ok is false before it is set up (or synced).
func ReadStaff(ctx context.Context, r engine.RowReader, user string) (s StaffMember, ok bool, err error) {
	rec, ok, err := get(ctx, r, "staff", user)
	if !ok || err != nil {
		return StaffMember{ID: user}, false, err
	}
	return staffOf(rec), true, nil
}

func staffOf(rec engine.Record) StaffMember {
	return StaffMember{ID: text(rec, "id"), Name: text(rec, "name"), Role: text(rec, "role"),
		Regions: ParseRegions(text(rec, "regions")), OnShift: integer(rec, "on_shift") != 0}
}

// ReadStaffNames maps caregivers' user ids to their names (those with a name).
func ReadStaffNames(ctx context.Context, r engine.RowReader) (map[string]string, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "staff"})
	if err != nil {
		return nil, fmt.Errorf("read staff names: %w", err)
	}
	out := make(map[string]string, len(recs))
	for _, rec := range recs {
		if name := text(rec, "name"); name != "" {
			out[text(rec, "id")] = name
		}
	}
	return out, nil
}

func visitOf(rec engine.Record) Visit {
	return Visit{ID: text(rec, "id"), Patient: text(rec, "patient_id"), Status: text(rec, "status"), Region: text(rec, "region"),
		Reason: text(rec, "reason"), Provider: text(rec, "provider_id"), EndReason: text(rec, "end_reason"),
		RequestedAt: integer(rec, "requested_at"), StartedAt: integer(rec, "started_at"), EndedAt: integer(rec, "ended_at")}
}

func visits(ctx context.Context, r engine.RowReader, q engine.Query) ([]Visit, error) {
	q.Table = "visits"
	recs, err := r.Select(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read visits: %w", err)
	}
	out := make([]Visit, len(recs))
	for i, rec := range recs {
		out[i] = visitOf(rec)
	}
	return out, nil
}

// ReadVisit reads one visit; ok is false when the store does not hold it.
func ReadVisit(ctx context.Context, r engine.RowReader, id string) (Visit, bool, error) {
	rec, ok, err := get(ctx, r, "visits", id)
	if !ok || err != nil {
		return Visit{}, false, err
	}
	return visitOf(rec), true, nil
}

// ReadVisitsIn lists the visits in any of the statuses, in arrival order (the queue index).
func ReadVisitsIn(ctx context.Context, r engine.RowReader, statuses ...string) ([]Visit, error) {
	in := make([]any, len(statuses))
	for i, s := range statuses {
		in[i] = s
	}
	return visits(ctx, r, engine.Query{Where: []engine.Cond{{Col: "status", Op: engine.In, Value: in}},
		OrderBy: []engine.Order{{Col: "requested_at"}}})
}

// ReadQueue lists the waiting patients of one region ("" for every region), by region and
// then arrival (the visits_queue index).
func ReadQueue(ctx context.Context, r engine.RowReader, region string) ([]QueueEntry, error) {
	q := engine.Query{Where: []engine.Cond{eq("status", StatusWaiting)},
		OrderBy: []engine.Order{{Col: "region"}, {Col: "requested_at"}}}
	if region != "" {
		q.Where = append(q.Where, eq("region", region))
	}
	vs, err := visits(ctx, r, q)
	if err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	out := make([]QueueEntry, len(vs))
	for i, v := range vs {
		out[i] = QueueEntry{Visit: v.ID, Patient: v.Patient, Region: v.Region, Reason: v.Reason, Since: time.UnixMilli(v.RequestedAt)}
	}
	return out, nil
}

// ReadProviderVisits lists a provider's visits in a status, by when they started.
func ReadProviderVisits(ctx context.Context, r engine.RowReader, provider, status string) ([]Visit, error) {
	return visits(ctx, r, engine.Query{Where: []engine.Cond{eq("provider_id", provider), eq("status", status)},
		OrderBy: []engine.Order{{Col: "started_at"}}})
}

// ReadPatientVisits lists a patient's visits, newest request first.
func ReadPatientVisits(ctx context.Context, r engine.RowReader, patient string) ([]Visit, error) {
	return visits(ctx, r, engine.Query{Where: []engine.Cond{eq("patient_id", patient)},
		OrderBy: []engine.Order{{Col: "requested_at", Desc: true}}})
}

func patientOf(rec engine.Record) Patient {
	return Patient{ID: text(rec, "id"), GivenName: text(rec, "given_name"), FamilyName: text(rec, "family_name"),
		BirthDate: text(rec, "birth_date"), Phone: text(rec, "phone"), Email: text(rec, "email"), Region: text(rec, "region")}
}

// ReadPatient reads one patient; ok is false when the store does not hold them.
func ReadPatient(ctx context.Context, r engine.RowReader, id string) (Patient, bool, error) {
	rec, ok, err := get(ctx, r, "patients", id)
	if !ok || err != nil {
		return Patient{ID: id}, false, err
	}
	return patientOf(rec), true, nil
}

// inChunk bounds the values of one In condition (SQLite's default limit on a statement's
// variables is 32,766; IndexedDB looks each one up).
const inChunk = 400

// ReadPatients reads the patients with the given ids, by id; ids the store lacks are absent.
func ReadPatients(ctx context.Context, r engine.RowReader, ids []string) (map[string]Patient, error) {
	recs, err := readByID(ctx, r, engine.Query{Table: "patients"}, ids)
	if err != nil {
		return nil, fmt.Errorf("read patients: %w", err)
	}
	out := make(map[string]Patient, len(recs))
	for _, rec := range recs {
		p := patientOf(rec)
		out[p.ID] = p
	}
	return out, nil
}

// SearchPatients finds patients by family name prefix, "family, given" prefixes (ignoring
// ASCII case, as people type names), or birth date (YYYY-MM-DD), by name, at most limit.
func SearchPatients(ctx context.Context, r engine.RowReader, query string, limit int) ([]Patient, error) {
	query = strings.TrimSpace(query)
	q := engine.Query{Table: "patients", OrderBy: []engine.Order{{Col: "family_name"}, {Col: "given_name"}}, Limit: limit}
	if IsDate(query) {
		q.Where = []engine.Cond{eq("birth_date", query)}
	} else {
		family, given, _ := strings.Cut(query, ",")
		q.Where = []engine.Cond{
			{Col: "family_name", Op: engine.Prefix, Value: strings.TrimSpace(family)},
			{Col: "given_name", Op: engine.Prefix, Value: strings.TrimSpace(given)},
		}
	}
	recs, err := r.Select(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("search patients: %w", err)
	}
	out := make([]Patient, len(recs))
	for i, rec := range recs {
		out[i] = patientOf(rec)
	}
	return out, nil
}

// IsDate reports whether s has the shape of a date, YYYY-MM-DD.
func IsDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, r := range s {
		if i != 4 && i != 7 && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func chatOf(rec engine.Record) ChatMessage {
	return ChatMessage{ID: text(rec, "id"), Visit: text(rec, "visit_id"), Sender: text(rec, "sender_id"),
		SenderRole: text(rec, "sender_role"), Body: text(rec, "body"), SentAt: integer(rec, "sent_at")}
}

// ReadChat lists a visit's chat messages in the order they were sent.
func ReadChat(ctx context.Context, r engine.RowReader, visit string) ([]ChatMessage, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "chat_messages", Where: []engine.Cond{eq("visit_id", visit)},
		OrderBy: []engine.Order{{Col: "sent_at"}}})
	if err != nil {
		return nil, fmt.Errorf("read chat: %w", err)
	}
	out := make([]ChatMessage, len(recs))
	for i, rec := range recs {
		out[i] = chatOf(rec)
	}
	return out, nil
}

// ReadLastMessage reads a visit's newest chat message; ok is false when there is none.
func ReadLastMessage(ctx context.Context, r engine.RowReader, visit string) (ChatMessage, bool, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "chat_messages", Where: []engine.Cond{eq("visit_id", visit)},
		OrderBy: []engine.Order{{Col: "sent_at", Desc: true}, {Col: "id", Desc: true}}, Limit: 1})
	if err != nil || len(recs) == 0 {
		return ChatMessage{}, false, err
	}
	return chatOf(recs[0]), true, nil
}

// ReadPatientMessageTimes lists, per visit, when the patient sent each of their chat
// messages: unread counts compare them with what a caregiver has read.
func ReadPatientMessageTimes(ctx context.Context, r engine.RowReader, visits []string) (map[string][]int64, error) {
	out := map[string][]int64{}
	err := inChunks(visits, func(in []any) error {
		recs, err := r.Select(ctx, engine.Query{Table: "chat_messages",
			Where: []engine.Cond{{Col: "visit_id", Op: engine.In, Value: in}, eq("sender_role", RolePatient)}})
		if err != nil {
			return fmt.Errorf("read chat: %w", err)
		}
		for _, rec := range recs {
			v := text(rec, "visit_id")
			out[v] = append(out[v], integer(rec, "sent_at"))
		}
		return nil
	})
	return out, err
}

// inChunks calls fn with vals as the values of In conditions, inChunk at a time.
func inChunks(vals []string, fn func(in []any) error) error {
	for len(vals) > 0 {
		part := vals[:min(inChunk, len(vals))]
		vals = vals[len(part):]
		in := make([]any, len(part))
		for i, v := range part {
			in[i] = v
		}
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}

func noteOf(rec engine.Record) VisitNote {
	return VisitNote{ID: text(rec, "id"), Visit: text(rec, "visit_id"), Author: text(rec, "author_id"),
		Body: text(rec, "body"), UpdatedAt: integer(rec, "updated_at")}
}

// ReadNote reads one visit note; ok is false when the store does not hold it.
func ReadNote(ctx context.Context, r engine.RowReader, id string) (VisitNote, bool, error) {
	rec, ok, err := get(ctx, r, "visit_notes", id)
	if !ok || err != nil {
		return VisitNote{}, false, err
	}
	return noteOf(rec), true, nil
}

// ReadNotes lists a visit's notes, oldest edit first.
func ReadNotes(ctx context.Context, r engine.RowReader, visit string) ([]VisitNote, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "visit_notes", Where: []engine.Cond{eq("visit_id", visit)},
		OrderBy: []engine.Order{{Col: "updated_at"}}})
	if err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	out := make([]VisitNote, len(recs))
	for i, rec := range recs {
		out[i] = noteOf(rec)
	}
	return out, nil
}

// ReadObservations lists a visit's observations in the order they were recorded.
func ReadObservations(ctx context.Context, r engine.RowReader, visit string) ([]Observation, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "observations", Where: []engine.Cond{eq("visit_id", visit)},
		OrderBy: []engine.Order{{Col: "recorded_at"}}})
	if err != nil {
		return nil, fmt.Errorf("read observations: %w", err)
	}
	out := make([]Observation, len(recs))
	for i, rec := range recs {
		out[i] = Observation{ID: text(rec, "id"), Visit: text(rec, "visit_id"), Kind: text(rec, "kind"), Unit: text(rec, "unit"),
			RecordedBy: text(rec, "recorded_by"), Value: float(rec, "value"), RecordedAt: integer(rec, "recorded_at")}
	}
	return out, nil
}

// ReadRegionSettings lists every region's settings as stored, by code.
func ReadRegionSettings(ctx context.Context, r engine.RowReader) ([]RegionSettings, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "regions"})
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	out := make([]RegionSettings, len(recs))
	for i, rec := range recs {
		out[i] = RegionSettings{Code: text(rec, "id"), Name: text(rec, "name"), Mode: text(rec, "mode"), Hours: text(rec, "hours"),
			TimeZone: text(rec, "time_zone"), Message: text(rec, "message"), UpdatedBy: text(rec, "updated_by"),
			BusyLimit: int(integer(rec, "busy_limit")), UpdatedAt: integer(rec, "updated_at")}
	}
	return out, nil
}

// MatchPatient finds the patient an intake describes (see SamePerson), among those born on
// its birth date (the patients_birth index keeps this to a handful of rows); ok is false for
// a new patient.
func MatchPatient(ctx context.Context, r engine.RowReader, in Intake) (id string, ok bool, err error) {
	recs, err := r.Select(ctx, engine.Query{Table: "patients", Cols: []string{"given_name", "family_name", "birth_date", "phone", "email"},
		Where: []engine.Cond{eq("birth_date", in.BirthDate)}})
	if err != nil {
		return "", false, fmt.Errorf("match patient: %w", err)
	}
	for _, rec := range recs {
		row := Row{}
		for _, col := range []string{"given_name", "family_name", "birth_date", "phone", "email"} {
			row[col] = text(rec, col) // NULL reads as ""
		}
		if SamePerson(row, in) {
			return text(rec, "id"), true, nil
		}
	}
	return "", false, nil
}

// ReadAccesses answers "who accessed patient X between two dates": the audit entries about
// the patient with from <= at < to, oldest first (the audit_patient index).
func ReadAccesses(ctx context.Context, r engine.RowReader, patient string, from, to time.Time) ([]AuditEntry, error) {
	recs, err := r.Select(ctx, engine.Query{Table: "audit_events", Where: []engine.Cond{
		eq("patient_id", patient),
		{Col: "at", Op: engine.Ge, Value: from.UnixMilli()}, {Col: "at", Op: engine.Lt, Value: to.UnixMilli()},
	}, OrderBy: []engine.Order{{Col: "at"}}})
	if err != nil {
		return nil, fmt.Errorf("accesses to patient: %w", err)
	}
	out := make([]AuditEntry, len(recs))
	for i, rec := range recs {
		out[i] = AuditFromRow(Row(rec))
	}
	return out, nil
}

// ReadEstimates reads the visit_estimates rows of the given visits, by visit; visits without
// one are absent.
func ReadEstimates(ctx context.Context, r engine.RowReader, visits []string) (map[string]Row, error) {
	recs, err := readByID(ctx, r, engine.Query{Table: "visit_estimates"}, visits)
	if err != nil {
		return nil, fmt.Errorf("read estimates: %w", err)
	}
	out := make(map[string]Row, len(recs))
	for id, rec := range recs {
		out[id] = Row(rec)
	}
	return out, nil
}

// readByID runs q for the rows with the given ids, inChunk ids a query, and returns them by id.
func readByID(ctx context.Context, r engine.RowReader, q engine.Query, ids []string) (map[string]engine.Record, error) {
	out := make(map[string]engine.Record, len(ids))
	err := inChunks(ids, func(in []any) error {
		q.Where = []engine.Cond{{Col: "id", Op: engine.In, Value: in}}
		recs, err := r.Select(ctx, q)
		for _, rec := range recs {
			out[text(rec, "id")] = rec
		}
		return err
	})
	return out, err
}
