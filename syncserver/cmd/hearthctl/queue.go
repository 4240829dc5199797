package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
)

// queueLine is one waiting patient as hearthctl queue --json prints them.
type queueLine struct {
	Visit     string `json:"visit"`
	Patient   string `json:"patient"`
	Region    string `json:"region"`
	Reason    string `json:"reason"`
	Since     string `json:"since"` // RFC 3339, UTC
	WaitedMS  int64  `json:"waited_ms"`
	Position  int64  `json:"position,omitempty"` // place in the region's queue
	WaitMS    *int64 `json:"wait_ms,omitempty"`  // estimated wait; -1 unknown (nobody licensed on shift)
	Notice    string `json:"notice,omitempty"`
	Estimated string `json:"estimated_at,omitempty"` // when the estimate was computed
}

// estimate is a waiting patient's estimate, computed from the replica.
type estimate struct {
	ok                     bool
	position, waitMS, when int64
	notice                 string
}

func runQueue(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("queue", `Usage: hearthctl queue --dir R [--region CA] [--json]

Lists the patients waiting in the local replica in R, in arrival order (as every screen
shows them): the visit and patient ids, the region, how long each has waited, their place
in the region's queue and their estimated wait (or "unknown", with the notice patients are
given), computed from the replica's queue, staff and regions by the same rules as the
estimate the server sends the patient, and the reason for the visit. It reads the replica as of its
last sync: run hearthctl sync --dir R first for the current queue.
`)
	dir := fs.String("dir", "", "local replica directory (required)")
	region := fs.String("region", "", "only this region's queue (a code such as CA)")
	asJSON := fs.Bool("json", false, "print JSON lines, one per waiting patient")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("queue: unexpected argument %q", pos[0])
	}
	if *dir == "" {
		return usagef("queue: --dir is required")
	}
	code := ""
	if *region != "" {
		if code, err = regionCode("queue", *region); err != nil {
			return err
		}
	}
	rep, err := openReplica(ctx, *dir, false)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	defer rep.Close()
	q, ests, err := readQueue(ctx, rep, code)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	clinic.SortQueue(q, time.Now())

	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetEscapeHTML(false)
		for _, e := range q {
			l := queueLine{Visit: e.Visit, Patient: e.Patient, Region: e.Region, Reason: e.Reason,
				Since: e.Since.UTC().Format(time.RFC3339), WaitedMS: e.Waited.Milliseconds()}
			if est := ests[e.Visit]; est.ok {
				l.Position, l.WaitMS, l.Notice = est.position, &est.waitMS, est.notice
				l.Estimated = formatMillis(est.when, "")
			}
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	}
	if len(q) == 0 {
		if code != "" {
			fmt.Fprintf(c.stdout, "no patients waiting in %s\n", code)
		} else {
			fmt.Fprintln(c.stdout, "no patients waiting")
		}
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tPOS\tVISIT\tPATIENT\tWAITED\tESTIMATE\tREASON\tNOTICE")
	for _, e := range q {
		place, wait, notice := "-", "-", ""
		if est := ests[e.Visit]; est.ok {
			place, wait, notice = strconv.FormatInt(est.position, 10), formatWait(est.waitMS), est.notice
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Region, place, e.Visit, e.Patient,
			formatWaited(e.Waited), wait, oneLine(e.Reason), oneLine(notice))
	}
	return tw.Flush()
}

// typicalVisit is the visit length assumed for a region without finished visits, as the
// server's estimator assumes by default.
const typicalVisit = 15 * time.Minute

// readQueue reads the waiting visits (all regions, or one) from the replica and estimates
// each one's wait from the replica's own copy of the queue, staff and regions: the same rules
// the server uses for the estimate it sends the patient.
func readQueue(ctx context.Context, rep *sqlitestore.Replica, region string) ([]clinic.QueueEntry, map[string]estimate, error) {
	q, err := clinic.ReadQueue(ctx, rep, region)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	st, err := clinic.LoadState(ctx, rep, now, typicalVisit)
	if err != nil {
		return nil, nil, fmt.Errorf("estimate waits: %w", err)
	}
	ests := map[string]estimate{}
	for id, e := range st.Estimates(now, typicalVisit) {
		w := int64(-1)
		if e.Known {
			w = e.Wait.Milliseconds()
		}
		ests[id] = estimate{ok: true, position: int64(e.Position), waitMS: w, when: now.UnixMilli(), notice: e.Notice}
	}
	return q, ests, nil
}
