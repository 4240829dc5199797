package clinic_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"hearth/engine/clinic"
)

func TestObservationKinds(t *testing.T) {
	kinds := clinic.ObservationKinds()
	var names []string
	for _, k := range kinds {
		names = append(names, k.Name)
		if k.Min >= k.Max || k.Unit == "" {
			t.Errorf("%+v: want a unit and Min < Max", k)
		}
	}
	want := []string{"bp_diastolic", "bp_systolic", "glucose", "heart_rate", "height", "pain_score", "resp_rate", "spo2", "temperature", "weight"}
	if !slices.Equal(names, want) {
		t.Errorf("kinds %v, want %v (sorted)", names, want)
	}
	kinds[0].Max = 1e9 // the caller's copy
	if _, err := clinic.ValidateObservation(kinds[0].Name, 1e6); err == nil {
		t.Error("changing the returned slice changed the rules")
	}
}

func TestValidateObservation(t *testing.T) {
	tests := []struct {
		kind  string
		value float64
		unit  string // "" when refused
	}{
		{"heart_rate", 72, "bpm"},
		{"heart_rate", 20, "bpm"},
		{"heart_rate", 300, "bpm"},
		{"heart_rate", 19.9, ""},
		{"heart_rate", 301, ""},
		{"resp_rate", 16, "/min"},
		{"resp_rate", 3, ""},
		{"bp_systolic", 120, "mmHg"},
		{"bp_systolic", 49, ""},
		{"bp_diastolic", 80, "mmHg"},
		{"bp_diastolic", 201, ""},
		{"temperature", 37.2, "°C"},
		{"temperature", 98.6, ""}, // Fahrenheit typed into a Celsius field
		{"spo2", 97, "%"},
		{"spo2", 100.5, ""},
		{"weight", 0.3, "kg"},
		{"weight", 0.29, ""},
		{"height", 170, "cm"},
		{"height", 261, ""},
		{"pain_score", 0, "0-10"},
		{"pain_score", 10, "0-10"},
		{"pain_score", -1, ""},
		{"glucose", 95, "mg/dL"},
		{"glucose", 1001, ""},
		{"spo2", math.NaN(), ""},
		{"weight", math.Inf(1), ""},
		{"heart_rate", math.Inf(-1), ""},
		{"mood", 5, ""},
		{"", 5, ""},
		{"Heart_Rate", 72, ""},
	}
	for _, tt := range tests {
		unit, err := clinic.ValidateObservation(tt.kind, tt.value)
		if tt.unit == "" {
			if !errors.Is(err, clinic.ErrInvalid) {
				t.Errorf("%s %v: %q, %v; want ErrInvalid", tt.kind, tt.value, unit, err)
			} else if tt.kind != "" && strings.Contains(err.Error(), "mood") {
				t.Errorf("error repeats the typed kind: %v", err)
			}
			continue
		}
		if err != nil || unit != tt.unit {
			t.Errorf("%s %v: %q, %v; want %q", tt.kind, tt.value, unit, err, tt.unit)
		}
	}
}
