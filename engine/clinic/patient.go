package clinic

import "fmt"

// PatientData reports whether table holds patients' health information, whose every read
// and write is audited and which a patient's token reaches only for their own visit.
func PatientData(table string) bool {
	switch table {
	case "patients", "visits", "visit_notes", "observations", "chat_messages":
		return true
	}
	return false
}

// PatientOf finds the patient a row concerns, for the audit trail: a patients row is the
// patient (its "id"), a visit names its patient_id, and the rows of a visit (notes, chat,
// observations) belong to the patient of their visit_id, read through look. It returns ""
// for tables that are not patient data. Errors wrap ErrInvalid when the row does not say.
func PatientOf(table string, row Row, look Lookup) (string, error) {
	switch table {
	case "patients":
		return need(textOf(row["id"]), table, "id")
	case "visits":
		return need(textOf(row["patient_id"]), table, "patient_id")
	case "observations":
		if p := textOf(row["patient_id"]); p != "" {
			return p, nil
		}
	}
	if !PatientData(table) {
		return "", nil
	}
	visit, err := need(textOf(row["visit_id"]), table, "visit_id")
	if err != nil {
		return "", err
	}
	if look == nil {
		return "", fmt.Errorf("%w: finding the patient of a %s row needs its visit, and no lookup was given", ErrInvalid, table)
	}
	v, ok, err := look("visits", visit)
	if err != nil {
		return "", fmt.Errorf("find the patient of a %s row: %w", table, err)
	}
	if !ok {
		return "", fmt.Errorf("%w: the visit of a %s row is not on this device; sync and try again", ErrInvalid, table)
	}
	return need(textOf(v["patient_id"]), "visits", "patient_id")
}

func need(v, table, col string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("%w: %s.%s is empty, so the row names no patient", ErrInvalid, table, col)
	}
	return v, nil
}
