package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"hearth/engine"
	"hearth/engine/clinic"
)

func runStaff(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("staff", `Usage: hearthctl staff --dir R USER_ID [--name N] [--role provider|support|admin]
                     [--regions CA,NY] [--on-shift true|false]

Writes the staff row of caregiver USER_ID (the user id in their token) in the local replica
in R (created if needed); hearthctl sync sends it. Only the settings given are written; the
others keep their values. A provider may take patients only in the regions they are licensed
in (--regions), and only while on shift; wait estimates count the providers on shift.

Adding staff and recording their role and licenses is an admin's task; caregivers may only
start and end their own shift (--on-shift). The server refuses other writes at sync.
`)
	dir := fs.String("dir", "", "local replica directory (required)")
	name := fs.String("name", "", "the caregiver's name")
	role := fs.String("role", "", "provider, support or admin")
	regions := fs.String("regions", "", `comma-separated region codes the provider is licensed in, such as CA,NY ("" = none)`)
	onShift := fs.String("on-shift", "", "true (on shift) or false (off shift)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if *dir == "" {
		return usagef("staff: --dir is required")
	}
	if len(pos) != 1 {
		return usagef("staff: want one USER_ID (see hearthctl staff --help)")
	}
	user := pos[0]
	if !engine.ValidID(user) {
		return usagef("staff: bad user id %q: 1-64 of A-Z a-z 0-9 _ . : -", user)
	}
	given := fs.given()
	vals := map[string]any{}
	if given["name"] {
		vals["name"] = strings.TrimSpace(*name)
	}
	if given["role"] {
		switch *role {
		case clinic.RoleProvider, clinic.RoleSupport, clinic.RoleAdmin:
			vals["role"] = *role
		default:
			return usagef("staff: unknown --role %q: want provider, support or admin", *role)
		}
	}
	if given["regions"] {
		codes := clinic.ParseRegions(*regions)
		for _, code := range codes {
			if _, err := regionCode("staff: --regions", code); err != nil {
				return err
			}
		}
		vals["regions"] = strings.Join(codes, ",")
	}
	if given["on-shift"] {
		on, err := strconv.ParseBool(*onShift)
		if err != nil {
			return usagef("staff: --on-shift must be true or false, not %q", *onShift)
		}
		vals["on_shift"] = int64(0)
		if on {
			vals["on_shift"] = int64(1)
		}
	}
	if len(vals) == 0 {
		return usagef("staff: nothing to write: give at least one of --name, --role, --regions, --on-shift")
	}
	written := sortedKeys(vals)
	if err := writeSettings(ctx, *dir, "staff", "staff", user, vals, false); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "staff %s: wrote %s (run hearthctl sync --dir %s to send it)\n", user, strings.Join(written, ", "), *dir)
	return nil
}
