package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/app"
	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/wstransport"
	"hearth/syncserver/clinicapi/clinictest"
)

// The clinic every test sets up: two states, two providers licensed in one each, a support
// desk and an administrator.
const tenant = "clinic-a"

func setUp(t *testing.T) *clinictest.Server {
	t.Helper()
	s := clinictest.Start(t, clinictest.Options{})
	s.Configure(t, tenant, []clinictest.Region{
		{Code: "CA", Name: "California", Mode: clinic.ModeOpen},
		{Code: "NY", Name: "New York", Mode: clinic.ModeOpen},
	}, []clinictest.Staff{
		{ID: "carol", Name: "Carol Chen", Role: clinic.RoleProvider, Regions: "CA", OnShift: true},
		{ID: "dan", Name: "Dan Diaz", Role: clinic.RoleProvider, Regions: "NY", OnShift: true},
		{ID: "sam", Name: "Sam Support", Role: clinic.RoleSupport},
	})
	return s
}

// net is the network between a test's desktop apps and the server: it can be cut, which
// drops every open connection and refuses new ones until restored.
type net struct {
	down  atomic.Bool
	mu    sync.Mutex
	conns map[*cutConn]bool
}

func newNet() *net { return &net{conns: map[*cutConn]bool{}} }

func (n *net) dial(url string) engine.Dialer {
	return &netDialer{n: n, d: &wstransport.Dialer{URL: url, PingInterval: 300 * time.Millisecond}}
}

// cut takes the network down.
func (n *net) cut() {
	n.down.Store(true)
	n.mu.Lock()
	defer n.mu.Unlock()
	for c := range n.conns {
		c.Conn.Close()
	}
}

func (n *net) restore() { n.down.Store(false) }

type netDialer struct {
	n *net
	d *wstransport.Dialer
}

var errNetDown = errors.New("network unreachable (test)")

func (d *netDialer) Dial(ctx context.Context) (engine.Conn, error) {
	if d.n.down.Load() {
		return nil, errNetDown
	}
	c, err := d.d.Dial(ctx)
	if err != nil {
		return nil, err
	}
	cc := &cutConn{Conn: c, n: d.n}
	d.n.mu.Lock()
	d.n.conns[cc] = true
	d.n.mu.Unlock()
	if d.n.down.Load() {
		cc.Close()
		return nil, errNetDown
	}
	return cc, nil
}

type cutConn struct {
	engine.Conn
	n *net
}

func (c *cutConn) Close() error {
	c.n.mu.Lock()
	delete(c.n.conns, c)
	c.n.mu.Unlock()
	return c.Conn.Close()
}

// events records what an app emits.
type events struct {
	mu  sync.Mutex
	all []event
}

type event struct {
	name string
	data any
	at   time.Time
}

func (e *events) Emit(name string, data any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, event{name, data, time.Now()})
}

// since returns the events named name from index i on.
func (e *events) named(name string) []event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []event
	for _, ev := range e.all {
		if ev.name == name {
			out = append(out, ev)
		}
	}
	return out
}

// desk is one desktop app in a test, with its services.
type desk struct {
	*app.App
	ev       *events
	dir      string
	token    string // the token it signed in with
	session  *app.Session
	sync     *app.Sync
	queue    *app.Queue
	visits   *app.Visits
	charts   *app.Charts
	chats    *app.Chats
	regions  *app.Regions
	inbox    *app.Inbox
	stopOnce sync.Once
}

// openDesk starts an app on dir (a new one when ""), through n.
func openDesk(t *testing.T, s *clinictest.Server, n *net, dir string) *desk {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	a := app.New(app.Config{DataDir: dir, Dial: n.dial, Now: s.Clock.Now, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Defaults: app.Settings{Server: s.HTTP.URL, Clinic: tenant}})
	d := &desk{App: a, ev: &events{}, dir: dir}
	for _, svc := range a.Services() {
		switch v := svc.(type) {
		case *app.Session:
			d.session = v
		case *app.Sync:
			d.sync = v
		case *app.Queue:
			d.queue = v
		case *app.Visits:
			d.visits = v
		case *app.Charts:
			d.charts = v
		case *app.Chats:
			d.chats = v
		case *app.Regions:
			d.regions = v
		case *app.Inbox:
			d.inbox = v
		default:
			t.Fatalf("unexpected service %T", svc)
		}
	}
	if err := a.Startup(context.Background(), d.ev); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	return d
}

func (d *desk) stop() { d.stopOnce.Do(d.Shutdown) }

// signIn signs d in as user with a fresh token and waits until it is online and caught up.
func (d *desk) signIn(t *testing.T, s *clinictest.Server, user, role string) {
	t.Helper()
	d.token = s.StaffToken(t, tenant, user, role)
	st, err := d.session.SignIn(s.HTTP.URL, tenant, d.token)
	if err != nil {
		t.Fatalf("sign in %s: %v", user, err)
	}
	if !st.SignedIn || st.User != user || st.Role != role {
		t.Fatalf("signed in as %+v", st)
	}
	d.waitSynced(t)
}

// waitSynced waits until d is online with nothing pending and not catching up.
func (d *desk) waitSynced(t *testing.T) {
	t.Helper()
	waitFor(t, "online and synced", func() (bool, string) {
		st := d.sync.Status()
		return st.Online && !st.CatchingUp && st.Pending == 0, fmt.Sprintf("%+v", st)
	})
}

// waitFor polls cond (at most 10 s).
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

// intake brings a patient into region's queue as the public page would.
func intake(t *testing.T, s *clinictest.Server, given, region string) clinic.IntakeResult {
	t.Helper()
	res, err := s.Intake(context.Background(), tenant, clinic.Intake{GivenName: given, FamilyName: "Tester", BirthDate: "1980-02-03",
		Phone: "555-010-" + fmt.Sprintf("%04d", len(given)*37%10000), Region: region, Reason: "cough", Consent: true})
	if err != nil {
		t.Fatalf("intake %s: %v", given, err)
	}
	return res
}

// queueHas waits until d's queue lists visit.
func (d *desk) queueHas(t *testing.T, visit string) app.QueueView {
	t.Helper()
	var view app.QueueView
	waitFor(t, "visit "+visit+" in the queue", func() (bool, string) {
		var err error
		view, err = d.queue.View()
		if err != nil {
			return false, err.Error()
		}
		for _, r := range view.Regions {
			for _, p := range r.Patients {
				if p.Visit == visit {
					return true, ""
				}
			}
		}
		return false, fmt.Sprintf("%+v", view)
	})
	return view
}
