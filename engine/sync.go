package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Conn is one transport connection carrying whole binary messages. The desktop uses a
// gorilla/websocket connection; the browser will use the page's own WebSocket.
type Conn interface {
	ReadMessage(ctx context.Context) ([]byte, error)
	WriteMessage(ctx context.Context, b []byte) error
	Close() error
}

// Dialer opens connections to the sync server.
type Dialer interface {
	Dial(ctx context.Context) (Conn, error)
}

// SyncState is a replica's sync bookkeeping.
type SyncState struct {
	Cursor   uint64    // last log position applied
	Acked    uint64    // cursor as of the last moment the outbox was empty
	Pending  int       // local changes not yet acknowledged by the server
	LastSync time.Time // last ack or page applied (zero if never)
}

// SyncStore is the storage the sync loop drives. Implementations apply each call in one
// transaction: a page with its cursor, an ack with the removal of its batch.
type SyncStore interface {
	SiteID() SiteID
	Schema() *Schema
	Clock() *Clock
	// NextBatch returns the oldest unacknowledged batch (again, unchanged, if it was sent
	// before), or forms a new one of up to max changes; an empty Batch means nothing to send.
	NextBatch(ctx context.Context, max int) (Push, error)
	// AckBatch removes an acknowledged batch from the outbox.
	AckBatch(ctx context.Context, ack *Ack) error
	// ApplyRemote applies a page and stores its cursor atomically.
	ApplyRemote(ctx context.Context, page *Changes) error
	// Reset drops the replicated state and cursor, keeping the outbox.
	Reset(ctx context.Context) error
	// ReplayOutbox applies the outbox's changes again after a re-sync has pulled a fresh copy,
	// dropping those the server would drop as Stale below floor.
	ReplayOutbox(ctx context.Context, floor HLC) error
	// State returns the sync bookkeeping.
	State(ctx context.Context) (SyncState, error)
}

// Status is what the sync loop reports to whoever embeds it.
type Status struct {
	Online     bool
	CatchingUp bool // connected and still receiving the backlog
	Pending    int  // local changes not yet acknowledged
	Cursor     uint64
	Head       uint64 // the server's newest log position as of the last page: Cursor/Head is catch-up progress
	LastSync   time.Time
	Err        string // the last error, "" after a successful session
	// Rejected counts local changes the server's rules refused since the loop started, and
	// Rejection is the last one's reason: the store keeps them for a person to see.
	Rejected  int
	Rejection string
}

// SyncOptions configure a Syncer. Zero fields take the defaults shown.
type SyncOptions struct {
	Token            string        // signed token naming tenant, user, role and scopes
	Client           string        // program name and version, for the server's logs
	Debounce         time.Duration // local writes are pushed within this of the first of a burst (25ms)
	BatchSize        int           // changes per push (500)
	PageSize         int           // changes per pulled page (2000)
	MinBackoff       time.Duration // first reconnect delay (200ms)
	MaxBackoff       time.Duration // reconnect delay cap (30s)
	HandshakeTimeout time.Duration // (10s)
	Logger           *slog.Logger
	// OnStatus is called after every status change, from the sync goroutine; it must not block.
	OnStatus func(Status)
}

// RemoteError is an Error frame from the server.
type RemoteError struct{ Err Error }

func (e *RemoteError) Error() string { return "sync server: " + e.Err.Error() }

// Fatal reports whether retrying cannot help: the token, tenant or versions are wrong.
func (e *RemoteError) Fatal() bool {
	switch e.Err.Code {
	case CodeUnauthorized, CodeForbidden, CodeUnknownTenant, CodeProtocolVersion, CodeSchemaTooOld, CodeSchemaTooNew:
		return true
	}
	return false
}

// Syncer runs a replica's sync loop: it connects, pushes the outbox batch by batch, pulls the
// log since its cursor, then stays live, pushing local writes (debounced) and applying
// changes the server fans out; on failure it reconnects with backoff and jitter.
type Syncer struct {
	store SyncStore
	dial  Dialer
	opts  SyncOptions
	log   *slog.Logger
	wake  chan struct{}
	bump  *Coalescer
	calls chan *call

	mu     sync.Mutex
	status Status
}

