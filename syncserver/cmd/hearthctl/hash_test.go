package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/servertest"
)

// TestHashWithToken syncs a caregiver's replica and a patient's replica with a server, and
// checks that `hearthctl hash --data --tenant --token` prints each one's hash, and without a
// token the whole store's.
func TestHashWithToken(t *testing.T) {
	ctx := context.Background()
	srv := servertest.Start(t, clinic.Schema, servertest.Options{})
	// The data directory's key file, holding the key servertest signs with.
	if err := os.MkdirAll(filepath.Dir(syncserver.KeyPath(srv.DataDir)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(syncserver.KeyPath(srv.DataDir), []byte(hex.EncodeToString([]byte(strings.Repeat("k", 32)))), 0o600); err != nil {
		t.Fatal(err)
	}
	url := srv.URL("clinic-a")
	staffTok := srv.Token(t, "clinic-a", "alice", clinic.RoleProvider, clinic.StaffScopes()...)
	staff := servertest.OpenReplica(t, clinic.Schema, url, staffTok)
	va, vb := engine.NewID(), engine.NewID()
	muts := []engine.Mutation{
		{Table: "patients", ID: engine.NewID(), Values: map[string]any{"given_name": "Ada"}},
		{Table: "visits", ID: va, Values: map[string]any{"status": clinic.StatusWaiting, "region": "CA"}},
		{Table: "visits", ID: vb, Values: map[string]any{"status": clinic.StatusWaiting, "region": "TX"}},
		{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{"visit_id": va, "body": "hello"}},
		{Table: "chat_messages", ID: engine.NewID(), Values: map[string]any{"visit_id": vb, "body": "other visit"}},
	}
	if _, err := staff.Write(ctx, muts...); err != nil {
		t.Fatal(err)
	}
	staff.Sync(t)
	patientTok := srv.Token(t, "clinic-a", "patient:"+va, clinic.RolePatient, clinic.PatientScopes(va)...)
	patient := servertest.OpenReplica(t, clinic.Schema, url, patientTok)
	patient.Sync(t)

	hash := func(args ...string) string {
		t.Helper()
		c, out := testCLI()
		if err := runHash(ctx, c, append([]string{"--data", srv.DataDir, "--tenant", "clinic-a"}, args...)); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	whole := hash()
	for _, c := range []struct {
		name string
		tok  string
		rep  *servertest.Replica
	}{{"staff", staffTok, staff}, {"patient", patientTok, patient}} {
		if got, want := hash("--token", c.tok), servertest.Hash(t, c.rep); got != want {
			t.Errorf("%s: hearthctl hash --token %s, the replica %s", c.name, got, want)
		}
	}
	if got := hash("--token", patientTok); got == whole {
		t.Error("the patient's hash is the whole clinic's: the token's scopes were not applied")
	}
	c, _ := testCLI()
	other := srv.Token(t, "clinic-b", "mallory", clinic.RoleProvider)
	if err := runHash(ctx, c, []string{"--data", srv.DataDir, "--tenant", "clinic-a", "--token", other}); err == nil || !strings.Contains(err.Error(), "not \"clinic-a\"") {
		t.Errorf("a token of another tenant: %v", err)
	}
}
