package app

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"

	"hearth/engine"
	"hearth/engine/clinic"
)

// Inbox is the conflict inbox: visit notes edited on two devices at once, with both
// versions side by side until a clinician settles them, and local changes the clinic's
// rules refused.
type Inbox struct{ a *App }

// View lists the unresolved note conflicts and the refused changes.
func (in *Inbox) View() (InboxView, error) {
	l, id, err := in.a.current()
	if err != nil {
		return InboxView{}, err
	}
	ctx := context.Background()
	db := l.rep
	cs, err := l.rep.Conflicts(ctx, "visit_notes")
	if err != nil {
		return InboxView{}, fmt.Errorf("read conflicts: %w", err)
	}
	view := InboxView{Conflicts: []NoteConflict{}, Refused: []RefusedChange{}}
	who, err := staffNames(ctx, db)
	if err != nil {
		return InboxView{}, err
	}
	byNote := map[string]int{}
	shown := map[string]engine.Version{} // the losing version shown per note
	site := l.rep.SiteID()
	// A version written on this device is its owner's: a replica belongs to one person.
	version := func(text string, v engine.Version) NoteVersion {
		nv := NoteVersion{Body: text, At: v.HLC.Millis(), Version: v.String(), Here: v.Site == site}
		if nv.Here {
			nv.Author, nv.AuthorName = id.User, who.of(id.User)
		}
		return nv
	}
	for _, c := range cs {
		if i, ok := byNote[c.ID]; ok {
			view.Conflicts[i].Versions++
			// Show the newest losing version; the others are listed by count.
			if shown[c.ID].Less(c.Version) {
				shown[c.ID] = c.Version
				view.Conflicts[i].Other = version(c.Text, c.Version)
			}
			continue
		}
		nc := NoteConflict{Note: c.ID, Versions: 1, Other: version(c.Text, c.Version), Current: version("", c.Current)}
		n, _, err := clinic.ReadNote(ctx, db, c.ID)
		if err != nil {
			return InboxView{}, err
		}
		v, _, err := clinic.ReadVisit(ctx, db, n.Visit)
		if err != nil {
			return InboxView{}, err
		}
		p, _, err := clinic.ReadPatient(ctx, db, v.Patient)
		if err != nil {
			return InboxView{}, err
		}
		nc.Visit, nc.Patient, nc.Name = n.Visit, v.Patient, p.Name()
		// The note's row records who wrote the version it shows; a losing version from
		// another device keeps only its text and version, so its author is not recorded.
		nc.Current.Body, nc.Current.Author, nc.Current.AuthorName = n.Body, n.Author, who.of(n.Author)
		byNote[c.ID], shown[c.ID] = len(view.Conflicts), c.Version
		view.Conflicts = append(view.Conflicts, nc)
	}
	rejected, err := l.rep.Rejected(ctx)
	if err != nil {
		return InboxView{}, fmt.Errorf("read refused changes: %w", err)
	}
	for _, r := range rejected {
		view.Refused = append(view.Refused, RefusedChange{Table: r.Change.Table, Row: r.Change.ID,
			Code: r.Code, Message: r.Message, At: millis(r.At)})
	}
	slices.Reverse(view.Refused) // newest first
	return view, nil
}

// Resolve settles a note's conflict with the text the clinician chose or merged: it replaces
// every version, here and, once synced, on every device.
func (in *Inbox) Resolve(note, body string) error {
	l, id, err := in.a.current()
	if err != nil {
		return err
	}
	if !engine.ValidID(note) {
		return fmt.Errorf("no such note %q", note)
	}
	if utf8.RuneCountInString(body) > maxNote {
		return fmt.Errorf("the note is longer than %d characters", maxNote)
	}
	err = in.a.writeChecked(context.Background(), l, id, engine.Mutation{Table: "visit_notes", ID: note, Resolve: true,
		Values: map[string]any{"body": body, "updated_at": in.a.cfg.Now().UnixMilli()}})
	if err != nil {
		return fmt.Errorf("resolve the note: %w", err)
	}
	return nil
}

// conflictCounts returns the unresolved losing versions of each note. The counts are kept
// between calls and recounted when notes change (refreshConflicts): every visit screen shows
// them, and counting reads the store's index of every note.
func (a *App) conflictCounts(ctx context.Context, l *live) (map[string]int, error) {
	a.mu.Lock()
	counts := a.noteConflicts
	a.mu.Unlock()
	if counts != nil {
		return counts, nil
	}
	return a.countConflicts(ctx, l)
}

// countConflicts counts the conflicts in the store and keeps the counts.
func (a *App) countConflicts(ctx context.Context, l *live) (map[string]int, error) {
	cs, err := l.rep.Conflicts(ctx, "visit_notes")
	if err != nil {
		return nil, fmt.Errorf("read conflicts: %w", err)
	}
	out := map[string]int{}
	for _, c := range cs {
		out[c.ID]++
	}
	a.mu.Lock()
	if a.live == l || a.live == nil {
		a.noteConflicts = out
	}
	a.mu.Unlock()
	return out, nil
}
