package syncserver_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/servertest"
)

// claimVisit is a compare-and-set the server arbitrates: a provider takes a waiting visit
// unless someone already has.
func claimVisit(ctx context.Context, rc *syncserver.RequestContext) (any, error) {
	var args struct{ Visit string }
	if err := rc.Decode(&args); err != nil {
		return nil, err
	}
	if rc.Claims.Role != clinic.RoleProvider {
		return nil, &engine.Error{Code: engine.CodeForbidden, Message: "only providers claim patients"}
	}
	v, err := rc.Get(ctx, "visits", args.Visit)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, &engine.Error{Code: "not_found", Message: "no such visit"}
	}
	if err != nil {
		return nil, err
	}
	if p, _ := v["provider_id"].(string); p != "" {
		return nil, &engine.Error{Code: "already_claimed", Message: "another provider has this patient"}
	}
	if err := rc.Write(engine.Mutation{Table: "visits", ID: args.Visit, Values: map[string]any{
		"provider_id": rc.Claims.User, "status": "in_visit"}}); err != nil {
		return nil, err
	}
	return map[string]string{"provider": rc.Claims.User}, nil
}

func TestRequestsArbitrateExclusiveActs(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) {
		o.Requests = map[string]syncserver.RequestHandler{
			"claim": claimVisit,
			"fail":  func(context.Context, *syncserver.RequestContext) (any, error) { return nil, errors.New("disk on fire") },
		}
	}})
	url := srv.URL("clinic-a")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	desk := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "desk", clinic.RoleSupport))
	visit := engine.NewID()
	if _, err := desk.Write(ctx, engine.Mutation{Table: "visits", ID: visit, Values: map[string]any{"status": "waiting"}}); err != nil {
		t.Fatal(err)
	}
	desk.Sync(t)

	// An offline replica is refused at once, not queued.
	offline := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", "dr-off", ""))
	start := time.Now()
	if err := offline.Syncer.Request(ctx, "claim", map[string]string{"Visit": visit}, nil); !errors.Is(err, engine.ErrOffline) || time.Since(start) > time.Second {
		t.Fatalf("offline claim: %v after %s, want ErrOffline at once", err, time.Since(start))
	}

	const providers = 5
	runCtx, stop := context.WithCancel(ctx)
	var running sync.WaitGroup
	defer func() { stop(); running.Wait() }()
	var reps []*servertest.Replica
	for i := range providers {
		r := servertest.OpenReplica(t, clinic.Schema, url, srv.Token(t, "clinic-a", fmt.Sprintf("dr-%d", i), ""))
		reps = append(reps, r)
		running.Add(1)
		go func() { defer running.Done(); r.Syncer.Run(runCtx) }()
	}
	for _, r := range reps {
		for !r.Syncer.Status().Online {
			if ctx.Err() != nil {
				t.Fatal("replicas did not come online")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// All providers race for the same patient.
	type outcome struct {
		who string
		err error
	}
	results := make(chan outcome, providers)
	for i, r := range reps {
		go func() {
			var res struct {
				Provider string `msgpack:"provider"`
			}
			err := r.Syncer.Request(ctx, "claim", map[string]string{"Visit": visit}, &res)
			if err == nil && res.Provider != fmt.Sprintf("dr-%d", i) {
				err = fmt.Errorf("result names %q", res.Provider)
			}
			results <- outcome{fmt.Sprintf("dr-%d", i), err}
		}()
	}
	winner := ""
	for range providers {
		o := <-results
		var re *engine.RemoteError
		switch {
		case o.err == nil && winner == "":
			winner = o.who
		case o.err == nil:
			t.Fatalf("%s and %s both claimed the patient", winner, o.who)
		case !errors.As(o.err, &re) || re.Err.Code != "already_claimed":
			t.Fatalf("%s: %v, want already_claimed", o.who, o.err)
		}
	}
	if winner == "" {
		t.Fatal("nobody got the patient")
	}
	// The claim replicates as an ordinary change to everyone.
	for _, r := range reps {
		for {
			if v, err := r.Get(ctx, "visits", visit); err == nil && v["provider_id"] == winner && v["status"] == "in_visit" {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("the claim by %s did not reach every replica", winner)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	var re *engine.RemoteError
	if err := reps[0].Syncer.Request(ctx, "nope", nil, nil); !errors.As(err, &re) || re.Err.Code != engine.CodeBadRequest {
		t.Fatalf("unknown operation: %v", err)
	}
	if err := reps[0].Syncer.Request(ctx, "fail", nil, nil); !errors.As(err, &re) || re.Err.Code != engine.CodeUnavailable || !re.Err.Retryable {
		t.Fatalf("failing operation: %v", err)
	}
	// A support token may not claim: the handler checks the caller.
	running.Add(1)
	go func() { defer running.Done(); desk.Syncer.Run(runCtx) }()
	for !desk.Syncer.Status().Online && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if err := desk.Syncer.Request(ctx, "claim", map[string]string{"Visit": visit}, nil); !errors.As(err, &re) || re.Err.Code != engine.CodeForbidden {
		t.Fatalf("support staff claiming: %v", err)
	}
}

// capturingDialer remembers the last connection it made, so a test can cut it.
type capturingDialer struct {
	engine.Dialer
	mu   sync.Mutex
	last engine.Conn
}

func (d *capturingDialer) Dial(ctx context.Context) (engine.Conn, error) {
	c, err := d.Dialer.Dial(ctx)
	d.mu.Lock()
	d.last = c
	d.mu.Unlock()
	return c, err
}

func TestRequestLostWithItsConnectionIsInDoubt(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := servertest.Start(t, clinic.Schema, servertest.Options{Tweak: func(o *syncserver.Options) {
		o.Requests = map[string]syncserver.RequestHandler{"slow": func(ctx context.Context, rc *syncserver.RequestContext) (any, error) {
			close(entered)
			<-release
			return nil, nil
		}}
	}})
	tok := srv.Token(t, "clinic-a", "dr", "")
	r := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-a"), tok)
	d := &capturingDialer{Dialer: r.Dialer}
	r.Syncer = engine.NewSyncer(r.Replica, d, engine.SyncOptions{Token: tok, MinBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { r.Syncer.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for !r.Syncer.Status().Online && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Syncer.Request(ctx, "slow", nil, nil) }()
	<-entered
	d.mu.Lock()
	d.last.Close()
	d.mu.Unlock()
	if err := <-errc; !errors.Is(err, engine.ErrRequestInDoubt) {
		t.Fatalf("request whose connection dropped: %v, want ErrRequestInDoubt", err)
	}
	close(release)
}
