package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// bins holds the paths of the binaries TestMain builds once for every test in the package.
var bins struct{ dir, server, ctl string }

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hearth-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// A cold build compiles SQLite (about 40 s on two cores); the go test run that got us here
	// has usually cached it. The bound keeps a wedged toolchain from hanging CI.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator),
		"hearth/syncserver/cmd/hearth-server", "hearth/syncserver/cmd/hearthctl")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "tests: building the binaries failed after %s: %v\n%s", time.Since(start).Round(time.Millisecond), err, out)
		return 1
	}
	bins.dir = dir
	bins.server = filepath.Join(dir, "hearth-server")
	bins.ctl = filepath.Join(dir, "hearthctl")
	return m.Run()
}
