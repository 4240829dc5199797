package clinic

import (
	"fmt"

	"hearth/engine"
)

// Actor is who makes a change: the token's user and role, and the device (replica site).
// The server builds it from the verified token, never from what the change says.
type Actor struct{ User, Role, Device string }

// Row is a row's current values by column name (nil when the row does not exist yet). The
// rules read it to judge a change against what it changes (a visit's status, a note's
// author); PatientOf also reads "id" from it.
type Row = map[string]any

// Lookup reads another row's current values (ok=false when it does not exist), for the rules
// that must look past the row being written, such as which patient a visit belongs to.
type Lookup func(table, id string) (row Row, ok bool, err error)

// CheckWrite decides whether actor may make ch given the row's current values (nil when the
// row does not exist yet). The server runs it on every pushed change, and clients run it
// before they write, so a refusal shows at once instead of after a sync. It decides who may
// write what; which scopes a token may reach is the server's separate check, and CheckWrite
// trusts ch.Scope to be one the token was granted.
//
// Refusals wrap ErrForbidden (the role may not), ErrTransition (the visit's status does not
// allow it) or ErrInvalid (a value the clinic cannot use), and name the table and column,
// never a patient's data. look may be nil; the checks that need it are then skipped.
//
// For every role, admins included:
//   - nobody deletes rows of append-only tables (chat, observations, audit);
//   - nobody sets a visit in_visit or changes its provider_id: claims and releases do;
//   - an audit entry names its writer: actor, actor_role and device are the actor's own;
//   - values must be usable: a known status, an observation in range, region settings
//     that parse, on_shift 0 or 1.
//
// Beyond that, admins write anything. Providers: patients (no deletes); visits' status (per
// CheckTransition; ending or releasing only their own visits), reason, ended_at, ended_by,
// end_reason; notes as their author, deleting only their own; observations and chat as
// themselves; their own staff row's on_shift; audit entries. Support: the same for patients,
// visits and chat; the day-to-day settings of existing regions; their own on_shift; audit
// entries. Patients: chat in their own visit as themselves, and cancelling that visit while
// it is requested or waiting. Nothing else.
func CheckWrite(a Actor, ch *engine.Change, current Row, look Lookup) error {
	if ch == nil {
		return fmt.Errorf("%w: no change to check", ErrInvalid)
	}
	if !staffRole(a.Role) && a.Role != RolePatient {
		return fmt.Errorf("%w: the role %q is not one the clinic knows; sign in again", ErrForbidden, a.Role)
	}
	t := Schema.Table(ch.Table)
	if t == nil {
		return fmt.Errorf("%w: %q is not a clinic table; update the app", ErrForbidden, ch.Table)
	}
	var rule tableRule
	if a.Role != RoleAdmin {
		if rule = roleRules[a.Role][t.Name]; rule == nil {
			return fmt.Errorf("%w: as %s, you may not write %s; ask %s", ErrForbidden, a.Role, t.Name, whoToAsk(helper(a.Role)))
		}
	}
	c, err := newWrite(a, t, ch, current, look)
	if err != nil {
		return err
	}
	if err := c.everyone(); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if rule == nil {
		return nil
	}
	return rule(c)
}

// write is one change under judgment, with its values normalized by column name.
type write struct {
	a    Actor
	t    *engine.Table
	ch   *engine.Change
	set  map[string]any // the change's values
	cur  Row
	look Lookup
}

func newWrite(a Actor, t *engine.Table, ch *engine.Change, cur Row, look Lookup) (*write, error) {
	w := &write{a: a, t: t, ch: ch, set: map[string]any{}, cur: cur, look: look}
	if ch.Delete {
		return w, nil
	}
	if len(ch.Cols) != len(ch.Vals) {
		return nil, fmt.Errorf("%w: change to %s has %d columns and %d values", ErrInvalid, t.Name, len(ch.Cols), len(ch.Vals))
	}
	for k, name := range ch.Cols {
		i := t.Col(name)
		if i < 0 {
			return nil, fmt.Errorf("%w: %s has no column %q; update the app", ErrInvalid, t.Name, name)
		}
		v, err := engine.NormalizeValue(t.Columns[i].Type, ch.Vals[k])
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s must be %s", ErrInvalid, t.Name, name, t.Columns[i].Type)
		}
		w.set[name] = v
	}
	return w, nil
}

// insert reports whether the change makes a new row.
func (w *write) insert() bool { return w.cur == nil && !w.ch.Delete }

// has reports whether the change writes col.
func (w *write) has(col string) bool {
	_, ok := w.set[col]
	return ok
}

// text is the text the change writes to col, or "" when it does not write it.
func (w *write) text(col string) string { return textOf(w.set[col]) }

// was is the text col holds now.
func (w *write) was(col string) string { return textOf(w.cur[col]) }

// changes reports whether the change writes col with a value other than its current one.
func (w *write) changes(col string) bool { return w.has(col) && !sameValue(w.set[col], w.cur[col]) }

// only refuses a change that writes any column outside cols.
func (w *write) only(cols ...string) error {
	for _, name := range w.ch.Cols {
		allowed := false
		for _, c := range cols {
			allowed = allowed || c == name
		}
		if !allowed {
			return w.forbid("may not write %s.%s; ask %s", w.t.Name, name, whoToAsk(helper(w.a.Role)))
		}
	}
	return nil
}

// mustBe refuses a change whose col is not want: the columns that say who wrote a row must
// say it was the writer.
func (w *write) mustBe(col, want, who string) error {
	if w.text(col) != want {
		return w.forbid("must write %s.%s as %s", w.t.Name, col, who)
	}
	return nil
}

// forbid builds an ErrForbidden addressed to the actor, naming their role.
func (w *write) forbid(format string, args ...any) error {
	return fmt.Errorf("%w: as %s, you "+format, append([]any{ErrForbidden, roleName(w.a.Role)}, args...)...)
}

// everyone holds the rules no role, admin included, is exempt from.
func (w *write) everyone() error {
	if w.ch.Delete && w.t.Policy == engine.AppendOnly {
		return fmt.Errorf("%w: rows of %s are never deleted: they are a record of what happened", ErrForbidden, w.t.Name)
	}
	switch w.t.Name {
	case "audit_events":
		// An entry's writer is who pushes it: nobody writes entries in another's name.
		if w.text("actor") != w.a.User || w.text("actor_role") != w.a.Role || w.text("device") != w.a.Device {
			return fmt.Errorf("%w: an audit entry must name its writer: actor, actor_role and device must be your own", ErrForbidden)
		}
	case "visits":
		if to := w.text("status"); w.has("status") && to == StatusInVisit && w.was("status") != StatusInVisit {
			return fmt.Errorf("%w: a visit starts only when a provider claims the patient from the queue; claim them there instead of setting visits.status", ErrForbidden)
		}
		if w.changes("provider_id") {
			return fmt.Errorf("%w: a visit's provider changes only by claiming or releasing the patient; do that instead of setting visits.provider_id", ErrForbidden)
		}
	}
	return nil
}

// helper is the role that can do for role what it may not: staff for patients, admins for
// staff.
func helper(role string) string {
	if role == RolePatient {
		return RoleSupport
	}
	return RoleAdmin
}
