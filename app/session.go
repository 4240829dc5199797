package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"hearth/engine/wstransport"
)

// Session signs the device in and out, locks the screen after inactivity and keeps the
// settings.
type Session struct{ a *App }

// Lock limits, in seconds.
const (
	minLockAfter = 60
	maxLockAfter = 3600
)

// ErrPendingChanges refuses a sign-out that would strand changes not yet on the server. The UI
// offers "Sign out anyway" when an error's text says "not reached the server": keep it.
var ErrPendingChanges = errors.New("changes made on this device have not reached the server yet")

// State returns who is signed in and whether the screen is locked.
func (s *Session) State() SessionState {
	return s.a.sessionState()
}

// SignIn signs in to the clinic in the settings (or as given) with an enrollment token and
// starts syncing. It needs the server once; afterwards the app opens offline.
func (s *Session) SignIn(server, clinicID, token string) (SessionState, error) {
	a := s.a
	a.mu.Lock()
	signedIn := a.id != nil
	a.mu.Unlock()
	if signedIn {
		return a.sessionState(), errors.New("already signed in: sign out first")
	}
	server, clinicID = strings.TrimSpace(server), strings.TrimSpace(clinicID)
	if _, err := wstransport.SyncURL(server, clinicID); err != nil {
		return a.sessionState(), err
	}
	ctx := context.Background()
	id, err := a.cfg.Auth.SignIn(ctx, server, clinicID, token)
	if err != nil {
		return a.sessionState(), err
	}
	a.mu.Lock()
	a.settings.Server, a.settings.Clinic = server, clinicID
	settings := a.settings
	a.mu.Unlock()
	if err := writeJSON(a.path(settingsFile), settings); err != nil {
		return a.sessionState(), err
	}
	a.reads = map[string]int64{}
	if err := readJSON(a.path(readsFile(id)), &a.reads); err != nil {
		return a.sessionState(), err
	}
	if err := a.open(ctx, id, false); err != nil {
		return a.sessionState(), err
	}
	a.saveSession()
	a.log.Info("signed in", "clinic", id.Clinic, "user", id.User, "role", id.Role)
	return a.sessionState(), nil
}

// SignOut stops syncing and forgets the session. Unless force is set it refuses while
// changes are waiting to reach the server: they would wait until this person signs in again.
func (s *Session) SignOut(force bool) (SessionState, error) {
	a := s.a
	a.mu.Lock()
	l, locked := a.live, a.locked
	a.mu.Unlock()
	if l == nil {
		return a.sessionState(), nil
	}
	if locked {
		return a.sessionState(), ErrLocked
	}
	st, err := l.rep.State(context.Background())
	if err == nil && st.Pending > 0 && !force {
		return a.sessionState(), fmt.Errorf("%w (%d): connect to sync them first, or sign out anyway; they are kept on this device and sent when you sign in again",
			ErrPendingChanges, st.Pending)
	}
	a.mu.Lock()
	a.live, a.id, a.locked, a.name, a.opened, a.noteConflicts = nil, nil, false, "", nil, nil
	if a.lockTimer != nil {
		a.lockTimer.Stop()
	}
	a.status = SyncStatus{}
	a.mu.Unlock()
	l.close()
	a.saveSession()
	a.emitSession()
	return a.sessionState(), nil
}

// Lock locks the screen now.
func (s *Session) Lock() SessionState {
	s.a.setLocked(true)
	return s.a.sessionState()
}

// Unlock unlocks the screen with the credential the device signed in with. It works
// offline.
func (s *Session) Unlock(secret string) (SessionState, error) {
	a := s.a
	a.mu.Lock()
	id := a.id
	a.mu.Unlock()
	if id == nil {
		return a.sessionState(), ErrSignedOut
	}
	if err := a.cfg.Auth.Unlock(*id, secret); err != nil {
		return a.sessionState(), err
	}
	a.setLocked(false)
	return a.sessionState(), nil
}

