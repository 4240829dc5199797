package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"hearth/engine"
	"hearth/engine/clinic"
)

// Visits is the visit screen: chat with the patient, the visit note, observations, and
// ending or releasing the visit. The video call takes its place on this screen with the
// video issue.
type Visits struct{ a *App }

// Limits on what a caregiver types.
const (
	maxChat      = 4000  // characters in a chat message
	maxNote      = 20000 // characters in a visit note
	maxEndReason = 500
)

// Open shows a visit and records in the audit trail that the signed-in caregiver opened its
// patient's data. Later refreshes of the same screen use View.
func (v *Visits) Open(visit string) (VisitView, error) { return v.show(visit, true) }

// View refreshes a visit opened with Open.
func (v *Visits) View(visit string) (VisitView, error) { return v.show(visit, false) }

// show reads the visit screen; open records the read, a refresh needs one recorded before.
func (v *Visits) show(visit string, open bool) (VisitView, error) {
	l, id, err := v.a.current()
	if err != nil {
		return VisitView{}, err
	}
	ctx := context.Background()
	view, err := v.a.visitView(ctx, l, id, visit)
	if err != nil {
		return VisitView{}, err
	}
	if err := v.a.checkRead(ctx, l, id, open, "visits", visit, view.Patient.ID, "opened the visit"); err != nil {
		return VisitView{}, err
	}
	return view, nil
}

func (a *App) visitView(ctx context.Context, l *live, id Identity, visit string) (VisitView, error) {
	db := l.rep
	pv, patientID, err := readVisit(ctx, db, visit)
	if err != nil {
		return VisitView{}, err
	}
	conflicted, err := a.conflictCounts(ctx, l)
	if err != nil {
		return VisitView{}, err
	}
	who, err := staffNames(ctx, db)
	if err != nil {
		return VisitView{}, err
	}
	if err := fillVisits(ctx, db, []*PastVisit{&pv}, conflicted, who); err != nil {
		return VisitView{}, err
	}
	view := VisitView{Visit: pv, Kinds: kinds(), Chat: []ChatMessage{}}
	if view.Patient, err = readPatient(ctx, db, patientID); err != nil {
		return VisitView{}, err
	}
	if view.Chat, err = readChat(ctx, db, visit, id.User, who, clinic.FullName(view.Patient.GivenName, view.Patient.FamilyName)); err != nil {
		return VisitView{}, err
	}
	for _, n := range pv.Notes {
		if n.Author == id.User {
			view.MyNote = n
		}
	}
	mine := pv.Provider == id.User && pv.Status == clinic.StatusInVisit
	view.CanEnd = mine
	view.CanRelease = mine
	a.mu.Lock()
	online := a.status.Online
	a.mu.Unlock()
	if mine && !online {
		view.CanRelease, view.ReleaseBlock = false, "Offline: returning a patient to the queue needs the clinic's server."
	}
	return view, nil
}

// SendChat writes a chat message to the visit's patient. It works offline: the message is
// delivered when the connection returns.
func (v *Visits) SendChat(visit, body string) error {
	l, id, err := v.a.current()
	if err != nil {
		return err
	}
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return errors.New("the message is empty")
	case utf8.RuneCountInString(body) > maxChat:
		return fmt.Errorf("the message is longer than %d characters: split it", maxChat)
	}
	ctx := context.Background()
	if _, _, err := readVisit(ctx, l.rep, visit); err != nil {
		return err
	}
	now := v.a.cfg.Now().UnixMilli()
	err = v.a.writeChecked(ctx, l, id, engine.Mutation{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{
		"visit_id": visit, "sender_id": id.User, "sender_role": id.Role, "body": body, "sent_at": now}})
	if err != nil {
		return fmt.Errorf("send the message: %w", err)
	}
	v.a.markRead(visit, now)
	return nil
}

