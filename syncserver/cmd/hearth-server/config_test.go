package main

import (
	"errors"
	"io"
	"testing"
	"time"
)

func TestConfigPrecedence(t *testing.T) {
	env := map[string]string{"HEARTH_ADDR": "127.0.0.1:9000", "HEARTH_MAX_BATCH": "5", "HEARTH_DEMO": "false", "HEARTH_RETENTION": "48h"}
	getenv := func(k string) string { return env[k] }
	c, err := parseConfig([]string{"--max-batch", "7"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// A flag beats the environment, the environment beats the default.
	if c.MaxBatch != 7 || c.Addr != "127.0.0.1:9000" || c.Demo || c.Retention != 48*time.Hour || c.PageSize != 2000 || c.Data != "./hearth-data" {
		t.Fatalf("config %+v", c)
	}
	if _, err := parseConfig(nil, func(k string) string {
		return map[string]string{"HEARTH_PAGE_SIZE": "many"}[k]
	}, io.Discard); !errors.As(err, new(*usageError)) {
		t.Fatalf("bad env value: %v, want a usage error", err)
	}
}