// Touch records activity (the UI calls it on input, at most every few seconds): it keeps
// the screen from locking.
func (s *Session) Touch() {
	a := s.a
	a.mu.Lock()
	if !a.locked {
		a.lastActive = a.cfg.Now()
	}
	a.mu.Unlock()
}

// Settings returns the current settings.
func (s *Session) Settings() Settings {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	return s.a.settings
}

// SaveSettings validates and stores new settings. The server and clinic apply at the next
// sign-in; the lock delay at once.
func (s *Session) SaveSettings(in Settings) (Settings, error) {
	a := s.a
	in.Server, in.Clinic = strings.TrimSpace(in.Server), strings.TrimSpace(in.Clinic)
	if in.Server != "" || in.Clinic != "" {
		if _, err := wstransport.SyncURL(in.Server, in.Clinic); err != nil {
			return s.Settings(), err
		}
	}
	if in.LockAfterSec < minLockAfter || in.LockAfterSec > maxLockAfter {
		return s.Settings(), fmt.Errorf("lock after must be between %d and %d minutes", minLockAfter/60, maxLockAfter/60)
	}
	if err := writeJSON(a.path(settingsFile), in); err != nil {
		return s.Settings(), err
	}
	a.mu.Lock()
	a.settings = in
	a.mu.Unlock()
	a.scheduleLock()
	a.emitSession()
	return in, nil
}

func (st Settings) withDefaults(d Settings) Settings {
	if st.Server == "" {
		st.Server = d.Server
	}
	if st.Clinic == "" {
		st.Clinic = d.Clinic
	}
	if st.LockAfterSec == 0 {
		st.LockAfterSec = d.LockAfterSec
	}
	return st
}

func (a *App) sessionState() SessionState {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := SessionState{Server: a.settings.Server, Clinic: a.settings.Clinic, LockAfterSec: a.settings.LockAfterSec, Problem: a.problem}
	if a.id != nil {
		st.SignedIn, st.Locked = true, a.locked
		st.Server, st.Clinic, st.User, st.Role = a.id.Server, a.id.Clinic, a.id.User, a.id.Role
		st.Name = a.name
		if st.Name == "" {
			st.Name = a.id.User
		}
	}
	return st
}

func (a *App) emitSession() {
	st := a.sessionState()
	a.mu.Lock()
	emit := a.emit
	a.mu.Unlock()
	emit.Emit(EventSession, st)
}

func (a *App) lockAfter() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	sec := a.settings.LockAfterSec
	if sec <= 0 {
		sec = a.cfg.Defaults.LockAfterSec
	}
	return time.Duration(sec) * time.Second
}

func (a *App) setLocked(locked bool) {
	a.mu.Lock()
	if a.id == nil || a.locked == locked {
		a.mu.Unlock()
		return
	}
	a.locked = locked
	a.lastActive = a.cfg.Now()
	if locked {
		a.opened = nil // whoever unlocks opens charts anew, and is recorded
	}
	a.mu.Unlock()
	a.saveSession()
	a.scheduleLock()
	a.emitSession()
}

// scheduleLock arms the inactivity timer for when the screen should lock.
func (a *App) scheduleLock() {
	after := a.lockAfter()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lockTimer != nil {
		a.lockTimer.Stop()
	}
	if a.id == nil || a.locked {
		return
	}
	wait := after - a.cfg.Now().Sub(a.lastActive)
	a.lockTimer = time.AfterFunc(max(wait, 0), a.checkLock)
}

// checkLock locks the screen if the caregiver has been idle for the lock delay, or waits
// for the rest of it.
func (a *App) checkLock() {
	after := a.lockAfter()
	a.mu.Lock()
	idle := a.id != nil && !a.locked && a.cfg.Now().Sub(a.lastActive) >= after
	a.mu.Unlock()
	if idle {
		a.setLocked(true)
		return
	}
	a.scheduleLock()
}

func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
