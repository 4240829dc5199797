package syncserver

import (
	"testing"
	"time"

	"hearth/engine"
)

func TestFrameQueue(t *testing.T) {
	q := newFrameQueue(10)
	frame := func(i int) inbound { return inbound{f: &engine.Frame{Type: engine.MsgType(i)}} }
	for i := 1; i <= 3; i++ { // 12 bytes: over the budget after the third
		if !q.put(frame(i), 4) {
			t.Fatal("put refused")
		}
	}
	blocked := make(chan bool)
	go func() { blocked <- q.put(frame(4), 4) }()
	select {
	case <-blocked:
		t.Fatal("a put past the budget did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	for want := 1; want <= 4; want++ {
		<-q.ready
		m, ok := q.take()
		if !ok || int(m.f.Type) != want {
			t.Fatalf("take %d: %v %v", want, m.f, ok)
		}
		if want == 1 {
			if ok := <-blocked; !ok {
				t.Fatal("the waiting put was dropped")
			}
		}
	}
	if _, ok := q.take(); ok {
		t.Fatal("took from an empty queue")
	}
	for range 3 {
		q.put(frame(9), 4)
	}
	go func() { blocked <- q.put(frame(9), 4) }()
	time.Sleep(20 * time.Millisecond)
	q.close()
	select {
	case ok := <-blocked:
		if ok {
			t.Fatal("a put after close was queued")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not release a waiting put")
	}
}
