package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

func runRegion(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("region", `Usage: hearthctl region --dir R CODE [--name N] [--mode open|busy|paused] [--busy-limit N]
                      [--hours "mon-fri 08:00-18:00"] [--time-zone America/New_York] [--message M]

Writes the settings of region CODE (a state such as CA) in the local replica in R (created if
needed); hearthctl sync sends them. Only the settings given are written; the others keep
their values. A region takes new patients when its mode is open (or busy, up to
--busy-limit waiting) and it is within its hours; paused takes nobody, and patients see
--message.

--hours are comma-separated rules of days and 24-hour times in the region's --time-zone,
such as "mon-fri 08:00-18:00, sat 09:00-13:00" (ranges may wrap: "fri-mon"; "24:00" ends a
day); "" means always open. --time-zone is an IANA name; "" means UTC.

Creating and naming regions is an admin's task; support staff may change an existing
region's mode, limit, hours, time zone and message. The server refuses other writes at sync.
The row records when (updated_at) and by whom (updated_by: the user of the token saved in
R/config.json, if any) it was changed.
`)
	dir := fs.String("dir", "", "local replica directory (required)")
	name := fs.String("name", "", "the region's name, as patients see it (default: the code)")
	mode := fs.String("mode", "", "open, busy or paused")
	busyLimit := fs.Int("busy-limit", 0, "while busy, the most patients that may wait")
	hours := fs.String("hours", "", `opening hours, such as "mon-fri 08:00-18:00" ("" = always open)`)
	zone := fs.String("time-zone", "", `IANA time zone the hours are in, such as America/New_York ("" = UTC)`)
	message := fs.String("message", "", "message shown to patients (such as why the region is paused)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("region: --dir is required")
	}
	if len(pos) != 1 {
		return usagef("region: want one region CODE, such as CA (see hearthctl region --help)")
	}
	code, err := regionCode("region", pos[0])
	if err != nil {
		return err
	}
	given := fs.given()
	vals := map[string]any{}
	if given["name"] {
		vals["name"] = strings.TrimSpace(*name)
	}
	if given["mode"] {
		switch *mode {
		case clinic.ModeOpen, clinic.ModeBusy, clinic.ModePaused:
			vals["mode"] = *mode
		default:
			return usagef("region: unknown --mode %q: want open, busy or paused", *mode)
		}
	}
	if given["busy-limit"] {
		if *busyLimit < 0 {
			return usagef("region: --busy-limit must be 0 or more patients")
		}
		vals["busy_limit"] = int64(*busyLimit)
	}
	if given["hours"] {
		h, err := clinic.ParseHours(*hours)
		if err != nil {
			return usagef("region: --hours: %v", err)
		}
		vals["hours"] = h.String() // canonical: equal hours read equally whatever way they were typed
	}
	if given["time-zone"] {
		tz := strings.TrimSpace(*zone)
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" { // Local differs from device to device
			return usagef("region: --time-zone %q is not a known time zone: use an IANA name such as America/Los_Angeles", *zone)
		}
		vals["time_zone"] = tz
	}
	if given["message"] {
		vals["message"] = strings.TrimSpace(*message)
	}
	if len(vals) == 0 {
		return usagef("region: nothing to write: give at least one of --name, --mode, --busy-limit, --hours, --time-zone, --message")
	}
	written := sortedKeys(vals)
	if err := writeSettings(ctx, *dir, "region", "regions", code, vals, true); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "region %s: wrote %s (run hearthctl sync --dir %s to send it)\n", code, strings.Join(written, ", "), *dir)
	return nil
}

// writeSettings writes one row of a settings table (regions, staff) in the replica in dir,
// stamped with updated_at and, when byUser and the saved token names a user, updated_by.
func writeSettings(ctx context.Context, dir, cmd, table, id string, vals map[string]any, byUser bool) error {
	cfg, err := loadConfig(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	vals["updated_at"] = time.Now().UnixMilli()
	if claims, ok := tokenClaims(cfg.Token); ok && byUser {
		vals["updated_by"] = claims.User
	}
	rep, err := openReplica(ctx, dir, true)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	defer rep.Close()
	if _, err := rep.Write(ctx, engine.Mutation{Table: table, ID: id, Values: vals}); err != nil {
		return fmt.Errorf("%s: write %s/%s: %w", cmd, table, id, err)
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
