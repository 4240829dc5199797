package desktopdrv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// LaunchTimeout bounds how long Launch waits for the window's page to be loaded and scriptable.
// The probe app is ready about 0.5 s after starting under Xvfb (software rendering, two
// cores); the rest is headroom for a loaded CI machine and a heavier UI.
const LaunchTimeout = 30 * time.Second

// defaultEvalTimeout bounds an Eval whose context has no deadline: a promise that never settles
// must not hang the test binary until go test's global timeout.
const defaultEvalTimeout = 30 * time.Second

// App is a running desktop binary with an inspector connection to its page.
type App struct {
	display  *Display
	cmd      *exec.Cmd
	logPath  string
	addr     string // the inspector's 127.0.0.1:port
	insp     *inspector
	done     chan struct{} // closed when the process has exited and been reaped
	exitErr  error         // cmd.Wait's result, readable once done is closed
	once     sync.Once
	closeErr error        // what Close or Kill found, returned by every Close
	nagle    string       // how disableNagle fared, for Launch's log line
	group    atomic.Int64 // distinguishes each Eval's object group
}

// Launch starts binary on display d with WebKit's inspector server on a free loopback port,
// connects to the page and waits (up to LaunchTimeout) until document.readyState is "complete"
// and Wails has defined window.go, so bound methods can be called at once. The process's
// stdout and stderr go to logPath (a temporary file if empty), whose tail is shown if the
// launch fails. env entries are added to the test's environment; DISPLAY and
// WEBKIT_INSPECTOR_HTTP_SERVER are always the driver's. The app is closed in t.Cleanup.
func Launch(t testing.TB, d *Display, binary string, args []string, env []string, logPath string) *App {
	t.Helper()
	if logPath == "" {
		logPath = filepath.Join(t.TempDir(), filepath.Base(binary)+".log")
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		t.Fatalf("desktopdrv: %v", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("desktopdrv: %v", err)
	}
	port, err := freePort()
	if err != nil {
		logFile.Close()
		t.Fatalf("desktopdrv: no free loopback port: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)

	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), env...),
		d.Env(),
		"WEBKIT_INSPECTOR_HTTP_SERVER="+addr,
		// GTK would pick Wayland if the test runs inside a Wayland session; the window must
		// be on our Xvfb for screenshots to show it.
		"GDK_BACKEND=x11",
		// CI has no accessibility bus; this keeps GTK from looking for one (and logging
		// about it).
		"NO_AT_BRIDGE=1",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group holds WebKit's web and network processes too, so Close and
		// Kill can end all of them by group id, and nothing else.
		Setpgid: true,
		// If the test binary dies without running cleanups, the kernel kills the app. (It
		// follows the OS thread that started the child; Go ends a thread only when a
		// goroutine that locked it exits, so do not call Launch under runtime.LockOSThread.)
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("desktopdrv: starting %s: %v", binary, err)
	}
	a := &App{display: d, cmd: cmd, logPath: logPath, addr: addr, done: make(chan struct{})}
	go func() {
		a.exitErr = cmd.Wait()
		logFile.Close()
		close(a.done)
	}()
	t.Cleanup(func() {
		if err := a.Close(); err != nil && !errors.Is(err, errKilled) {
			// Informational: a failed quit is for the test to assert with Close's result.
			t.Logf("%v", err)
		}
	})

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), LaunchTimeout)
	defer cancel()
	if err := a.connect(ctx); err != nil {
		t.Fatalf("desktopdrv: %s did not become scriptable after %s: %v\nits log (%s):\n%s",
			filepath.Base(binary), time.Since(start).Round(time.Millisecond), err, logPath, tail(logPath, 4096))
	}
	t.Logf("desktopdrv: %s ready in %s (inspector %s, log %s); %s",
		filepath.Base(binary), time.Since(start).Round(time.Millisecond), addr, logPath, a.nagle)
	return a
}

// connect polls the target list until the page is listed, opens the socket and waits for the
// page to finish loading. It gives up early if the process exits.
func (a *App) connect(ctx context.Context) error {
	var path string
	var lastErr error
	const poll = 100 * time.Millisecond
	for i := 0; path == "" && i < int(LaunchTimeout/poll)+1; i++ {
		select {
		case <-a.done:
			return fmt.Errorf("the process exited (%v) before its inspector listed a page", a.exitErr)
		case <-ctx.Done():
			return fmt.Errorf("no page in the inspector's list at http://%s/ (last error: %v)", a.addr, lastErr)
		default:
		}
		p, err := findSocket(ctx, a.addr)
		if err == nil && p == "" {
			err = errors.New("the target list has no page yet")
		}
		if err != nil {
			lastErr = err
			select {
			case <-time.After(poll):
			case <-ctx.Done():
			case <-a.done:
			}
			continue
		}
		path = p
	}
	if path == "" {
		return fmt.Errorf("no page in the inspector's list at http://%s/ (last error: %v)", a.addr, lastErr)
	}
	insp, err := dialInspector(ctx, a.addr, path)
	if err != nil {
		return fmt.Errorf("websocket ws://%s%s: %v", a.addr, path, err)
	}
	a.insp = insp
	// WebKit's internal inspector connections exist once the page is listed; see disableNagle
	// for why they need TCP_NODELAY.
	if n, err := disableNagle(a.cmd.Process.Pid); err != nil {
		a.nagle = fmt.Sprintf("could not turn Nagle off (%v): each page round trip costs about 44 ms", err)
	} else {
		a.nagle = fmt.Sprintf("Nagle off on %d of WebKit's loopback sockets", n)
	}
	// Wails injects its runtime and bindings as scripts; window.go exists once they ran.
	return a.WaitFor(ctx, `document.readyState === "complete" && typeof window.go === "object"`, time.Until(deadlineOf(ctx)))
}

