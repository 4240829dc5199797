// Package app is the caregiver desktop app's Go side: the services Wails binds to the UI.
// Each service is a thin layer over a local replica (engine/sqlitestore) and its sync loop
// (engine.Syncer), applying the clinic's rules (engine/clinic). The Wails runtime stays
// outside: the app talks to the UI through an Emitter, so every service is tested without a
// window (app_test.go runs them against a real sync server in-process).
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
)

// clientName is how the desktop introduces itself to the server, for its logs.
const clientName = "hearth-desktop"

// Events the app emits to the UI, with their payloads.
const (
	EventSession = "session" // SessionState: signed in or out, locked or unlocked
	EventSync    = "sync"    // SyncStatus: online, pending, last sync, catch-up progress
	EventChanged = "changed" // Changed: data on screen may be stale; read it again
)

// ReadsTable names, in a Changed event, the device's own record of which chat messages were
// read here (not a replicated table): unread badges follow it.
const ReadsTable = "chat_reads"

// Changed tells the UI which data changed, so a screen refetches only when it shows some.
type Changed struct {
	Tables []string `json:"tables"`
	Visits []string `json:"visits"` // visits whose rows changed (their chat, notes, ...)
	Remote bool     `json:"remote"` // arrived from the server, not written here
}

// Emitter delivers an event to the UI. In the desktop it is Wails' runtime.EventsEmit; tests
// record what is emitted.
type Emitter interface {
	Emit(name string, data any)
}

// Errors the services return; the UI shows their text.
var (
	// ErrSignedOut means no one is signed in on this device.
	ErrSignedOut = errors.New("not signed in: sign in with your enrollment token")
	// ErrLocked means the screen is locked after inactivity.
	ErrLocked = errors.New("the screen is locked: unlock it to go on")
)

