package clinic

import "strings"

// tableRule judges one role's change to one table, after the rules every role shares.
type tableRule func(w *write) error

// roleRules says, per role, which tables it may write and how. A table missing from a role's
// map is refused outright; admins are not listed because they may write every table.
var roleRules = map[string]map[string]tableRule{
	RolePatient: {
		"chat_messages": patientChat,
		"visits":        patientCancel,
	},
	RoleProvider: {
		"patients":      editPatient,
		"visits":        staffVisit("status", "ended_at", "ended_by", "end_reason", "reason"),
		"visit_notes":   providerNote,
		"observations":  providerObservation,
		"chat_messages": staffChat,
		"staff":         ownShift,
		"audit_events":  allowed,
	},
	RoleSupport: {
		"patients":      editPatient,
		"visits":        staffVisit("status", "ended_at", "ended_by", "end_reason", "reason"),
		"chat_messages": staffChat,
		"regions":       supportRegion,
		"staff":         ownShift,
		"audit_events":  allowed,
	},
}

// allowed is for tables whose only rules are the ones every role shares.
func allowed(*write) error { return nil }

// patientVisit is the visit a patient's change is scoped to: a patient's token grants one.
func (w *write) patientVisit() (string, error) {
	id, ok := strings.CutPrefix(w.ch.Scope, VisitScope+":")
	if !ok || id == "" {
		return "", w.forbid("may write only within your own visit")
	}
	return id, nil
}

// patientChat lets a patient send messages in their own visit, as themselves.
func patientChat(w *write) error {
	visit, err := w.patientVisit()
	if err != nil {
		return err
	}
	if w.text("visit_id") != visit {
		return w.forbid("may send messages only in your own visit")
	}
	if err := w.mustBe("sender_id", w.a.User, "yourself"); err != nil {
		return err
	}
	return w.mustBe("sender_role", RolePatient, RolePatient)
}

// patientCancel lets a patient withdraw their own visit before it starts, and nothing else.
func patientCancel(w *write) error {
	visit, err := w.patientVisit()
	if err != nil {
		return err
	}
	if w.ch.Delete || w.insert() || w.ch.ID != visit {
		return w.forbid("may only cancel your own visit")
	}
	if err := w.only("status"); err != nil {
		return err
	}
	if !w.has("status") || w.text("status") != StatusCancelled {
		return w.forbid("may only cancel your own visit, not change it otherwise")
	}
	return CheckTransition(w.was("status"), StatusCancelled, RolePatient)
}

// editPatient lets staff keep patients' details current; records are never deleted by an
// ordinary write (merging duplicates is an admin's task).
func editPatient(w *write) error {
	if w.ch.Delete {
		return w.forbid("may not delete patients; ask an admin to merge or remove a record")
	}
	return nil
}

// staffVisit lets staff move visits along the workflow and record how they ended. Visits
// are created by intake, never deleted, and once in a visit only your own provider ends or
// releases it.
func staffVisit(cols ...string) tableRule {
	return func(w *write) error {
		switch {
		case w.ch.Delete:
			return w.forbid("may not delete visits; cancel them instead")
		case w.insert():
			return w.forbid("may not create visits directly; visits are created by intake")
		}
		if err := w.only(cols...); err != nil {
			return err
		}
		if w.has("ended_by") {
			if err := w.mustBe("ended_by", w.a.User, "yourself"); err != nil {
				return err
			}
		}
		if !w.has("status") {
			return nil
		}
		from, to := w.was("status"), w.text("status")
		if err := CheckTransition(from, to, w.a.Role); err != nil {
			return err
		}
		if from == StatusInVisit && to != from && w.was("provider_id") != w.a.User {
			return w.forbid("may end or release only your own visits; this visit is another provider's")
		}
		return nil
	}
}

// providerNote lets providers write notes as themselves, edit any note of a visit without
// taking its authorship, and delete only their own.
func providerNote(w *write) error {
	switch {
	case w.ch.Delete:
		if w.was("author_id") != w.a.User {
			return w.forbid("may delete only your own notes")
		}
	case w.insert():
		return w.mustBe("author_id", w.a.User, "yourself")
	case w.changes("author_id"):
		return w.forbid("may not change who wrote a note (visit_notes.author_id)")
	case w.changes("visit_id"):
		return w.forbid("may not move a note to another visit (visit_notes.visit_id)")
	}
	return nil
}

// providerObservation lets providers record measurements as themselves; the values are
// checked by validate for every role.
func providerObservation(w *write) error {
	return w.mustBe("recorded_by", w.a.User, "yourself")
}

// staffChat lets staff send messages as themselves, in their own role.
func staffChat(w *write) error {
	if err := w.mustBe("sender_id", w.a.User, "yourself"); err != nil {
		return err
	}
	return w.mustBe("sender_role", w.a.Role, "your role")
}

// ownShift lets caregivers start and end their own shift; everything else about staff
// (who they are, where they are licensed) is an admin's to record.
func ownShift(w *write) error {
	if w.ch.Delete || w.insert() || w.ch.ID != w.a.User {
		return w.forbid("may only start or end your own shift; ask an admin to add or change staff records")
	}
	return w.only("on_shift", "updated_at")
}

// supportRegion lets support staff run a region day to day (open, busy, paused, hours,
// the message patients see); creating or naming regions is an admin's task.
func supportRegion(w *write) error {
	if w.ch.Delete || w.insert() {
		return w.forbid("may not create or delete regions; ask an admin")
	}
	if err := w.only("mode", "busy_limit", "hours", "time_zone", "message", "updated_by", "updated_at"); err != nil {
		return err
	}
	if w.has("updated_by") {
		return w.mustBe("updated_by", w.a.User, "yourself")
	}
	return nil
}
