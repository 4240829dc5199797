package clinic_test

import (
	"errors"
	"slices"
	"testing"

	"hearth/engine"
	"hearth/engine/clinic"
)

func TestCheckTokenScopes(t *testing.T) {
	tests := []struct {
		name   string
		role   string
		scopes []string
		ok     bool
	}{
		{"provider, staff scopes", clinic.RoleProvider, []string{engine.ClinicScope, "visit:*"}, true},
		{"support, staff scopes", clinic.RoleSupport, []string{engine.ClinicScope, "visit:*"}, true},
		{"admin, every scope", clinic.RoleAdmin, []string{engine.AllScopes}, true},
		{"provider, every scope", clinic.RoleProvider, []string{engine.AllScopes}, true},
		{"support, one visit", clinic.RoleSupport, []string{"visit:v1"}, true},
		{"patient, visit and estimate", clinic.RolePatient, []string{"visit:v1", "estimate:v1"}, true},
		{"patient, visit alone (older tokens)", clinic.RolePatient, []string{"visit:v1"}, true},

		{"provider, no scope", clinic.RoleProvider, nil, false},
		{"admin, empty scopes", clinic.RoleAdmin, []string{}, false},
		{"unknown role", "janitor", []string{engine.AllScopes}, false},
		{"no role", "", []string{engine.AllScopes}, false},
		{"anonymous is the server's, not a token's", "anonymous", []string{engine.ClinicScope}, false},
		{"patient, no scope", clinic.RolePatient, nil, false},
		{"patient, every scope", clinic.RolePatient, []string{engine.AllScopes}, false},
		{"patient, the clinic", clinic.RolePatient, []string{engine.ClinicScope}, false},
		{"patient, every visit", clinic.RolePatient, []string{"visit:*"}, false},
		{"patient, two visits", clinic.RolePatient, []string{"visit:a", "visit:b"}, false},
		{"patient, another visit's estimate", clinic.RolePatient, []string{"visit:a", "estimate:b"}, false},
		{"patient, estimate alone", clinic.RolePatient, []string{"estimate:a"}, false},
		{"patient, estimate first", clinic.RolePatient, []string{"estimate:a", "visit:a"}, false},
		{"patient, one scope too many", clinic.RolePatient, []string{"visit:a", "estimate:a", "visit:a"}, false},
		{"patient, empty visit id", clinic.RolePatient, []string{"visit:"}, false},
		{"patient, bad visit id", clinic.RolePatient, []string{"visit:../x"}, false},
		{"patient, audit trail", clinic.RolePatient, []string{"visit:a", clinic.AuditScope}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := clinic.CheckTokenScopes(tt.role, tt.scopes)
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tt.ok && !errors.Is(err, clinic.ErrInvalid):
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestTokenScopes(t *testing.T) {
	tests := []struct {
		role, visit string
		want        []string
		perVisit    bool
	}{
		{clinic.RoleProvider, "", []string{engine.ClinicScope, "visit:*"}, false},
		{clinic.RoleSupport, "v1", []string{engine.ClinicScope, "visit:*"}, false}, // staff ignore the visit
		{clinic.RoleAdmin, "", []string{engine.AllScopes}, false},
		{clinic.RolePatient, "v1", []string{"visit:v1", "estimate:v1"}, true},
		{clinic.RolePatient, "", nil, true},
		{clinic.RolePatient, "../x", nil, true},
		{"janitor", "", nil, false},
	}
	for _, tt := range tests {
		got := clinic.TokenScopes(tt.role, tt.visit)
		if !slices.Equal(got, tt.want) {
			t.Errorf("TokenScopes(%q, %q) = %q, want %q", tt.role, tt.visit, got, tt.want)
		}
		perVisit, known := clinic.TokenForVisit(tt.role)
		if perVisit != tt.perVisit || known != (tt.role != "janitor") {
			t.Errorf("TokenForVisit(%q) = %v, %v", tt.role, perVisit, known)
		}
		// What the clinic issues, it accepts.
		if got != nil {
			if err := clinic.CheckTokenScopes(tt.role, got); err != nil {
				t.Errorf("the clinic refuses its own %s scopes %q: %v", tt.role, got, err)
			}
		}
	}
	if got := clinic.StaffScopes(); !slices.Equal(got, []string{engine.ClinicScope, "visit:*"}) {
		t.Errorf("StaffScopes() = %q", got)
	}
	if got := clinic.PatientScopes("v1"); !slices.Equal(got, []string{"visit:v1", "estimate:v1"}) {
		t.Errorf("PatientScopes(v1) = %q", got)
	}
	// Callers may append to what they get without changing what the next caller gets.
	s := clinic.StaffScopes()
	s[0] = "tampered"
	if clinic.StaffScopes()[0] != engine.ClinicScope {
		t.Error("StaffScopes shares its slice with callers")
	}
}

// TestEveryRoleHasTokenScopes keeps the two tables of roles in step: every role that the write
// rules know, and admins, can be issued a token.
func TestEveryRoleHasTokenScopes(t *testing.T) {
	for _, role := range []string{clinic.RoleProvider, clinic.RoleSupport, clinic.RoleAdmin, clinic.RolePatient} {
		if _, known := clinic.TokenForVisit(role); !known {
			t.Errorf("no token scopes declared for %s", role)
		}
	}
}
