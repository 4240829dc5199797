// Command hearthctl is Hearth's scriptable client. It manages the sync server's tenants and
// tokens (working on the server's data directory, also while the server runs) and drives a
// local replica directory: write and read rows, sync with the server, show status, conflicts
// and the canonical state hash that shows replicas converged. It also runs the clinic's
// workflow from the command line: a patient's intake, the regions' and staff's settings, the
// queue, claiming and releasing a patient, and the audit trail. Run hearthctl --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// cli is what every subcommand gets: where to write and how to read the environment.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand; each lives in its own file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// commands lists the subcommands in the order --help shows them. It is a function, not a
// package variable, because help refers back to it.
func commands() []command {
	return []command{
		{"tenant", "create or list tenants in the server's data directory", runTenant},
		{"token", "sign a connection token for a user of a tenant", runToken},
		{"put", "write (or delete) a row in a local replica", runPut},
		{"get", "print rows of a local replica as JSON lines", runGet},
		{"sync", "sync a local replica with the server once", runSync},
		{"status", "show a local replica's sync state", runStatus},
		{"conflicts", "list a local replica's unresolved note conflicts", runConflicts},
		{"hash", "print the canonical state hash of a replica or of a tenant on the server", runHash},
		{"intake", "start a patient's on-demand visit, as the clinic's public page does", runIntake},
		{"intake-status", "show which regions take new patients now (public)", runIntakeStatus},
		{"region", "write a region's settings (mode, hours, message) in a local replica", runRegion},
		{"staff", "write a caregiver's staff row (role, licenses, shift) in a local replica", runStaff},
		{"queue", "list the patients waiting, from a local replica", runQueue},
		{"claim", "take a waiting patient into a visit (needs the server)", runClaim},
		{"release", "put a claimed patient back in the queue (needs the server)", runRelease},
		{"audit", "verify a tenant's audit chain, or list who accessed a patient", runAudit},
		{"help", "show help for a command", runHelp},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printUsage(stdout)
		return flag.ErrHelp
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(ctx, c, args[1:])
		}
	}
	return usagef("unknown command %q (commands: %s)", args[0], commandNames())
}

// commandNames lists the subcommands for an error message, so that it never drifts from
// commands().
func commandNames() string {
	var names []string
	for _, cmd := range commands() {
		if cmd.name != "help" {
			names = append(names, cmd.name)
		}
	}
	return strings.Join(names, ", ")
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: hearthctl COMMAND [flags] [arguments]

Manages a Hearth sync server's tenants and tokens, drives local replicas, and runs the
clinic's workflow: intake, regions and staff, the queue, claims and the audit trail.

Commands:
`)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Run "hearthctl COMMAND --help" for a command's flags. Exit status: 0 on success, 1 when the
operation failed, 2 when the command line is wrong, 3 when an intake was not admitted (the
region is closed, paused or full).
`)
}

func runHelp(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		printUsage(c.stdout)
		return nil
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] && cmd.name != "help" {
			return cmd.run(ctx, c, append(args[1:], "--help"))
		}
	}
	return usagef("help: unknown command %q", args[0])
}

// statusError is an outcome a script must tell apart from a failure, with its own exit
// status (such as 3: an intake the clinic did not admit).
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// exitNotAdmitted is the exit status of an intake the clinic did not admit.
const exitNotAdmitted = 3

// exitCode reports err and maps it to the exit status.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	var se *statusError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &se):
		fmt.Fprintf(stderr, "hearthctl: %v\n", err)
		return se.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hearthctl: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "hearthctl: %v\n", err)
		return 1
	}
}
