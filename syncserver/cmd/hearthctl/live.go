package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hearth/engine"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
)

// liveReplica is a replica connected to its server through a running Syncer, for the
// requests that need the server's answer now (claim, release): they are refused offline.
type liveReplica struct {
	dir    string
	cfg    replicaConfig
	rep    *sqlitestore.Replica
	syncer *engine.Syncer
	stop   context.CancelFunc
	done   chan error // Run's result
}

// openLive opens the replica in dir with its saved server, tenant and token, starts its sync
// loop and waits until it is online, for at most timeout. A replica that cannot connect
// within it fails with an error wrapping engine.ErrOffline. Close it when done.
func openLive(ctx context.Context, cmd, dir string, timeout time.Duration) (*liveReplica, error) {
	cfg, err := loadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	if cfg.Tenant == "" || cfg.Token == "" {
		return nil, fmt.Errorf("%s: %s has no saved tenant and token: run hearthctl sync --dir %s --server URL --tenant T --token TOKEN once",
			cmd, dir, dir)
	}
	if cfg.Server == "" {
		cfg.Server = defaultServer
	}
	endpoint, err := syncURL(cfg.Server, cfg.Tenant)
	if err != nil {
		return nil, fmt.Errorf("%s: saved server: %w", cmd, err)
	}
	rep, err := openReplica(ctx, dir, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	online := make(chan struct{}, 1)
	s := engine.NewSyncer(rep, &wstransport.Dialer{URL: endpoint}, engine.SyncOptions{
		Token: cfg.Token, Client: "hearthctl", HandshakeTimeout: timeout,
		OnStatus: func(st engine.Status) {
			if st.Online {
				select {
				case online <- struct{}{}:
				default:
				}
			}
		},
	})
	runCtx, stop := context.WithCancel(ctx)
	l := &liveReplica{dir: dir, cfg: cfg, rep: rep, syncer: s, stop: stop, done: make(chan error, 1)}
	go func() { l.done <- s.Run(runCtx) }()

	wait := time.NewTimer(timeout)
	defer wait.Stop()
	select {
	case <-online:
		return l, nil
	case err := <-l.done: // refused for good: a bad token, an unknown tenant, a refused batch
		l.done <- err
		l.Close()
		return nil, fmt.Errorf("%s: connect to %s: %w%s", cmd, cfg.Server, err, syncHint(err))
	case <-wait.C:
		last := s.Status().Err
		l.Close()
		if last == "" {
			last = "no answer"
		}
		return nil, fmt.Errorf("%s: %w: could not reach %s within %s (%s); %s needs a live connection and cannot be queued for later",
			cmd, engine.ErrOffline, cfg.Server, timeout, last, cmd)
	case <-ctx.Done():
		l.Close()
		return nil, fmt.Errorf("%s: %w", cmd, ctx.Err())
	}
}

// finish stops the live loop, then syncs once so that the replica holds the request's
// effect (the server also fans it out live; this makes sure it has arrived).
func (l *liveReplica) finish(ctx context.Context, timeout time.Duration) error {
	l.stop()
	<-l.done
	l.done <- nil
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return l.syncer.SyncOnce(ctx)
}

// Close stops the sync loop (if running) and closes the replica.
func (l *liveReplica) Close() {
	l.stop()
	err := <-l.done
	l.done <- err
	l.rep.Close()
}

// visitRequest runs a claim or release of a visit through the replica in dir: online first
// (bounded by timeout), then the request, then one sync so the replica shows the result.
// A sync that fails after the request succeeded is only a warning: the effect is on the
// server and arrives with the next sync.
func visitRequest(ctx context.Context, c *cli, cmd, dir, name string, args, result any, timeout time.Duration) error {
	l, err := openLive(ctx, cmd, dir, timeout)
	if err != nil {
		return err
	}
	defer l.Close()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	err = l.syncer.Request(rctx, name, args, result)
	cancel()
	switch {
	case errors.Is(err, engine.ErrOffline):
		return fmt.Errorf("%s: %w: the connection to %s dropped; try again when online", cmd, engine.ErrOffline, l.cfg.Server)
	case errors.Is(err, engine.ErrRequestInDoubt):
		return fmt.Errorf("%s: %w: run hearthctl sync --dir %s, then hearthctl get --dir %s visits VISIT_ID to see whether it did",
			cmd, err, dir, dir)
	case err != nil:
		return requestError(cmd, err)
	}
	if err := l.finish(ctx, timeout); err != nil {
		fmt.Fprintf(c.stderr, "hearthctl: %s: warning: done on the server, but the sync afterwards failed (%v); hearthctl sync --dir %s brings the result\n",
			cmd, err, dir)
	}
	return nil
}