// Config configures the app. DataDir is required; every other field has a default.
type Config struct {
	// DataDir holds the settings, the saved session and the replicas.
	DataDir string
	// Defaults are the settings before anyone changed them (the server address and clinic
	// of a clinic's own build).
	Defaults Settings
	// Auth signs devices in (default: EnrollmentAuth).
	Auth Authenticator
	// Dial returns the dialer of a sync endpoint (default: WebSocket).
	Dial func(url string) engine.Dialer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RefreshDelay coalesces bursts of remote changes into one "changed" event (default 10ms).
	RefreshDelay time.Duration
	// TypicalVisit is the visit length assumed by wait estimates before a region has
	// finished visits (default 15m, as the server's).
	TypicalVisit time.Duration
	// MinBackoff and MaxBackoff bound the sync loop's reconnect delay (engine defaults).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// App holds the state the services share: settings, the signed-in identity, the lock, and
// the live replica with its sync loop.
type App struct {
	cfg Config
	log *slog.Logger

	mu         sync.Mutex
	emit       Emitter
	settings   Settings
	id         *Identity // nil when signed out
	name       string    // the staff row's name, once synced
	locked     bool
	lastActive time.Time
	lockTimer  *time.Timer
	live       *live
	reads      map[string]int64 // visit -> newest chat message read here (Unix ms)
	opened     map[string]bool  // patients whose data was opened (and audited) since unlocking
	// noteConflicts counts each note's unresolved versions (nil: not counted yet); see
	// conflictCounts.
	noteConflicts map[string]int
	status        SyncStatus
	problem       string // why Startup failed, for the UI
	dirLock       *os.File
	catchFrom     uint64 // cursor when the current catch-up began
}

// New makes the app. It has no side effects: Wails runs main (and so New) to generate the
// UI's bindings. Startup opens what was saved.
func New(cfg Config) *App {
	if cfg.Auth == nil {
		cfg.Auth = EnrollmentAuth{Dial: cfg.Dial}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshDelay <= 0 {
		cfg.RefreshDelay = 10 * time.Millisecond
	}
	if cfg.TypicalVisit <= 0 {
		cfg.TypicalVisit = 15 * time.Minute
	}
	if cfg.Defaults.LockAfterSec == 0 {
		cfg.Defaults.LockAfterSec = 300
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &App{cfg: cfg, log: log, emit: nopEmitter{}, settings: cfg.Defaults, reads: map[string]int64{}}
}

// Services returns the structs whose methods the UI calls (Wails' Bind list).
func (a *App) Services() []any {
	return []any{&Session{a}, &Sync{a}, &Queue{a}, &Visits{a}, &Charts{a}, &Chats{a}, &Regions{a}, &Inbox{a}}
}

type nopEmitter struct{}

func (nopEmitter) Emit(string, any) {}

// Startup loads the settings and the saved session and, if someone was signed in, opens
// their replica and starts syncing: the app works offline from here on.
func (a *App) Startup(ctx context.Context, emit Emitter) error {
	if a.cfg.DataDir == "" {
		return errors.New("app: no data directory configured")
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("app: data directory: %w", err)
	}
	lock, err := lockDataDir(a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.emit, a.dirLock = emit, lock
	a.mu.Unlock()
	if err := readJSON(a.path(settingsFile), &a.settings); err != nil {
		return err
	}
	a.settings = a.settings.withDefaults(a.cfg.Defaults)
	var saved savedSession
	if err := readJSON(a.path(sessionFile), &saved); err != nil {
		return err
	}
	if saved.Identity.Token == "" {
		return nil
	}
	if err := readJSON(a.path(readsFile(saved.Identity)), &a.reads); err != nil {
		return err
	}
	if a.reads == nil {
		a.reads = map[string]int64{}
	}
	// A restart does not unlock a screen that was idle long enough to lock.
	locked := saved.Locked || a.cfg.Now().Sub(time.UnixMilli(saved.LastActive)) >= a.lockAfter()
	start := time.Now()
	if err := a.open(ctx, saved.Identity, locked); err != nil {
		return err
	}
	a.log.Info("opened the saved session", "clinic", saved.Identity.Clinic, "user", saved.Identity.User, "locked", locked,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Fail records why the app could not start, for the UI to show.
func (a *App) Fail(err error) {
	a.mu.Lock()
	a.problem = err.Error()
	a.mu.Unlock()
	a.emitSession()
}

// Shutdown stops the sync loop and closes the replica, saving when the caregiver was last
// active.
func (a *App) Shutdown() {
	a.mu.Lock()
	l := a.live
	a.live = nil
	if a.lockTimer != nil {
		a.lockTimer.Stop()
	}
	a.mu.Unlock()
	if l != nil {
		l.close()
	}
	a.saveSession()
	a.mu.Lock()
	if a.dirLock != nil {
		a.dirLock.Close()
		a.dirLock = nil
	}
	a.mu.Unlock()
}

// open starts the live replica of id and records id as the signed-in identity.
func (a *App) open(ctx context.Context, id Identity, locked bool) error {
	l, err := a.startLive(ctx, id)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.id, a.live, a.locked, a.lastActive = &id, l, locked, a.cfg.Now()
	a.mu.Unlock()
	a.refreshName()
	a.scheduleLock()
	a.emitSession()
	return nil
}

// current returns the live replica and identity for a service call, refusing when signed
// out or locked.
func (a *App) current() (*live, Identity, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.id == nil || a.live == nil {
		return nil, Identity{}, ErrSignedOut
	}
	if a.locked {
		return nil, Identity{}, ErrLocked
	}
	return a.live, *a.id, nil
}

// actor is the signed-in caregiver as the clinic's rules see them.
func actor(l *live, id Identity) clinic.Actor {
	return clinic.Actor{User: id.User, Role: id.Role, Device: l.rep.SiteID().String()}
}

// write applies mutations to the replica, then tells the UI and the sync loop.
func (a *App) write(ctx context.Context, l *live, muts ...engine.Mutation) error {
	chs, err := l.rep.Write(ctx, muts...)
	if err != nil {
		return err
	}
	a.refreshPending(ctx, l)
	c := changedOf(chs, false)
	if slices.Contains(c.Tables, "visit_notes") {
		a.refreshConflicts(ctx, l)
	}
	a.emitChanged(c)
	return nil
}

func (a *App) emitChanged(c Changed) {
	a.mu.Lock()
	emit := a.emit
	a.mu.Unlock()
	emit.Emit(EventChanged, c)
}

// changedOf summarizes changes for the UI.
func changedOf(chs []engine.Change, remote bool) Changed {
	tables, visits := map[string]bool{}, map[string]bool{}
	c := Changed{Remote: remote, Tables: []string{}, Visits: []string{}}
	for _, ch := range chs {
		if !tables[ch.Table] {
			tables[ch.Table] = true
			c.Tables = append(c.Tables, ch.Table)
		}
		if v, ok := visitOfScope(ch.Scope); ok && !visits[v] {
			visits[v] = true
			c.Visits = append(c.Visits, v)
		}
	}
	return c
}

func visitOfScope(scope string) (string, bool) {
	const prefix = clinic.VisitScope + ":"
	if len(scope) > len(prefix) && scope[:len(prefix)] == prefix {
		return scope[len(prefix):], true
	}
	return "", false
}

// Files in the data directory.
const (
	settingsFile = "settings.json"
	sessionFile  = "session.json"
)

// savedSession is what survives a restart: who is signed in, and whether the screen was
// locked. The token is the sync connection's credential; the file is readable by its owner
// only (an OS keyring is the later home for it, with OIDC's refresh tokens).
type savedSession struct {
	Identity   Identity `json:"identity"`
	LastActive int64    `json:"last_active"`
	Locked     bool     `json:"locked"`
}

func (a *App) path(name string) string { return filepath.Join(a.cfg.DataDir, name) }

// replicaPath keeps one replica per clinic and user: a replica's unsent changes are pushed
// with its owner's token, never with the next person's.
func replicaPath(id Identity) string {
	return filepath.Join("replicas", id.Clinic, id.User+".db")
}

func readsFile(id Identity) string {
	return filepath.Join("replicas", id.Clinic, id.User+".reads.json")
}

// saveSession records the signed-in identity (or its absence).
func (a *App) saveSession() {
	a.mu.Lock()
	var s savedSession
	if a.id != nil {
		s = savedSession{Identity: *a.id, LastActive: a.lastActive.UnixMilli(), Locked: a.locked}
	}
	a.mu.Unlock()
	if s.Identity.Token == "" {
		if err := os.Remove(a.path(sessionFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.log.Error("forget session", "err", err)
		}
		return
	}
	if err := writeJSON(a.path(sessionFile), s); err != nil {
		a.log.Error("save session", "err", err)
	}
}

// readJSON decodes a file into v; a missing file leaves v as it is.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w (delete the file to start over)", path, err)
	}
	return nil
}

// writeJSON replaces a file atomically, readable by its owner only.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// replicaOptions are the local store's settings.
func replicaOptions() sqlitestore.ReplicaOptions {
	return sqlitestore.ReplicaOptions{}
}
