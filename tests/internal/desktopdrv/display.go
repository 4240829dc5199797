// Package desktopdrv drives a real Wails (WebKitGTK) desktop window from Go tests: it runs a
// private Xvfb, starts the app binary with WebKit's remote inspector on a loopback port, and
// speaks WebKit's inspector protocol over a WebSocket to evaluate JavaScript in the page, click,
// type, call bound Go methods and take screenshots.
//
// The protocol, as WebKitGTK 2.50 serves it when WEBKIT_INSPECTOR_HTTP_SERVER=127.0.0.1:PORT:
//
//   - GET http://127.0.0.1:PORT/ returns an HTML page (not JSON; /json is a 404) listing the
//     targets; each has an Inspect button whose onclick names the socket path, e.g.
//     /socket/1/1/WebPage.
//   - A WebSocket to ws://127.0.0.1:PORT/socket/1/1/WebPage first receives
//     {"method":"Target.targetCreated","params":{"targetInfo":{"targetId":"page-8","type":"page"}}}.
//   - Page commands go wrapped: {"id":N,"method":"Target.sendMessageToTarget",
//     "params":{"targetId":"page-8","message":"<inner JSON as a string>"}}. The outer reply is
//     an empty {"result":{},"id":N} (or an error such as "Missing target for given targetId");
//     the inner reply arrives as {"method":"Target.dispatchMessageFromTarget",
//     "params":{"targetId":"page-8","message":"<inner reply JSON as a string>"}}.
//   - Runtime.evaluate ignores awaitPromise here (a promise comes back as {} by value), so Eval
//     evaluates by reference and, for a Promise, sends Runtime.awaitPromise with its objectId.
//
// All network traffic goes to 127.0.0.1, every wait is bounded in time and count, and every
// process started here is stopped in t.Cleanup.
package desktopdrv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Screen geometry of the virtual display: the size Hearth's window asks for, so screenshots
// show the whole window without a window manager shrinking it.
const (
	ScreenWidth  = 1280
	ScreenHeight = 800
)

// Display is a private Xvfb server. Each test gets its own so parallel tests and a developer's
// real desktop never share windows or screenshots.
type Display struct {
	num  int
	cmd  *exec.Cmd
	done chan struct{} // closed when Xvfb has exited and been reaped
}

// StartDisplay starts Xvfb on a display number it chooses itself (-displayfd), with one
// 1280x800x24 screen, and stops it in t.Cleanup. A missing Xvfb fails the test rather than
// skipping it: a skipped desktop test reads as green in CI while testing nothing.
func StartDisplay(t testing.TB) *Display {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Fatalf("desktopdrv: Xvfb is not on PATH (%v); install the Debian package xvfb (apt-get install xvfb)", err)
	}
	// Xvfb writes the display number it picked, then a newline, to the descriptor given to
	// -displayfd. That avoids guessing a free number and racing other tests for it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("desktopdrv: pipe for Xvfb: %v", err)
	}
	defer r.Close()
	logPath := filepath.Join(t.TempDir(), "xvfb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		w.Close()
		t.Fatalf("desktopdrv: %v", err)
	}
	geometry := fmt.Sprintf("%dx%dx24", ScreenWidth, ScreenHeight)
	// -nolisten tcp: clients reach it through its Unix socket only, nothing on the network.
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", geometry, "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // becomes fd 3 in the child
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// If the test binary dies without running cleanups, the kernel stops Xvfb too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		w.Close()
		logFile.Close()
		t.Fatalf("desktopdrv: starting Xvfb: %v", err)
	}
	w.Close() // only the child holds the write end now, so EOF means Xvfb closed or died
	d := &Display{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(d.done)
	}()
	t.Cleanup(d.stop)

	type reply struct {
		line string
		err  error
	}
	got := make(chan reply, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		got <- reply{line, err}
	}()
	select {
	case rep := <-got:
		n, err := strconv.Atoi(strings.TrimSpace(rep.line))
		if err != nil {
			<-waitOrTimeout(d.done, 2*time.Second)
			t.Fatalf("desktopdrv: Xvfb did not report a display number (read %q, %v); its log:\n%s", rep.line, rep.err, tail(logPath, 4096))
		}
		d.num = n
	case <-time.After(15 * time.Second):
		t.Fatalf("desktopdrv: Xvfb reported no display number within 15s; its log:\n%s", tail(logPath, 4096))
	}
	return d
}

// Env returns the DISPLAY=:N entry to add to a child's environment.
func (d *Display) Env() string { return "DISPLAY=" + d.Name() }

// Name returns the display name, ":N".
func (d *Display) Name() string { return ":" + strconv.Itoa(d.num) }

// Screenshot writes a PNG of the whole screen to path (creating its directories) with
// ImageMagick's import. It works whatever the app's state, which is what a crash test needs.
func (d *Display) Screenshot(t testing.TB, path string) {
	t.Helper()
	if err := d.screenshot(path); err != nil {
		t.Fatalf("desktopdrv: %v", err)
	}
}

func (d *Display) screenshot(path string) error {
	bin, err := exec.LookPath("import")
	if err != nil {
		return fmt.Errorf("ImageMagick's import is not on PATH (%v); install the Debian package imagemagick", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-window", "root", path)
	cmd.Env = append(os.Environ(), d.Env())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("screenshot %s: %v\n%s", path, err, out)
	}
	return nil
}

// stop terminates Xvfb: SIGTERM lets it remove its lock file and socket, SIGKILL bounds the wait.
func (d *Display) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-waitOrTimeout(d.done, 5*time.Second)
	}
}

// waitOrTimeout returns a channel closed when done closes or after d, whichever comes first.
func waitOrTimeout(done <-chan struct{}, d time.Duration) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		defer close(out)
		select {
		case <-done:
		case <-time.After(d):
		}
	}()
	return out
}

// tail returns the last n bytes of a file, for failure messages.
func tail(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	if len(b) == 0 {
		return "(empty)"
	}
	return string(b)
}

// errClosed is returned by calls made after the inspector connection is gone.
var errClosed = errors.New("desktopdrv: inspector connection closed (did the app exit?)")
