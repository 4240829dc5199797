package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/engine/wstransport"
)

// Identity is who a device is signed in as, and what its sync connection presents.
type Identity struct {
	Server string `json:"server"`
	Clinic string `json:"clinic"`
	User   string `json:"user"`
	Role   string `json:"role"`
	Token  string `json:"token"`
}

// Authenticator signs a device in to a clinic. It is the one seam between the app and how
// people prove who they are: today an enrollment token an administrator issues (hearthctl
// token); standard identity (OIDC with PKCE) replaces it without touching the screens.
type Authenticator interface {
	// SignIn proves secret to the clinic's server and returns the identity to keep.
	SignIn(ctx context.Context, server, clinicID, secret string) (Identity, error)
	// Unlock checks, without the network, that whoever unlocks the screen holds id's
	// credential.
	Unlock(id Identity, secret string) error
}

// Errors a person sees at sign-in and unlock.
var (
	// ErrBadCredential means the server or the lock refused what was typed.
	ErrBadCredential = errors.New("the enrollment token was not accepted")
	// ErrNotCaregiver means the token is valid but not a caregiver's (a patient's visit link).
	ErrNotCaregiver = errors.New("this token is not a clinic staff member's")
)

// EnrollmentAuth signs in with an enrollment token: the server's handshake says whose it is.
type EnrollmentAuth struct {
	// Dial returns the dialer for a sync endpoint (nil: a WebSocket dialer).
	Dial func(url string) engine.Dialer
	// Timeout bounds the sign-in handshake (default 10s).
	Timeout time.Duration
}

// SignIn connects to the clinic's sync endpoint with the token and reads who it names.
func (a EnrollmentAuth) SignIn(ctx context.Context, server, clinicID, secret string) (Identity, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return Identity{}, fmt.Errorf("%w: paste the token your clinic's administrator gave you", ErrBadCredential)
	}
	url, err := wstransport.SyncURL(server, clinicID)
	if err != nil {
		return Identity{}, err
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w, err := engine.Handshake(ctx, dialerFor(a.Dial, url), engine.CallOptions{
		Token: secret, Schema: clinic.Schema.Version(), Client: clientName})
	var re *engine.RemoteError
	switch {
	case errors.As(err, &re):
		return Identity{}, fmt.Errorf("%w: %s", ErrBadCredential, re.Err.Message)
	case errors.Is(err, engine.ErrOffline) || errors.Is(err, context.DeadlineExceeded):
		return Identity{}, fmt.Errorf("cannot reach %s: check the server address and the network, then try again (%w)", server, err)
	case err != nil:
		return Identity{}, fmt.Errorf("sign in to %s: %w", server, err)
	}
	switch w.Role {
	case clinic.RoleProvider, clinic.RoleSupport, clinic.RoleAdmin:
	default:
		return Identity{}, ErrNotCaregiver
	}
	return Identity{Server: strings.TrimSpace(server), Clinic: w.Tenant, User: w.User, Role: w.Role, Token: secret}, nil
}

// Unlock compares secret with the token the device signed in with, in constant time.
func (EnrollmentAuth) Unlock(id Identity, secret string) error {
	a := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	b := sha256.Sum256([]byte(id.Token))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return fmt.Errorf("%w: it is not the one this device signed in with", ErrBadCredential)
	}
	return nil
}

func dialerFor(dial func(string) engine.Dialer, url string) engine.Dialer {
	if dial != nil {
		return dial(url)
	}
	return &wstransport.Dialer{URL: url}
}
