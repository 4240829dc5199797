package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// config is everything the server binary reads from flags and the environment.
type config struct {
	Addr         string
	Data         string
	KeyFile      string // "" means syncserver.KeyPath(Data)
	Demo         bool
	Retention    time.Duration
	CompactEvery time.Duration
	MaxBatch     int
	PageSize     int
	MaxSessions  int
	PushRate     int
	TenantRate   int
	MaxDrift     time.Duration
	PatientTTL   time.Duration
	ShutdownWait time.Duration
	LogLevel     slog.Level
	LogFormat    string
	CPUProfile   string // a file to write a CPU profile of the whole run to, at shutdown ("": none)

	// MaxTenantPages caps each tenant store's size in SQLite pages, to drill a full disk (0: no cap).
	MaxTenantPages int
}

// usageError is a mistake in the command line or the environment: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// envNames maps each flag to the environment variable that supplies it when the flag is not
// given, so that containers and service managers can configure the server without arguments.
var envNames = map[string]string{
	"addr":              "HEARTH_ADDR",
	"data":              "HEARTH_DATA",
	"token-key-file":    "HEARTH_TOKEN_KEY_FILE",
	"demo":              "HEARTH_DEMO",
	"retention":         "HEARTH_RETENTION",
	"compact-every":     "HEARTH_COMPACT_EVERY",
	"max-batch":         "HEARTH_MAX_BATCH",
	"page-size":         "HEARTH_PAGE_SIZE",
	"max-sessions":      "HEARTH_MAX_SESSIONS",
	"push-rate":         "HEARTH_PUSH_RATE",
	"tenant-push-rate":  "HEARTH_TENANT_PUSH_RATE",
	"max-drift":         "HEARTH_MAX_DRIFT",
	"patient-token-ttl": "HEARTH_PATIENT_TOKEN_TTL",
	"max-tenant-pages":  "HEARTH_MAX_TENANT_PAGES",
	"shutdown-timeout":  "HEARTH_SHUTDOWN_TIMEOUT",
	"log-level":         "HEARTH_LOG_LEVEL",
	"log-format":        "HEARTH_LOG_FORMAT",
	"cpu-profile":       "HEARTH_CPU_PROFILE",
}

const usageHead = `Usage: hearth-server [flags]

Runs the Hearth sync server. Replicas connect to ws://ADDR/v1/tenants/TENANT/sync; GET /healthz
answers "ok" once it is serving; GET /metrics serves Prometheus metrics. Each flag falls back to
the environment variable shown, then to its default. Tenants are managed with hearthctl.

Flags:
`

// parseConfig reads flags, then the environment for every flag not given.
func parseConfig(args []string, getenv func(string) string, stdout io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("hearth-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by main; --help goes to stdout
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8686", "listen address (host:port; port 0 picks a free one)")
	fs.StringVar(&c.Data, "data", "./hearth-data", "data directory: directory.db, tenants/*.db, secrets/")
	fs.StringVar(&c.KeyFile, "token-key-file", "", "hex token signing key, created if missing; default DATA/secrets/token.key")
	fs.BoolVar(&c.Demo, "demo", true, `create the tenant "demo" (Demo Clinic) if it does not exist`)
	fs.DurationVar(&c.Retention, "retention", 30*24*time.Hour, "retire replicas unseen this long")
	fs.DurationVar(&c.CompactEvery, "compact-every", time.Hour, "how often tenants are compacted (negative: never)")
	fs.IntVar(&c.MaxBatch, "max-batch", 10000, "most changes accepted in one push")
	fs.IntVar(&c.PageSize, "page-size", 2000, "most changes sent in one page")
	fs.IntVar(&c.MaxSessions, "max-sessions", 15000, "most open sync sessions; more are asked to retry")
	fs.IntVar(&c.PushRate, "push-rate", 20000, "pushed changes per second per connection (negative: unlimited)")
	fs.IntVar(&c.TenantRate, "tenant-push-rate", 100000, "pushed changes per second per clinic (negative: unlimited)")
	fs.DurationVar(&c.MaxDrift, "max-drift", 5*time.Minute, "how far ahead of the server's clock a change may be")
	fs.DurationVar(&c.PatientTTL, "patient-token-ttl", 4*time.Hour, "how long the visit token a patient gets at intake lasts")
	fs.IntVar(&c.MaxTenantPages, "max-tenant-pages", 0, "for tests: cap each tenant store at this many 4 KiB pages, so pushes fail as on a full disk (0: no cap)")
	fs.DurationVar(&c.ShutdownWait, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown waits for requests")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.CPUProfile, "cpu-profile", "", "write a CPU profile of the whole run to this file when the server stops (for `go tool pprof`)")
	printUsage := func() {
		fmt.Fprint(stdout, usageHead)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stdout, "  --%s\n    \t%s (env %s", strings.TrimSpace(f.Name+" "+name), usage, envNames[f.Name])
			if f.DefValue != "" {
				fmt.Fprintf(stdout, ", default %s", f.DefValue)
			}
			fmt.Fprint(stdout, ")\n")
		})
	}
	fs.Usage = func() {} // a mistake gets one line, not the whole usage; --help prints it
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage()
			return c, err
		}
		return c, &usageError{err}
	}
	if fs.NArg() > 0 {
		return c, &usageError{fmt.Errorf("unexpected argument %q: hearth-server takes only flags", fs.Arg(0))}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envNames[f.Name]
		if given[f.Name] || env == "" {
			return
		}
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return c, &usageError{err}
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, &usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", *level)}
	}
	c.LogFormat = strings.ToLower(c.LogFormat)
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return c, &usageError{fmt.Errorf("--log-format %q: want text or json", c.LogFormat)}
	case c.Addr == "":
		return c, &usageError{errors.New("--addr is empty")}
	case c.Data == "":
		return c, &usageError{errors.New("--data is empty")}
	case c.MaxBatch <= 0 || c.PageSize <= 0 || c.MaxSessions <= 0:
		return c, &usageError{errors.New("--max-batch, --page-size and --max-sessions must be positive")}
	case c.PushRate == 0 || c.TenantRate == 0:
		return c, &usageError{errors.New("--push-rate and --tenant-push-rate must be positive, or negative for no limit")}
	case c.Retention <= 0 || c.MaxDrift <= 0 || c.ShutdownWait <= 0:
		return c, &usageError{errors.New("--retention, --max-drift and --shutdown-timeout must be positive")}
	case c.CompactEvery == 0:
		return c, &usageError{errors.New("--compact-every must be non-zero (negative disables compaction)")}
	case c.MaxTenantPages < 0:
		return c, &usageError{errors.New("--max-tenant-pages must not be negative (0: no cap)")}
	}
	return c, nil
}
