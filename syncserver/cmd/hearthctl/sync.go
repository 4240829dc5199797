package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"hearth/engine"
	"hearth/engine/wstransport"
)

func runSync(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("sync", `Usage: hearthctl sync --dir R [--server URL] [--tenant T] [--token TOKEN]

Syncs the local replica in R with the server once: pushes every pending change, pulls until
caught up and disconnects. Server, tenant and token given here (or in the environment) are
saved to R/config.json (mode 0600) and used by later syncs; the replica is created if needed.
`)
	dir := fs.String("dir", "", "local replica directory (required)")
	server := fs.String("server", "", "server base URL (env HEARTH_SERVER; default: saved, else "+defaultServer+")")
	tenant := fs.String("tenant", "", "tenant id (env HEARTH_TENANT; default: saved)")
	tok := fs.String("token", "", "token from hearthctl token (env HEARTH_TOKEN; default: saved)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("sync: unexpected argument %q", pos[0])
	}
	if *dir == "" {
		return usagef("sync: --dir is required")
	}
	if *timeout <= 0 {
		return usagef("sync: --timeout must be positive")
	}
	saved, err := loadConfig(*dir)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	cfg := saved
	pick := func(dst *string, flagVal, env string) {
		if flagVal != "" {
			*dst = flagVal
		} else if v := c.getenv(env); v != "" {
			*dst = v
		}
	}
	pick(&cfg.Server, *server, "HEARTH_SERVER")
	pick(&cfg.Tenant, *tenant, "HEARTH_TENANT")
	pick(&cfg.Token, *tok, "HEARTH_TOKEN")
	if cfg.Server == "" {
		cfg.Server = defaultServer
	}
	if err := checkTenantID(cfg.Tenant); err != nil {
		return fmt.Errorf("sync: %w (or save one in %s with --tenant)", err, configFile)
	}
	if cfg.Token == "" {
		return usagef("sync: no token: pass --token (from hearthctl token) once; it is saved in %s", configFile)
	}
	url, err := syncURL(cfg.Server, cfg.Tenant)
	if err != nil {
		return err
	}

	rep, err := openReplica(ctx, *dir, true)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	defer rep.Close()
	before, err := rep.State(ctx)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	s := engine.NewSyncer(rep, &wstransport.Dialer{URL: url}, engine.SyncOptions{
		Token: cfg.Token, Client: "hearthctl", HandshakeTimeout: *timeout})
	syncErr := s.SyncOnce(ctx)
	// Remember the settings unless the server refused them (a wrong tenant or token must not
	// replace good ones); a server that is merely down does not make them wrong.
	var re *engine.RemoteError
	if cfg != saved && !(errors.As(syncErr, &re) && re.Fatal()) {
		if err := saveConfig(*dir, cfg); err != nil {
			return errors.Join(syncErr, fmt.Errorf("sync: %w", err))
		}
	}
	if syncErr != nil {
		return fmt.Errorf("sync tenant %s with %s: %w%s", cfg.Tenant, cfg.Server, syncErr, syncHint(syncErr))
	}
	after, err := rep.State(ctx)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	pushed := before.Pending - after.Pending
	plural := "s"
	if pushed == 1 {
		plural = ""
	}
	fmt.Fprintf(c.stdout, "synced tenant %s: pushed %d change%s, cursor %d -> %d, pending %d\n",
		cfg.Tenant, pushed, plural, before.Cursor, after.Cursor, after.Pending)
	return nil
}

// syncHint says what to do about a failed sync.
func syncHint(err error) string {
	var re *engine.RemoteError
	switch {
	case errors.As(err, &re):
		switch re.Err.Code {
		case engine.CodeUnauthorized:
			return " (get a new token with hearthctl token and pass it with --token)"
		case engine.CodeForbidden:
			if re.Err.Batch != "" {
				// The clinic's rules refused a write: the message says which; the batch stays.
				return " (the change stays in the outbox: hearthctl status shows it pending)"
			}
			return " (the token is for another clinic or does not grant this data)"
		case engine.CodeUnknownTenant:
			return " (create the tenant with hearthctl tenant create, or check --tenant)"
		case engine.CodeSchemaTooOld, engine.CodeSchemaTooNew, engine.CodeProtocolVersion:
			return " (upgrade the older of hearthctl and hearth-server)"
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		return " (is hearth-server running there? check --server)"
	case errors.Is(err, context.DeadlineExceeded):
		return " (timed out: is the server reachable? see --timeout)"
	}
	return ""
}
