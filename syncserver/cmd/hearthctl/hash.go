package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"hearth/engine/clinic"
	"hearth/syncserver"
	"hearth/syncserver/token"
)

func runHash(ctx context.Context, c *cli, args []string) error {
	f := c.flags("hash", `Usage: hearthctl hash --dir R
       hearthctl hash --data DIR --tenant T [--token TOKEN]

Prints the canonical hash of replicated state: of the local replica in R, or of tenant T's store
in a server's data directory (safe while the server runs). With --token, of the part of the
store that token's replica receives (the scopes it grants: a patient's one visit, or the
clinic's shared rows and every visit for staff); without, of the whole store. A replica that
converged with the server prints the same hash as the store with its token, whatever order
changes reached it in. The token is checked with the data directory's key (secrets/token.key).
`)
	dir := f.String("dir", "", "local replica directory")
	data := f.String("data", "", "the server's data directory")
	tenant := f.String("tenant", "", "tenant id (with --data)")
	tok := f.String("token", "", "hash what this token's replica holds (with --data)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("hash: unexpected argument %q", pos[0])
	}
	switch {
	case *dir != "" && (*data != "" || *tenant != "" || *tok != ""):
		return usagef("hash: give either --dir or --data with --tenant, not both")
	case *dir != "":
		rep, err := openReplica(ctx, *dir, false)
		if err != nil {
			return fmt.Errorf("hash: %w", err)
		}
		defer rep.Close()
		return printHash(c, func() (string, error) { return rep.Hash(ctx) })
	case *data != "":
		if err := checkTenantID(*tenant); err != nil {
			return err
		}
		var grants func(string) bool // nil: every scope
		if *tok != "" {
			claims, err := verifiedClaims(*data, *tenant, *tok)
			if err != nil {
				return err
			}
			grants = claims.Grants
		}
		store, err := openStore(ctx, "hash", *data, *tenant)
		if err != nil {
			return err
		}
		defer store.Close()
		return printHash(c, func() (string, error) { return store.Hash(ctx, grants) })
	}
	return usagef("hash: give --dir R, or --data DIR --tenant T")
}

func printHash(c *cli, hash func() (string, error)) error {
	h, err := hash()
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	fmt.Fprintln(c.stdout, h)
	return nil
}

// verifiedClaims verifies tok with the data directory's key and checks that it is for tenant.
func verifiedClaims(data, tenant, tok string) (token.Claims, error) {
	path := syncserver.KeyPath(data)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return token.Claims{}, fmt.Errorf("hash: no token key in %s: the token cannot be checked", data)
		}
		return token.Claims{}, fmt.Errorf("hash: %w", err)
	}
	key, err := syncserver.LoadOrCreateKey(path)
	if err != nil {
		return token.Claims{}, fmt.Errorf("hash: %w", err)
	}
	signer, err := token.NewSigner(key, clinic.CheckTokenScopes, nil)
	if err != nil {
		return token.Claims{}, fmt.Errorf("hash: key %s: %w", path, err)
	}
	claims, err := signer.Verify(strings.TrimSpace(tok))
	if err != nil {
		return token.Claims{}, fmt.Errorf("hash: --token: %w", err)
	}
	if claims.Tenant != tenant {
		return token.Claims{}, usagef("hash: the token is for tenant %q, not %q", claims.Tenant, tenant)
	}
	return claims, nil
}
