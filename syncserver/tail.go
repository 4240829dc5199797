package syncserver

import (
	"sync"

	"hearth/engine"
)

// tail keeps the newest part of a tenant's log in memory, so that live sessions, which read
// just past the head after every commit, are served without a query: with many replicas per
// clinic, those reads were most of the server's work. It holds every entry from first up to
// the head, in order, and is bounded: the oldest entries go first. A session behind the tail
// (catching up, or re-syncing) reads the log from the store as before.
type tail struct {
	mu      sync.Mutex
	first   uint64 // sequence number of entries[0] (or of the next entry, when empty)
	entries []tailEntry
	bytes   int
	// early holds entries of commits that finished out of order, until the gap before them
	// is filled: commits are serialized, their announcements here are not.
	early map[uint64]tailEntry
	max   int // most bytes held
}

type tailEntry struct {
	seq   uint64
	site  engine.SiteID
	scope string
	raw   []byte
}

// tailBytes bounds a tenant's tail: several minutes of a busy clinic's changes.
const tailBytes = 2 << 20

func newTail(head uint64) *tail {
	return &tail{first: head + 1, early: map[uint64]tailEntry{}, max: tailBytes}
}

// add appends entries a commit logged (any order; gaps wait for the commits before them).
func (t *tail) add(entries []logEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := t.first + uint64(len(t.entries))
	for _, e := range entries {
		if e.seq >= next {
			t.early[e.seq] = tailEntry{seq: e.seq, site: e.ch.Site, scope: e.ch.Scope, raw: e.encoded}
		}
	}
	for {
		e, ok := t.early[next]
		if !ok {
			break
		}
		delete(t.early, next)
		t.entries = append(t.entries, e)
		t.bytes += len(e.raw) + 64
		next++
	}
	for t.bytes > t.max && len(t.entries) > 0 {
		t.bytes -= len(t.entries[0].raw) + 64
		t.entries[0] = tailEntry{}
		t.entries = t.entries[1:]
		t.first++
	}
	if len(t.early) > 10000 { // a lost announcement: start over rather than grow
		t.resetLocked(next - 1)
	}
}

// reset empties the tail, which then starts after head.
func (t *tail) reset(head uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.resetLocked(head)
}

func (t *tail) resetLocked(head uint64) {
	t.first, t.entries, t.bytes = head+1, nil, 0
	for seq := range t.early {
		if seq <= head {
			delete(t.early, seq)
		}
	}
}

// pull serves req from memory when the tail holds everything after req.Cursor; ok is false
// when it does not (the caller reads the store).
func (t *tail) pull(req PullRequest, horizon uint64) (page *engine.Changes, ok bool) {
	if !req.Raw {
		return nil, false
	}
	all, exact, patterns := scopeSet(req.Scopes)
	t.mu.Lock()
	defer t.mu.Unlock()
	if req.Cursor+1 < t.first || req.Cursor < horizon || len(t.early) > 0 {
		return nil, false // behind the tail or the compaction horizon, or a commit not yet announced
	}
	head := t.first + uint64(len(t.entries)) - 1
	page = &engine.Changes{Cursor: req.Cursor, Horizon: horizon, Head: head}
	for i := int(req.Cursor + 1 - t.first); i < len(t.entries); i++ {
		e := t.entries[i]
		if (req.ExcludeSite != 0 && e.site == req.ExcludeSite) || !(all || inScopes(e.scope, exact, patterns)) {
			continue
		}
		page.Raw = append(page.Raw, e.raw)
		page.Seqs = append(page.Seqs, e.seq)
		page.Cursor = e.seq
		if len(page.Seqs) == req.Limit {
			break
		}
	}
	// As the store's pages: a full page ends at its last change, any other at the head.
	if len(page.Seqs) == req.Limit {
		page.More = page.Cursor < head
	} else {
		page.Cursor = max(page.Cursor, head)
	}
	return page, true
}

// scopeSet splits scopes as LogQuery reads them: every scope, exact ones and "kind:*" patterns.
func scopeSet(scopes []string) (all bool, exact map[string]bool, patterns []string) {
	exact = map[string]bool{}
	for _, s := range scopes {
		switch {
		case s == engine.AllScopes:
			return true, nil, nil
		case len(s) > 2 && s[len(s)-2:] == ":*":
			patterns = append(patterns, s[:len(s)-1])
		default:
			exact[s] = true
		}
	}
	return false, exact, patterns
}

func inScopes(scope string, exact map[string]bool, patterns []string) bool {
	if exact[scope] {
		return true
	}
	for _, p := range patterns {
		if len(scope) > len(p) && scope[:len(p)] == p {
			return true
		}
	}
	return false
}
