package desktopdrv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// inspector is one WebSocket to WebKit's inspector server, carrying commands for the page target.
type inspector struct {
	conn *websocket.Conn

	writeMu sync.Mutex // gorilla/websocket allows one writer at a time

	mu      sync.Mutex
	nextID  int
	pending map[int]*call // by inner id, and by outer id for the wrapper's own reply
	target  string        // the page's current targetId, "" while there is none
	targetC chan struct{} // closed (and replaced) whenever target changes
	closed  bool
	readErr error
}

type call struct {
	inner  bool   // true: waiting for the page's reply; false: for the wrapper's reply
	target string // the target it was sent to, so its destruction fails it at once
	done   chan reply
}

type reply struct {
	result json.RawMessage
	err    error
}

// protoError is an error object in an inspector reply.
type protoError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// message is any frame from the server: a reply (ID set) or an event (Method set).
type message struct {
	ID     *int            `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *protoError     `json:"error"`
}

// writeTimeout bounds one WebSocket write.
const writeTimeout = 10 * time.Second

// socketPath matches the socket named in the target list; the list is HTML in WebKitGTK 2.50
// (an Inspect button's onclick), and this also finds it in a JSON listing, should a later
// WebKit serve one.
var socketPath = regexp.MustCompile(`/socket/\d+/\d+/[A-Za-z]+`)

// httpClient never uses a proxy: everything here is loopback, and a proxy from the
// environment must not see (or break) it.
var httpClient = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 3 * time.Second}

// findSocket reads the target list at http://addr/ and returns the page's socket path, or ""
// while the list has no target yet.
func findSocket(ctx context.Context, addr string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return "", err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s/: %s", addr, resp.Status)
	}
	return socketPath.FindString(string(body)), nil
}

// dialInspector opens the WebSocket and starts reading from it.
func dialInspector(ctx context.Context, addr, path string) (*inspector, error) {
	dialer := websocket.Dialer{Proxy: nil, HandshakeTimeout: 5 * time.Second}
	conn, _, err := dialer.DialContext(ctx, "ws://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	// Replies to evaluate carry whole JSON values by value; a cap still keeps a runaway page
	// from exhausting the test's memory.
	conn.SetReadLimit(64 << 20)
	in := &inspector{conn: conn, pending: map[int]*call{}, targetC: make(chan struct{})}
	go in.readLoop()
	return in, nil
}

// waitTarget blocks until the page target is known.
func (in *inspector) waitTarget(ctx context.Context) (string, error) {
	for i := 0; i < 1000; i++ { // each turn waits for a change, so this bounds churn, not time
		in.mu.Lock()
		target, changed, closed, rerr := in.target, in.targetC, in.closed, in.readErr
		in.mu.Unlock()
		if target != "" {
			return target, nil
		}
		if closed {
			return "", fmt.Errorf("%w: %v", errClosed, rerr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("desktopdrv: no page target from the inspector: %w", context.Cause(ctx))
		}
	}
	return "", fmt.Errorf("desktopdrv: the page target kept changing")
}

// setTarget records the page's target and wakes waiters. Callers hold in.mu.
func (in *inspector) setTarget(id string) {
	if in.target == id {
		return
	}
	old := in.target
	in.target = id
	close(in.targetC)
	in.targetC = make(chan struct{})
	if old == "" {
		return
	}
	// Replies from a target that is gone never come: fail its calls now instead of at timeout.
	for cid, c := range in.pending {
		if c.target == old {
			delete(in.pending, cid)
			c.done <- reply{err: fmt.Errorf("desktopdrv: page target %s went away (navigation or crash)", old)}
		}
	}
}

func (in *inspector) readLoop() {
	var err error
	for {
		var raw []byte
		_, raw, err = in.conn.ReadMessage()
		if err != nil {
			break
		}
		var m message
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		in.handle(m)
	}
	in.mu.Lock()
	in.closed = true
	in.readErr = err
	for id, c := range in.pending {
		delete(in.pending, id)
		c.done <- reply{err: fmt.Errorf("%w: %v", errClosed, err)}
	}
	close(in.targetC)
	in.targetC = make(chan struct{})
	in.mu.Unlock()
}

func (in *inspector) handle(m message) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if m.ID != nil { // the wrapper's own reply: only an error matters, success is {}
		c, ok := in.pending[*m.ID]
		if !ok {
			return
		}
		delete(in.pending, *m.ID)
		if m.Error != nil {
			c.done <- reply{err: fmt.Errorf("desktopdrv: inspector: %s", m.Error.Message)}
		} else {
			c.done <- reply{}
		}
		return
	}
	switch m.Method {
	case "Target.targetCreated":
		var p struct {
			TargetInfo struct {
				TargetID      string `json:"targetId"`
				Type          string `json:"type"`
				IsProvisional bool   `json:"isProvisional"`
			} `json:"targetInfo"`
		}
		// A provisional target (a navigation to another process) only counts once committed.
		if json.Unmarshal(m.Params, &p) == nil && p.TargetInfo.Type == "page" && !p.TargetInfo.IsProvisional {
			in.setTarget(p.TargetInfo.TargetID)
		}
	case "Target.didCommitProvisionalTarget":
		var p struct {
			NewTargetID string `json:"newTargetId"`
		}
		if json.Unmarshal(m.Params, &p) == nil && p.NewTargetID != "" {
			in.setTarget(p.NewTargetID)
		}
	case "Target.targetDestroyed":
		var p struct {
			TargetID string `json:"targetId"`
		}
		if json.Unmarshal(m.Params, &p) == nil && p.TargetID == in.target {
			in.setTarget("")
		}
	case "Target.dispatchMessageFromTarget":
		var p struct {
			Message string `json:"message"` // the page's reply, JSON inside a string
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		var inner message
		if json.Unmarshal([]byte(p.Message), &inner) != nil || inner.ID == nil {
			return // a page event (console, etc.): nothing here asks for them
		}
		c, ok := in.pending[*inner.ID]
		if !ok || !c.inner {
			return
		}
		delete(in.pending, *inner.ID)
		if inner.Error != nil {
			c.done <- reply{err: fmt.Errorf("desktopdrv: inspector: %s", inner.Error.Message)}
		} else {
			c.done <- reply{result: inner.Result}
		}
	}
}

// call sends one command to the page and waits for its reply. With wait false it returns once
// the command is written (used to release objects without a round trip).
func (in *inspector) call(ctx context.Context, method string, params any, wait bool) (json.RawMessage, error) {
	// A command sent after its context ended would be answered to nobody; worse, see the
	// write deadline below.
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("desktopdrv: %s: %w", method, err)
	}
	target, err := in.waitTarget(ctx)
	if err != nil {
		return nil, err
	}
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil, errClosed
	}
	in.nextID++
	innerID := in.nextID
	in.nextID++
	outerID := in.nextID
	innerC := &call{inner: true, target: target, done: make(chan reply, 1)}
	outerC := &call{target: target, done: make(chan reply, 1)}
	if wait {
		in.pending[innerID] = innerC
		in.pending[outerID] = outerC
	}
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		delete(in.pending, innerID)
		delete(in.pending, outerID)
		in.mu.Unlock()
	}()

	inner, err := json.Marshal(map[string]any{"id": innerID, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	outer, err := json.Marshal(map[string]any{
		"id":     outerID,
		"method": "Target.sendMessageToTarget",
		"params": map[string]any{"targetId": target, "message": string(inner)},
	})
	if err != nil {
		return nil, err
	}
	in.writeMu.Lock()
	// Not the caller's deadline: gorilla/websocket treats a connection whose write timed out
	// as broken for good, so one expired context would fail every later call. A loopback
	// write that takes this long means the app is wedged anyway.
	_ = in.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	err = in.conn.WriteMessage(websocket.TextMessage, outer)
	in.writeMu.Unlock()
	if err != nil || !wait {
		return nil, err
	}
	outerDone := outerC.done
	for {
		select {
		case r := <-outerDone:
			if r.err != nil {
				return nil, r.err
			}
			outerDone = nil // accepted; now only the page's answer can come
		case r := <-innerC.done:
			return r.result, r.err
		case <-ctx.Done():
			return nil, fmt.Errorf("desktopdrv: %s: %w", method, context.Cause(ctx))
		}
	}
}

// close ends the connection; the read loop then fails whatever is still waiting. It is a
// no-op on nil, which is what an App has if Launch failed before connecting.
func (in *inspector) close() {
	if in != nil {
		_ = in.conn.Close()
	}
}
