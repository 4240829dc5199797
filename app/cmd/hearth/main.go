// Command hearth is the caregiver desktop app: a Wails window showing the UI in frontend/,
// bound to the services in package app.
//
// Build it with the UI first (build/desktop.sh does both):
//
//	(cd frontend && npm ci && npm run build)
//	CGO_ENABLED=1 go build -tags desktop,production,webkit2_41 -o build/bin/hearth ./app/cmd/hearth
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"hearth/app"
	"hearth/frontend"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hearth:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		return err
	}
	a := app.New(cfg)
	// Nothing opens before wails.Run: Wails runs this program to generate the UI bindings.
	return wails.Run(&options.App{
		Title:            "Hearth",
		Width:            1280,
		Height:           800,
		MinWidth:         960,
		MinHeight:        600,
		BackgroundColour: &options.RGBA{R: 246, G: 244, B: 240, A: 255},
		AssetServer:      &assetserver.Options{Assets: frontend.Assets},
		OnStartup: func(ctx context.Context) {
			quitOnSignal(ctx)
			if err := a.Startup(ctx, emitter{ctx}); err != nil {
				slog.Error("start", "err", err)
				a.Fail(err)
			}
		},
		OnShutdown: func(context.Context) { a.Shutdown() },
		Bind:       a.Services(),
	})
}

// parseConfig reads flags, falling back to HEARTH_* environment variables and defaults.
func parseConfig(args []string) (app.Config, error) {
	fs := flag.NewFlagSet("hearth", flag.ContinueOnError)
	base, err := os.UserConfigDir()
	if err != nil {
		base = "."
	}
	dataDir := fs.String("data-dir", env("HEARTH_DATA_DIR", filepath.Join(base, "hearth")), "where settings, the session and the local replicas live")
	server := fs.String("server", env("HEARTH_SERVER", "http://127.0.0.1:8686"), "the clinic's sync server, shown on the sign-in screen")
	clinicID := fs.String("clinic", env("HEARTH_CLINIC", "demo"), "the clinic id, shown on the sign-in screen")
	maxBackoff := fs.Duration("max-backoff", 30*time.Second, "longest wait between reconnection attempts while the server is unreachable")
	if err := fs.Parse(args); err != nil {
		return app.Config{}, err
	}
	if *maxBackoff < 100*time.Millisecond {
		return app.Config{}, fmt.Errorf("--max-backoff %s is too short: use at least 100ms", *maxBackoff)
	}
	return app.Config{
		DataDir:    *dataDir,
		Defaults:   app.Settings{Server: *server, Clinic: *clinicID},
		MaxBackoff: *maxBackoff,
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// quitOnSignal closes the window properly on SIGTERM or SIGINT (a session logout, a service
// manager): Wails would otherwise exit at once without OnShutdown, skipping the session save.
func quitOnSignal(ctx context.Context) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		select {
		case <-sig:
			runtime.Quit(ctx)
		case <-ctx.Done():
		}
	}()
}

// emitter sends the app's events through Wails' runtime.
type emitter struct{ ctx context.Context }

func (e emitter) Emit(name string, data any) { runtime.EventsEmit(e.ctx, name, data) }
