package clinic_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hearth/engine/clinic"
)

var today = time.Date(2025, 3, 15, 22, 0, 0, 0, time.UTC)

func goodIntake() clinic.Intake {
	return clinic.Intake{
		GivenName: "  Ana   María ", FamilyName: "Díaz", BirthDate: " 1980-02-29 ",
		Phone: "+1 (555) 123-4567", Email: " Ana.Diaz@Example.COM ", Region: " ca ",
		Reason: "  sore throat ", Consent: true,
	}
}

func TestIntakeNormalize(t *testing.T) {
	in := goodIntake()
	if err := in.Normalize(today); err != nil {
		t.Fatal(err)
	}
	want := clinic.Intake{
		GivenName: "Ana María", FamilyName: "Díaz", BirthDate: "1980-02-29",
		Phone: "+15551234567", Email: "ana.diaz@example.com", Region: "CA",
		Reason: "sore throat", Consent: true,
	}
	if in != want {
		t.Errorf("normalized\n %+v\nwant\n %+v", in, want)
	}
}

func TestIntakeNormalizeRefuses(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	tests := []struct {
		name  string
		edit  func(*clinic.Intake)
		field string // the field the error must name; "" when accepted
	}{
		{"empty given name", func(in *clinic.Intake) { in.GivenName = "   " }, "given name"},
		{"101-rune family name", func(in *clinic.Intake) { in.FamilyName = long(101) }, "family name"},
		{"100-rune family name", func(in *clinic.Intake) { in.FamilyName = long(100) }, ""},
		{"birth date format", func(in *clinic.Intake) { in.BirthDate = "02/29/1980" }, "birth date"},
		{"birth date not real", func(in *clinic.Intake) { in.BirthDate = "1981-02-29" }, "birth date"},
		{"birth date tomorrow", func(in *clinic.Intake) { in.BirthDate = "2025-03-16" }, "birth date"},
		{"birth date today", func(in *clinic.Intake) { in.BirthDate = "2025-03-15" }, ""},
		{"birth date before 1900", func(in *clinic.Intake) { in.BirthDate = "1899-12-31" }, "birth date"},
		{"birth date 1900", func(in *clinic.Intake) { in.BirthDate = "1900-01-01" }, ""},
		{"no contact", func(in *clinic.Intake) { in.Phone, in.Email = " ", "" }, "phone or email"},
		{"phone only", func(in *clinic.Intake) { in.Email = "" }, ""},
		{"email only", func(in *clinic.Intake) { in.Phone = "" }, ""},
		{"phone too short", func(in *clinic.Intake) { in.Phone = "123-456" }, "phone"},
		{"phone of 7 digits", func(in *clinic.Intake) { in.Phone = "123-4567" }, ""},
		{"phone too long", func(in *clinic.Intake) { in.Phone = "+1234567890123456" }, "phone"},
		{"phone with letters", func(in *clinic.Intake) { in.Phone = "555-CALL-NOW" }, "phone"},
		{"phone with inner plus", func(in *clinic.Intake) { in.Phone = "555+1234567" }, "phone"},
		{"email without at", func(in *clinic.Intake) { in.Email = "ana.example.com" }, "email"},
		{"email with two ats", func(in *clinic.Intake) { in.Email = "a@b@example.com" }, "email"},
		{"email without domain dot", func(in *clinic.Intake) { in.Email = "ana@localhost" }, "email"},
		{"email without local part", func(in *clinic.Intake) { in.Email = "@example.com" }, "email"},
		{"region of one letter", func(in *clinic.Intake) { in.Region = "C" }, "region"},
		{"region with digit", func(in *clinic.Intake) { in.Region = "C4" }, "region"},
		{"region of three letters", func(in *clinic.Intake) { in.Region = "nsw" }, ""},
		{"empty reason", func(in *clinic.Intake) { in.Reason = " " }, "reason"},
		{"reason too long", func(in *clinic.Intake) { in.Reason = long(501) }, "reason"},
		{"no consent", func(in *clinic.Intake) { in.Consent = false }, "consent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodIntake()
			tt.edit(&in)
			before := in
			err := in.Normalize(today)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, clinic.ErrInvalid) || !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("got %v, want ErrInvalid naming %q", err, tt.field)
			}
			if in != before {
				t.Errorf("a refused intake was changed")
			}
		})
	}
}

