package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/wstransport"
	"hearth/syncserver/token"
)

// Helpers shared by the clinic's workflow commands (intake, intake-status, region, staff,
// queue, claim, release, audit).

// serverFlags are the --server and --tenant flags of the commands that talk to a server
// without a replica (the public intake requests).
type serverFlags struct {
	server, tenant *string
	timeout        *time.Duration
}

func addServerFlags(c *cli, fs *flagSet) serverFlags {
	return serverFlags{
		server:  fs.String("server", c.envOr("HEARTH_SERVER", defaultServer), "server base URL (env HEARTH_SERVER)"),
		tenant:  fs.String("tenant", c.getenv("HEARTH_TENANT"), "tenant id: the clinic (env HEARTH_TENANT; required)"),
		timeout: fs.Duration("timeout", 15*time.Second, "give up after this long"),
	}
}

// check validates the flags and returns the tenant's sync endpoint.
func (f serverFlags) check(cmd string) (string, error) {
	if err := checkTenantID(*f.tenant); err != nil {
		return "", usagef("%s: %v", cmd, err)
	}
	if *f.timeout <= 0 {
		return "", usagef("%s: --timeout must be positive", cmd)
	}
	u, err := syncURL(*f.server, *f.tenant)
	if err != nil {
		return "", usagef("%s: %v", cmd, err)
	}
	return u, nil
}

// publicCall makes one public (anonymous) request of the clinic on a fresh connection.
func publicCall(ctx context.Context, endpoint string, timeout time.Duration, name string, args, result any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return engine.Call(ctx, &wstransport.Dialer{URL: endpoint},
		engine.CallOptions{Schema: clinic.Schema.Version(), Client: "hearthctl"}, name, args, result)
}

// requestError explains a failed request: a refusal by the clinic's rules shows the server's
// code and message as they are (the message names the field or the reason); a refused
// connection or an unreachable server gets the same hints as sync.
func requestError(what string, err error) error {
	var re *engine.RemoteError
	if errors.As(err, &re) {
		switch re.Err.Code {
		case engine.CodeUnauthorized, engine.CodeUnknownTenant, engine.CodeProtocolVersion,
			engine.CodeSchemaTooOld, engine.CodeSchemaTooNew:
			return fmt.Errorf("%s: %w%s", what, err, syncHint(err))
		}
		return fmt.Errorf("%s refused (%s): %s", what, re.Err.Code, re.Err.Message)
	}
	switch {
	case errors.Is(err, engine.ErrRequestInDoubt):
		return fmt.Errorf("%s: %w", what, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: timed out: is the server reachable? (see --timeout): %w", what, err)
	}
	return fmt.Errorf("%s: %w%s", what, err, syncHint(err))
}

// regionCode canonicalizes a region code as the clinic stores it ("ca " -> "CA") and checks
// that it is 2 or 3 letters, as the intake form's regions are.
func regionCode(cmd, s string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(s))
	ok := len(code) >= 2 && len(code) <= 3
	for i := 0; ok && i < len(code); i++ {
		ok = code[i] >= 'A' && code[i] <= 'Z'
	}
	if !ok {
		return "", usagef("%s: bad region code %q: want 2 or 3 letters, such as CA", cmd, s)
	}
	return code, nil
}

// tokenClaims reads the claims of a token without verifying it: hearthctl holds no key when
// it drives a replica. It is only for labels such as regions.updated_by; the server checks
// the token (and that updated_by is its user) on every sync.
func tokenClaims(tok string) (token.Claims, bool) {
	var c token.Claims
	payload, _, ok := strings.Cut(tok, ".")
	if !ok {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &c) != nil || c.User == "" {
		return token.Claims{}, false
	}
	return c, true
}

// formatMillis prints a Unix millisecond time as RFC 3339 in UTC, or none when it is 0.
func formatMillis(ms int64, none string) string {
	if ms == 0 {
		return none
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// formatWait prints a wait estimate in milliseconds; negative means unknown.
func formatWait(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	m := int((d + 30*time.Second) / time.Minute)
	switch {
	case ms < 0:
		return "unknown"
	case m < 1:
		return "less than a minute"
	case m < 60:
		return fmt.Sprintf("about %d min", m)
	}
	return fmt.Sprintf("about %dh %02dmin", m/60, m%60)
}

// formatWaited prints how long someone has waited, to the second.
func formatWaited(d time.Duration) string {
	return d.Round(time.Second).String()
}

// oneLine makes free text safe for one line of a table: control characters become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// pageURL is the base URL of the server's web pages (http or https), from --server.
func pageURL(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return strings.TrimSuffix(server, "/")
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimSuffix(u.String(), "/")
}