// errKilled is what Close returns after Kill.
var errKilled = errors.New("desktopdrv: the app was killed")

// QuitTimeout bounds how long Close waits for the app to quit after asking it to.
const QuitTimeout = 10 * time.Second

// Close ends the app the way a user quitting it would: it calls Wails' window.runtime.Quit(),
// which runs OnBeforeClose and then lets wails.Run return after OnShutdown. If the app has not
// exited QuitTimeout later it sends SIGTERM, and after 3 s more SIGKILL to the whole process
// group. (SIGTERM alone would be no gentler: a Go program without signal.Notify, like a Wails
// app, dies on it at once without running OnShutdown.)
//
// Close returns nil only if the app quit on request and exited with status 0, so a test can
// assert a clean shutdown; the error says what happened otherwise. Launch registers Close in
// t.Cleanup; calls after the first return the first result.
func (a *App) Close() error {
	a.once.Do(func() { a.closeErr = a.quit() })
	return a.closeErr
}

// Kill ends the app with SIGKILL at once, as a crash would, and waits until it has exited.
// What it leaves on disk is then whatever a crash leaves; start it again with Launch.
func (a *App) Kill() {
	a.once.Do(func() {
		a.closeErr = errKilled
		a.insp.close()
		_ = syscall.Kill(a.cmd.Process.Pid, syscall.SIGKILL)
		a.reap()
	})
}

func (a *App) quit() error {
	if a.Exited() {
		a.insp.close()
		a.reap()
		return fmt.Errorf("desktopdrv: the app had already exited before Close: %v", a.exitErr)
	}
	quitErr := errors.New("no inspector connection to ask it")
	if a.insp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, quitErr = a.Eval(ctx, `window.runtime.Quit()`)
		cancel()
		// Quit often wins the race with its own reply: the app is gone before the answer
		// travels back, so a connection closed now means the request arrived.
		if errors.Is(quitErr, errClosed) {
			quitErr = nil
		}
		a.insp.close()
	}
	if quitErr == nil {
		select {
		case <-a.done:
		case <-time.After(QuitTimeout):
			quitErr = fmt.Errorf("it was still running %s after window.runtime.Quit()", QuitTimeout)
		}
	}
	escalated := false
	if quitErr != nil {
		escalated = true
		_ = syscall.Kill(a.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(3 * time.Second):
		}
	}
	a.reap()
	switch {
	case escalated:
		return fmt.Errorf("desktopdrv: the app did not quit on request (%v); it was terminated (%v)", quitErr, a.exitErr)
	case a.exitErr != nil:
		return fmt.Errorf("desktopdrv: the app quit with %v; see %s", a.exitErr, a.logPath)
	}
	return nil
}

// reap kills what is left of the process group and waits (bounded) for the app's exit.
func (a *App) reap() {
	// WebKit's helper processes share the group; none of them outlives the test. The group
	// id cannot have been reused while its helpers live, and they are what this is for.
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
	<-waitOrTimeout(a.done, 10*time.Second)
}

// Exited reports whether the app's main process has exited (for example after Kill, or on its
// own in a crash test).
func (a *App) Exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// LogPath returns the file holding the app's stdout and stderr.
func (a *App) LogPath() string { return a.logPath }

// Screenshot saves a PNG of the display the app runs on (the whole 1280x800 screen).
func (a *App) Screenshot(t testing.TB, path string) {
	t.Helper()
	a.display.Screenshot(t, path)
}

// JSError is a JavaScript exception or promise rejection raised by an evaluated expression, as
// opposed to a failure to talk to the page.
type JSError struct {
	Expression string
	Message    string // the error's message, or the thrown value as text
}

// Error implements error.
func (e *JSError) Error() string {
	return fmt.Sprintf("desktopdrv: %s threw: %s", abbreviate(e.Expression, 200), e.Message)
}

// remoteObject is the inspector's description of a JavaScript value.
type remoteObject struct {
	Type        string          `json:"type"`
	Subtype     string          `json:"subtype"`
	ClassName   string          `json:"className"`
	Description string          `json:"description"`
	Value       json.RawMessage `json:"value"`
	ObjectID    string          `json:"objectId"`
}

