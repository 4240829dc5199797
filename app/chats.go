package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"hearth/engine"
	"hearth/engine/clinic"
)

// Chats is the support staff's multi-chat: every waiting or in-visit patient's conversation
// at once, those with unread messages first.
type Chats struct{ a *App }

// maxPreview is how much of the last message the list shows.
const maxPreview = 80

// List returns the conversations of patients waiting or in a visit, in the regions the
// caregiver may see.
func (c *Chats) List() ([]Conversation, error) {
	l, id, err := c.a.current()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	db := l.rep
	me, err := readStaff(ctx, db, id.User)
	if err != nil {
		return nil, err
	}
	all, regions := clinic.VisibleRegions(id.Role, me.regions)
	vs, err := clinic.ReadVisitsIn(ctx, db, clinic.StatusWaiting, clinic.StatusInVisit)
	if err != nil {
		return nil, fmt.Errorf("read conversations: %w", err)
	}
	pats, err := patientsOf(ctx, db, vs)
	if err != nil {
		return nil, fmt.Errorf("read conversations: %w", err)
	}
	var out []Conversation
	var waiting []QueuePatient
	for _, v := range vs {
		if !all && !slices.Contains(regions, v.Region) {
			continue
		}
		out = append(out, Conversation{Visit: v.ID, Patient: v.Patient, Region: v.Region, Status: v.Status, Name: pats[v.Patient].Name()})
		waiting = append(waiting, QueuePatient{Visit: v.ID})
	}
	unread, err := c.a.unreadCounts(ctx, db, waiting)
	if err != nil {
		return nil, err
	}
	for i := range out {
		cv := &out[i]
		cv.Unread = unread[cv.Visit]
		last, _, err := clinic.ReadLastMessage(ctx, db, cv.Visit)
		if err != nil {
			return nil, err
		}
		cv.Last, cv.LastFrom, cv.LastAt = preview(last.Body), last.SenderRole, last.SentAt
	}
	slices.SortStableFunc(out, func(x, y Conversation) int {
		if (x.Unread > 0) != (y.Unread > 0) {
			if x.Unread > 0 {
				return -1
			}
			return 1
		}
		if x.LastAt != y.LastAt {
			return -compare(x.LastAt, y.LastAt)
		}
		return strings.Compare(x.Visit, y.Visit)
	})
	if out == nil {
		out = []Conversation{}
	}
	return out, nil
}

// Chat returns one visit's messages, for a conversation pane. Chat is not chart data: it is
// what support staff and the patient said to each other while waiting.
func (c *Chats) Chat(visit string) ([]ChatMessage, error) {
	l, id, err := c.a.current()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	db := l.rep
	v, err := readVisitOnly(ctx, db, visit)
	if err != nil {
		return nil, err
	}
	p, _, err := clinic.ReadPatient(ctx, db, v.Patient)
	if err != nil {
		return nil, err
	}
	me, err := readStaff(ctx, db, id.User)
	if err != nil {
		return nil, err
	}
	if all, regions := clinic.VisibleRegions(id.Role, me.regions); !all && !slices.Contains(regions, v.Region) {
		return nil, fmt.Errorf("%w: this patient is in %s, where you are not licensed", clinic.ErrForbidden, v.Region)
	}
	who, err := staffNames(ctx, db)
	if err != nil {
		return nil, err
	}
	return readChat(ctx, db, visit, id.User, who, p.Name())
}

// readVisitOnly reads a visit's row, or says it is not on this device.
func readVisitOnly(ctx context.Context, r engine.RowReader, visit string) (clinic.Visit, error) {
	v, ok, err := clinic.ReadVisit(ctx, r, visit)
	if err != nil {
		return v, err
	}
	if !ok {
		return v, fmt.Errorf("no visit %q on this device: it may not have synced yet", visit)
	}
	return v, nil
}

func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxPreview {
		return s
	}
	r := []rune(s)
	return string(r[:maxPreview-1]) + "…"
}
