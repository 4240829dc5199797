package engine

import (
	"fmt"
	"sync"
	"time"
)

// HLC is a hybrid logical clock timestamp: the upper 48 bits are milliseconds since the Unix
// epoch, the lower 16 bits a logical counter that orders events within one millisecond.
// Packing both into one integer makes timestamps cheap to compare, store and index.
type HLC uint64

const logicalBits = 16

// NewHLC builds a timestamp from wall milliseconds and a logical counter.
func NewHLC(ms int64, logical uint16) HLC { return HLC(uint64(ms)<<logicalBits | uint64(logical)) }

// Millis returns the physical part in milliseconds since the Unix epoch.
func (h HLC) Millis() int64 { return int64(h >> logicalBits) }

// Logical returns the logical counter.
func (h HLC) Logical() uint16 { return uint16(h) }

// Time returns the physical part as a time.
func (h HLC) Time() time.Time { return time.UnixMilli(h.Millis()).UTC() }

func (h HLC) String() string {
	return fmt.Sprintf("%s/%d", h.Time().Format("2006-01-02T15:04:05.000Z"), h.Logical())
}

// Clock issues monotonic HLC timestamps for one replica. It is safe for concurrent use.
type Clock struct {
	mu       sync.Mutex
	now      func() time.Time
	last     HLC
	maxDrift time.Duration
}

// DefaultMaxDrift is how far ahead of local wall time a remote timestamp may be before it is
// refused as skewed.
const DefaultMaxDrift = 5 * time.Minute

// NewClock returns a clock reading wall time from now (time.Now when nil). A remote timestamp
// more than maxDrift ahead of wall time is refused; zero means DefaultMaxDrift.
func NewClock(now func() time.Time, maxDrift time.Duration) *Clock {
	if now == nil {
		now = time.Now
	}
	if maxDrift <= 0 {
		maxDrift = DefaultMaxDrift
	}
	return &Clock{now: now, maxDrift: maxDrift}
}

// Now returns a timestamp greater than every timestamp this clock has issued or observed.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := NewHLC(c.now().UnixMilli(), 0)
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe folds a remote timestamp into the clock so that later local events order after it.
// It returns ErrClockSkew, leaving the clock untouched, when remote is too far in the future.
func (c *Clock) Observe(remote HLC) error {
	if err := c.Check(remote); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if remote > c.last {
		c.last = remote
	}
	return nil
}

// Check reports whether remote is within the allowed drift of wall time.
func (c *Clock) Check(remote HLC) error {
	limit := c.now().Add(c.maxDrift).UnixMilli()
	if remote.Millis() > limit {
		return fmt.Errorf("%w: %s is more than %s ahead of local time", ErrClockSkew, remote, c.maxDrift)
	}
	return nil
}

// Last returns the greatest timestamp issued or observed so far.
func (c *Clock) Last() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Restore raises the clock to at least last, a timestamp this replica issued before a restart.
func (c *Clock) Restore(last HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if last > c.last {
		c.last = last
	}
}
