// Command testapp is a tiny Wails window that desktopdrv's own tests drive: one page with a
// button, an input and a Go struct bound as window.go.main.Probe. It lives inside the hearth
// module (rather than being generated into a temporary module at test time) so it builds with
// the module's pinned Wails version and go.sum, offline, and shares the build cache.
//
// Build it like the real app:
//
//	CGO_ENABLED=1 go build -tags desktop,production,webkit2_41 ./tests/internal/desktopdrv/testapp
package main

import (
	"context"
	"embed"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
)

//go:embed index.html
var assets embed.FS

// Probe is bound into the page; its methods exist so the driver's tests can check that bound
// Go methods answer through Eval (they return promises in the page).
type Probe struct {
	mu   sync.Mutex
	note string
}

// Hello answers with a value the test can compare exactly.
func (p *Probe) Hello(name string) string { return "hello, " + name }

// Slow answers after a delay, so the test sees Eval await a promise that is not yet settled.
func (p *Probe) Slow(ms int) int {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return ms
}

// Fail returns an error, which Wails turns into a rejected promise.
func (p *Probe) Fail() (string, error) { return "", fmt.Errorf("probe failed on purpose") }

// SetNote stores what the page sends, so the test can read back what an input held.
func (p *Probe) SetNote(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.note = s
}

// Note returns the last note the page sent.
func (p *Probe) Note() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.note
}

func main() {
	err := wails.Run(&options.App{
		Title:            "desktopdrv probe",
		Width:            1280,
		Height:           800,
		BackgroundColour: &options.RGBA{R: 250, G: 250, B: 250, A: 255},
		AssetServer:      &assetserver.Options{Assets: assets},
		Bind:             []any{&Probe{}},
		// Lets a test tell a graceful quit (OnShutdown ran) from a kill.
		OnShutdown: func(context.Context) {
			if path := os.Getenv("TESTAPP_SHUTDOWN_MARK"); path != "" {
				_ = os.WriteFile(path, []byte("shutdown\n"), 0o644)
			}
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}
