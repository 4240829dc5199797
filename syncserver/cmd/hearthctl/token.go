package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"hearth/engine"
	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/sqlitedir"
	"hearth/syncserver/token"
)

func runToken(ctx context.Context, c *cli, args []string) error {
	f := c.flags("token", `Usage: hearthctl token (--data DIR | --key-file FILE) --tenant T --user U
                     [--role provider|support|admin|patient] [--visit VISIT_ID] [--ttl 12h]

Prints a token signed with the server's key. Staff roles (provider, support, admin) get every
scope of the tenant; a patient gets exactly one visit's scope and needs --visit. With --data
the key is DIR/secrets/token.key, created as the server would if it does not exist yet.
`)
	data := f.String("data", c.getenv("HEARTH_DATA"), "the server's data directory (env HEARTH_DATA)")
	keyFile := f.String("key-file", c.getenv("HEARTH_TOKEN_KEY_FILE"), "the server's token key file (env HEARTH_TOKEN_KEY_FILE)")
	tenant := f.String("tenant", "", "tenant id (required)")
	user := f.String("user", "", "user id (required)")
	role := f.String("role", clinic.RoleProvider, "provider, support, admin or patient")
	visit := f.String("visit", "", "the visit a patient token grants (patients only)")
	ttl := f.Duration("ttl", 12*time.Hour, "how long the token is valid")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("token: unexpected argument %q", pos[0])
	}
	if err := checkTenantID(*tenant); err != nil {
		return err
	}
	if *user == "" || len(*user) > 128 {
		return usagef("token: --user is required (at most 128 bytes)")
	}
	if *ttl <= 0 {
		return usagef("token: --ttl must be positive")
	}
	// The clinic declares the roles and what each role's token grants; here only the flags are
	// checked, so that a mistake reads as a usage error naming the flag.
	perVisit, known := clinic.TokenForVisit(*role)
	switch {
	case !known:
		return usagef("token: unknown --role %q: want provider, support, admin or patient", *role)
	case perVisit && !engine.ValidID(*visit):
		return usagef("token: a %s token needs --visit VISIT_ID (got %q)", *role, *visit)
	case !perVisit && *visit != "":
		return usagef("token: --visit is for patient tokens; staff tokens cover the whole clinic")
	}
	claims := token.Claims{Tenant: *tenant, User: *user, Role: *role, Scopes: clinic.TokenScopes(*role, *visit)}

	path := *keyFile
	switch {
	case path == "" && *data == "":
		return usagef("token: give --data DIR or --key-file FILE")
	case path == "":
		if _, err := os.Stat(*data); err != nil {
			return fmt.Errorf("token: data directory %s: %w", *data, err)
		}
		if err := checkTenantListed(ctx, *data, *tenant); err != nil {
			return err
		}
		path = syncserver.KeyPath(*data)
	default:
		// An explicit key file must exist: signing with a new key the server does not know
		// would produce tokens that only fail later, at sync.
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("token: key file: %w", err)
		}
	}
	key, err := syncserver.LoadOrCreateKey(path)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	signer, err := token.NewSigner(key, clinic.CheckTokenScopes, nil)
	if err != nil {
		return fmt.Errorf("token: key %s: %w", path, err)
	}
	tok, err := signer.Issue(claims, *ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Fprintln(c.stdout, tok)
	return nil
}

// checkTenantListed fails when the data directory has a tenant directory without the tenant:
// a token for it would be refused at every sync.
func checkTenantListed(ctx context.Context, data, tenant string) error {
	if _, err := os.Stat(sqlitedir.Path(data)); errors.Is(err, fs.ErrNotExist) {
		return nil // no server has run here yet; the tenant may be created later
	}
	dir, err := sqlitedir.OpenDirectory(ctx, sqlitedir.Path(data))
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	defer dir.Close()
	if _, err := dir.Get(ctx, tenant); err != nil {
		if errors.Is(err, syncserver.ErrUnknownTenant) {
			return fmt.Errorf("token: no tenant %q in %s: create it with hearthctl tenant create", tenant, data)
		}
		return fmt.Errorf("token: %w", err)
	}
	return nil
}
