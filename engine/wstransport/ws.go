//go:build !js

// Package wstransport carries engine frames over gorilla/websocket. It lives outside the
// engine core so that the WebAssembly build, which uses the browser's WebSocket, does not
// pull in net/http.
package wstransport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"hearth/engine"

	"github.com/gorilla/websocket"
)

// MaxMessage is the default cap on one message (a frame), in bytes.
const MaxMessage = 16 << 20

// Dialer dials a sync server's WebSocket endpoint.
type Dialer struct {
	URL string // ws://host:port/sync
	// Header is sent with the upgrade request.
	Header http.Header
	// MaxMessage caps received messages (default MaxMessage).
	MaxMessage int64
	// PingInterval is how often to ping; a peer silent for twice as long is dead (default 5s).
	PingInterval time.Duration
}

var _ engine.Dialer = (*Dialer)(nil)

// Dial connects.
func (d *Dialer) Dial(ctx context.Context) (engine.Conn, error) {
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, d.URL, d.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %s)", d.URL, err, resp.Status)
		}
		return nil, fmt.Errorf("dial %s: %w", d.URL, err)
	}
	return New(ws, d.MaxMessage, d.PingInterval), nil
}

// Conn adapts a websocket connection to engine.Conn, with keepalive pings so that a link that
// stalls is noticed within seconds rather than at the TCP timeout.
type Conn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	ping   time.Duration
	done   chan struct{}
	once   sync.Once
	pinger atomic.Pointer[time.Timer] // stored before it is first armed: the callback re-arms it
	// lastRead is the size of the last message read: the next one's buffer starts at that
	// size (up to maxReadHint), so a stream of similar pages (catch-up) allocates each once
	// instead of growing a buffer from 512 bytes by doubling, which was a fifth of what
	// catch-up allocated.
	lastRead int
}

// New wraps ws. maxMessage and ping fall back to the defaults when zero.
func New(ws *websocket.Conn, maxMessage int64, ping time.Duration) *Conn {
	if maxMessage <= 0 {
		maxMessage = MaxMessage
	}
	if ping <= 0 {
		ping = 5 * time.Second // a stalled link is noticed within 10s, not at the TCP timeout
	}
	c := &Conn{ws: ws, ping: ping, done: make(chan struct{})}
	ws.SetReadLimit(maxMessage)
	_ = ws.SetReadDeadline(time.Now().Add(2 * ping))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(2 * ping)) })
	t := time.AfterFunc(time.Duration(math.MaxInt64), c.keepalive)
	c.pinger.Store(t)
	t.Reset(ping)
	return c
}

// keepalive sends a ping and re-arms itself: a timer rather than a goroutine per connection,
// since a server holds thousands of mostly idle ones.
func (c *Conn) keepalive() {
	select {
	case <-c.done:
		return
	default:
	}
	// Control frames may be written concurrently with a message (gorilla allows it), so a ping
	// goes out even while a large page is being written.
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.ping)); err != nil {
		c.Close()
		return
	}
	c.pinger.Load().Reset(c.ping)
}

// chunkSize is how much is written between two extensions of the write deadline.
const chunkSize = 32 << 10

// maxReadHint caps the buffer a read starts with: a page is about 1.5 MB, and one rare large
// batch must not make each of thousands of sessions allocate that much for its next frame.
const maxReadHint = 4 << 20

// ReadMessage returns the next binary message; one caller at a time, and the bytes are the
// caller's to keep. Cancelling ctx closes the connection. The read
// deadline moves forward whenever bytes arrive, not only per message: on a slow link a large
// page takes longer than the keepalive window to arrive, and is still progress.
func (c *Conn) ReadMessage(ctx context.Context) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	fail := func(err error) ([]byte, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	// The peer's window starts when we are ready to listen: while the caller was busy with the
	// previous message (applying a large page, say), nobody read its pongs, and they wait in the
	// socket. A peer that stays silent is still given up on within two intervals.
	_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.ping))
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			return fail(err)
		}
		var buf bytes.Buffer
		buf.Grow(min(c.lastRead, maxReadHint) + bytes.MinRead) // ReadFrom grows a full buffer before reading EOF
		if _, err := buf.ReadFrom(progressReader{r, c}); err != nil {
			return fail(err)
		}
		c.lastRead = buf.Len()
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.ping)) // any message proves the peer alive
		if typ == websocket.BinaryMessage {
			return buf.Bytes(), nil
		}
	}
}

// progressReader moves the read deadline forward whenever bytes arrive.
type progressReader struct {
	r io.Reader
	c *Conn
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		_ = p.c.ws.SetReadDeadline(time.Now().Add(2 * p.c.ping))
	}
	return n, err
}

// WriteMessage sends one binary message. Each chunk of it must get through within twice the
// keepalive interval (a stalled peer is given up on), however long the whole message takes on a
// slow link; ctx's deadline, if any, caps the whole. Cancelling ctx abandons the write.
func (c *Conn) WriteMessage(ctx context.Context, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// On cancel, cut the write in progress through the network connection, whose deadlines
	// may be set from any goroutine (the websocket's own setter may not: it races with the
	// writer). The loop below sees ctx's error before the next chunk.
	stop := context.AfterFunc(ctx, func() { _ = c.ws.NetConn().SetWriteDeadline(time.Now()) })
	defer stop()
	deadline := func() time.Time {
		d := time.Now().Add(2 * c.ping)
		if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
			d = cd
		}
		return d
	}
	_ = c.ws.SetWriteDeadline(deadline())
	w, err := c.ws.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	for len(b) > 0 {
		if err := ctx.Err(); err != nil {
			w.Close()
			return err
		}
		n := min(len(b), chunkSize)
		_ = c.ws.SetWriteDeadline(deadline())
		if _, err := w.Write(b[:n]); err != nil {
			w.Close()
			return err
		}
		b = b[n:]
	}
	_ = c.ws.SetWriteDeadline(deadline())
	return w.Close()
}

// Close closes the connection; it is safe to call more than once, and does not wait for a
// write in progress (which fails once the connection is closed).
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		c.pinger.Load().Stop()
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		err = c.ws.Close()
	})
	return err
}