// NewSyncer returns a sync loop for store that reaches the server through dial.
func NewSyncer(store SyncStore, dial Dialer, opts SyncOptions) *Syncer {
	if opts.Debounce <= 0 {
		opts.Debounce = 25 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 2000
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Syncer{store: store, dial: dial, opts: opts, log: opts.Logger,
		wake: make(chan struct{}, 1), calls: make(chan *call)}
	s.bump = NewCoalescer(opts.Debounce, s.wakeUp)
	return s
}

// Notify tells the loop that local writes are waiting; bursts are coalesced into one push
// within Debounce of the first write.
func (s *Syncer) Notify() { s.bump.Trigger() }

func (s *Syncer) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// call is a Request waiting for the session loop to send it and for its answer.
type call struct {
	req  Request
	done chan callResult
}

type callResult struct {
	resp Response
	err  error
}

// Request asks the server to run the named operation with args (encoded with msgpack) and
// decodes its result into result (nil to drop it). It needs a live connection: offline it fails
// at once with ErrOffline instead of being queued and granted later. The operation's refusal is
// a *RemoteError; ErrRequestInDoubt means the connection dropped before the answer.
func (s *Syncer) Request(ctx context.Context, name string, args, result any) error {
	if !s.Status().Online {
		return fmt.Errorf("request %s: %w", name, ErrOffline)
	}
	b, err := msgpack.Marshal(args)
	if err != nil {
		return fmt.Errorf("request %s: %w", name, err)
	}
	c := &call{req: Request{Name: name, Args: b}, done: make(chan callResult, 1)}
	select {
	case s.calls <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.opts.HandshakeTimeout): // the connection went away meanwhile
		return fmt.Errorf("request %s: %w", name, ErrOffline)
	}
	select {
	case r := <-c.done:
		switch {
		case r.err != nil:
			return fmt.Errorf("request %s: %w", name, r.err)
		case r.resp.Error != nil:
			return &RemoteError{Err: *r.resp.Error}
		case result != nil && len(r.resp.Result) > 0:
			return msgpack.Unmarshal(r.resp.Result, result)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status returns the latest status.
func (s *Syncer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Syncer) report(ctx context.Context, edit func(*Status)) {
	st, err := s.store.State(ctx)
	if err != nil {
		s.mu.Lock()
		edit(&s.status)
		cur := s.status
		s.mu.Unlock()
		if s.opts.OnStatus != nil {
			s.opts.OnStatus(cur)
		}
		return
	}
	s.reportState(st, edit)
}

// reportState is report with the store's state already read.
func (s *Syncer) reportState(st SyncState, edit func(*Status)) {
	s.mu.Lock()
	s.status.Pending, s.status.Cursor, s.status.LastSync = st.Pending, st.Cursor, st.LastSync
	edit(&s.status)
	cur := s.status
	s.mu.Unlock()
	if s.opts.OnStatus != nil {
		s.opts.OnStatus(cur)
	}
}

// Run keeps the replica in sync until ctx ends (returning nil) or the server refuses it for
// good (returning a *RemoteError): a bad token, an unknown tenant, incompatible versions.
func (s *Syncer) Run(ctx context.Context) error {
	attempt := 0
	for {
		started := time.Now()
		err := s.session(ctx, false)
		if ctx.Err() != nil {
			s.report(context.WithoutCancel(ctx), func(st *Status) { st.Online, st.CatchingUp = false, false })
			return nil
		}
		var re *RemoteError
		if errors.As(err, &re) && re.Fatal() {
			s.report(ctx, func(st *Status) { st.Online, st.CatchingUp, st.Err = false, false, err.Error() })
			return err
		}
		s.report(ctx, func(st *Status) { st.Online, st.CatchingUp, st.Err = false, false, errString(err) })
		if time.Since(started) > s.opts.MaxBackoff {
			attempt = 0 // the session was up for a while: start backing off afresh
		}
		d := s.backoff(attempt)
		attempt++
		s.log.Info("sync disconnected", "err", err, "retry_in", d)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// backoff is exponential with jitter: a random delay in [d/2, d], d doubling from MinBackoff
// up to MaxBackoff, so that many replicas reconnecting after an outage spread out.
func (s *Syncer) backoff(attempt int) time.Duration {
	d := s.opts.MinBackoff << min(attempt, 20)
	if d > s.opts.MaxBackoff || d <= 0 {
		d = s.opts.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// SyncOnce connects, pushes every pending change, pulls until caught up and disconnects.
func (s *Syncer) SyncOnce(ctx context.Context) error {
	err := s.session(ctx, true)
	s.report(context.WithoutCancel(ctx), func(st *Status) { st.Online, st.CatchingUp, st.Err = false, false, errString(err) })
	return err
}

type inbound struct {
	f   *Frame
	err error
}

func (s *Syncer) session(ctx context.Context, once bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hctx, hcancel := context.WithTimeout(ctx, s.opts.HandshakeTimeout)
	defer hcancel()
	conn, err := s.dial.Dial(hctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	send := func(f *Frame) error {
		b, err := EncodeFrame(f)
		if err != nil {
			return err
		}
		return conn.WriteMessage(ctx, b)
	}
	w, err := s.handshake(hctx, conn)
	if err != nil {
		return err
	}
	resync := w.Resync // hold pushes until the fresh copy is in and the outbox replayed on it
	if resync {
		s.log.Warn("server retired this replica: re-syncing from the start", "site", s.store.SiteID())
		if err := s.store.Reset(ctx); err != nil {
			return fmt.Errorf("resync: %w", err)
		}
	}
	st, err := s.store.State(ctx)
	if err != nil {
		return err
	}
	if err := send(&Frame{Type: MsgPull, Pull: &Pull{Cursor: st.Cursor, Limit: s.opts.PageSize}}); err != nil {
		return fmt.Errorf("pull from %d: %w", st.Cursor, err)
	}
	s.report(ctx, func(st *Status) { st.Online, st.CatchingUp, st.Err = true, true, "" })

	// Two frames of read-ahead: the next page arrives (and pings are answered) while this one is
	// applied, and memory stays bounded at two pages.
	in := make(chan inbound, 2)
	go func() {
		for {
			b, err := conn.ReadMessage(ctx)
			var f *Frame
			if err == nil {
				f, err = DecodeFrame(b)
			}
			select {
			case in <- inbound{f, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	// A send fails when the server has closed the connection; if it closed it after an Error
	// frame (a refused batch), that frame is the reason to report, not the broken pipe.
	sendFailed := func(err error) error {
		wait := time.After(100 * time.Millisecond)
		for {
			select {
			case m := <-in:
				if m.err != nil {
					return err
				}
				if m.f.Type == MsgError {
					return &RemoteError{Err: *m.f.Error}
				}
			case <-wait:
				return err
			}
		}
	}
	inflight, acked := "", "" // the batch sent and not yet acknowledged; the last acknowledged
	var retry <-chan time.Time
	caughtUp := false
	var cursor, mustReach uint64
	calls := map[uint64]*call{} // requests sent, by id, awaiting their answer
	var held []*call            // requests waiting for the outbox to be pushed
	var lastCall uint64
	defer func() {
		for _, c := range calls {
			c.done <- callResult{err: ErrRequestInDoubt}
		}
		for _, c := range held {
			c.done <- callResult{err: ErrOffline} // never sent
		}
	}()
	for {
		if resync && caughtUp {
			if err := s.store.ReplayOutbox(ctx, w.Floor); err != nil {
				return fmt.Errorf("resync: %w", err)
			}
			resync = false
		}
		if inflight == "" && retry == nil && !resync {
			p, err := s.store.NextBatch(ctx, s.opts.BatchSize)
			if err != nil {
				return err
			}
			if p.Batch != "" {
				if err := send(&Frame{Type: MsgPush, Push: &p}); err != nil {
					return sendFailed(fmt.Errorf("push batch %s: %w", p.Batch, err))
				}
				inflight = p.Batch
			}
		}
		// Requests wait until the local writes made before them are on the server (the outbox
		// is pushed and acknowledged), so that they see them: a provider who just ended a
		// visit may claim the next patient at once. A batch held back by the server (retry)
		// does not hold them.
		if len(held) > 0 && (inflight == "" || retry != nil || resync) {
			for _, c := range held {
				lastCall++
				c.req.ID = lastCall
				calls[c.req.ID] = c
				if err := send(&Frame{Type: MsgRequest, Request: &c.req}); err != nil {
					return sendFailed(fmt.Errorf("request %s: %w", c.req.Name, err))
				}
			}
			held = nil
		}
		if once && caughtUp && inflight == "" && retry == nil && !resync && cursor >= mustReach {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		case <-retry:
			retry = nil
		case c := <-s.calls:
			held = append(held, c) // sent at the top of the loop, after the outbox
		case m := <-in:
			if m.err != nil {
				return fmt.Errorf("receive: %w", m.err)
			}
			switch f := m.f; f.Type {
			case MsgAck:
				if f.Ack.Batch == acked && f.Ack.Batch != inflight {
					continue // a duplicate of the last ack: the batch left the outbox already
				}
				if f.Ack.Batch != inflight {
					return fmt.Errorf("%w: ack for batch %q while %q is in flight", ErrProtocol, f.Ack.Batch, inflight)
				}
				acked = inflight
				if err := s.store.AckBatch(ctx, f.Ack); err != nil {
					return err
				}
				inflight = ""
				if n := len(f.Ack.Rejected); n > 0 {
					last := f.Ack.Rejected[n-1]
					s.log.Warn("the server refused changes", "batch", f.Ack.Batch, "refused", n, "code", last.Code)
					s.report(ctx, func(st *Status) { st.Rejected += n; st.Rejection = last.Message })
				}
				// The server sends a page past these changes; wait for it, so that a sync
				// leaves the cursor (and the acknowledgement compaction needs) up to date.
				for _, seq := range f.Ack.Seqs {
					mustReach = max(mustReach, seq)
				}
				s.report(ctx, func(*Status) {})
			case MsgChanges:
				if err := s.store.ApplyRemote(ctx, f.Changes); err != nil {
					return err
				}
				cursor = f.Changes.Cursor
				st, err := s.store.State(ctx)
				if err != nil {
					return err
				}
				if !f.Changes.More {
					caughtUp = true
					if err := send(&Frame{Type: MsgProgress, Progress: &Progress{Cursor: st.Cursor, Acked: st.Acked}}); err != nil {
						return sendFailed(fmt.Errorf("report progress: %w", err))
					}
				}
				head := max(f.Changes.Head, f.Changes.Cursor)
				s.reportState(st, func(st *Status) { st.CatchingUp, st.Head = !caughtUp, head })
			case MsgResponse:
				if c, ok := calls[f.Response.ID]; ok {
					delete(calls, f.Response.ID)
					c.done <- callResult{resp: *f.Response}
				}
			case MsgError:
				re := &RemoteError{Err: *f.Error}
				if f.Error.Batch == "" || !f.Error.Retryable {
					return re
				}
				s.log.Warn("push refused for now; will retry", "batch", f.Error.Batch, "code", f.Error.Code)
				inflight = ""
				retry = time.After(s.backoff(2))
			default:
				return fmt.Errorf("%w: unexpected frame type %d", ErrProtocol, f.Type)
			}
		}
	}
}

func (s *Syncer) handshake(ctx context.Context, conn Conn) (*Welcome, error) {
	b, err := EncodeFrame(&Frame{Type: MsgHello, Hello: &Hello{
		Protocol: ProtocolVersion, Schema: s.store.Schema().Version(), Site: s.store.SiteID(),
		Token: s.opts.Token, Client: s.opts.Client,
	}})
	if err != nil {
		return nil, err
	}
	if err := conn.WriteMessage(ctx, b); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	b, err = conn.ReadMessage(ctx)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	f, err := DecodeFrame(b)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	switch f.Type {
	case MsgWelcome:
	case MsgError:
		return nil, &RemoteError{Err: *f.Error}
	default:
		return nil, fmt.Errorf("handshake: %w: got frame type %d", ErrProtocol, f.Type)
	}
	_ = s.store.Clock().Observe(f.Welcome.Time) // a skewed server clock is not the replica's to fix
	return f.Welcome, nil
}
