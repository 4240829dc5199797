package token_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hearth/syncserver/token"
)

func TestIssueVerify(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := token.NewSigner([]byte(strings.Repeat("a", 32)), clock)
	if err != nil {
		t.Fatal(err)
	}
	staff, err := s.Issue(token.Claims{Tenant: "clinic-a", User: "dr-lee", Role: token.RoleProvider, Scopes: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(staff)
	if err != nil || c.Tenant != "clinic-a" || c.User != "dr-lee" || !c.Grants("visit:v1") || !c.Grants("clinic") {
		t.Fatalf("verify: %+v %v", c, err)
	}
	patient, err := s.Issue(token.Claims{Tenant: "clinic-a", User: "p1", Role: token.RolePatient, Scopes: []string{"visit:v1"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(patient); err != nil || !c.Grants("visit:v1") || c.Grants("visit:v2") || c.Grants("clinic") {
		t.Fatalf("patient grants wrong: %+v %v", c, err)
	}

	other, _ := token.NewSigner([]byte(strings.Repeat("b", 32)), clock)
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
	tok, err := s.Issue(token.Claims{Tenant: "clinic-a", User: "x", Role: token.RoleAdmin, Scopes: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestClaimsValidation(t *testing.T) {
	s, _ := token.NewSigner([]byte(strings.Repeat("a", 32)), nil)
	bad := []token.Claims{
		{Tenant: "", User: "u", Role: token.RoleProvider, Scopes: []string{"*"}},
		{Tenant: "clinic-a", User: "", Role: token.RoleProvider, Scopes: []string{"*"}},
		{Tenant: "clinic-a", User: "u", Role: "janitor", Scopes: []string{"*"}},
		{Tenant: "clinic-a", User: "u", Role: token.RolePatient, Scopes: []string{"*"}},
		{Tenant: "clinic-a", User: "u", Role: token.RolePatient, Scopes: []string{"visit:a", "visit:b"}},
		{Tenant: "clinic-a", User: "u", Role: token.RolePatient, Scopes: []string{"visit:a", "estimate:b"}},
		{Tenant: "clinic-a", User: "u", Role: token.RolePatient, Scopes: []string{"visit:*"}},
		{Tenant: "clinic-a", User: "u", Role: token.RolePatient, Scopes: []string{"estimate:a"}},
		{Tenant: "clinic-a", User: "u", Role: token.RoleSupport},
	}
	for _, c := range bad {
		if _, err := s.Issue(c, time.Hour); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("issued %+v: %v", c, err)
		}
	}
	// A patient's token grants its visit and that visit's estimate; staff grants do not reach
	// estimates or the audit trail.
	c := token.Claims{Tenant: "clinic-a", User: "p", Role: token.RolePatient, Scopes: token.PatientScopes("v1")}
	if _, err := s.Issue(c, time.Hour); err != nil || !c.Grants("estimate:v1") || c.Grants("estimate:v2") {
		t.Errorf("patient scopes %v: %v", c.Scopes, err)
	}
	staff := token.Claims{Scopes: token.StaffScopes}
	if !staff.Grants("visit:v1") || !staff.Grants("clinic") || staff.Grants("estimate:v1") || staff.Grants("audit") {
		t.Errorf("staff scopes %v grant the wrong things", staff.Scopes)
	}
	if _, err := token.NewSigner([]byte("short"), nil); err == nil {
		t.Error("accepted a 5-byte key")
	}
}
