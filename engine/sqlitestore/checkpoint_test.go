//go:build !js

package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

func TestCheckpointsRunOffTheCommitPath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	r, err := OpenReplica(ctx, path, clinic.Schema, ReplicaOptions{Options: Options{CheckpointEvery: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := r.w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the writer's automatic checkpoints: %d, %v; want 0 (off)", auto, err)
	}
	for i := range 300 {
		if _, err := r.Write(ctx, engine.Mutation{Table: "patients", ID: engine.NewID(), Values: map[string]any{"given_name": fmt.Sprint("p", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.checkpoints.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background checkpoint in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = OpenReplica(ctx, path, clinic.Schema, ReplicaOptions{Options: Options{CheckpointEvery: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if recs, err := r.List(ctx, "patients", "", 1000); err != nil || len(recs) != 300 {
		t.Fatalf("after reopening: %d patients, %v", len(recs), err)
	}
	if err := r.w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto == 0 {
		t.Fatalf("with CheckpointEvery < 0 SQLite checkpoints itself: wal_autocheckpoint %d, %v", auto, err)
	}
}
