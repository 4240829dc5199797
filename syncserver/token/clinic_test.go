package token_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver/token"
)

// TestClinicPolicy runs the signer with the clinic's role policy, as the server and hearthctl
// do: what each role's token may grant is the clinic's table, checked at issue and at verify.
func TestClinicPolicy(t *testing.T) {
	s, err := token.NewSigner([]byte(strings.Repeat("a", token.MinKeyLen)), clinic.CheckTokenScopes, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		role   string
		scopes []string
		ok     bool
	}{
		{"provider", clinic.RoleProvider, clinic.StaffScopes(), true},
		{"support", clinic.RoleSupport, clinic.StaffScopes(), true},
		{"admin", clinic.RoleAdmin, []string{engine.AllScopes}, true},
		{"provider, every scope", clinic.RoleProvider, []string{engine.AllScopes}, true},
		{"patient", clinic.RolePatient, clinic.PatientScopes("v1"), true},
		{"patient, visit alone", clinic.RolePatient, []string{"visit:v1"}, true},
		{"unknown role", "janitor", []string{engine.AllScopes}, false},
		{"anonymous", "anonymous", []string{engine.ClinicScope}, false},
		{"patient, every scope", clinic.RolePatient, []string{engine.AllScopes}, false},
		{"patient, two visits", clinic.RolePatient, []string{"visit:a", "visit:b"}, false},
		{"patient, another visit's estimate", clinic.RolePatient, []string{"visit:a", "estimate:b"}, false},
		{"patient, every visit", clinic.RolePatient, []string{"visit:*"}, false},
		{"patient, estimate alone", clinic.RolePatient, []string{"estimate:a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := token.Claims{Tenant: "clinic-a", User: "u", Role: tt.role, Scopes: tt.scopes}
			tok, err := s.Issue(c, time.Hour)
			if !tt.ok {
				if !errors.Is(err, token.ErrInvalid) || !errors.Is(err, clinic.ErrInvalid) {
					t.Fatalf("issued: %v, want token.ErrInvalid wrapping the clinic's reason", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("issue: %v", err)
			}
			got, err := s.Verify(tok)
			if err != nil || got.Role != tt.role || len(got.Scopes) != len(tt.scopes) {
				t.Fatalf("verify: %+v %v", got, err)
			}
		})
	}
	// A patient's token reaches its own visit and estimate, nothing else; staff tokens do not
	// reach estimates or the audit trail.
	patient := token.Claims{Scopes: clinic.PatientScopes("v1")}
	if !patient.Grants("visit:v1") || !patient.Grants("estimate:v1") || patient.Grants("estimate:v2") || patient.Grants("visit:v2") || patient.Grants(engine.ClinicScope) {
		t.Errorf("patient scopes %v grant the wrong things", patient.Scopes)
	}
	staff := token.Claims{Scopes: clinic.StaffScopes()}
	if !staff.Grants("visit:v1") || !staff.Grants(engine.ClinicScope) || staff.Grants("estimate:v1") || staff.Grants(clinic.AuditScope) {
		t.Errorf("staff scopes %v grant the wrong things", staff.Scopes)
	}
}
