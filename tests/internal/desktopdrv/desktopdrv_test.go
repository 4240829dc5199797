package desktopdrv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testappBin is the probe window (./testapp) built once by TestMain.
var testappBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "desktopdrv-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "desktopdrv:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The tags are the ones a real Wails build needs: without desktop,production the binary
	// only prints a warning and exits; without webkit2_41 cgo looks for webkit2gtk-4.0, which
	// Debian 12 does not ship. A cold build compiles the WebKit bindings (about 40 s on two
	// cores); warm it is a couple of seconds. The bound keeps a wedged toolchain from hanging CI.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	bin := filepath.Join(dir, "testapp")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "desktop,production,webkit2_41", "-o", bin, "hearth/tests/internal/desktopdrv/testapp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "desktopdrv: building testapp failed after %s: %v\n%s", time.Since(start).Round(time.Millisecond), err, out)
		return 1
	}
	fmt.Fprintf(os.Stderr, "desktopdrv: built testapp in %s\n", time.Since(start).Round(time.Millisecond))
	testappBin = bin
	return m.Run()
}

// TestDriver drives the probe window through everything the package offers, in one launch to
// keep the run short: bound Go calls, promises, exceptions, clicks, typing, Enter, screenshots,
// and finally a kill.
func TestDriver(t *testing.T) {
	art := ArtifactDir(t, "desktopdrv")
	d := StartDisplay(t)
	if !strings.HasPrefix(d.Env(), "DISPLAY=:") {
		t.Fatalf("Env() = %q", d.Env())
	}
	mark := filepath.Join(t.TempDir(), "shutdown")
	app := Launch(t, d, testappBin, nil, []string{"TESTAPP_SHUTDOWN_MARK=" + mark}, filepath.Join(art, "testapp.log"))
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	step := func(name string) func() {
		start := time.Now()
		return func() { t.Logf("%-28s %s", name, time.Since(start).Round(time.Microsecond)) }
	}

	done := step("WaitFor #btn")
	if err := app.WaitFor(ctx, `document.querySelector("#btn") !== null`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	done()

	t.Run("bound method", func(t *testing.T) {
		done := step("Eval Hello")
		got := evalString(t, app, ctx, `window.go.main.Probe.Hello("hearth")`)
		done()
		if got != "hello, hearth" {
			t.Fatalf("Hello = %q", got)
		}
	})

	t.Run("pending promise is awaited", func(t *testing.T) {
		start := time.Now()
		v, err := app.Eval(ctx, `window.go.main.Probe.Slow(300)`)
		if err != nil {
			t.Fatal(err)
		}
		if string(v) != "300" || time.Since(start) < 300*time.Millisecond {
			t.Fatalf("Slow(300) = %s after %s", v, time.Since(start))
		}
	})

	t.Run("a timed-out eval leaves the connection usable", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := app.Eval(short, `window.go.main.Probe.Slow(300)`)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Eval past its deadline = %v, want DeadlineExceeded", err)
		}
		expired, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := app.Eval(expired, `1`); !errors.Is(err, context.Canceled) {
			t.Fatalf("Eval with a cancelled context = %v, want Canceled", err)
		}
		if got := evalString(t, app, ctx, `window.go.main.Probe.Hello("still")`); got != "hello, still" {
			t.Fatalf("Hello after a timeout = %q", got)
		}
	})

	t.Run("values", func(t *testing.T) {
		for js, want := range map[string]string{
			`({a: [1, 2], b: "x"})`:   `{"a":[1,2],"b":"x"}`,
			`undefined`:               `null`,
			`null`:                    `null`,
			`NaN`:                     `null`,
			`1 + 1`:                   `2`,
			`document.title`:          `"desktopdrv probe"`,
			`Promise.resolve([true])`: `[true]`,
			`let x = 20; x + 1`:       `21`, // statements are fine: it is Runtime.evaluate
		} {
			v, err := app.Eval(ctx, js)
			if err != nil {
				t.Errorf("Eval(%s): %v", js, err)
			} else if string(v) != want {
				t.Errorf("Eval(%s) = %s, want %s", js, v, want)
			}
		}
	})

	t.Run("exceptions", func(t *testing.T) {
		for js, want := range map[string]string{
			`throw new Error("boom")`:           "Error: boom",
			`Promise.reject(new Error("nope"))`: "Error: nope",
			`window.go.main.Probe.Fail()`:       "probe failed on purpose",
			`this is not javascript`:            "SyntaxError",
			`(async () => { throw "plain" })()`: "plain",
		} {
			_, err := app.Eval(ctx, js)
			var jsErr *JSError
			if !errors.As(err, &jsErr) || !strings.Contains(jsErr.Message, want) {
				t.Errorf("Eval(%s) = %v, want a JSError containing %q", js, err, want)
			}
		}
	})

	t.Run("concurrent evals", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := app.Eval(ctx, fmt.Sprintf(`window.go.main.Probe.Hello("%d")`, i))
				if err == nil && string(v) != fmt.Sprintf(`"hello, %d"`, i) {
					err = fmt.Errorf("goroutine %d got %s", i, v)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("click", func(t *testing.T) {
		if got := text(t, app, ctx, "#out"); got != "not clicked" {
			t.Fatalf("#out before = %q", got)
		}
		done := step("Click + WaitFor")
		if err := app.Click(ctx, "#btn"); err != nil {
			t.Fatal(err)
		}
		if err := app.WaitFor(ctx, `document.querySelector("#out").textContent === "clicked 1"`, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		done()
		if err := app.Click(ctx, "#btn"); err != nil {
			t.Fatal(err)
		}
		if got := text(t, app, ctx, "#out"); got != "clicked 2" {
			t.Fatalf("#out after two clicks = %q", got)
		}
		err := app.Click(ctx, "#missing")
		var jsErr *JSError
		if !errors.As(err, &jsErr) || !strings.Contains(jsErr.Message, "#missing") {
			t.Fatalf("Click(#missing) = %v, want a JSError naming the selector", err)
		}
	})

	t.Run("set value reaches Go", func(t *testing.T) {
		const typed = `Ada "Lovelace" ☕`
		if err := app.SetValue(ctx, "#name", typed); err != nil {
			t.Fatal(err)
		}
		// The page's input handler calls Probe.SetNote; read it back through Go.
		cond := fmt.Sprintf(`window.go.main.Probe.Note().then(n => n === %s)`, jsString(typed))
		if err := app.WaitFor(ctx, cond, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := evalString(t, app, ctx, `window.go.main.Probe.Note()`); got != typed {
			t.Fatalf("Note() = %q", got)
		}
		if got := text(t, app, ctx, "#echo"); got != typed {
			t.Fatalf("#echo = %q", got)
		}
		if err := app.SetValue(ctx, "#title", "x"); err == nil {
			t.Fatal("SetValue on an <h1> succeeded")
		}
	})

	t.Run("enter", func(t *testing.T) {
		if err := app.PressEnter(ctx, "#name"); err != nil {
			t.Fatal(err)
		}
		if got := text(t, app, ctx, "#entered"); !strings.HasPrefix(got, "entered Ada") {
			t.Fatalf("#entered = %q (keydown not seen)", got)
		}
		if got := text(t, app, ctx, "#submitted"); !strings.HasPrefix(got, "submitted Ada") {
			t.Fatalf("#submitted = %q (form not submitted)", got)
		}
	})

	t.Run("exists", func(t *testing.T) {
		for sel, want := range map[string]bool{"#btn": true, "#nope": false} {
			got, err := app.Exists(ctx, sel)
			if err != nil || got != want {
				t.Errorf("Exists(%s) = %v, %v", sel, got, err)
			}
		}
		if _, err := app.Exists(ctx, "#["); err == nil {
			t.Error("Exists with an invalid selector did not fail")
		}
	})

	t.Run("wait for times out with the last value", func(t *testing.T) {
		start := time.Now()
		err := app.WaitFor(ctx, `document.querySelectorAll("button").length > 5`, 300*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "last value false") {
			t.Fatalf("WaitFor = %v", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("WaitFor(300ms) took %s", el)
		}
		err = app.WaitFor(ctx, `window.nothing.here`, 200*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "TypeError") {
			t.Fatalf("WaitFor on a throwing condition = %v", err)
		}
	})

	t.Run("round trips", func(t *testing.T) {
		// Not a speed assertion (without disableNagle a bound call takes ~88 ms, still
		// correct); the bound only catches a stuck connection. The log shows the real cost.
		for _, js := range []string{`1 + 1`, `({a: 1})`, `window.go.main.Probe.Hello("x")`} {
			const n = 20
			start := time.Now()
			for range n {
				if _, err := app.Eval(ctx, js); err != nil {
					t.Fatal(err)
				}
			}
			per := time.Since(start) / n
			t.Logf("Eval(%s): %s each", js, per.Round(time.Microsecond))
			if per > 500*time.Millisecond {
				t.Errorf("Eval(%s) takes %s", js, per)
			}
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		path := filepath.Join(art, "probe.png")
		done := step("Screenshot")
		app.Screenshot(t, path)
		done()
		checkScreenshot(t, path)
	})

	t.Run("kill", func(t *testing.T) {
		app.Kill()
		if !app.Exited() {
			t.Fatal("app still running after Kill")
		}
		start := time.Now()
		_, err := app.Eval(ctx, `1`)
		if !errors.Is(err, errClosed) {
			t.Fatalf("Eval after Kill = %v, want errClosed", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Fatalf("Eval after Kill took %s", el)
		}
		if _, err := os.Stat(mark); !os.IsNotExist(err) {
			t.Fatalf("OnShutdown ran despite Kill (stat: %v)", err)
		}
		if err := app.Close(); !errors.Is(err, errKilled) {
			t.Fatalf("Close after Kill = %v", err)
		}
	})
}

// TestCloseEndsEveryProcess checks Close quits the app gracefully (OnShutdown runs), leaves
// none of WebKit's helper processes behind, and that the same display takes a second launch
// (what a restart test does).
func TestCloseEndsEveryProcess(t *testing.T) {
	d := StartDisplay(t)
	mark := filepath.Join(t.TempDir(), "shutdown")
	app := Launch(t, d, testappBin, nil, []string{"TESTAPP_SHUTDOWN_MARK=" + mark}, "")
	pgid := app.cmd.Process.Pid
	members := group(pgid)
	if len(members) < 2 { // the app, plus at least WebKit's web process
		t.Fatalf("process group %d has %v; expected the app and WebKit's helpers", pgid, members)
	}
	start := time.Now()
	if err := app.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close took %s for %d processes", time.Since(start).Round(time.Millisecond), len(members))
	if !app.Exited() {
		t.Fatal("app still running after Close")
	}
	if _, err := os.Stat(mark); err != nil {
		t.Fatalf("OnShutdown did not run on Close: %v", err)
	}
	// The helpers may take a moment to go once killed; bounded wait.
	for i := 0; i < 50 && len(group(pgid)) > 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if left := group(pgid); len(left) > 0 {
		t.Fatalf("still running after Close: %v", left)
	}
	if err := app.Close(); err != nil { // a second Close returns the first result
		t.Fatalf("second Close: %v", err)
	}

	again := Launch(t, d, testappBin, nil, nil, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got := evalString(t, again, ctx, `window.go.main.Probe.Hello("again")`); got != "hello, again" {
		t.Fatalf("Hello after relaunch = %q", got)
	}
}

// group lists the live (not zombie) processes in a process group, as "pid name".
func group(pgid int) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised name: state, ppid, pgrp, ...
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 3 || f[0] == "Z" || f[2] != strconv.Itoa(pgid) {
			continue
		}
		name := string(b[strings.IndexByte(string(b), '(')+1 : strings.LastIndexByte(string(b), ')')])
		out = append(out, fmt.Sprintf("%d %s", pid, name))
	}
	return out
}

// checkScreenshot checks the PNG is the whole screen, not blank, and shows the window's
// content: the probe's green button (#2e7d32) must be there, which a grey Xvfb root is not.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != ScreenWidth || b.Dy() != ScreenHeight {
		t.Fatalf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), ScreenWidth, ScreenHeight)
	}
	first := img.At(b.Min.X, b.Min.Y)
	uniform := true
	green := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.At(x, y)
			if c != first {
				uniform = false
			}
			r, g, bl, _ := c.RGBA()
			if near(r>>8, 0x2e) && near(g>>8, 0x7d) && near(bl>>8, 0x32) {
				green++
			}
		}
	}
	if uniform {
		t.Fatalf("screenshot %s is one colour", path)
	}
	if green < 500 {
		t.Fatalf("screenshot %s has %d pixels of the button's green; the window did not render", path, green)
	}
	t.Logf("screenshot %s: %d button-green pixels", path, green)
}

func near(a, b uint32) bool { return a+8 >= b && b+8 >= a }

func evalString(t *testing.T, app *App, ctx context.Context, js string) string {
	t.Helper()
	v, err := app.Eval(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		t.Fatalf("Eval(%s) = %s, not a string", js, v)
	}
	return s
}

func text(t *testing.T, app *App, ctx context.Context, sel string) string {
	t.Helper()
	s, err := app.Text(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
