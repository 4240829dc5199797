package syncserver

import (
	"sync"
	"time"
)

// bucket is a token bucket that may go into debt: a request is admitted while the bucket holds
// any tokens and then takes its whole size, so a batch larger than the burst still passes
// (once the bucket is full) and the average rate holds.
type bucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newBucket(rate float64, burst int, now func() time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now}
}

// take admits n units if the bucket is not in debt, and reports how long to wait otherwise.
func (b *bucket) take(n int) (ok bool, wait time.Duration) {
	if b == nil || b.rate <= 0 {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens <= 0 {
		return false, time.Duration(-b.tokens/b.rate*float64(time.Second)) + time.Millisecond
	}
	b.tokens -= float64(n)
	return true, 0
}
