package clinic

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// ObservationKind is one kind of measurement a clinician records, with the one unit it is
// stored in and the range a living patient's value can fall in: a value outside it is a
// typo or a wrong unit, and a chart must not carry it.
type ObservationKind struct {
	Name     string
	Unit     string
	Min, Max float64
}

// observationKinds is sorted by name; ranges are inclusive and deliberately wide (they catch
// slips, not clinical abnormality).
var observationKinds = []ObservationKind{
	{Name: "bp_diastolic", Unit: "mmHg", Min: 20, Max: 200},
	{Name: "bp_systolic", Unit: "mmHg", Min: 50, Max: 300},
	{Name: "glucose", Unit: "mg/dL", Min: 10, Max: 1000},
	{Name: "heart_rate", Unit: "bpm", Min: 20, Max: 300},
	{Name: "height", Unit: "cm", Min: 20, Max: 260},
	{Name: "pain_score", Unit: "0-10", Min: 0, Max: 10},
	{Name: "resp_rate", Unit: "/min", Min: 4, Max: 80},
	{Name: "spo2", Unit: "%", Min: 50, Max: 100},
	{Name: "temperature", Unit: "°C", Min: 30, Max: 45},
	{Name: "weight", Unit: "kg", Min: 0.3, Max: 500},
}

// ObservationKinds lists the kinds a clinician may record, sorted by name, for forms to
// offer; the caller owns the returned slice.
func ObservationKinds() []ObservationKind { return slices.Clone(observationKinds) }

// ValidateObservation checks a measurement before it is recorded (observations are
// append-only: a wrong value can only be corrected by a second row) and returns the unit it
// is stored in. Errors wrap ErrInvalid and name the kind and its range, not the value.
func ValidateObservation(kind string, value float64) (unit string, err error) {
	i, found := slices.BinarySearchFunc(observationKinds, kind, func(k ObservationKind, name string) int {
		return strings.Compare(k.Name, name)
	})
	if !found {
		names := make([]string, len(observationKinds))
		for j, k := range observationKinds {
			names[j] = k.Name
		}
		return "", fmt.Errorf("%w: unknown observation kind; use one of %s", ErrInvalid, strings.Join(names, ", "))
	}
	k := observationKinds[i]
	if math.IsNaN(value) || math.IsInf(value, 0) || value < k.Min || value > k.Max {
		unit := " " + k.Unit
		if k.Unit == fmt.Sprintf("%g-%g", k.Min, k.Max) { // a score: its range is its unit
			unit = ""
		}
		return "", fmt.Errorf("%w: %s must be a number from %g to %g%s; check the value and its unit", ErrInvalid, k.Name, k.Min, k.Max, unit)
	}
	return k.Unit, nil
}
