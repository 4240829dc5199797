package engine_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"hearth/engine"
)

// fakeWall is a wall clock the test moves by hand, forwards or backwards.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeWall(ms int64) *fakeWall { return &fakeWall{t: time.UnixMilli(ms)} }

func (w *fakeWall) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

func (w *fakeWall) Set(ms int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = time.UnixMilli(ms)
}

func TestHLCParts(t *testing.T) {
	h := engine.NewHLC(1_700_000_000_123, 42)
	if got := h.Millis(); got != 1_700_000_000_123 {
		t.Errorf("Millis = %d", got)
	}
	if got := h.Logical(); got != 42 {
		t.Errorf("Logical = %d", got)
	}
	if got, want := h.Time(), time.UnixMilli(1_700_000_000_123).UTC(); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	if got, want := h.String(), "2023-11-14T22:13:20.123Z/42"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	// Packing keeps the order of (millis, logical).
	if !(engine.NewHLC(10, 65535) < engine.NewHLC(11, 0)) {
		t.Error("a later millisecond must order after every logical count of an earlier one")
	}
}

func TestClockNowMonotonic(t *testing.T) {
	wall := newFakeWall(1000)
	c := engine.NewClock(wall.Now, 0)

	steps := []struct {
		wallMs int64
		want   engine.HLC
	}{
		{1000, engine.NewHLC(1000, 0)},
		{1000, engine.NewHLC(1000, 1)}, // same millisecond: the logical counter moves
		{900, engine.NewHLC(1000, 2)},  // wall clock went backwards: still after the last
		{500, engine.NewHLC(1000, 3)},
		{1000, engine.NewHLC(1000, 4)},
		{1001, engine.NewHLC(1001, 0)}, // wall clock caught up: physical part takes over
		{3000, engine.NewHLC(3000, 0)},
		{2999, engine.NewHLC(3000, 1)},
	}
	var prev engine.HLC
	for i, s := range steps {
		wall.Set(s.wallMs)
		got := c.Now()
		if got != s.want {
			t.Errorf("step %d (wall %d): Now = %v, want %v", i, s.wallMs, got, s.want)
		}
		if got <= prev {
			t.Errorf("step %d: Now = %v is not after %v", i, got, prev)
		}
		if c.Last() != got {
			t.Errorf("step %d: Last = %v, want %v", i, c.Last(), got)
		}
		prev = got
	}
}

func TestClockLogicalOverflowCarries(t *testing.T) {
	wall := newFakeWall(1000)
	c := engine.NewClock(wall.Now, 0)
	c.Restore(engine.NewHLC(1000, 0xffff))
	got := c.Now()
	if want := engine.NewHLC(1001, 0); got != want {
		t.Fatalf("Now after a full logical counter = %v, want %v (carry into the millisecond)", got, want)
	}
}

func TestClockNowConcurrentUnique(t *testing.T) {
	wall := newFakeWall(1000) // frozen wall clock: every timestamp comes from the counter
	c := engine.NewClock(wall.Now, 0)
	const goroutines, each = 8, 2000
	out := make(chan engine.HLC, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				out <- c.Now()
			}
		}()
	}
	wg.Wait()
	close(out)
	seen := make(map[engine.HLC]bool, goroutines*each)
	for h := range out {
		if seen[h] {
			t.Fatalf("timestamp %v issued twice", h)
		}
		seen[h] = true
	}
}

func TestClockObserve(t *testing.T) {
	wall := newFakeWall(10_000)
	c := engine.NewClock(wall.Now, time.Minute)
	c.Now() // 10000/0

	// A remote timestamp ahead of us (within drift) pulls the clock forward.
	remote := engine.NewHLC(40_000, 7)
	if err := c.Observe(remote); err != nil {
		t.Fatalf("Observe(%v): %v", remote, err)
	}
	if c.Last() != remote {
		t.Fatalf("Last = %v, want %v", c.Last(), remote)
	}
	if got, want := c.Now(), engine.NewHLC(40_000, 8); got != want {
		t.Fatalf("Now after Observe = %v, want %v", got, want)
	}

	// An older remote timestamp changes nothing.
	before := c.Last()
	if err := c.Observe(engine.NewHLC(5_000, 0)); err != nil {
		t.Fatalf("Observe(old): %v", err)
	}
	if c.Last() != before {
		t.Fatalf("Observe(old) moved the clock from %v to %v", before, c.Last())
	}
}

