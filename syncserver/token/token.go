// Package token signs and verifies the bearer tokens that authenticate sync connections. A
// token names a tenant, a user, a role and the scopes it may read and write. This HMAC signer
// is the development signer; standard identity (OIDC) replaces it later behind Verifier.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"hearth/engine"
)

// Roles a token can carry.
const (
	RoleProvider = "provider" // sees patients, claims them, writes notes
	RoleSupport  = "support"  // runs the queues and chats with waiting patients
	RoleAdmin    = "admin"    // manages the clinic
	RolePatient  = "patient"  // one visit, nothing else
	// RoleAnonymous is a connection without a token (a patient at the clinic's public page):
	// it may make the server's public requests and nothing else. No token carries it.
	RoleAnonymous = "anonymous"
)

// Sentinel errors.
var (
	// ErrInvalid means the token is malformed or its signature does not match.
	ErrInvalid = errors.New("invalid token")
	// ErrExpired means the token's lifetime is over: get a new one.
	ErrExpired = errors.New("token expired")
)

// MinKeyLen is the shortest signing key accepted, in bytes.
const MinKeyLen = 32

// Claims is what a token asserts.
type Claims struct {
	Tenant   string   `json:"tid"`
	User     string   `json:"sub"`
	Role     string   `json:"role"`
	Scopes   []string `json:"scp"`
	IssuedAt int64    `json:"iat"` // Unix seconds
	Expires  int64    `json:"exp"` // Unix seconds
}

// Grants reports whether the claims allow the scope. A grant is a scope, engine.AllScopes,
// or a kind followed by ":*" (such as "visit:*", every visit), which lets staff read every
// visit without reading scopes kept apart from them, such as the audit trail.
func (c *Claims) Grants(scope string) bool {
	for _, s := range c.Scopes {
		if s == engine.AllScopes || s == scope {
			return true
		}
		if kind, ok := strings.CutSuffix(s, ":*"); ok && strings.HasPrefix(scope, kind+":") {
			return true
		}
	}
	return false
}

// StaffScopes are what a caregiver's token grants: the clinic's shared rows and every visit.
var StaffScopes = []string{engine.ClinicScope, "visit:*"}

// Validate checks that the claims are complete and consistent: a patient holds exactly one
// visit scope, staff hold scopes of their own tenant.
func (c *Claims) Validate() error {
	if !engine.ValidID(c.Tenant) || c.User == "" || len(c.User) > 128 {
		return fmt.Errorf("%w: tenant and user are required", ErrInvalid)
	}
	switch c.Role {
	case RoleProvider, RoleSupport, RoleAdmin:
	case RolePatient:
		if !patientScopes(c.Scopes) {
			return fmt.Errorf("%w: a patient token grants exactly one visit scope (and that visit's estimate)", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, c.Role)
	}
	if len(c.Scopes) == 0 {
		return fmt.Errorf("%w: no scopes", ErrInvalid)
	}
	if c.Expires <= c.IssuedAt {
		return fmt.Errorf("%w: expires before it is issued", ErrInvalid)
	}
	return nil
}

// PatientScopes are what a patient's token for one visit grants: the visit's rows and its
// wait-time estimate.
func PatientScopes(visit string) []string {
	return []string{"visit:" + visit, "estimate:" + visit}
}

// patientScopes reports whether scopes are one visit's, as PatientScopes gives them, or the
// visit scope alone (tokens issued before estimates had their own scope).
func patientScopes(scopes []string) bool {
	if len(scopes) == 0 || len(scopes) > 2 {
		return false
	}
	visit, ok := strings.CutPrefix(scopes[0], "visit:")
	if !ok || !engine.ValidID(visit) {
		return false
	}
	return len(scopes) == 1 || scopes[1] == "estimate:"+visit
}

// Signer issues and checks tokens with one HMAC-SHA256 key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a signer; key must be at least MinKeyLen bytes. now defaults to time.Now.
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("token key is %d bytes; want at least %d", len(key), MinKeyLen)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte(nil), key...), now: now}, nil
}

// Issue signs claims valid for ttl from now.
func (s *Signer) Issue(c Claims, ttl time.Duration) (string, error) {
	c.IssuedAt = s.now().Unix()
	c.Expires = s.now().Add(ttl).Unix()
	if err := c.Validate(); err != nil {
		return "", err
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + s.sign(payload), nil
}

func (s *Signer) sign(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a token's signature and lifetime and returns its claims.
func (s *Signer) Verify(tok string) (Claims, error) {
	var c Claims
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 4096 {
		return c, ErrInvalid
	}
	if !hmac.Equal([]byte(sig), []byte(s.sign(payload))) {
		return c, ErrInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return c, ErrInvalid
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, ErrInvalid
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if s.now().Unix() >= c.Expires {
		return c, ErrExpired
	}
	return c, nil
}
