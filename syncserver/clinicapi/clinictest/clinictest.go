// Package clinictest starts a real sync server with the clinic's rules installed, on loopback
// in the test process, with a clinic clock the test drives: the building blocks of the
// workflow's tests, the simulated clinic day and its load benchmark.
package clinictest

import (
	"context"
	"sync"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/wstransport"
	"hearth/syncserver"
	"hearth/syncserver/clinicapi"
	"hearth/syncserver/servertest"
)

// Clock is the clinic's clock in a test: it moves only when the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Server is a running sync server with the clinic's requests and rules.
type Server struct {
	*servertest.Server
	Service *clinicapi.Service
	Clock   *Clock
}

// Options adjust Start.
type Options struct {
	Tenants []string  // default: "clinic-a"
	Start   time.Time // the clinic clock's first reading (default: Monday 2026-11-23 08:00 UTC)
	// EstimateDelay coalesces estimate recomputations (default 5ms: tests settle quickly).
	EstimateDelay time.Duration
	Tweak         func(*syncserver.Options)
}

// Start runs the server; it stops at the test's cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	}
	if opts.EstimateDelay <= 0 {
		opts.EstimateDelay = 5 * time.Millisecond
	}
	clock := NewClock(opts.Start)
	var svc *clinicapi.Service
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tenants: opts.Tenants, Tweak: func(o *syncserver.Options) {
		var err error
		svc, err = clinicapi.New(clinicapi.Config{Signer: o.Signer, Now: clock.Now, EstimateDelay: opts.EstimateDelay, Logger: o.Logger})
		if err != nil {
			t.Fatal(err)
		}
		svc.Install(o)
		// Tests wait for every replica to hold the whole log: tell them at once.
		o.EmptyPageDelay = time.Millisecond
		if opts.Tweak != nil {
			opts.Tweak(o)
		}
	}})
	t.Cleanup(svc.Close)
	return &Server{Server: srv, Service: svc, Clock: clock}
}

// StaffToken issues a caregiver's token: staff read the clinic and every visit, admins also
// the audit trail.
func (s *Server) StaffToken(t testing.TB, tenant, user, role string) string {
	t.Helper()
	scopes := clinic.StaffScopes()
	if role == clinic.RoleAdmin {
		scopes = []string{engine.AllScopes}
	}
	return s.Token(t, tenant, user, role, scopes...)
}

// Region is a region's settings for Configure.
type Region struct {
	Code, Name, Mode, Hours, TimeZone, Message string
	BusyLimit                                  int
}

// Staff is a staff member for Configure.
type Staff struct {
	ID, Name, Role string
	Regions        string // comma-separated
	OnShift        bool
}

// Configure writes regions and staff as the clinic's administrator and syncs them.
func (s *Server) Configure(t testing.TB, tenant string, regions []Region, staff []Staff) {
	t.Helper()
	admin := servertest.OpenReplica(t, clinic.Schema, s.URL(tenant), s.StaffToken(t, tenant, "admin", clinic.RoleAdmin))
	var muts []engine.Mutation
	for _, r := range regions {
		muts = append(muts, engine.Mutation{Table: "regions", ID: r.Code, Values: map[string]any{
			"name": r.Name, "mode": r.Mode, "hours": r.Hours, "time_zone": r.TimeZone, "message": r.Message,
			"busy_limit": int64(r.BusyLimit), "updated_by": "admin", "updated_at": s.Clock.Now().UnixMilli()}})
	}
	for _, p := range staff {
		muts = append(muts, engine.Mutation{Table: "staff", ID: p.ID, Values: map[string]any{
			"name": p.Name, "role": p.Role, "regions": p.Regions, "on_shift": boolInt(p.OnShift), "updated_at": s.Clock.Now().UnixMilli()}})
	}
	if len(muts) == 0 {
		return
	}
	if _, err := admin.Write(context.Background(), muts...); err != nil {
		t.Fatal(err)
	}
	admin.Sync(t)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Call makes one request on a fresh connection, with tok ("" for a public request).
func (s *Server) Call(ctx context.Context, tenant, tok, name string, args, result any) error {
	return engine.Call(ctx, &wstransport.Dialer{URL: s.URL(tenant)}, engine.CallOptions{Token: tok, Schema: clinic.Schema.Version(), Client: "clinictest"}, name, args, result)
}

// Intake starts a visit as a patient at the clinic's public page would.
func (s *Server) Intake(ctx context.Context, tenant string, in clinic.Intake) (clinic.IntakeResult, error) {
	var res clinic.IntakeResult
	err := s.Call(ctx, tenant, "", clinic.RequestIntake, in, &res)
	return res, err
}

// Live opens a replica and runs its sync loop in the background until the test ends, and
// waits until it is online.
func (s *Server) Live(t testing.TB, tenant, tok string) *servertest.Replica {
	t.Helper()
	r := servertest.OpenReplica(t, clinic.Schema, s.URL(tenant), tok)
	RunLive(t, r)
	return r
}

// RunLive runs r's sync loop until the test ends, and waits until it is online.
func RunLive(t testing.TB, r *servertest.Replica) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Syncer.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !r.Syncer.Status().Online {
		if time.Now().After(deadline) {
			t.Fatalf("replica did not come online: %s", r.Syncer.Status().Err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
