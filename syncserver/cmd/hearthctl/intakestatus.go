package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"hearth/engine/clinic"
)

// regionStatusJSON is one line of hearthctl intake-status --json.
type regionStatusJSON struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Open     bool   `json:"open"`
	Reason   string `json:"reason,omitempty"`
	NextOpen int64  `json:"next_open,omitempty"` // Unix ms
	Notice   string `json:"notice,omitempty"`
	Waiting  int    `json:"waiting"`
}

func runIntakeStatus(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("intake-status", `Usage: hearthctl intake-status --server URL --tenant T [--region CA] [--json]

Shows, as the clinic's public page does, which regions take new patients now: open or
closed, why a closed one is closed (paused, full, outside its hours, with the clinic's
message), when it opens next, how many patients wait, and any notice for patients (such as
no licensed clinician on shift). A public request: no token. Times are UTC.
`)
	sf := addServerFlags(c, fs)
	region := fs.String("region", "", "show only this region (a code such as CA)")
	asJSON := fs.Bool("json", false, "print JSON lines, one per region")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("intake-status: unexpected argument %q", pos[0])
	}
	endpoint, err := sf.check("intake-status")
	if err != nil {
		return err
	}
	var q clinic.IntakeStatusArgs
	if *region != "" {
		if q.Region, err = regionCode("intake-status", *region); err != nil {
			return err
		}
	}
	var regions []clinic.RegionStatus
	if err := publicCall(ctx, endpoint, *sf.timeout, clinic.RequestIntakeStatus, q, &regions); err != nil {
		return requestError("intake-status", err)
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetEscapeHTML(false)
		for _, r := range regions {
			if err := enc.Encode(regionStatusJSON(r)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(regions) == 0 {
		fmt.Fprintln(c.stdout, "no regions: this clinic has not set up any (see hearthctl region)")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tNAME\tSTATUS\tWAITING\tNEXT OPEN\tMESSAGE")
	for _, r := range regions {
		state, msg := "closed", r.Reason
		if r.Open {
			state, msg = "open", r.Notice
		} else if r.Notice != "" {
			msg += " " + r.Notice
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Code, oneLine(r.Name), state, r.Waiting,
			formatMillis(r.NextOpen, "-"), oneLine(msg))
	}
	return tw.Flush()
}
