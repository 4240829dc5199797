package sqlitedir_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"hearth/syncserver"
	"hearth/syncserver/sqlitedir"
)

func TestDirectoryRecords(t *testing.T) {
	ctx := context.Background()
	path := sqlitedir.Path(t.TempDir())
	if filepath.Base(path) != "directory.db" {
		t.Fatalf("path %s: existing data directories hold directory.db", path)
	}
	st, err := sqlitedir.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	b := syncserver.TenantInfo{ID: "clinic-b", Name: "B", Region: "us-west", Node: "n2", CreatedAt: at, Settings: map[string]string{"store": "sqlite"}}
	a := syncserver.TenantInfo{ID: "clinic-a", Name: "A", Region: "local", Node: "n1", CreatedAt: at}
	for _, ti := range []syncserver.TenantInfo{b, a} {
		if err := st.Insert(ctx, ti); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Insert(ctx, syncserver.TenantInfo{ID: "clinic-a", Name: "other", CreatedAt: at}); !errors.Is(err, syncserver.ErrTenantExists) {
		t.Fatalf("a second clinic-a: %v, want ErrTenantExists", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = sqlitedir.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, err := st.Get(ctx, "clinic-b"); err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("get: %+v, %v; want %+v", got, err, b)
	}
	if _, err := st.Get(ctx, "ghost"); !errors.Is(err, syncserver.ErrUnknownTenant) {
		t.Fatalf("unknown tenant: %v", err)
	}
	all, err := st.List(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "clinic-a" || all[1].ID != "clinic-b" || all[0].Name != "A" {
		t.Fatalf("list: %+v, %v; want clinic-a then clinic-b, as first stored", all, err)
	}
}