func TestClockSkew(t *testing.T) {
	tests := []struct {
		name     string
		maxDrift time.Duration
		aheadMs  int64
		wantSkew bool
	}{
		{"within default drift", 0, (engine.DefaultMaxDrift - time.Second).Milliseconds(), false},
		{"exactly at default drift", 0, engine.DefaultMaxDrift.Milliseconds(), false},
		{"past default drift", 0, engine.DefaultMaxDrift.Milliseconds() + 1, true},
		{"far future", 0, (24 * time.Hour).Milliseconds(), true},
		{"custom drift ok", time.Second, 1000, false},
		{"custom drift exceeded", time.Second, 1001, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wall := newFakeWall(1_000_000)
			c := engine.NewClock(wall.Now, tt.maxDrift)
			start := c.Now()
			remote := engine.NewHLC(1_000_000+tt.aheadMs, 3)

			checkErr := c.Check(remote)
			err := c.Observe(remote)
			if got := errors.Is(err, engine.ErrClockSkew); got != tt.wantSkew {
				t.Fatalf("Observe(%v) = %v, want skew %v", remote, err, tt.wantSkew)
			}
			if got := errors.Is(checkErr, engine.ErrClockSkew); got != tt.wantSkew {
				t.Fatalf("Check(%v) = %v, want skew %v", remote, checkErr, tt.wantSkew)
			}
			if tt.wantSkew {
				if c.Last() != start {
					t.Fatalf("a refused timestamp moved the clock from %v to %v", start, c.Last())
				}
				if got, want := c.Now(), engine.NewHLC(1_000_000, 1); got != want {
					t.Fatalf("Now after refused Observe = %v, want %v", got, want)
				}
			} else if c.Last() != remote {
				t.Fatalf("Last = %v, want %v", c.Last(), remote)
			}
		})
	}
}

func TestClockSkewFollowsWallClock(t *testing.T) {
	// The drift limit is measured from the current wall time, not the clock's last timestamp.
	wall := newFakeWall(0)
	c := engine.NewClock(wall.Now, time.Minute)
	remote := engine.NewHLC(2*time.Minute.Milliseconds(), 0)
	if err := c.Observe(remote); !errors.Is(err, engine.ErrClockSkew) {
		t.Fatalf("Observe = %v, want ErrClockSkew", err)
	}
	wall.Set(time.Minute.Milliseconds() + 1)
	if err := c.Observe(remote); err != nil {
		t.Fatalf("Observe after the wall clock advanced: %v", err)
	}
}

func TestNewClockDefaults(t *testing.T) {
	c := engine.NewClock(nil, 0) // real time, default drift
	before := time.Now().UnixMilli()
	h := c.Now()
	after := time.Now().UnixMilli()
	if h.Millis() < before || h.Millis() > after {
		t.Fatalf("Now = %v, want a time in [%d, %d]", h, before, after)
	}
	if err := c.Check(engine.NewHLC(after+time.Minute.Milliseconds(), 0)); err != nil {
		t.Fatalf("one minute ahead refused with the default drift: %v", err)
	}
	if err := c.Check(engine.NewHLC(after+(engine.DefaultMaxDrift+time.Minute).Milliseconds(), 0)); !errors.Is(err, engine.ErrClockSkew) {
		t.Fatalf("past the default drift: %v, want ErrClockSkew", err)
	}
}

func TestClockRestore(t *testing.T) {
	wall := newFakeWall(1000)
	c := engine.NewClock(wall.Now, 0)

	// A replica restarting with its wall clock behind what it issued before the restart.
	saved := engine.NewHLC(5000, 3)
	c.Restore(saved)
	if c.Last() != saved {
		t.Fatalf("Last after Restore = %v, want %v", c.Last(), saved)
	}
	if got, want := c.Now(), engine.NewHLC(5000, 4); got != want {
		t.Fatalf("Now after Restore = %v, want %v", got, want)
	}
	// Restoring an older timestamp never moves the clock back.
	c.Restore(engine.NewHLC(2000, 0))
	if got, want := c.Last(), engine.NewHLC(5000, 4); got != want {
		t.Fatalf("Restore(older) moved the clock to %v, want %v", got, want)
	}
	// The wall clock overtaking the restored value takes over again.
	wall.Set(6000)
	if got, want := c.Now(), engine.NewHLC(6000, 0); got != want {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}
