package wstransport_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hearth/engine/wstransport"

	"github.com/gorilla/websocket"
)

// echoServer echoes every binary message back.
func echoServer(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := wstransport.New(ws, 0, time.Second)
		defer c.Close()
		for {
			b, err := c.ReadMessage(context.Background())
			if err != nil {
				return
			}
			if err := c.WriteMessage(context.Background(), b); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestRoundTripLimitAndCancel(t *testing.T) {
	url := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&wstransport.Dialer{URL: url, MaxMessage: 1024, PingInterval: 100 * time.Millisecond}).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A reader is always waiting, as the sync loop's is: it handles the keepalive pongs that
	// hold an idle connection open across several ping intervals.
	type result struct {
		b   []byte
		err error
	}
	read := make(chan result, 1)
	go func() { b, err := conn.ReadMessage(ctx); read <- result{b, err} }()
	time.Sleep(350 * time.Millisecond)
	msg := []byte("hello hearth")
	if err := conn.WriteMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if r := <-read; r.err != nil || !bytes.Equal(r.b, msg) {
		t.Fatalf("echo after idle: %q, %v", r.b, r.err)
	}
	// A message over the limit is refused and ends the connection.
	if err := conn.WriteMessage(ctx, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ReadMessage(ctx); err == nil {
		t.Fatal("read a message over the 1 KiB limit")
	}

	conn2, err := (&wstransport.Dialer{URL: url}).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := conn2.ReadMessage(rctx); done <- err }()
	rcancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled read returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the context did not end a blocked read")
	}
}

func TestDialFailureSaysWhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := (&wstransport.Dialer{URL: "ws://127.0.0.1:1/v1/tenants/x/sync"}).Dial(ctx)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("dial error %v does not name the address", err)
	}
}
