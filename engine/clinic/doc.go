// Package clinic declares Hearth's clinical data: the replicated tables that the desktop app,
// the patient's browser and the sync server share, and the rules all three apply to them, so
// that a refusal on the desktop and at the server are the same refusal. The engine itself
// knows nothing of clinics.
//
// The rules: who may write what (CheckWrite), the visit workflow (CheckTransition, and the
// claim and release that only the server runs), intake and patient matching (Intake,
// SamePerson), admission to a region's queue (Region, Hours, Admit), wait estimates
// (EstimateWaits), observations' valid ranges, and audit entries.
//
// It is plain Go on the standard library and the engine core, with no storage or network,
// so it builds for the browser (js/wasm) too, and it never logs: callers decide what to show.
package clinic
