// Package token signs and verifies the bearer tokens that authenticate sync connections. A
// token names a tenant, a user, a role and the scopes it may read and write. This HMAC signer
// is the development signer; standard identity (OIDC) replaces it later behind Verifier.
//
// The package knows no roles: which roles exist and which scopes each may be granted is the
// domain's to declare, passed to NewSigner as a RolePolicy (the clinic's is
// clinic.CheckTokenScopes).
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

// RolePolicy decides which roles a token may carry and which scopes a token of each role may
// grant: it returns nil when a token of role may grant scopes, and otherwise an error saying
// why, which Issue and Verify wrap in ErrInvalid. It must not modify scopes and must be safe
// for concurrent use. A function rather than an interface: a policy is one question and holds
// no state.
type RolePolicy func(role string, scopes []string) error

// Validate checks that the claims are complete and consistent: a tenant and a user, a lifetime,
// at least one scope, and a role whose scopes roles accepts.
func (c *Claims) Validate(roles RolePolicy) error {
	if !engine.ValidID(c.Tenant) || c.User == "" || len(c.User) > 128 {
		return fmt.Errorf("%w: tenant and user are required", ErrInvalid)
	}
	if len(c.Scopes) == 0 {
		return fmt.Errorf("%w: no scopes", ErrInvalid)
	}
	if err := roles(c.Role, c.Scopes); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Expires <= c.IssuedAt {
		return fmt.Errorf("%w: expires before it is issued", ErrInvalid)
	}
	return nil
}

// Signer issues and checks tokens with one HMAC-SHA256 key.
type Signer struct {
	key   []byte
	roles RolePolicy
	now   func() time.Time
}

// NewSigner returns a signer that issues and accepts the tokens roles allows; key must be at
// least MinKeyLen bytes and roles is required. now defaults to time.Now.
func NewSigner(key []byte, roles RolePolicy, now func() time.Time) (*Signer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("token key is %d bytes; want at least %d", len(key), MinKeyLen)
	}
	if roles == nil {
		return nil, errors.New("token signer: no role policy")
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte(nil), key...), roles: roles, now: now}, nil
}

// Issue signs claims valid for ttl from now.
func (s *Signer) Issue(c Claims, ttl time.Duration) (string, error) {
	c.IssuedAt = s.now().Unix()
	c.Expires = s.now().Add(ttl).Unix()
	if err := c.Validate(s.roles); err != nil {
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

// Verify checks a token's signature, lifetime and claims (with the signer's role policy) and
// returns its claims.
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
	if err := c.Validate(s.roles); err != nil {
		return c, err
	}
	if s.now().Unix() >= c.Expires {
		return c, ErrExpired
	}
	return c, nil
}
