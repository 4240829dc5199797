package engine_test

import (
	"sync/atomic"
	"testing"
	"time"

	"hearth/engine"
)

func TestCoalescerRunsWithinItsDelayUnderASteadyStream(t *testing.T) {
	var runs atomic.Int32
	first := make(chan time.Time, 1)
	c := engine.NewCoalescer(20*time.Millisecond, func() {
		if runs.Add(1) == 1 {
			first <- time.Now()
		}
	})
	defer c.Stop()
	start := time.Now()
	// Requests every 2 ms for 200 ms: a debounce of 20 ms would never run until they stop.
	for time.Since(start) < 200*time.Millisecond {
		c.Trigger()
		time.Sleep(2 * time.Millisecond)
	}
	select {
	case at := <-first:
		if d := at.Sub(start); d > 150*time.Millisecond {
			t.Fatalf("first run %s after the first request, want about 20ms", d)
		}
	default:
		t.Fatal("no run during a steady stream of requests")
	}
	if n := runs.Load(); n < 2 || n > 12 {
		t.Fatalf("%d runs for a 200ms stream with a 20ms window", n)
	}
	c.Stop()
	before := runs.Load()
	c.Trigger()
	time.Sleep(50 * time.Millisecond)
	if runs.Load() != before {
		t.Fatal("ran after Stop")
	}
}
