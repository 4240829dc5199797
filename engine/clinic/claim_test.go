package clinic_test

import (
	"errors"
	"testing"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
)

func TestCheckClaim(t *testing.T) {
	ca := []string{"NV", " ca"}
	tests := []struct {
		name     string
		actor    clinic.Actor
		visit    clinic.Row
		licensed []string
		want     error
	}{
		{"licensed provider claims waiting patient", provider, waitingRow, ca, nil},
		{"support may not claim", support, waitingRow, ca, clinic.ErrForbidden},
		{"admin may not claim", admin, waitingRow, ca, clinic.ErrForbidden},
		{"not licensed there", provider, waitingRow, []string{"NV"}, clinic.ErrNotLicensed},
		{"no licences", provider, waitingRow, nil, clinic.ErrNotLicensed},
		{"already taken", provider, othersRow, ca, clinic.ErrTransition},
		{"still requested", provider, requestedRow, ca, clinic.ErrTransition},
		{"ended", provider, completedRow, ca, clinic.ErrTransition},
		{"gone", provider, nil, ca, clinic.ErrTransition},
	}
	for _, tt := range tests {
		if err := clinic.CheckClaim(tt.actor, tt.visit, tt.licensed); tt.want == nil && err != nil || !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestCheckRelease(t *testing.T) {
	tests := []struct {
		name  string
		actor clinic.Actor
		visit clinic.Row
		want  error
	}{
		{"own visit", provider, inVisitRow, nil},
		{"another's visit", provider, othersRow, clinic.ErrForbidden},
		{"not in a visit", provider, waitingRow, clinic.ErrTransition},
		{"gone", provider, nil, clinic.ErrTransition},
		{"support", support, inVisitRow, clinic.ErrForbidden},
	}
	for _, tt := range tests {
		if err := clinic.CheckRelease(tt.actor, tt.visit); tt.want == nil && err != nil || !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// The claim's and release's writes are exactly what ordinary writes may not make.
func TestClaimAndReleaseValues(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	claim := clinic.ClaimValues(provider, now)
	if claim["status"] != clinic.StatusInVisit || claim["provider_id"] != "dr-lee" || claim["started_at"] != now.UnixMilli() {
		t.Errorf("ClaimValues = %v", claim)
	}
	release := clinic.ReleaseValues()
	if release["status"] != clinic.StatusWaiting || release["provider_id"] != "" {
		t.Errorf("ReleaseValues = %v", release)
	}
	for name, vals := range map[string]map[string]any{"claim": claim, "release": release} {
		ch := &engine.Change{Table: "visits", ID: "v1", Scope: "visit:v1"}
		for col, v := range vals {
			if clinic.Schema.Table("visits").Col(col) < 0 {
				t.Errorf("%s writes unknown column %q", name, col)
			}
			ch.Cols, ch.Vals = append(ch.Cols, col), append(ch.Vals, v)
		}
		cur := waitingRow
		if name == "release" {
			cur = inVisitRow
		}
		if err := clinic.CheckWrite(provider, ch, cur, nil); !errors.Is(err, clinic.ErrForbidden) {
			t.Errorf("%s as an ordinary write: %v, want ErrForbidden", name, err)
		}
	}
}
