package engine_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The engine core runs in the patient's browser as WebAssembly. These tests keep it buildable
// for js/wasm and free of what does not belong there: cgo SQLite (a stub that fails at run
// time under js) and Go's net stack (gorilla/websocket pulls in net/http, which more than
// doubles the download). The browser uses the page's WebSocket and storage instead.

var wasmCorePackages = []string{"hearth/engine", "hearth/engine/clinic", "hearth/engine/memstore", "hearth/engine/storetest"}

var wasmForbidden = []string{
	"github.com/mattn/go-sqlite3",
	"github.com/gorilla/websocket",
	"net/http",
}

// goTool returns the go command of the toolchain running the tests.
func goTool(t *testing.T) string {
	t.Helper()
	name := "go"
	if runtime.GOOS == "windows" {
		name = "go.exe"
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", name); fileExists(p) {
		return p
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the js/wasm check needs the go command: %v", err)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goJSWasm runs the go command for GOOS=js GOARCH=wasm, offline, and returns its stdout.
func goJSWasm(t *testing.T, timeout time.Duration, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(t), args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0",
		"GOFLAGS=-mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local") // never reach the network
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v (timeout %s)\n%s", strings.Join(args, " "), err, timeout, stderr.String())
	}
	return stdout.Bytes()
}

func TestWasmCoreDependencies(t *testing.T) {
	out := goJSWasm(t, 2*time.Minute, append([]string{"list", "-deps"}, wasmCorePackages...)...)
	deps := strings.Fields(string(out))
	has := func(p string) bool {
		for _, d := range deps {
			if d == p || strings.HasPrefix(d, p+"/") {
				return true
			}
		}
		return false
	}
	// The listing is real: it includes the packages themselves and their codec.
	for _, p := range append(wasmCorePackages, "github.com/vmihailenco/msgpack/v5") {
		if !has(p) {
			t.Fatalf("go list -deps does not list %s:\n%s", p, out)
		}
	}
	for _, p := range wasmForbidden {
		if has(p) {
			t.Errorf("the js/wasm engine core depends on %s; keep it out of hearth/engine and hearth/engine/clinic (behind //go:build !js or in another package)", p)
		}
	}
	t.Logf("%d packages in the js/wasm engine core", len(deps))
}

func TestWasmCoreBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the engine core for js/wasm; skipped with -short")
	}
	wasm := filepath.Join(t.TempDir(), "core.wasm")
	goJSWasm(t, 5*time.Minute, "build", "-trimpath", "-ldflags=-s -w", "-o", wasm, "./testdata/wasmcore")
	b, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("%s is not a WebAssembly module", wasm)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	t.Logf("engine core for js/wasm: %.2f MB raw, %.2f MB gzip", float64(len(b))/1e6, float64(gz.Len())/1e6)
	// The measured core is ~4.5 MB; net/http alone would take it past 10 MB.
	if len(b) > 8<<20 {
		t.Errorf("engine core wasm is %d bytes: something heavy (net/http?) got linked in", len(b))
	}

	// Run it where Node is installed: the module must instantiate and its main must run.
	node, err := exec.LookPath("node")
	runner := filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec_node.js")
	if err != nil || !fileExists(runner) {
		t.Log("node or wasm_exec_node.js not found: not running the module")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, runner, wasm).CombinedOutput()
	if err != nil {
		t.Fatalf("running the wasm core in node: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "clinic schema version") {
		t.Fatalf("unexpected output from the wasm core: %s", out)
	}
}
