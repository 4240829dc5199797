package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"text/tabwriter"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/sqlitetenant"
)

const auditHelp = `Usage: hearthctl audit verify --data DIR --tenant T
       hearthctl audit who --data DIR --tenant T --patient ID [--from TIME] [--to TIME] [--json]

Reads a tenant's audit trail in the server's data directory (safe while the server runs).
Every access to a patient's data (intake, claims, caregivers' writes, reads) is an entry the
server links into a hash chain as it stores it.

Subcommands:
  verify   recompute the chain and report the first broken link (exit status 1 if broken)
  who      list who accessed a patient between two times
`

func runAudit(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usagef("audit: want a subcommand: verify or who (see hearthctl audit --help)")
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, c, args[1:])
	case "who":
		return runAuditWho(ctx, c, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.stdout, auditHelp)
		return flag.ErrHelp
	}
	return usagef("audit: unknown subcommand %q: want verify or who", args[0])
}

// openTenantStore opens tenant's store in the data directory, refusing to create one for a
// mistyped tenant or directory.
func openTenantStore(ctx context.Context, cmd, data, tenant string) (*syncserver.Tenant, error) {
	store, err := openStore(ctx, cmd, data, tenant)
	if err != nil {
		return nil, err
	}
	t, err := syncserver.OpenTenant(ctx, tenant, store, nil)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return t, nil
}

// openStore opens tenant's store in the data directory (a SQLite file, the server's default),
// refusing to create one for a mistyped tenant or directory.
func openStore(ctx context.Context, cmd, data, tenant string) (syncserver.TenantStore, error) {
	path := sqlitetenant.Path(data, tenant)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no store for tenant %q in %s (unknown tenant, or nothing synced yet)", cmd, tenant, data)
		}
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	store, err := sqlitetenant.Open(ctx, path, clinic.Schema, sqlitetenant.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: tenant %s: %w", cmd, tenant, err)
	}
	return store, nil
}

func runAuditVerify(ctx context.Context, c *cli, args []string) error {
	f := c.flags("audit verify", `Usage: hearthctl audit verify --data DIR --tenant T

Recomputes tenant T's audit chain from the stored entries. Prints "ok: N links" when every
link verifies and every entry is linked; otherwise prints the first broken link (its number,
the table and row it links, and what is wrong: an entry changed, removed or added outside
the server) and exits with status 1.
`)
	data := dataDirFlag(c, f)
	tenant := f.String("tenant", "", "tenant id (required)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("audit verify: unexpected argument %q", pos[0])
	}
	if err := checkTenantID(*tenant); err != nil {
		return usagef("audit verify: %v", err)
	}
	t, err := openTenantStore(ctx, "audit verify", *data, *tenant)
	if err != nil {
		return err
	}
	defer t.Close()
	rep, err := t.VerifyChain(ctx)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if rep.OK {
		fmt.Fprintf(c.stdout, "ok: %d links\n", rep.Links)
		return nil
	}
	fmt.Fprintf(c.stdout, "broken: link %d (%s/%s): %s\n", rep.BrokenLink, rep.Table, rep.Row, rep.Problem)
	return fmt.Errorf("audit verify: the audit chain of tenant %s is broken at link %d", *tenant, rep.BrokenLink)
}

// auditLine is one entry as hearthctl audit who --json prints it: ids and what was done,
// never patient data.
type auditLine struct {
	At        string `json:"at"` // RFC 3339, UTC, to the millisecond
	Actor     string `json:"actor"`
	ActorRole string `json:"actor_role"`
	Action    string `json:"action"`
	Table     string `json:"table"`
	RecordID  string `json:"record_id"`
	PatientID string `json:"patient_id"`
	Device    string `json:"device"`
	Detail    string `json:"detail,omitempty"`
}

const auditTime = "2006-01-02T15:04:05.000Z07:00"

func runAuditWho(ctx context.Context, c *cli, args []string) error {
	f := c.flags("audit who", `Usage: hearthctl audit who --data DIR --tenant T --patient ID [--from TIME] [--to TIME] [--json]

Lists who accessed patient ID in tenant T from --from (inclusive) to --to (exclusive),
oldest first: one line per entry with its time (UTC), the actor, their role, the action
(intake, claim, release, read, write), the table and record, and the device. TIME is RFC
3339 (2025-03-01T09:00:00Z) or a date (2025-03-01, midnight UTC); a date given as --to
includes that whole day. Without them: all time. Only ids are printed, never patient data.
`)
	data := dataDirFlag(c, f)
	tenant := f.String("tenant", "", "tenant id (required)")
	patient := f.String("patient", "", "the patient's id (required)")
	fromS := f.String("from", "", "start time, RFC 3339 or YYYY-MM-DD (default: the beginning)")
	toS := f.String("to", "", "end time, RFC 3339 or YYYY-MM-DD (default: now and beyond)")
	asJSON := f.Bool("json", false, "print JSON lines")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("audit who: unexpected argument %q", pos[0])
	}
	if err := checkTenantID(*tenant); err != nil {
		return usagef("audit who: %v", err)
	}
	if *patient == "" {
		return usagef("audit who: --patient is required")
	}
	if !engine.ValidID(*patient) {
		return usagef("audit who: bad patient id %q: 1-64 of A-Z a-z 0-9 _ . : -", *patient)
	}
	from, to, err := auditRange(*fromS, *toS)
	if err != nil {
		return err
	}
	t, err := openTenantStore(ctx, "audit who", *data, *tenant)
	if err != nil {
		return err
	}
	defer t.Close()
	entries, err := clinic.ReadAccesses(ctx, t.Store(), *patient, from, to)
	if err != nil {
		return fmt.Errorf("audit who: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetEscapeHTML(false)
		for _, e := range entries {
			if err := enc.Encode(auditLine{At: e.At.Format(auditTime), Actor: e.Actor, ActorRole: e.ActorRole, Action: e.Action,
				Table: e.Table, RecordID: e.RecordID, PatientID: e.PatientID, Device: e.Device, Detail: e.Detail}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(entries) == 0 {
		fmt.Fprintf(c.stdout, "no accesses to patient %s recorded in that time\n", *patient)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tROLE\tACTION\tRECORD\tDEVICE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s/%s\t%s\n", e.At.Format(auditTime), oneLine(e.Actor), e.ActorRole, e.Action,
			e.Table, e.RecordID, e.Device)
	}
	return tw.Flush()
}

// auditRange reads --from and --to; unset, they span all time.
func auditRange(fromS, toS string) (from, to time.Time, err error) {
	from, to = time.UnixMilli(math.MinInt64), time.UnixMilli(math.MaxInt64)
	if fromS != "" {
		if from, _, err = parseAuditTime("--from", fromS); err != nil {
			return
		}
	}
	if toS != "" {
		var dateOnly bool
		if to, dateOnly, err = parseAuditTime("--to", toS); err != nil {
			return
		}
		if dateOnly {
			to = to.AddDate(0, 0, 1) // the whole day
		}
	}
	if !from.Before(to) {
		err = usagef("audit who: --from must come before --to")
	}
	return
}

func parseAuditTime(name, s string) (t time.Time, dateOnly bool, err error) {
	if t, err = time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, nil
	}
	if t, err = time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, usagef("audit who: %s %q: want RFC 3339 (2025-03-01T09:00:00Z) or a date (2025-03-01)", name, s)
}
