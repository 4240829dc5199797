package syncserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"hearth/engine"
	"hearth/engine/wstransport"
	"hearth/syncserver/token"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"
)

// session is one replica's connection: handshake, then pushes, pulls and live fan-out.
type session struct {
	s      *Server
	conn   engine.Conn
	log    *slog.Logger
	tenant *Tenant
	claims token.Claims
	site   engine.SiteID
	scopes []string // what this session reads
	cursor uint64
	limit  int
	// live is set once the session has sent the log up to its head: from then on the replica's
	// own changes are left out of its pages, since it pushed them in this session. Before, they
	// are not: a re-syncing or restored replica needs its own earlier changes back.
	live bool
	// pushLimit caps this connection's pushed changes per second.
	pushLimit *bucket
	// sent is the cursor of the last page sent; owed is set when the cursor moved past
	// changes this replica does not receive, which an empty page tells it later (see
	// Options.EmptyPageDelay); ownSeq is the newest log position of its own pushes.
	sent, ownSeq uint64
	owed         bool
	horizon      uint64
}

func (s *Server) serveSync(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenant")
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "the sync server is shutting down; retry shortly", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1) // Close waits for the session before closing the stores it writes to
	s.sessions++
	full := s.sessions > s.opts.MaxSessions
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.sessions--
		s.mu.Unlock()
		s.wg.Done()
	}()
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the request
	}
	conn := wstransport.New(ws, s.opts.MaxMessage, s.opts.PingInterval)
	defer conn.Close()
	s.metrics.sessions.Inc()
	defer s.metrics.sessions.Dec()

	ctx, cancel := context.WithCancel(s.ctx) // Close cancels s.ctx, ending every session
	defer cancel()
	ss := &session{s: s, conn: conn, log: s.log.With("tenant", tenantID, "remote", r.RemoteAddr),
		pushLimit: newBucket(float64(s.opts.PushRate), s.opts.PushRate, s.opts.Now)}
	if full {
		err = &engine.Error{Code: engine.CodeUnavailable, Retryable: true,
			Message: "the sync server is at its connection limit; the app retries shortly"}
	} else {
		err = ss.run(ctx, tenantID)
	}
	var fe *engine.Error
	if errors.As(err, &fe) {
		s.metrics.errors.WithLabelValues(fe.Code).Inc()
		ss.send(ctx, &engine.Frame{Type: engine.MsgError, Error: fe})
	}
	switch {
	case err == nil || ctx.Err() != nil || websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
		ss.log.Debug("session ended")
	default:
		ss.log.Info("session ended", "err", err)
	}
}

func (ss *session) send(ctx context.Context, f *engine.Frame) error {
	b, err := engine.EncodeFrame(f)
	if err != nil {
		return err
	}
	// No overall deadline: the transport gives up on a peer that stops taking bytes for two
	// keepalive intervals, and lets a large page take as long as a slow link needs.
	return ss.conn.WriteMessage(ctx, b)
}

