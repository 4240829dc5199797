package app_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The UI calls the services through bindings generated from their Go signatures
// (frontend/src/wailsjs). A service changed without regenerating them would fail only at run
// time in the window: this regenerates them into a temporary directory and compares.
func TestBindingsUpToDate(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hearth-bindings")
	build := exec.Command("go", "build", "-tags", "bindings", "-o", bin, "./app/cmd/hearth")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build with the bindings tag: %v\n%s", err, out)
	}
	var project map[string]any
	b, err := os.ReadFile(filepath.Join(root, "wails.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &project); err != nil {
		t.Fatal(err)
	}
	project["wailsjsdir"] = "."
	b, _ = json.Marshal(project)
	if err := os.WriteFile(filepath.Join(tmp, "wails.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command(bin)
	gen.Dir = tmp
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate bindings: %v\n%s", err, out)
	}
	want := readTree(t, filepath.Join(tmp, "wailsjs"))
	got := readTree(t, filepath.Join(root, "frontend", "src", "wailsjs"))
	for name, w := range want {
		if g, ok := got[name]; !ok || !bytes.Equal(g, w) {
			t.Errorf("frontend/src/wailsjs/%s is stale: run bash build/bindings.sh", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("frontend/src/wailsjs/%s is no longer generated: run bash build/bindings.sh", name)
		}
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
