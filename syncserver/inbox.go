package syncserver

import "sync"

// frameQueue hands a session's frames from its reader to its loop. The reader goes on reading
// while the loop is busy (a large push takes seconds on a loaded machine): the WebSocket
// library answers the peer's keepalive pings only while a read is in progress, and a peer whose
// pings go unanswered gives up on the connection. What waits is bounded by bytes: past the
// budget the reader stops until the loop catches up, so a peer that floods gains nothing.
type frameQueue struct {
	ready chan struct{} // holds a token while frames wait

	mu     sync.Mutex
	room   *sync.Cond
	frames []queued
	bytes  int64
	budget int64
	closed bool
}

type queued struct {
	m    inbound
	size int64
}

func newFrameQueue(budget int64) *frameQueue {
	q := &frameQueue{ready: make(chan struct{}, 1), budget: budget}
	q.room = sync.NewCond(&q.mu)
	return q
}

// put queues a frame of size bytes, first waiting while the queue holds more than its budget.
// It reports false once the queue is closed.
func (q *frameQueue) put(m inbound, size int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.bytes > q.budget && !q.closed {
		q.room.Wait()
	}
	if q.closed {
		return false
	}
	q.frames = append(q.frames, queued{m, size})
	q.bytes += size
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// take returns the oldest frame, after ready gave a token; ok is false if none waits.
func (q *frameQueue) take() (inbound, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) == 0 {
		return inbound{}, false
	}
	f := q.frames[0]
	q.frames[0] = queued{}
	q.frames = q.frames[1:]
	q.bytes -= f.size
	if len(q.frames) > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	q.room.Broadcast()
	return f.m, true
}

// close releases a reader waiting for room; later puts are dropped.
func (q *frameQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.frames = nil
	q.mu.Unlock()
	q.room.Broadcast()
}
