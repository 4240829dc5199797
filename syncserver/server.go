// Package syncserver is Hearth's central sync server: every clinic's replicas meet here. Each
// tenant has its own store (TenantStore: by default one SQLite file, see sqlitetenant) with
// the merged state and a change log; connections are authenticated with signed tokens and
// read only the scopes their token grants.
package syncserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"hearth/engine"
	"hearth/syncserver/token"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure a Server. Zero fields take the defaults shown.
type Options struct {
	// Directory lists the tenants (required; sqlitedir keeps it in the data directory). The
	// server closes it when it closes.
	Directory *Directory
	Schema    *engine.Schema // the replicated schema (required)
	Signer    *token.Signer  // verifies connection tokens (required)
	// OpenStore opens a tenant's store on its first connection, from its directory entry
	// (required; sqlitetenant.Opener keeps one SQLite file per tenant in the data directory).
	// The store must have been opened with Schema.
	OpenStore TenantOpener
	Logger    *slog.Logger
	Now       func() time.Time
	// MinSchema is the oldest client schema version accepted (default: one before Schema's).
	MinSchema    int
	MaxMessage   int64         // largest frame accepted, bytes (16 MiB)
	MaxBatch     int           // most changes in one push (10,000)
	PageSize     int           // most changes in one page (2,000)
	MaxDrift     time.Duration // how far in the future a change's clock may be (5m)
	PingInterval time.Duration // keepalive; a silent peer is dropped after twice this (5s)
	// EmptyPageDelay is how long a live session waits before telling its replica that the log
	// moved past changes it does not receive (200ms): one empty page for a burst of others'
	// changes, instead of one per commit.
	EmptyPageDelay time.Duration
	Retention      time.Duration // replicas unseen this long are retired (30 days)
	CompactEvery   time.Duration // how often tenants are compacted (1h; negative: never)
	// MaxSessions caps open sync sessions (15,000: a process may hold 20,000 files here).
	MaxSessions int
	// PushRate and TenantPushRate cap pushed changes per second for one connection and for
	// one clinic (20,000 and 100,000; negative: unlimited). Pushes over the rate are refused
	// with a retryable error and sent again by the replica.
	PushRate       int
	TenantPushRate int
	// Requests are the operations replicas may ask the server to run (see RequestHandler),
	// by name. The clinic's domain package supplies them.
	Requests map[string]RequestHandler
	// PublicRequests names the Requests a connection without a token may make, such as a
	// patient's intake from the clinic's public page. Such a connection may do nothing else.
	PublicRequests []string
	// Hooks are the domain's rules every tenant runs (see Hooks).
	Hooks Hooks
}

// Server serves the sync protocol and operational endpoints over HTTP.
type Server struct {
	opts    Options
	log     *slog.Logger
	dir     *Directory
	clock   *engine.Clock
	metrics *metrics
	up      websocket.Upgrader

	mu       sync.Mutex
	tenants  map[string]*tenantSlot
	limits   map[string]*bucket // per-tenant push rate
	sessions int
	closed   bool
	wg       sync.WaitGroup
	stop     chan struct{}
	ctx      context.Context // parent of every session, cancelled by Close
	cancel   context.CancelFunc
}

