package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/token"
)

// cleanEnv is the environment for child processes: the test's own, minus any HEARTH_*
// variables that would silently reconfigure the binaries under test.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEARTH_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// lockedBuffer collects a child's output while a goroutine writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a running hearth-server process.
type server struct {
	Data string // data directory
	URL  string // http://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT

	cmd     *exec.Cmd
	log     *lockedBuffer
	done    chan struct{} // closed when the process has exited
	exitErr error
	stopped bool
}

// serverOpts adjust startServer.
type serverOpts struct {
	Args    []string // replace the default flags (--data, --addr, --log-format)
	Env     []string // extra KEY=VALUE pairs
	DataDir string   // set when Args or Env name the data directory themselves
}

// startServer runs the real hearth-server on a free loopback port with a temporary data
// directory, waits until /healthz answers, and stops it (SIGTERM) at cleanup.
func startServer(t testing.TB, o serverOpts) *server {
	t.Helper()
	s := &server{Data: o.DataDir, log: &lockedBuffer{}, done: make(chan struct{})}
	args := o.Args
	if args == nil {
		s.Data = t.TempDir()
		args = []string{"--data", s.Data, "--addr", "127.0.0.1:0", "--log-format", "json"}
	}
	s.cmd = exec.Command(bins.server, args...)
	s.cmd.Env = cleanEnv(o.Env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start hearth-server: %v", err)
	}
	// Port 0 lets the kernel pick a free port with no race; the server logs the one it got.
	addrc := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(io.TeeReader(stderr, s.log))
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "hearth-server listening" {
				select {
				case addrc <- rec.Addr:
				default:
				}
			}
		}
		io.Copy(s.log, stderr) // keep draining if a line was too long for the scanner
	}()
	go func() {
		<-scanned // Wait must not run before the pipe is drained
		s.exitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("hearth-server did not stop cleanly: %v\n%s", err, s.log)
		} else if t.Failed() {
			t.Logf("hearth-server output:\n%s", s.log)
		}
	})
	select {
	case s.Addr = <-addrc:
	case <-s.done:
		t.Fatalf("hearth-server exited before listening: %v\n%s", s.exitErr, s.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("hearth-server did not log its address within 20s:\n%s", s.log)
	}
	s.URL = "http://" + s.Addr
	waitHealthy(t, s.URL, 10*time.Second)
	return s
}

// waitHealthy polls /healthz until it answers ok or the deadline passes.
func waitHealthy(t testing.TB, base string, within time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok" {
				return
			}
			err = errors.New(resp.Status)
		}
		last = err
		time.Sleep(20 * time.Millisecond) // polling interval, not a correctness wait
	}
	t.Fatalf("%s/healthz not ok within %s: %v", base, within, last)
}

// stop sends SIGTERM and waits (bounded) for a clean exit; it kills the process if it hangs.
func (s *server) stop() error {
	if s.stopped {
		<-s.done
		return s.exitErr
	}
	s.stopped = true
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		return s.exitErr
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("no exit within 15s of SIGTERM; killed")
	}
}

// syncURL is a tenant's WebSocket sync endpoint on this server.
func (s *server) syncURL(tenant string) string {
	return "ws://" + s.Addr + "/v1/tenants/" + tenant + "/sync"
}

// signer reads the key the server created in its data directory, to sign tokens in-process.
func (s *server) signer(t testing.TB) *token.Signer {
	t.Helper()
	key, err := syncserver.LoadOrCreateKey(syncserver.KeyPath(s.Data))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := token.NewSigner(key, clinic.CheckTokenScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// token issues a token signed with the server's key.
func (s *server) token(t testing.TB, c token.Claims) string {
	t.Helper()
	tok, err := s.signer(t).Issue(c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// result is how a hearthctl run ended.
type result struct {
	Stdout, Stderr string
	Code           int
}

// ctl runs hearthctl with args (bounded by a timeout) and returns its output and exit code.
func ctl(t testing.TB, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.ctl, args...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("hearthctl %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("hearthctl %s: timed out", strings.Join(args, " "))
	}
	return r
}

// mustCtl runs hearthctl, fails the test unless it exits 0, and returns its trimmed stdout.
func mustCtl(t testing.TB, args ...string) string {
	t.Helper()
	r := ctl(t, args...)
	if r.Code != 0 {
		t.Fatalf("hearthctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return strings.TrimSpace(r.Stdout)
}

// replicaDir is a fresh directory path for a hearthctl replica (not created: put and sync do).
func replicaDir(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(t.TempDir(), name)
}
