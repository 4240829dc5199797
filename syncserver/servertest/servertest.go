// Package servertest starts a real sync server in the test process, on loopback, and opens
// real SQLite replicas that sync with it: the building blocks of the engine's and server's
// integration tests.
package servertest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/sqlitestore"
	"hearth/engine/wstransport"
	"hearth/syncserver"
	"hearth/syncserver/sqlitedir"
	"hearth/syncserver/sqlitetenant"
	"hearth/syncserver/token"
)

// Server is a running in-process sync server.
type Server struct {
	*syncserver.Server
	HTTP    *httptest.Server
	Signer  *token.Signer
	DataDir string
}

// Options adjust Start.
type Options struct {
	Schema  *engine.Schema // default: the schema passed to Start
	Tenants []string       // created at start (default: "clinic-a")
	Tweak   func(*syncserver.Options)
}

// Start runs a server on 127.0.0.1 with its data in a temporary directory, closed at cleanup.
func Start(t testing.TB, schema *engine.Schema, opts Options) *Server {
	t.Helper()
	dir := t.TempDir()
	// Tokens carry the clinic's roles, whatever the schema: the server's tests sign as its
	// deployment does.
	signer, err := token.NewSigner([]byte(strings.Repeat("k", 32)), clinic.CheckTokenScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	directory, err := sqlitedir.OpenDirectory(context.Background(), sqlitedir.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	so := syncserver.Options{Directory: directory, Schema: schema, Signer: signer, CompactEvery: -1,
		OpenStore: sqlitetenant.Opener(dir, schema, sqlitetenant.Options{}), Logger: slog.New(slog.DiscardHandler)}
	if opts.Tweak != nil {
		opts.Tweak(&so)
	}
	srv, err := syncserver.New(context.Background(), so)
	if err != nil {
		directory.Close()
		t.Fatal(err)
	}
	if opts.Tenants == nil {
		opts.Tenants = []string{"clinic-a"}
	}
	for _, id := range opts.Tenants {
		if err := srv.Directory().Create(context.Background(), syncserver.TenantInfo{ID: id, Region: "local", Node: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv.Handler())
	s := &Server{Server: srv, HTTP: hs, Signer: signer, DataDir: dir}
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		srv.Close()
	})
	return s
}

// URL returns the WebSocket sync URL of a tenant.
func (s *Server) URL(tenant string) string {
	return "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/v1/tenants/" + tenant + "/sync"
}

// Token issues a token for tenant; with no scopes it is a provider's token for the whole clinic.
func (s *Server) Token(t testing.TB, tenant, user, role string, scopes ...string) string {
	t.Helper()
	if role == "" {
		role = clinic.RoleProvider
	}
	if len(scopes) == 0 {
		scopes = []string{engine.AllScopes}
	}
	tok, err := s.Signer.Issue(token.Claims{Tenant: tenant, User: user, Role: role, Scopes: scopes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Replica is a real SQLite replica with a sync loop pointed at a server.
type Replica struct {
	*sqlitestore.Replica
	Syncer *engine.Syncer
	Dialer *wstransport.Dialer
}

// OpenReplica opens a replica in a temporary file and a syncer for url with tok.
func OpenReplica(t testing.TB, schema *engine.Schema, url, tok string) *Replica {
	t.Helper()
	return OpenReplicaAt(t, filepath.Join(t.TempDir(), "replica.db"), schema, url, tok)
}

// OpenReplicaAt is OpenReplica at a chosen path (to reopen a replica, or upgrade it).
func OpenReplicaAt(t testing.TB, path string, schema *engine.Schema, url, tok string) *Replica {
	t.Helper()
	rep, err := sqlitestore.OpenReplica(context.Background(), path, schema, sqlitestore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	d := &wstransport.Dialer{URL: url}
	s := engine.NewSyncer(rep, d, engine.SyncOptions{Token: tok, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	rep.OnLocalWrite(s.Notify)
	return &Replica{Replica: rep, Syncer: s, Dialer: d}
}

// Sync runs one full sync (push everything, pull to the head) and fails the test on error.
func (r *Replica) Sync(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Syncer.SyncOnce(ctx); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// Hash returns the replica's canonical state hash.
func Hash(t testing.TB, db interface {
	Hash(context.Context) (string, error)
}) string {
	t.Helper()
	h, err := db.Hash(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// StoreHash returns the canonical state hash of a tenant's whole store.
func StoreHash(t testing.TB, tn *syncserver.Tenant) string {
	t.Helper()
	h, err := tn.Store().Hash(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// StoreDB returns the SQLite file under a tenant opened by Start, for the tests that read
// what only a SQLite store has (note conflicts, raw rows).
func StoreDB(t testing.TB, tn *syncserver.Tenant) *sqlitestore.DB {
	t.Helper()
	st, ok := tn.Store().(*sqlitetenant.Store)
	if !ok {
		t.Fatalf("tenant %s is not on a SQLite store", tn.ID)
	}
	return st.DB()
}
