// Command hearthctl is Hearth's scriptable client. It manages the sync server's tenants and
// tokens (working on the server's data directory, also while the server runs) and drives a
// local replica directory: write and read rows, sync with the server, show status, conflicts
// and the canonical state hash that shows replicas converged. Run hearthctl --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	return usagef("unknown command %q (commands: tenant, token, put, get, sync, status, conflicts, hash)", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: hearthctl COMMAND [flags] [arguments]

Manages a Hearth sync server's tenants and tokens, and drives local replicas.

Commands:
`)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Run "hearthctl COMMAND --help" for a command's flags. Exit status: 0 on success, 1 when the
operation failed, 2 when the command line is wrong.
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

// exitCode reports err and maps it to the exit status.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hearthctl: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "hearthctl: %v\n", err)
		return 1
	}
}