// New opens the server's data directory.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Directory == nil || opts.Schema == nil || opts.Signer == nil || opts.OpenStore == nil {
		return nil, errors.New("syncserver: Directory, Schema, Signer and OpenStore are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MinSchema <= 0 {
		opts.MinSchema = max(1, opts.Schema.Version()-1)
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = 16 << 20
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 10000
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 2000
	}
	if opts.MaxDrift <= 0 {
		opts.MaxDrift = engine.DefaultMaxDrift
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 5 * time.Second
	}
	if opts.EmptyPageDelay <= 0 {
		opts.EmptyPageDelay = 200 * time.Millisecond
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.CompactEvery == 0 {
		opts.CompactEvery = time.Hour
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 15000
	}
	if opts.PushRate == 0 {
		opts.PushRate = 20000
	}
	if opts.TenantPushRate == 0 {
		opts.TenantPushRate = 100000
	}
	s := &Server{
		opts: opts, log: opts.Logger, dir: opts.Directory, metrics: newMetrics(),
		clock:   engine.NewClock(opts.Now, opts.MaxDrift),
		tenants: map[string]*tenantSlot{}, limits: map[string]*bucket{}, stop: make(chan struct{}),
		// Read buffer 0: reuse the one net/http already holds for the hijacked connection. Write
		// buffers come from a pool and are held only while a frame is written: most of a
		// clinic's thousands of sessions are idle.
		up: websocket.Upgrader{ReadBufferSize: 0, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{},
			// Connections authenticate with a token in the first frame, not with cookies, so a
			// cross-origin page gains nothing from connecting.
			CheckOrigin: func(*http.Request) bool { return true }},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.CompactEvery > 0 {
		s.wg.Add(1)
		go s.compactLoop()
	}
	s.wg.Add(1)
	go s.progressLoop()
	return s, nil
}

// Directory returns the tenant directory.
func (s *Server) Directory() *Directory { return s.dir }

// Handler serves /v1/tenants/{tenant}/sync (WebSocket), /healthz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tenants/{tenant}/sync", s.serveSync)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

// tenantSlot is a tenant being opened or open. ready is closed once the open is over: then t
// is the tenant, or err why it could not be opened.
type tenantSlot struct {
	ready chan struct{}
	t     *Tenant
	err   error
}

// Tenant returns the open store of a tenant listed in the directory, opening it on first use.
// The open runs outside the server's lock, once per tenant however many connections ask at
// once: a slow open of one clinic's store delays that clinic's connections only.
func (s *Server) Tenant(ctx context.Context, id string) (*Tenant, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("server is shutting down")
	}
	slot, ok := s.tenants[id]
	if !ok {
		slot = &tenantSlot{ready: make(chan struct{})}
		s.tenants[id] = slot
		s.wg.Add(1) // Close waits for the open, then closes what it opened
		go s.openTenant(id, slot)
	}
	s.mu.Unlock()
	select {
	case <-slot.ready:
		return slot.t, slot.err
	case <-ctx.Done():
		return nil, fmt.Errorf("open tenant %s: %w", id, ctx.Err())
	}
}

// openTenant opens a tenant's store into slot. It runs on its own goroutine, under the
// server's context rather than the first caller's: the callers waiting on it may outlive
// that one. A failed open is forgotten, so that a later connection tries again.
func (s *Server) openTenant(id string, slot *tenantSlot) {
	defer s.wg.Done()
	defer close(slot.ready)
	slot.t, slot.err = s.open(s.ctx, id)
	if slot.err != nil {
		s.mu.Lock()
		delete(s.tenants, id)
		s.mu.Unlock()
	}
}

func (s *Server) open(ctx context.Context, id string) (*Tenant, error) {
	info, err := s.dir.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	store, err := s.opts.OpenStore(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("open tenant %s: %w", id, err)
	}
	t, err := OpenTenant(ctx, id, store, s.opts.Now)
	if err != nil {
		store.Close()
		return nil, err
	}
	t.clock = s.clock // one clock per server, so its writes order after every change it has seen
	t.hooks = s.opts.Hooks
	return t, nil
}

// tenantLimit returns the push-rate bucket of a tenant.
func (s *Server) tenantLimit(id string) *bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.limits[id]
	if !ok {
		b = newBucket(float64(s.opts.TenantPushRate), s.opts.TenantPushRate, s.opts.Now)
		s.limits[id] = b
	}
	return b
}

// openTenants returns the tenants open now (not those being opened).
func (s *Server) openTenants() []*Tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	open := make([]*Tenant, 0, len(s.tenants))
	for _, slot := range s.tenants {
		select {
		case <-slot.ready:
			if slot.t != nil {
				open = append(open, slot.t)
			}
		default:
		}
	}
	return open
}

// progressLoop writes the replicas' reported progress every second (see Tenant.Progress).
func (s *Server) progressLoop() {
	defer s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for _, t := range s.openTenants() {
				if err := t.FlushProgress(context.Background()); err != nil {
					s.log.Error("progress not recorded", "tenant", t.ID, "err", err)
				}
			}
		}
	}
}

func (s *Server) compactLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.CompactEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for _, t := range s.openTenants() {
				res, err := t.Compact(context.Background(), s.opts.Retention)
				if err != nil {
					s.log.Error("compaction failed", "tenant", t.ID, "err", err)
					continue
				}
				s.log.Info("compacted", "tenant", t.ID, "retired", res.Retired, "horizon", res.Horizon, "tombstones", res.Tombstones)
			}
		}
	}
}

// Close stops background work and closes every store. Close the HTTP server first.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop) // ends the compaction loop
	s.cancel()    // and every session
	s.mu.Unlock()
	s.wg.Wait()
	var errs []error
	for _, slot := range s.tenants { // every open is over: Close waited for them
		if slot.t != nil {
			errs = append(errs, slot.t.Close())
		}
	}
	errs = append(errs, s.dir.Close())
	return errors.Join(errs...)
}
