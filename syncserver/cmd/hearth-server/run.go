package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/clinicapi"
	"hearth/syncserver/sqlitedir"
	"hearth/syncserver/token"
)

// demoTenant is created at start with --demo so that a first run has a clinic to sync with.
var demoTenant = syncserver.TenantInfo{ID: "demo", Name: "Demo Clinic", Region: "local", Node: "local"}

// run starts the server and blocks until ctx ends (a signal) or serving fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if cfg.CPUProfile != "" {
		stop, err := startCPUProfile(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.Data, err = filepath.Abs(cfg.Data); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = syncserver.KeyPath(cfg.Data)
	}
	key, err := syncserver.LoadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	signer, err := token.NewSigner(key, clinic.CheckTokenScopes, nil)
	if err != nil {
		return fmt.Errorf("token key %s: %w", cfg.KeyFile, err)
	}
	svc, err := clinicapi.New(clinicapi.Config{Signer: signer, Logger: log, PatientTokenTTL: cfg.PatientTTL})
	if err != nil {
		return err
	}
	defer svc.Close()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	dir, err := sqlitedir.OpenDirectory(ctx, sqlitedir.Path(cfg.Data))
	if err != nil {
		return fmt.Errorf("open data directory %s: %w", cfg.Data, err)
	}
	opts := syncserver.Options{
		Directory: dir, Schema: clinic.Schema, Signer: signer, Logger: log,
		MaxBatch: cfg.MaxBatch, PageSize: cfg.PageSize, MaxDrift: cfg.MaxDrift,
		Retention: cfg.Retention, CompactEvery: cfg.CompactEvery,
		MaxSessions: cfg.MaxSessions, PushRate: cfg.PushRate, TenantPushRate: cfg.TenantRate,
		OpenStore: storeOpener(cfg),
	}
	svc.Install(&opts)
	srv, err := syncserver.New(ctx, opts)
	if err != nil {
		dir.Close()
		return fmt.Errorf("open data directory %s: %w", cfg.Data, err)
	}
	defer srv.Close()
	// The estimator writes through the stores: stop it before they close (defers run last-in,
	// first-out, and it was deferred before the server).
	defer svc.Close()
	if cfg.Demo {
		err := srv.Directory().Create(ctx, demoTenant)
		switch {
		case err == nil:
			log.Info("created demo tenant", "tenant", demoTenant.ID)
		case !errors.Is(err, syncserver.ErrTenantExists):
			return fmt.Errorf("create demo tenant: %w", err)
		}
	}

	// Listening before logging lets --addr 127.0.0.1:0 report the port actually chosen.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("hearth-server listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String(),
		"data", cfg.Data, "token_key_file", cfg.KeyFile, "schema", clinic.Schema.Version())

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownWait)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownWait)
	defer cancel()
	// Shutdown stops accepting and waits for plain requests; WebSocket sessions are hijacked
	// connections it does not track, and srv.Close ends them.
	shutErr := hs.Shutdown(sctx)
	if shutErr != nil {
		shutErr = fmt.Errorf("shutdown: %w", shutErr)
		hs.Close()
	}
	svc.Close()
	if err := srv.Close(); err != nil {
		return errors.Join(shutErr, fmt.Errorf("close stores: %w", err))
	}
	if shutErr != nil {
		return shutErr
	}
	log.Info("stopped")
	return nil
}

// startCPUProfile profiles the process until stop is called, which writes the profile out.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// newLogger builds the process's structured logger. Only ids, counts and errors are logged;
// the server never logs row values, which hold patient data.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
