package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
)

// live is a signed-in caregiver's replica and the sync loop that keeps it current.
type live struct {
	rep    *sqlitestore.Replica
	syncer *engine.Syncer
	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	changed Changed // remote changes not yet announced
	refresh *engine.Coalescer
}

// startLive opens id's replica and starts its sync loop. It works without the network: the
// loop connects (and reconnects) in the background.
func (a *App) startLive(ctx context.Context, id Identity) (*live, error) {
	url, err := wstransport.SyncURL(id.Server, id.Clinic)
	if err != nil {
		return nil, err
	}
	path := a.path(replicaPath(id))
	if err := mkdirFor(path); err != nil {
		return nil, err
	}
	rep, err := sqlitestore.OpenReplica(ctx, path, clinic.Schema, replicaOptions())
	if err != nil {
		return nil, fmt.Errorf("open the local copy of %s: %w", id.Clinic, err)
	}
	l := &live{rep: rep, done: make(chan error, 1), changed: Changed{Tables: []string{}, Visits: []string{}}}
	l.refresh = engine.NewCoalescer(a.cfg.RefreshDelay, func() {
		l.mu.Lock()
		c := l.changed
		l.changed = Changed{Tables: []string{}, Visits: []string{}}
		l.mu.Unlock()
		if len(c.Tables) == 0 {
			return
		}
		if slices.Contains(c.Tables, "staff") {
			a.refreshName()
		}
		if slices.Contains(c.Tables, "visit_notes") {
			a.refreshConflicts(context.Background(), l)
		}
		a.emitChanged(c)
	})
	rep.OnRemoteChanges(func(chs []engine.Change) {
		c := changedOf(chs, true)
		l.mu.Lock()
		l.changed = mergeChanged(l.changed, c)
		l.mu.Unlock()
		l.refresh.Trigger()
	})
	l.syncer = engine.NewSyncer(rep, dialerFor(a.cfg.Dial, url), engine.SyncOptions{
		Token: id.Token, Client: clientName, Logger: a.log,
		MinBackoff: a.cfg.MinBackoff, MaxBackoff: a.cfg.MaxBackoff,
		OnStatus: a.onStatus,
	})
	rep.OnLocalWrite(l.syncer.Notify)
	if st, err := rep.State(ctx); err == nil {
		conflicts, _ := a.countConflicts(ctx, l)
		a.mu.Lock()
		a.status = SyncStatus{Pending: st.Pending, LastSync: millis(st.LastSync), Progress: 1, Error: "Connecting to the clinic's server…",
			Conflicts: total(conflicts)}
		a.mu.Unlock()
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	go func() {
		err := l.syncer.Run(runCtx)
		if err != nil {
			a.log.Warn("sync stopped for good", "err", err)
			a.onStopped(err)
		}
		l.done <- err
	}()
	return l, nil
}

// close stops the sync loop and closes the replica.
func (l *live) close() {
	l.cancel()
	<-l.done
	l.refresh.Stop()
	l.rep.Close()
}

func mergeChanged(a, b Changed) Changed {
	seen := map[string]bool{}
	for _, t := range a.Tables {
		seen["t"+t] = true
	}
	for _, v := range a.Visits {
		seen["v"+v] = true
	}
	for _, t := range b.Tables {
		if !seen["t"+t] {
			a.Tables = append(a.Tables, t)
		}
	}
	for _, v := range b.Visits {
		if !seen["v"+v] {
			a.Visits = append(a.Visits, v)
		}
	}
	a.Remote = a.Remote || b.Remote
	return a
}

// onStatus turns the sync loop's status into what the UI shows.
func (a *App) onStatus(st engine.Status) {
	a.mu.Lock()
	if st.CatchingUp && !a.status.CatchingUp {
		a.catchFrom = st.Cursor
	}
	s := SyncStatus{Online: st.Online, CatchingUp: st.CatchingUp, Pending: st.Pending,
		LastSync: millis(st.LastSync), Error: st.Err, Rejected: st.Rejected, Progress: 1, Conflicts: a.status.Conflicts}
	if st.CatchingUp {
		s.Progress = progress(a.catchFrom, st.Cursor, st.Head)
	}
	if !st.Online {
		// The loop's error names addresses and syscalls: the log keeps it; a clinician
		// needs to know that the app retries by itself and that their work is safe.
		s.Error = "Cannot reach the clinic's server; retrying by itself. Your work is kept on this device."
		if st.Err == "" {
			s.Error = "Connecting to the clinic's server…"
		}
	}
	changed := s != a.status
	a.status = s
	emit := a.emit
	a.mu.Unlock()
	if changed {
		emit.Emit(EventSync, s)
	}
}

// progress is how far a catch-up from cursor from has come towards head.
func progress(from, cursor, head uint64) float64 {
	if head <= from || cursor >= head {
		return 1
	}
	if cursor <= from {
		return 0
	}
	return float64(cursor-from) / float64(head-from)
}

// onStopped is called when the server refuses the device for good: a revoked or expired
// token. The replica stays readable; the status says what to do.
func (a *App) onStopped(err error) {
	msg := err.Error()
	var re *engine.RemoteError
	if errors.As(err, &re) {
		msg = re.Err.Message
	}
	a.mu.Lock()
	a.status.Online, a.status.CatchingUp = false, false
	a.status.Error = "the server refused this device (" + msg + "): sign out and sign in again with a new enrollment token"
	s, emit := a.status, a.emit
	a.mu.Unlock()
	emit.Emit(EventSync, s)
}

// refreshPending updates the pending count after a local write, before the sync loop
// reports it (offline it never would).
func (a *App) refreshPending(ctx context.Context, l *live) {
	st, err := l.rep.State(ctx)
	if err != nil {
		return
	}
	a.mu.Lock()
	changed := a.status.Pending != st.Pending
	a.status.Pending = st.Pending
	s, emit := a.status, a.emit
	a.mu.Unlock()
	if changed {
		emit.Emit(EventSync, s)
	}
}

// refreshName shows the staff row's name once it arrives or changes.
func (a *App) refreshName() {
	name := a.staffName(context.Background())
	a.mu.Lock()
	changed := name != "" && name != a.name
	if changed {
		a.name = name
	}
	a.mu.Unlock()
	if changed {
		a.emitSession()
	}
}

// refreshConflicts updates the conflict inbox's count in the status.
func (a *App) refreshConflicts(ctx context.Context, l *live) {
	counts, err := a.countConflicts(ctx, l)
	if err != nil {
		a.log.Warn("count conflicts", "err", err)
		return
	}
	a.mu.Lock()
	changed := a.status.Conflicts != total(counts)
	a.status.Conflicts = total(counts)
	s, emit := a.status, a.emit
	a.mu.Unlock()
	if changed {
		emit.Emit(EventSync, s)
	}
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// staffName is the signed-in caregiver's name from the staff table, or "" before it synced.
func (a *App) staffName(ctx context.Context) string {
	a.mu.Lock()
	l, id := a.live, a.id
	a.mu.Unlock()
	if l == nil || id == nil {
		return ""
	}
	s, _, err := clinic.ReadStaff(ctx, l.rep, id.User)
	if err != nil {
		return ""
	}
	return s.Name
}

func mkdirFor(path string) error {
	return mkdirAll(filepath.Dir(path))
}
