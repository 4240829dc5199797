//go:build !js

// Package wstransport carries engine frames over gorilla/websocket. It lives outside the
// engine core so that the WebAssembly build, which uses the browser's WebSocket, does not
// pull in net/http.
package wstransport

import (
	"context"
	"fmt"
	"net/http"
	"sync"
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
	ws   *websocket.Conn
	wmu  sync.Mutex
	ping time.Duration
	done chan struct{}
	once sync.Once
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
	go c.keepalive()
	return c
}

func (c *Conn) keepalive() {
	t := time.NewTicker(c.ping)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.wmu.Lock()
			err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.ping))
			c.wmu.Unlock()
			if err != nil {
				c.Close()
				return
			}
		}
	}
}

// ReadMessage returns the next binary message. Cancelling ctx closes the connection.
func (c *Conn) ReadMessage(ctx context.Context) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.ping)) // any message proves the peer alive
		if typ == websocket.BinaryMessage {
			return b, nil
		}
	}
}

// WriteMessage sends one binary message, giving up at ctx's deadline (or after 30s).
func (c *Conn) WriteMessage(ctx context.Context, b []byte) error {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Second)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(dl)
	return c.ws.WriteMessage(websocket.BinaryMessage, b)
}

// Close closes the connection; it is safe to call more than once.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		c.wmu.Lock()
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.wmu.Unlock()
		err = c.ws.Close()
	})
	return err
}
