package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
	db := l.rep.Reader()
	me, err := readStaff(ctx, db, id.User)
	if err != nil {
		return nil, err
	}
	all, regions := clinic.VisibleRegions(id.Role, me.regions)
	rows, err := db.QueryContext(ctx, `SELECT v.id, v.patient_id, v.region, v.status, p.given_name, p.family_name
		FROM visits v LEFT JOIN patients p ON p.id = v.patient_id WHERE v.status IN (?, ?)`, clinic.StatusWaiting, clinic.StatusInVisit)
	if err != nil {
		return nil, fmt.Errorf("read conversations: %w", err)
	}
	var out []Conversation
	var waiting []QueuePatient
	for rows.Next() {
		var cv Conversation
		var patient, region, status, given, family sql.NullString
		if err := rows.Scan(&cv.Visit, &patient, &region, &status, &given, &family); err != nil {
			rows.Close()
			return nil, err
		}
		if !all && !slices.Contains(regions, region.String) {
			continue
		}
		cv.Patient, cv.Region, cv.Status, cv.Name = patient.String, region.String, status.String, fullName(given.String, family.String)
		out = append(out, cv)
		waiting = append(waiting, QueuePatient{Visit: cv.Visit})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	unread, err := c.a.unreadCounts(ctx, db, waiting)
	if err != nil {
		return nil, err
	}
	for i := range out {
		cv := &out[i]
		cv.Unread = unread[cv.Visit]
		var body, role sql.NullString
		var at sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT body, sender_role, sent_at FROM chat_messages WHERE visit_id = ?
			ORDER BY sent_at DESC, id DESC LIMIT 1`, cv.Visit).Scan(&body, &role, &at)
		if err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("read chat: %w", err)
		}
		cv.Last, cv.LastFrom, cv.LastAt = preview(body.String), role.String, at.Int64
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
	db := l.rep.Reader()
	var region, given, family sql.NullString
	err = db.QueryRowContext(ctx, `SELECT v.region, p.given_name, p.family_name FROM visits v LEFT JOIN patients p ON p.id = v.patient_id
		WHERE v.id = ?`, visit).Scan(&region, &given, &family)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no visit %q on this device: it may not have synced yet", visit)
	}
	if err != nil {
		return nil, fmt.Errorf("read visit: %w", err)
	}
	me, err := readStaff(ctx, db, id.User)
	if err != nil {
		return nil, err
	}
	if all, regions := clinic.VisibleRegions(id.Role, me.regions); !all && !slices.Contains(regions, region.String) {
		return nil, fmt.Errorf("%w: this patient is in %s, where you are not licensed", clinic.ErrForbidden, region.String)
	}
	who, err := staffNames(ctx, db)
	if err != nil {
		return nil, err
	}
	return readChat(ctx, db, visit, id.User, who, fullName(given.String, family.String))
}

func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxPreview {
		return s
	}
	r := []rune(s)
	return string(r[:maxPreview-1]) + "…"
}
