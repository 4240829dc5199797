// Command hearth-server runs Hearth's sync server: every clinic's replicas meet here over
// WebSocket at /v1/tenants/{tenant}/sync. Configuration comes from flags, with environment
// variables as fallbacks and defaults that suit one machine; run it with --help for the list.
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
	// SIGINT and SIGTERM cancel the context; run then drains connections and closes stores.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err and maps it to the process's exit status: 0 for success and --help,
// 2 for bad flags or configuration, 1 for everything else.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "hearth-server: %v\nRun hearth-server --help for usage.\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "hearth-server: %v\n", err)
		return 1
	}
}