func refuse(code, format string, args ...any) *engine.Error {
	return &engine.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (ss *session) handshake(ctx context.Context, tenantID string) error {
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := ss.conn.ReadMessage(hctx)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	f, err := engine.DecodeFrame(b)
	if err != nil || f.Type != engine.MsgHello {
		return refuse(engine.CodeBadRequest, "the first frame must be a hello")
	}
	h := f.Hello
	schema := ss.s.opts.Schema
	switch {
	case h.Protocol != engine.ProtocolVersion:
		return refuse(engine.CodeProtocolVersion, "client speaks protocol %d, this server %d: upgrade the older side", h.Protocol, engine.ProtocolVersion)
	case h.Site == 0:
		return refuse(engine.CodeBadRequest, "hello without a site id")
	}
	claims := token.Claims{Tenant: tenantID, User: "", Role: RoleAnonymous}
	if h.Token != "" {
		var err error
		if claims, err = ss.s.opts.Signer.Verify(h.Token); err != nil {
			return refuse(engine.CodeUnauthorized, "token refused (%v): sign in again", err)
		}
	}
	if claims.Tenant != tenantID {
		return refuse(engine.CodeForbidden, "this token is not valid for clinic %q", tenantID)
	}
	switch {
	case h.Schema > schema.Version():
		return refuse(engine.CodeSchemaTooNew, "client schema %d is newer than this server's %d: upgrade the server", h.Schema, schema.Version())
	case h.Schema < ss.s.opts.MinSchema:
		return refuse(engine.CodeSchemaTooOld, "client schema %d is older than the oldest this server accepts (%d): upgrade the app", h.Schema, ss.s.opts.MinSchema)
	}
	t, err := ss.s.Tenant(ctx, tenantID)
	if errors.Is(err, ErrUnknownTenant) {
		return refuse(engine.CodeUnknownTenant, "no clinic %q on this server", tenantID)
	}
	if err != nil {
		return fmt.Errorf("open tenant: %w", err)
	}
	var retired bool
	var floor engine.HLC
	if claims.Role != RoleAnonymous {
		// An anonymous caller is no replica: recording it would hold back compaction forever.
		if retired, floor, err = t.Seen(ctx, h.Site, claims.User); err != nil {
			return err
		}
	}
	ss.tenant, ss.claims, ss.site, ss.scopes = t, claims, h.Site, claims.Scopes
	ss.log = ss.log.With("site", h.Site, "user", claims.User, "role", claims.Role)
	return ss.send(ctx, &engine.Frame{Type: engine.MsgWelcome, Welcome: &engine.Welcome{
		Protocol: engine.ProtocolVersion, Schema: schema.Version(), MinSchema: ss.s.opts.MinSchema,
		Tenant: tenantID, User: claims.User, Role: claims.Role, Scopes: claims.Scopes,
		Time: ss.s.clock.Now(), Resync: retired, Floor: floor,
	}})
}

type inbound struct {
	f   *engine.Frame
	err error
}

func (ss *session) run(ctx context.Context, tenantID string) error {
	if err := ss.handshake(ctx, tenantID); err != nil {
		return err
	}
	// The reader runs on serveSync's context, cancelled only after it has sent the error frame
	// that ends the session: cancelling earlier would close the connection under that frame.
	in := newFrameQueue(ss.s.opts.MaxMessage)
	defer in.close()
	go func() {
		for {
			b, err := ss.conn.ReadMessage(ctx)
			var f *engine.Frame
			if err == nil {
				if f, err = engine.DecodeFrame(b); err != nil {
					err = refuse(engine.CodeBadRequest, "%v", err)
				}
			}
			if !in.put(inbound{f, err}, int64(len(b))) || err != nil {
				return
			}
		}
	}()
	var wake <-chan struct{} // nil until the replica pulls: then it is live
	var owed <-chan time.Time
	for {
		if ss.owed && owed == nil {
			owed = time.After(ss.s.opts.EmptyPageDelay)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-owed:
			owed = nil
			if ss.owed {
				if err := ss.sendCursor(ctx); err != nil {
					return err
				}
			}
		case <-wake:
			wake = ss.tenant.hub.changed()
			if err := ss.sendPages(ctx, false); err != nil {
				return err
			}
		case <-in.ready:
			m, ok := in.take()
			if !ok {
				continue
			}
			if m.err != nil {
				return m.err
			}
			f := m.f
			if ss.claims.Role == RoleAnonymous && f.Type != engine.MsgRequest {
				return refuse(engine.CodeUnauthorized, "sign in to sync: this connection has no token")
			}
			switch f.Type {
			case engine.MsgPush:
				if err := ss.push(ctx, f.Push); err != nil {
					return err
				}
			case engine.MsgPull:
				if err := ss.startPull(f.Pull); err != nil {
					return err
				}
				wake = ss.tenant.hub.changed()
				if err := ss.sendPages(ctx, true); err != nil {
					return err
				}
			case engine.MsgRequest:
				if err := ss.request(ctx, f.Request); err != nil {
					return err
				}
			case engine.MsgProgress:
				if err := ss.tenant.Progress(ctx, ss.site, f.Progress); err != nil {
					return err
				}
			default:
				return refuse(engine.CodeBadRequest, "unexpected frame type %d", f.Type)
			}
		}
	}
}

func (ss *session) startPull(p *engine.Pull) error {
	if len(p.Scopes) > 0 {
		for _, sc := range p.Scopes {
			if !ss.claims.Grants(sc) {
				return refuse(engine.CodeForbidden, "scope %q is not granted to this token", sc)
			}
		}
		ss.scopes = p.Scopes
	}
	ss.cursor = p.Cursor
	ss.limit = ss.s.opts.PageSize
	if p.Limit > 0 && p.Limit < ss.limit {
		ss.limit = p.Limit
	}
	return nil
}

// sendPages sends the log after the session's cursor, page by page. The first pull always
// answers, even with an empty page, so the replica learns it is caught up.
func (ss *session) sendPages(ctx context.Context, first bool) error {
	for {
		req := PullRequest{Cursor: ss.cursor, Limit: ss.limit, Scopes: ss.scopes, Raw: true}
		if ss.live {
			req.ExcludeSite = ss.site
		}
		page, err := ss.tenant.Pull(ctx, req)
		if err != nil {
			return err
		}
		// The replica must also learn when the cursor moved past changes it does not receive
		// (its own, or outside its scopes): it stores the cursor and acknowledges it, which is
		// what lets tombstones be compacted. Past its own changes it is told at once (a sync
		// waits for that); past others' it is told shortly, once for a burst of them.
		ss.horizon = page.Horizon
		switch {
		case len(page.Raw) > 0 || first || (page.Cursor > ss.sent && ss.ownSeq > ss.sent):
			if err := ss.send(ctx, &engine.Frame{Type: engine.MsgChanges, Changes: page}); err != nil {
				return fmt.Errorf("send page to %d: %w", page.Cursor, err)
			}
			ss.s.metrics.pulled.Add(float64(len(page.Raw)))
			ss.sent, ss.owed = page.Cursor, false
		case page.Cursor > ss.sent:
			ss.owed = true
		}
		ss.cursor, first = page.Cursor, false
		if !page.More {
			ss.live = true
			return nil
		}
	}
}

// sendCursor sends an empty page that moves the replica's cursor to the session's.
func (ss *session) sendCursor(ctx context.Context) error {
	ss.owed = false
	if ss.cursor <= ss.sent {
		return nil
	}
	if err := ss.send(ctx, &engine.Frame{Type: engine.MsgChanges, Changes: &engine.Changes{Cursor: ss.cursor, Horizon: ss.horizon}}); err != nil {
		return fmt.Errorf("send cursor %d: %w", ss.cursor, err)
	}
	ss.sent = ss.cursor
	return nil
}

// push authorizes, validates and applies one batch, and answers with an ack or an error that
// names the batch. Refusals of the batch's content end the session.
func (ss *session) push(ctx context.Context, p *engine.Push) error {
	fail := func(code string, retry bool, format string, args ...any) error {
		e := refuse(code, format, args...)
		e.Batch, e.Retryable = p.Batch, retry
		return e
	}
	if p.Batch == "" || len(p.Batch) > 128 {
		return fail(engine.CodeBadRequest, false, "a push needs a batch key of 1-128 bytes")
	}
	if len(p.Changes) > ss.s.opts.MaxBatch {
		return fail(engine.CodeTooLarge, false, "batch of %d changes; the limit is %d", len(p.Changes), ss.s.opts.MaxBatch)
	}
	for i := range p.Changes {
		ch := &p.Changes[i]
		if !ss.claims.Grants(ch.Scope) && !ss.inbox(ch.Table) {
			return fail(engine.CodeForbidden, false, "change %d writes scope %q, which this token does not grant", i, ch.Scope)
		}
		if ch.Site != ss.site {
			return fail(engine.CodeBadRequest, false, "change %d claims site %s; this connection is %s", i, ch.Site, ss.site)
		}
		if err := ss.s.clock.Check(ch.HLC); err != nil {
			return fail(engine.CodeClockSkew, false, "change %d: %v: check the device's clock", i, err)
		}
	}
	for _, b := range []*bucket{ss.pushLimit, ss.s.tenantLimit(ss.tenant.ID)} {
		if ok, wait := b.take(len(p.Changes)); !ok {
			ss.s.metrics.errors.WithLabelValues(engine.CodeRateLimited).Inc()
			return ss.send(ctx, &engine.Frame{Type: engine.MsgError, Error: &engine.Error{Code: engine.CodeRateLimited, Retryable: true, Batch: p.Batch,
				Message: fmt.Sprintf("too many changes at once; the batch is sent again in %s", wait.Round(time.Millisecond))}})
		}
	}
	start := time.Now()
	ack, err := ss.tenant.Push(ctx, Origin{Claims: ss.claims, Site: ss.site}, p)
	switch {
	case errors.Is(err, engine.ErrScope):
		if !ss.claims.Grants(engine.AllScopes) {
			// The detail names the scope the row is really in: not for a token that may not read it.
			ss.log.Info("push refused", "batch", p.Batch, "err", err)
			return fail(engine.CodeForbidden, false, "the batch writes outside the scopes this token grants")
		}
		return fail(engine.CodeForbidden, false, "%v", err)
	case errors.Is(err, engine.ErrBadValue), errors.Is(err, engine.ErrBadID), errors.Is(err, engine.ErrProtocol),
		errors.Is(err, engine.ErrAppendOnly), errors.Is(err, engine.ErrUnknownTable):
		return fail(engine.CodeBadRequest, false, "%v", err)
	case err != nil:
		ss.log.Error("push failed", "batch", p.Batch, "err", err)
		if sendErr := ss.send(ctx, &engine.Frame{Type: engine.MsgError, Error: &engine.Error{
			Code: engine.CodeUnavailable, Message: "the server could not store this batch; it will be retried", Retryable: true, Batch: p.Batch}}); sendErr != nil {
			return sendErr
		}
		ss.s.metrics.errors.WithLabelValues(engine.CodeUnavailable).Inc()
		return nil
	}
	for _, seq := range ack.Seqs {
		ss.ownSeq = max(ss.ownSeq, seq)
	}
	if len(ack.Rejected) > 0 {
		ss.log.Info("changes refused by the clinic's rules", "batch", p.Batch, "refused", len(ack.Rejected), "code", ack.Rejected[0].Code)
	}
	ss.s.metrics.pushSeconds.Observe(time.Since(start).Seconds())
	ss.s.metrics.pushes.Inc()
	ss.s.metrics.ingested.Add(float64(len(p.Changes)))
	return ss.send(ctx, &engine.Frame{Type: engine.MsgAck, Ack: ack})
}

// inbox reports whether table takes rows from every replica (engine.Table.Inbox), whatever
// scopes its token reads; who may write them is the domain's check (Hooks.CheckPush).
func (ss *session) inbox(table string) bool {
	t := ss.s.opts.Schema.Table(table)
	return t != nil && t.Inbox && ss.claims.Role != RoleAnonymous
}

// request runs a named operation and answers it. A refusal of the operation is its answer; the
// session goes on.
func (ss *session) request(ctx context.Context, req *engine.Request) error {
	resp := &engine.Response{ID: req.ID}
	h, ok := ss.s.opts.Requests[req.Name]
	if ok && ss.claims.Role == RoleAnonymous && !slices.Contains(ss.s.opts.PublicRequests, req.Name) {
		resp.Error = refuse(engine.CodeUnauthorized, "%q needs a signed-in connection", req.Name)
		return ss.send(ctx, &engine.Frame{Type: engine.MsgResponse, Response: resp})
	}
	if !ok {
		resp.Error = refuse(engine.CodeBadRequest, "no operation %q on this server", req.Name)
		return ss.send(ctx, &engine.Frame{Type: engine.MsgResponse, Response: resp})
	}
	result, err := ss.tenant.Run(ctx, Origin{Claims: ss.claims, Site: ss.site}, req.Args, h)
	var refusal *engine.Error
	switch {
	case errors.As(err, &refusal):
		resp.Error = refusal
	case err != nil:
		ss.log.Error("request failed", "request", req.Name, "err", err)
		resp.Error = &engine.Error{Code: engine.CodeUnavailable, Retryable: true,
			Message: "the server could not run this now; try again"}
	default:
		if resp.Result, err = msgpack.Marshal(result); err != nil {
			return fmt.Errorf("encode result of %s: %w", req.Name, err)
		}
	}
	return ss.send(ctx, &engine.Frame{Type: engine.MsgResponse, Response: resp})
}
