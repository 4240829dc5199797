package main

import (
	"context"
	"fmt"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

func runClaim(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("claim", `Usage: hearthctl claim --dir R VISIT_ID [--timeout 10s]

Takes the waiting patient of VISIT_ID into a visit with you as their provider, through the
replica in R and the server, token and clinic saved in R/config.json (by hearthctl sync).
The server decides, so two providers never get the same patient: it connects (waiting at
most --timeout), asks the server, then syncs once so R shows the visit in progress. Pending
local changes of R are sent too, as with hearthctl sync.

Claiming needs a connection: offline it fails at once rather than being queued. The server
refuses with a code and a message: already_claimed (another provider has the patient),
not_licensed (you are not licensed in the patient's region), off_shift, busy (you are
already in a visit), transition (the visit has ended or was cancelled), forbidden (only
providers claim). Exit status 1 when refused or offline.
`)
	dir := fs.String("dir", "", "local replica directory, synced once before (required)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the connection, and for the answer")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	visit, err := visitArg(fs, "claim", *dir, *timeout, pos)
	if err != nil {
		return err
	}
	var res clinic.ClaimResult
	if err := visitRequest(ctx, c, "claim", *dir, clinic.RequestClaim, clinic.VisitArgs{Visit: visit}, &res, *timeout); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "claimed visit %s (patient %s): in visit since %s\n", res.Visit, res.Patient, formatMillis(res.StartedAt, "now"))
	return nil
}

// visitArg checks the flags and the one VISIT_ID argument of claim and release.
func visitArg(fs *flagSet, cmd, dir string, timeout time.Duration, pos []string) (string, error) {
	if dir == "" {
		return "", usagef("%s: --dir is required", cmd)
	}
	if timeout <= 0 {
		return "", usagef("%s: --timeout must be positive", cmd)
	}
	if len(pos) != 1 {
		return "", usagef("%s: want one VISIT_ID (see %s --help)", cmd, fs.Name())
	}
	if !engine.ValidID(pos[0]) {
		return "", usagef("%s: bad visit id %q: 1-64 of A-Z a-z 0-9 _ . : -", cmd, pos[0])
	}
	return pos[0], nil
}
