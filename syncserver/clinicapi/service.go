// Package clinicapi runs the clinic's rules (hearth/engine/clinic) on the sync server: the
// requests it arbitrates (intake, claim, release), the check of every pushed change against
// who may write what, the audit entries of caregivers' writes, and the live wait-time
// estimates. The rules themselves live in engine/clinic, shared with every client; this
// package only reads and writes the tenant's store for them.
package clinicapi

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/token"
)

// Config configures a Service. Zero fields take the defaults shown.
type Config struct {
	// Signer issues the patient's visit token at intake (required).
	Signer *token.Signer
	// Now is the clinic's clock for the workflow's times: arrivals, waits, hours. Tests of a
	// simulated day drive it; the sync clock (HLC) is separate.
	Now func() time.Time
	// PatientTokenTTL is how long a patient's visit token lasts (4h: a long wait plus the visit).
	PatientTokenTTL time.Duration
	// EstimateDelay coalesces bursts of queue changes into one recomputation of the wait-time
	// estimates, made within this of the first change (250ms).
	EstimateDelay time.Duration
	// TypicalVisit is the visit length assumed before a region has finished visits (15m).
	TypicalVisit time.Duration
	Logger       *slog.Logger
}

// Service is the clinic's side of the sync server.
type Service struct {
	cfg Config
	ctx context.Context
	end context.CancelFunc
	wg  sync.WaitGroup

	mu        sync.Mutex
	estimates map[string]*engine.Coalescer // per tenant
}

// New returns a Service; Close stops its background work.
func New(cfg Config) (*Service, error) {
	if cfg.Signer == nil {
		return nil, errors.New("clinicapi: a token signer is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PatientTokenTTL <= 0 {
		cfg.PatientTokenTTL = 4 * time.Hour
	}
	if cfg.EstimateDelay <= 0 {
		cfg.EstimateDelay = 250 * time.Millisecond
	}
	if cfg.TypicalVisit <= 0 {
		cfg.TypicalVisit = 15 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, end := context.WithCancel(context.Background())
	return &Service{cfg: cfg, ctx: ctx, end: end, estimates: map[string]*engine.Coalescer{}}, nil
}

// Install adds the clinic's requests and hooks to the server's options.
func (s *Service) Install(o *syncserver.Options) {
	if o.Requests == nil {
		o.Requests = map[string]syncserver.RequestHandler{}
	}
	o.Requests[clinic.RequestIntakeStatus] = s.intakeStatus
	o.Requests[clinic.RequestIntake] = s.intake
	o.Requests[clinic.RequestClaim] = s.claim
	o.Requests[clinic.RequestRelease] = s.release
	o.PublicRequests = append(o.PublicRequests, clinic.RequestIntakeStatus, clinic.RequestIntake)
	o.Hooks = syncserver.Hooks{CheckPush: s.checkPush, Committed: s.committed}
}

// Close stops the estimator and waits for a recomputation under way.
func (s *Service) Close() {
	s.end()
	s.mu.Lock()
	for _, c := range s.estimates {
		c.Stop()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// actor is who makes a request or a push, as the rules see it.
func actor(rc *syncserver.RequestContext) clinic.Actor {
	return clinic.Actor{User: rc.Claims.User, Role: rc.Claims.Role, Device: rc.Site.String()}
}

// lookup reads rows inside the request's transaction for the rules.
func lookup(ctx context.Context, rc *syncserver.RequestContext) clinic.Lookup {
	return func(table, id string) (clinic.Row, bool, error) {
		return get(ctx, rc, table, id)
	}
}

// get reads a live row inside the request's transaction; ok is false when there is none.
func get(ctx context.Context, rc *syncserver.RequestContext, table, id string) (row clinic.Row, ok bool, err error) {
	rec, err := rc.Get(ctx, table, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return clinic.Row(rec), true, nil
}

// refusal turns a rule's error into the refusal a client sees, keeping its message; other
// errors pass through (the server answers them as unavailable).
func refusal(err error) error {
	code := ""
	switch {
	case errors.Is(err, clinic.ErrForbidden):
		code = engine.CodeForbidden
	case errors.Is(err, clinic.ErrNotLicensed):
		code = clinic.CodeNotLicensed
	case errors.Is(err, clinic.ErrTransition):
		code = clinic.CodeTransition
	case errors.Is(err, clinic.ErrInvalid):
		code = engine.CodeBadRequest
	default:
		return err
	}
	return &engine.Error{Code: code, Message: err.Error()}
}

func refuse(code, msg string) error { return &engine.Error{Code: code, Message: msg} }

// writeAudit records an access as the server, in the same transaction as what it audits.
func writeAudit(rc *syncserver.RequestContext, e clinic.AuditEntry) error {
	return rc.Write(e.Mutation())
}
