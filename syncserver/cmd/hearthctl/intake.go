package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"hearth/engine/clinic"
)

// intakeJSON is the IntakeResult as hearthctl intake --json prints it: the request's fields
// under their wire names, plus the visit link.
type intakeJSON struct {
	Admitted   bool   `json:"admitted"`
	Reason     string `json:"reason,omitempty"`
	NextOpen   int64  `json:"next_open,omitempty"` // Unix ms
	Notice     string `json:"notice,omitempty"`
	Visit      string `json:"visit,omitempty"`
	Patient    string `json:"patient,omitempty"`
	NewPatient bool   `json:"new_patient"`
	Token      string `json:"token,omitempty"`
	Expires    int64  `json:"expires,omitempty"` // Unix seconds
	Position   int    `json:"position,omitempty"`
	WaitMS     int64  `json:"wait_ms"` // -1 when unknown
	Link       string `json:"link,omitempty"`
}

func runIntake(ctx context.Context, c *cli, args []string) error {
	fs := c.flags("intake", `Usage: hearthctl intake --server URL --tenant T --given G --family F --birth YYYY-MM-DD
                      [--phone P] [--email E] --region CA --reason "..." --consent [--json]

Starts a patient's on-demand visit as the clinic's public page does: a public request, with
no token, that the server admits to the region's queue or turns away. The server checks what
was entered by the same rules as the page (a real birth date, a phone or an email, a region
the clinic serves) and finds the patient if they came before (same name, birth date and phone
or email).

When admitted it prints the visit and patient ids (and whether the patient was matched to an
existing record), the place in the region's queue, the estimated wait (or "unknown" and why),
the patient's token for this one visit with its expiry, and the visit link
<server>/visit/<visit>#token=<token>. The patient's page at that link comes in a later
release; until then the link is for reference, and the token works with hearthctl sync.

Exit status: 0 when admitted; 3 when not admitted (the region is paused, full or outside its
hours: the reason and the next opening are printed); 1 when the server refused the input
(its message names the field) or could not be reached; 2 when the command line is wrong.
`)
	sf := addServerFlags(c, fs)
	given := fs.String("given", "", "patient's given name (required)")
	family := fs.String("family", "", "patient's family name (required)")
	birth := fs.String("birth", "", "patient's birth date, YYYY-MM-DD (required)")
	phone := fs.String("phone", "", "patient's phone number (a phone or an email is required)")
	email := fs.String("email", "", "patient's email address")
	region := fs.String("region", "", "state or region the patient is in now, such as CA (required)")
	reason := fs.String("reason", "", "reason for the visit (required)")
	consent := fs.Bool("consent", false, "the patient consents to a virtual visit (required)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("intake: unexpected argument %q", pos[0])
	}
	endpoint, err := sf.check("intake")
	if err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"given", *given}, {"family", *family}, {"birth", *birth}, {"region", *region}, {"reason", *reason},
	} {
		if strings.TrimSpace(f.v) == "" {
			return usagef("intake: --%s is required", f.name)
		}
	}
	if strings.TrimSpace(*phone) == "" && strings.TrimSpace(*email) == "" {
		return usagef("intake: give --phone or --email (or both): a way to reach the patient")
	}
	if !*consent {
		return usagef("intake: --consent is required: the patient must consent to a virtual visit before joining the queue")
	}

	in := clinic.Intake{GivenName: *given, FamilyName: *family, BirthDate: *birth, Phone: *phone, Email: *email,
		Region: *region, Reason: *reason, Consent: *consent}
	var res clinic.IntakeResult
	if err := publicCall(ctx, endpoint, *sf.timeout, clinic.RequestIntake, in, &res); err != nil {
		return requestError("intake", err)
	}
	link := ""
	if res.Admitted {
		link = pageURL(*sf.server) + "/visit/" + res.Visit + "#token=" + res.Token
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(intakeJSON{Admitted: res.Admitted, Reason: res.Reason, NextOpen: res.NextOpen, Notice: res.Notice,
			Visit: res.Visit, Patient: res.Patient, NewPatient: res.NewPatient, Token: res.Token, Expires: res.Expires,
			Position: res.Position, WaitMS: res.WaitMS, Link: link}); err != nil {
			return err
		}
	} else {
		printIntake(c, res, link)
	}
	if !res.Admitted {
		return &statusError{code: exitNotAdmitted, err: fmt.Errorf("intake: not admitted to %s: %s",
			strings.ToUpper(strings.TrimSpace(*region)), res.Reason)}
	}
	return nil
}

func printIntake(c *cli, res clinic.IntakeResult, link string) {
	w := c.stdout
	if !res.Admitted {
		fmt.Fprintf(w, "admitted:   no\nreason:     %s\nnext open:  %s\n", res.Reason, formatMillis(res.NextOpen, "unknown"))
		return
	}
	matched := "new patient"
	if !res.NewPatient {
		matched = "matched an existing patient"
	}
	fmt.Fprintf(w, "admitted:   yes\nvisit:      %s\npatient:    %s (%s)\nposition:   %d\nwait:       %s\n",
		res.Visit, res.Patient, matched, res.Position, formatWait(res.WaitMS))
	if res.Notice != "" {
		fmt.Fprintf(w, "notice:     %s\n", res.Notice)
	}
	fmt.Fprintf(w, "token:      %s\nexpires:    %s\nvisit link: %s\n", res.Token, formatMillis(res.Expires*1000, "unknown"), link)
}
