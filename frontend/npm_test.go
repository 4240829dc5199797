package frontend

import (
	"os"
	"os/exec"
	"testing"
)

// TestUI runs the UI's own tests (vitest, see package.json) as part of go test ./..., so that
// one command runs every test. build/install-deps.sh installs the UI's packages first.
func TestUI(t *testing.T) {
	if _, err := os.Stat("node_modules"); err != nil {
		t.Fatal("frontend/node_modules is missing: run bash build/install-deps.sh first")
	}
	cmd := exec.Command("npm", "test", "--silent")
	cmd.Env = append(os.Environ(), "CI=1", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm test: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
