package token_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hearth/syncserver/token"
)

// testRoles is a role policy of the token package's own, so that these tests check the signer
// and not any domain's roles: "staff" tokens grant anything, "guest" tokens grant only "lobby".
func testRoles(role string, scopes []string) error {
	switch role {
	case "staff":
		return nil
	case "guest":
		if slices.Equal(scopes, []string{"lobby"}) {
			return nil
		}
		return fmt.Errorf("a guest token grants only the lobby, not %v", scopes)
	}
	return fmt.Errorf("unknown role %q", role)
}

func newSigner(t *testing.T, key string, now func() time.Time) *token.Signer {
	t.Helper()
	s, err := token.NewSigner([]byte(strings.Repeat(key, 32)), testRoles, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueVerify(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := newSigner(t, "a", clock)
	staff, err := s.Issue(token.Claims{Tenant: "clinic-a", User: "dr-lee", Role: "staff", Scopes: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(staff)
	if err != nil || c.Tenant != "clinic-a" || c.User != "dr-lee" || c.Role != "staff" || !c.Grants("visit:v1") || !c.Grants("clinic") {
		t.Fatalf("verify: %+v %v", c, err)
	}
	guest, err := s.Issue(token.Claims{Tenant: "clinic-a", User: "g1", Role: "guest", Scopes: []string{"lobby"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(guest); err != nil || !c.Grants("lobby") || c.Grants("clinic") {
		t.Fatalf("guest grants wrong: %+v %v", c, err)
	}

	other := newSigner(t, "b", clock)
	payload, sig, _ := strings.Cut(staff, ".")
	tampered := strings.Replace(payload, "A", "B", 1) + "." + sig
	for name, tok := range map[string]string{"other key": mustIssue(t, other), "tampered": tampered, "no dot": "abc", "empty": ""} {
		if _, err := s.Verify(tok); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.Verify(staff); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("expired token: %v", err)
	}
}

func mustIssue(t *testing.T, s *token.Signer) string {
	t.Helper()
	tok, err := s.Issue(token.Claims{Tenant: "clinic-a", User: "x", Role: "staff", Scopes: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestClaimsValidation(t *testing.T) {
	s := newSigner(t, "a", nil)
	tests := []struct {
		name   string
		claims token.Claims
		ok     bool
	}{
		{"staff", token.Claims{Tenant: "clinic-a", User: "u", Role: "staff", Scopes: []string{"*"}}, true},
		{"guest", token.Claims{Tenant: "clinic-a", User: "u", Role: "guest", Scopes: []string{"lobby"}}, true},
		{"no tenant", token.Claims{Tenant: "", User: "u", Role: "staff", Scopes: []string{"*"}}, false},
		{"bad tenant", token.Claims{Tenant: "../etc", User: "u", Role: "staff", Scopes: []string{"*"}}, false},
		{"no user", token.Claims{Tenant: "clinic-a", User: "", Role: "staff", Scopes: []string{"*"}}, false},
		{"long user", token.Claims{Tenant: "clinic-a", User: strings.Repeat("u", 129), Role: "staff", Scopes: []string{"*"}}, false},
		{"no scopes", token.Claims{Tenant: "clinic-a", User: "u", Role: "staff"}, false},
		{"role the policy refuses", token.Claims{Tenant: "clinic-a", User: "u", Role: "janitor", Scopes: []string{"*"}}, false},
		{"scopes the policy refuses", token.Claims{Tenant: "clinic-a", User: "u", Role: "guest", Scopes: []string{"*"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.Issue(tt.claims, time.Hour)
			if !tt.ok {
				if !errors.Is(err, token.ErrInvalid) {
					t.Fatalf("issued %+v: %v, want ErrInvalid", tt.claims, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("issue: %v", err)
			}
			if _, err := s.Verify(tok); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

// TestVerifyAsksThePolicy checks that verification, not only issuing, applies the role policy:
// a token signed under a wider policy is refused by a signer with the same key and a narrower
// one.
func TestVerifyAsksThePolicy(t *testing.T) {
	key := []byte(strings.Repeat("k", token.MinKeyLen))
	wide, err := token.NewSigner(key, func(string, []string) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := token.NewSigner(key, testRoles, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := wide.Issue(token.Claims{Tenant: "clinic-a", User: "u", Role: "guest", Scopes: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := narrow.Verify(tok); !errors.Is(err, token.ErrInvalid) || !strings.Contains(err.Error(), "lobby") {
		t.Fatalf("verify under the narrower policy: %v, want ErrInvalid saying why", err)
	}
}

func TestNewSigner(t *testing.T) {
	if _, err := token.NewSigner([]byte("short"), testRoles, nil); err == nil {
		t.Error("accepted a 5-byte key")
	}
	if _, err := token.NewSigner([]byte(strings.Repeat("k", token.MinKeyLen)), nil, nil); err == nil {
		t.Error("accepted no role policy")
	}
}

func TestGrants(t *testing.T) {
	tests := []struct {
		scopes []string
		scope  string
		want   bool
	}{
		{[]string{"*"}, "audit", true},
		{[]string{"clinic", "visit:*"}, "visit:v1", true},
		{[]string{"clinic", "visit:*"}, "clinic", true},
		{[]string{"clinic", "visit:*"}, "estimate:v1", false},
		{[]string{"clinic", "visit:*"}, "visitor", false},
		{[]string{"visit:v1"}, "visit:v1", true},
		{[]string{"visit:v1"}, "visit:v2", false},
	}
	for _, tt := range tests {
		c := token.Claims{Scopes: tt.scopes}
		if got := c.Grants(tt.scope); got != tt.want {
			t.Errorf("%v grants %q: %v, want %v", tt.scopes, tt.scope, got, tt.want)
		}
	}
}