// SaveNote writes the caregiver's note of the visit (a new one when note is ""), and returns
// its id. Offline it is kept and synced later; an edit made elsewhere at the same time is
// never lost, it goes to the conflict inbox.
func (v *Visits) SaveNote(visit, note, body string) (string, error) {
	l, id, err := v.a.current()
	if err != nil {
		return "", err
	}
	if utf8.RuneCountInString(body) > maxNote {
		return "", fmt.Errorf("the note is longer than %d characters", maxNote)
	}
	ctx := context.Background()
	if _, _, err := readVisit(ctx, l.rep, visit); err != nil {
		return "", err
	}
	values := map[string]any{"body": body, "updated_at": v.a.cfg.Now().UnixMilli()}
	if note == "" {
		note = engine.NewID()
		values["visit_id"], values["author_id"] = visit, id.User
	} else if !engine.ValidID(note) {
		return "", fmt.Errorf("no such note %q", note)
	}
	if err := v.a.writeChecked(ctx, l, id, engine.Mutation{Table: "visit_notes", ID: note, Values: values}); err != nil {
		return "", fmt.Errorf("save the note: %w", err)
	}
	return note, nil
}

// AddObservation records a measurement (kind from the visit view's Kinds) in the visit.
func (v *Visits) AddObservation(visit, kind string, value float64) error {
	l, id, err := v.a.current()
	if err != nil {
		return err
	}
	unit, err := clinic.ValidateObservation(kind, value)
	if err != nil {
		return err
	}
	ctx := context.Background()
	_, patient, err := readVisit(ctx, l.rep, visit)
	if err != nil {
		return err
	}
	err = v.a.writeChecked(ctx, l, id, engine.Mutation{Table: "observations", ID: engine.NewID(), Values: map[string]any{
		"visit_id": visit, "patient_id": patient, "kind": kind, "value": value, "unit": unit,
		"recorded_by": id.User, "recorded_at": v.a.cfg.Now().UnixMilli()}})
	if err != nil {
		return fmt.Errorf("record the observation: %w", err)
	}
	return nil
}

// End completes the signed-in provider's visit. It works offline.
func (v *Visits) End(visit, reason string) error {
	l, id, err := v.a.current()
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxEndReason {
		return fmt.Errorf("the reason is longer than %d characters", maxEndReason)
	}
	ctx := context.Background()
	if _, _, err := readVisit(ctx, l.rep, visit); err != nil {
		return err
	}
	err = v.a.writeChecked(ctx, l, id, engine.Mutation{Table: "visits", ID: visit, Values: map[string]any{
		"status": clinic.StatusCompleted, "ended_at": v.a.cfg.Now().UnixMilli(), "ended_by": id.User, "end_reason": reason}})
	if err != nil {
		return fmt.Errorf("end the visit: %w", err)
	}
	return nil
}

// Release gives the visit back to the queue (the patient keeps their place by arrival). It
// needs the server.
func (v *Visits) Release(visit string) error {
	l, _, err := v.a.current()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	return requestError("return the patient to the queue", l.syncer.Request(ctx, clinic.RequestRelease, clinic.VisitArgs{Visit: visit}, nil))
}

// MarkRead records that the visit's chat has been read here up to now.
func (v *Visits) MarkRead(visit string) error {
	if _, _, err := v.a.current(); err != nil {
		return err
	}
	v.a.markRead(visit, v.a.cfg.Now().UnixMilli())
	return nil
}

func (a *App) markRead(visit string, at int64) {
	a.mu.Lock()
	if a.reads[visit] >= at {
		a.mu.Unlock()
		return
	}
	a.reads[visit] = at
	reads := make(map[string]int64, len(a.reads))
	for k, v := range a.reads {
		reads[k] = v
	}
	id := a.id
	a.mu.Unlock()
	if id == nil {
		return
	}
	if err := writeJSON(a.path(readsFile(*id)), reads); err != nil {
		a.log.Warn("save read marks", "err", err)
	}
	a.emitChanged(Changed{Tables: []string{ReadsTable}, Visits: []string{}})
}

// errNotOpened refuses to refresh a screen whose opening was not recorded.
var errNotOpened = errors.New("open the record first: reading a patient's data is recorded in the audit trail")

// recordRead writes the audit entry of a read, once per patient per unlocked session of the
// screen: refreshing an open chart is the same reading.
func (a *App) recordRead(ctx context.Context, l *live, id Identity, table, record, patient, detail string) error {
	if patient == "" {
		return nil
	}
	a.mu.Lock()
	if a.opened == nil {
		a.opened = map[string]bool{}
	}
	seen := a.opened[patient]
	a.opened[patient] = true
	a.mu.Unlock()
	if seen {
		return nil
	}
	e := clinic.ReadAccess(actor(l, id), table, record, patient, a.cfg.Now())
	e.Detail = detail
	if err := a.write(ctx, l, e.Mutation()); err != nil {
		return fmt.Errorf("record the access in the audit trail: %w", err)
	}
	return nil
}

