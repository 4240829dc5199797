package main

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"hearth/engine/clinic"
)

func TestParseValues(t *testing.T) {
	patients := clinic.Schema.Table("patients")
	got, err := parseValues(patients, []string{"given_name=Ada = Lovelace", "created_at=1700000000000", "email:=null", "phone:=\"555\"", "region="})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"given_name": "Ada = Lovelace", "created_at": int64(1700000000000), "email": nil, "phone": "555", "region": ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	if v, err := parseValues(patients, []string{"created_at:=42"}); err != nil || v["created_at"] != int64(42) {
		t.Fatalf("JSON integer: %#v, %v", v, err)
	}
	for _, bad := range [][]string{{"nope=1"}, {"id=x"}, {"given_name"}, {"=x"}, {"created_at=1.5"}, {"created_at:=1.5"},
		{"created_at:=\"1\""}, {"given_name:=1"}, {"given_name=a", "given_name=b"}, {"created_at:=1 2"}} {
		_, err := parseValues(patients, bad)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: got %v, want a usage error", bad, err)
		}
	}
}

func TestSyncURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8686":      "ws://127.0.0.1:8686/v1/tenants/demo/sync",
		"http://127.0.0.1:8686/":     "ws://127.0.0.1:8686/v1/tenants/demo/sync",
		"https://hearth.example/api": "wss://hearth.example/api/v1/tenants/demo/sync",
		"ws://h:1":                   "ws://h:1/v1/tenants/demo/sync",
	} {
		if got, err := syncURL(in, "demo"); err != nil || got != want {
			t.Errorf("syncURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://h", "127.0.0.1:8686", "http://"} {
		if _, err := syncURL(bad, "demo"); err == nil {
			t.Errorf("syncURL(%q) accepted", bad)
		}
	}
}

func TestFlagsAnywhere(t *testing.T) {
	c := &cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	fs := c.flags("put", "")
	dir := fs.String("dir", "", "")
	del := fs.Bool("delete", false, "")
	pos, err := fs.parse([]string{"patients", "--dir", "r", "x1", "--delete", "--", "--odd"})
	if err != nil {
		t.Fatal(err)
	}
	if *dir != "r" || !*del || !reflect.DeepEqual(pos, []string{"patients", "x1", "--odd"}) {
		t.Fatalf("dir %q delete %v positional %q", *dir, *del, pos)
	}
}