func TestIntakeNormalizeReportsEveryProblem(t *testing.T) {
	in := clinic.Intake{BirthDate: "SECRET-1980"}
	err := in.Normalize(today)
	for _, field := range []string{"given name", "family name", "birth date", "phone or email", "region", "reason", "consent"} {
		if err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error repeats what was typed: %v", err)
	}
	if !strings.Contains(err.Error(), "must consent to a virtual visit") {
		t.Errorf("consent error does not say the patient must consent: %v", err)
	}
}

func TestIntakeValues(t *testing.T) {
	in := goodIntake()
	if err := in.Normalize(today); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_123)
	p := in.PatientValues(now)
	wantP := map[string]any{"given_name": "Ana María", "family_name": "Díaz", "birth_date": "1980-02-29",
		"phone": "+15551234567", "email": "ana.diaz@example.com", "region": "CA", "created_at": int64(1_700_000_000_123)}
	if !equalMaps(p, wantP) {
		t.Errorf("PatientValues = %v", p)
	}
	v := in.VisitValues("pat-1", now)
	wantV := map[string]any{"patient_id": "pat-1", "region": "CA", "status": clinic.StatusWaiting, "reason": "sore throat",
		"requested_at": int64(1_700_000_000_123), "consent_at": int64(1_700_000_000_123)}
	if !equalMaps(v, wantV) {
		t.Errorf("VisitValues = %v", v)
	}
	// The values are writable columns of the clinic schema.
	for table, vals := range map[string]map[string]any{"patients": p, "visits": v} {
		for col := range vals {
			if clinic.Schema.Table(table).Col(col) < 0 {
				t.Errorf("%s has no column %q", table, col)
			}
		}
	}
}

func equalMaps(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestSamePerson(t *testing.T) {
	in := goodIntake()
	if err := in.Normalize(today); err != nil {
		t.Fatal(err)
	}
	base := func(edit func(clinic.Row)) clinic.Row {
		r := clinic.Row{"given_name": "ana maría", "family_name": "DÍAZ ", "birth_date": "1980-02-29", "phone": "+1 555 123 4567", "email": "old@example.com"}
		if edit != nil {
			edit(r)
		}
		return r
	}
	tests := []struct {
		name string
		row  clinic.Row
		want bool
	}{
		{"same names any case, same phone", base(nil), true},
		{"inner spaces collapse", base(func(r clinic.Row) { r["given_name"] = " Ana  María" }), true},
		{"same email, other phone", base(func(r clinic.Row) { r["phone"] = "5550000000"; r["email"] = "ANA.DIAZ@example.com" }), true},
		{"other birth date", base(func(r clinic.Row) { r["birth_date"] = "1980-03-01" }), false},
		{"other given name", base(func(r clinic.Row) { r["given_name"] = "Anna María" }), false},
		{"accents differ", base(func(r clinic.Row) { r["given_name"] = "Ana Maria" }), false},
		{"other family name", base(func(r clinic.Row) { r["family_name"] = "Diaz-Lopez" }), false},
		// Name and birth date alone could be two people: a new record, merged later if one.
		{"no shared contact", base(func(r clinic.Row) { r["phone"] = "5550000000" }), false},
		{"no contact on record", base(func(r clinic.Row) { delete(r, "phone"); delete(r, "email") }), false},
		{"phone without country code", base(func(r clinic.Row) { r["phone"] = "555-123-4567" }), false},
	}
	for _, tt := range tests {
		if got := clinic.SamePerson(tt.row, in); got != tt.want {
			t.Errorf("%s: SamePerson = %v, want %v", tt.name, got, tt.want)
		}
	}
	// An empty email on both sides is no shared contact.
	noMail := in
	noMail.Email, noMail.Phone = "", "5551112222"
	if clinic.SamePerson(base(func(r clinic.Row) { r["email"] = "" }), noMail) {
		t.Error("two empty emails matched")
	}
}