// checkRead records an opening (open) or checks that a refresh follows a recorded one.
func (a *App) checkRead(ctx context.Context, l *live, id Identity, open bool, table, record, patient, detail string) error {
	if open {
		return a.recordRead(ctx, l, id, table, record, patient, detail)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.opened[patient] {
		return errNotOpened
	}
	return nil
}

// readVisit reads one visit (without its notes and observations) and its patient's id.
func readVisit(ctx context.Context, r engine.RowReader, visit string) (PastVisit, string, error) {
	v, ok, err := clinic.ReadVisit(ctx, r, visit)
	if err != nil {
		return PastVisit{}, "", fmt.Errorf("read visit: %w", err)
	}
	if !ok {
		return PastVisit{}, "", fmt.Errorf("no visit %q on this device: it may not have synced yet", visit)
	}
	return pastVisit(v), v.Patient, nil
}

func pastVisit(v clinic.Visit) PastVisit {
	return PastVisit{ID: v.ID, Status: v.Status, Region: v.Region, Reason: v.Reason, Provider: v.Provider, EndReason: v.EndReason,
		RequestedAt: v.RequestedAt, StartedAt: v.StartedAt, EndedAt: v.EndedAt, Notes: []Note{}, Observations: []Observation{}}
}

func readPatient(ctx context.Context, r engine.RowReader, id string) (Patient, error) {
	p, ok, err := clinic.ReadPatient(ctx, r, id)
	if err != nil {
		return Patient{ID: id}, fmt.Errorf("read patient: %w", err)
	}
	if !ok {
		return Patient{ID: id}, fmt.Errorf("no patient %q on this device: it may not have synced yet", id)
	}
	return patientView(p), nil
}

func patientView(p clinic.Patient) Patient {
	return Patient{ID: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName, BirthDate: p.BirthDate, Phone: p.Phone, Email: p.Email, Region: p.Region}
}

// readChat reads a visit's chat, naming caregivers from who and the patient as patientName.
func readChat(ctx context.Context, r engine.RowReader, visit, me string, who names, patientName string) ([]ChatMessage, error) {
	msgs, err := clinic.ReadChat(ctx, r, visit)
	if err != nil {
		return nil, err
	}
	out := make([]ChatMessage, len(msgs))
	for i, m := range msgs {
		out[i] = ChatMessage{ID: m.ID, Sender: m.Sender, SenderRole: m.SenderRole, Body: m.Body, SentAt: m.SentAt,
			Mine: m.Sender == me, SenderName: who.of(m.Sender)}
		if m.SenderRole == clinic.RolePatient && patientName != "" {
			out[i].SenderName = patientName
		}
	}
	return out, nil
}

// fillVisits adds each visit's notes and observations.
func fillVisits(ctx context.Context, r engine.RowReader, visits []*PastVisit, conflicted map[string]int, who names) error {
	for _, pv := range visits {
		if pv.Provider != "" {
			pv.ProviderName = who.of(pv.Provider)
		}
		notes, err := clinic.ReadNotes(ctx, r, pv.ID)
		if err != nil {
			return err
		}
		for _, n := range notes {
			pv.Notes = append(pv.Notes, Note{ID: n.ID, Author: n.Author, AuthorName: who.of(n.Author), Body: n.Body,
				UpdatedAt: n.UpdatedAt, Conflicts: conflicted[n.ID]})
		}
		obs, err := clinic.ReadObservations(ctx, r, pv.ID)
		if err != nil {
			return err
		}
		for _, o := range obs {
			pv.Observations = append(pv.Observations, Observation{ID: o.ID, Kind: o.Kind, Value: o.Value, Unit: o.Unit,
				RecordedBy: o.RecordedBy, RecordedByName: who.of(o.RecordedBy), RecordedAt: o.RecordedAt})
		}
	}
	return nil
}

func kinds() []ObservationKind {
	var out []ObservationKind
	for _, k := range clinic.ObservationKinds() {
		out = append(out, ObservationKind{Name: k.Name, Unit: k.Unit, Min: k.Min, Max: k.Max})
	}
	return out
}
