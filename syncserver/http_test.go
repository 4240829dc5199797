package syncserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"hearth/engine/clinic"
	"hearth/syncserver/servertest"
)

func TestHealthAndMetrics(t *testing.T) {
	srv := servertest.Start(t, clinic.Schema, servertest.Options{})
	r := servertest.OpenReplica(t, clinic.Schema, srv.URL("clinic-a"), srv.Token(t, "clinic-a", "alice", ""))
	writePatients(t, r, 3)
	r.Sync(t)
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.HTTP.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	if body := get("/healthz"); strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %q", body)
	}
	m := get("/metrics")
	for _, want := range []string{"hearth_changes_ingested_total 3", "hearth_push_batches_total 1", "hearth_sessions", "go_goroutines"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