type evalResult struct {
	Result    remoteObject `json:"result"`
	WasThrown bool         `json:"wasThrown"`
}

// Eval evaluates a JavaScript expression in the page's global scope and returns its value as
// JSON. If the value is a promise (as every bound Go method returns), Eval waits for it to
// settle and returns what it resolved to; a throw or a rejection becomes a *JSError. undefined,
// NaN and values JSON cannot hold come back as null; DOM nodes come back as {}. Without a
// deadline on ctx it gives up after 30 s.
func (a *App) Eval(ctx context.Context, js string) (json.RawMessage, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultEvalTimeout)
		defer cancel()
	}
	if a.insp == nil {
		return nil, errClosed
	}
	// Objects made for this call are kept in their own group and released afterwards, so a
	// long WaitFor does not pile up references in the page.
	group := "desktopdrv-" + strconv.FormatInt(a.group.Add(1), 10)
	raw, err := a.insp.call(ctx, "Runtime.evaluate", map[string]any{
		"expression":                           js,
		"objectGroup":                          group,
		"returnByValue":                        false, // by reference, to tell a Promise from {}
		"doNotPauseOnExceptionsAndMuteConsole": true,
	}, true)
	if err != nil {
		return nil, err
	}
	var r evalResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("desktopdrv: evaluate reply %s: %v", raw, err)
	}
	if r.Result.ObjectID != "" {
		defer func() {
			// Its own context: the release must go out even when ctx has just expired.
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, _ = a.insp.call(rctx, "Runtime.releaseObjectGroup", map[string]any{"objectGroup": group}, false)
		}()
	}
	switch {
	case r.WasThrown:
		return nil, &JSError{Expression: js, Message: describe(r.Result)}
	case r.Result.ObjectID == "":
		return valueOf(r.Result), nil
	case r.Result.ClassName == "Promise":
		// Runtime.evaluate has no awaitPromise in this WebKit; awaitPromise replies once the
		// promise settles, with wasThrown set for a rejection.
		raw, err = a.insp.call(ctx, "Runtime.awaitPromise", map[string]any{
			"promiseObjectId": r.Result.ObjectID,
			"returnByValue":   true,
		}, true)
	default:
		// Any other object: ask for it by value (JSON-like copy) in a second step.
		raw, err = a.insp.call(ctx, "Runtime.callFunctionOn", map[string]any{
			"objectId":                             r.Result.ObjectID,
			"functionDeclaration":                  "function() { return this; }",
			"returnByValue":                        true,
			"doNotPauseOnExceptionsAndMuteConsole": true,
		}, true)
	}
	if err != nil {
		return nil, err
	}
	r = evalResult{}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("desktopdrv: reply %s: %v", raw, err)
	}
	if r.WasThrown {
		return nil, &JSError{Expression: js, Message: describe(r.Result)}
	}
	return valueOf(r.Result), nil
}

// valueOf returns a by-value result as JSON, null when there is none.
func valueOf(o remoteObject) json.RawMessage {
	if len(o.Value) == 0 {
		return json.RawMessage("null")
	}
	return o.Value
}

// describe turns a thrown value into a message: an Error's description reads "Error: text".
func describe(o remoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return o.Type
}

// WaitFor polls jsCondition (through Eval, so a promise is awaited) until it is truthy, for at
// most timeout and a bounded number of polls. The error names the condition and the last value
// or exception seen.
func (a *App) WaitFor(ctx context.Context, jsCondition string, timeout time.Duration) error {
	const interval = 50 * time.Millisecond
	if timeout <= 0 {
		timeout = interval
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	maxPolls := int(timeout/interval) + 2
	last := "(not evaluated yet)"
	polls := 0
	for polls < maxPolls {
		polls++
		v, err := a.Eval(ctx, jsCondition)
		switch {
		case err == nil && truthy(v):
			return nil
		case err == nil:
			last = "value " + abbreviate(string(v), 300)
		case errors.Is(err, errClosed):
			return fmt.Errorf("desktopdrv: waiting for %s: %w", abbreviate(jsCondition, 200), err)
		case ctx.Err() != nil && polls > 1:
			// The timeout cut this poll short; the previous one says more.
		default:
			last = "error " + err.Error()
		}
		select {
		case <-ctx.Done():
			polls = maxPolls
		case <-time.After(interval):
		}
	}
	return fmt.Errorf("desktopdrv: %s was not truthy after %s and %d polls; last %s",
		abbreviate(jsCondition, 200), time.Since(start).Round(time.Millisecond), polls, last)
}

// truthy applies JavaScript's truthiness to a JSON value (NaN and undefined arrive as null).
func truthy(v json.RawMessage) bool {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return false
	}
	switch x := x.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	default:
		return true // objects and arrays, even empty ones
	}
}

func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// freePort asks the kernel for an unused loopback port. The port is free when returned, not
// reserved: another process could take it before WebKit binds it, which would show up as
// Launch timing out with WebKit's bind error in the app's log.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(LaunchTimeout)
}
