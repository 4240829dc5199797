package main

import (
	"context"
	"fmt"
	"time"

	"hearth/engine/clinic"
)

func runRelease(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("release", `Usage: hearthctl release --dir R VISIT_ID [--timeout 10s]

Puts the patient of VISIT_ID, whom you claimed, back in the queue at their original place
(for instance when the call could not connect), through the replica in R and the server,
token and clinic saved in R/config.json. Like claim it needs a connection (waiting at most
--timeout), then syncs once so R shows the patient waiting again.

Only the visit's own provider releases it; the server refuses others (forbidden) and visits
not in progress (transition), with a message. Exit status 1 when refused or offline.
`)
	dir := fs.String("dir", "", "local replica directory, synced once before (required)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the connection, and for the answer")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	visit, err := visitArg(fs, "release", *dir, *timeout, pos)
	if err != nil {
		return err
	}
	if err := visitRequest(ctx, c, "release", *dir, clinic.RequestRelease, clinic.VisitArgs{Visit: visit}, nil, *timeout); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "released visit %s: the patient waits again at their original place\n", visit)
	return nil
}
