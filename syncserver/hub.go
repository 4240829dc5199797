package syncserver

import "sync"

// hub wakes a tenant's live sessions when its log grows. Each waiter holds the channel of the
// current generation; a commit closes it and starts the next, so one commit wakes any number
// of sessions without a send per session, and a session never misses a wake-up that happens
// between reading the log and waiting.
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

func newHub() *hub { return &hub{ch: make(chan struct{})} }

// changed returns a channel closed at the next commit.
func (h *hub) changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

// notify wakes every session waiting on the current generation.
func (h *hub) notify() {
	h.mu.Lock()
	close(h.ch)
	h.ch = make(chan struct{})
	h.mu.Unlock()
}
