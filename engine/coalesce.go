package engine

import (
	"sync"
	"time"
)

// Coalescer runs a function at most once per delay, and always within delay of being asked:
// a burst of requests becomes one run at the end of the window the first one opened. Unlike a
// debounce, which waits for a quiet moment, it cannot be postponed forever by a steady stream
// of requests (a bulk import, a Monday-morning queue).
type Coalescer struct {
	delay time.Duration
	fn    func()

	mu      sync.Mutex
	pending bool
	stopped bool
}

// NewCoalescer returns a coalescer that runs fn (on its own goroutine) for each window.
func NewCoalescer(delay time.Duration, fn func()) *Coalescer {
	return &Coalescer{delay: delay, fn: fn}
}

// Trigger asks for a run: within delay, fn runs once for every Trigger made until it starts.
func (c *Coalescer) Trigger() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending || c.stopped {
		return
	}
	c.pending = true
	time.AfterFunc(c.delay, func() {
		c.mu.Lock()
		c.pending = false
		stopped := c.stopped
		c.mu.Unlock()
		if !stopped {
			c.fn()
		}
	})
}

// Stop drops a pending run and refuses later ones; a run under way finishes.
func (c *Coalescer) Stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}
