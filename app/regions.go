package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"hearth/engine"
	"hearth/engine/clinic"
)

// Regions is the busy toggle and hours of each state the clinic serves.
type Regions struct{ a *App }

// List returns every region with its settings, how many wait, and how many licensed
// providers are on shift.
func (r *Regions) List() ([]RegionSettings, error) {
	l, id, err := r.a.current()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	db := l.rep
	now := r.a.cfg.Now()
	st, err := clinic.LoadState(ctx, l.rep, now, r.a.cfg.TypicalVisit)
	if err != nil {
		return nil, fmt.Errorf("read regions: %w", err)
	}
	regions, err := clinic.ReadRegionSettings(ctx, db)
	if err != nil {
		return nil, err
	}
	who, err := staffNames(ctx, db)
	if err != nil {
		return nil, err
	}
	canEdit := id.Role == clinic.RoleSupport || id.Role == clinic.RoleAdmin
	out := []RegionSettings{}
	for _, g := range regions {
		s := RegionSettings{Code: g.Code, Name: g.Name, Mode: g.Mode, BusyLimit: g.BusyLimit, Hours: g.Hours, TimeZone: g.TimeZone,
			Message: g.Message, UpdatedBy: g.UpdatedBy, UpdatedAt: g.UpdatedAt, CanEdit: canEdit}
		if s.UpdatedBy != "" {
			s.UpdatedByName = who.of(s.UpdatedBy)
		}
		s.Waiting, s.Licensed = st.WaitingIn(s.Code), st.LicensedOnShift(s.Code)
		if reg, ok := st.Regions[s.Code]; ok {
			adm := clinic.Admit(reg, now, s.Waiting, s.Licensed)
			s.Open, s.Admission = adm.Open, adm.Reason
		} else {
			s.Admission = "its settings are not valid: fix them and save"
		}
		out = append(out, s)
	}
	return out, nil
}

// Save changes a region's mode (open, busy, paused), busy limit, hours, time zone and
// message to patients. Only support staff and administrators may; it works offline.
func (r *Regions) Save(in RegionSettings) error {
	l, id, err := r.a.current()
	if err != nil {
		return err
	}
	code := strings.ToUpper(strings.TrimSpace(in.Code))
	if !slices.Contains([]string{clinic.ModeOpen, clinic.ModeBusy, clinic.ModePaused}, in.Mode) {
		return fmt.Errorf("mode must be open, busy or paused")
	}
	values := map[string]any{
		"mode": in.Mode, "busy_limit": int64(in.BusyLimit), "hours": strings.TrimSpace(in.Hours),
		"time_zone": strings.TrimSpace(in.TimeZone), "message": strings.TrimSpace(in.Message),
		"updated_by": id.User, "updated_at": r.a.cfg.Now().UnixMilli(),
	}
	// Check that the settings parse as admission will read them, naming what is wrong.
	row := clinic.Row{"name": in.Name}
	for k, v := range values {
		row[k] = v
	}
	if _, err := clinic.RegionFromRow(code, row); err != nil {
		return err
	}
	if err := r.a.writeChecked(context.Background(), l, id, engine.Mutation{Table: "regions", ID: code, Values: values}); err != nil {
		return fmt.Errorf("save %s: %w", code, err)
	}
	return nil
}
