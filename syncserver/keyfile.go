package syncserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"hearth/syncserver/token"
)

// KeyPath is where the development token key lives under a data directory by default.
func KeyPath(dataDir string) string { return filepath.Join(dataDir, "secrets", "token.key") }

// LoadOrCreateKey reads a hex-encoded token signing key from path, creating a random one
// (readable by its owner only) if the file does not exist.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create key directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(path) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("create token key: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			return nil, fmt.Errorf("write token key: %w", err)
		}
		return key, f.Sync()
	}
	if err != nil {
		return nil, fmt.Errorf("read token key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < token.MinKeyLen {
		return nil, fmt.Errorf("token key %s: want at least %d hex-encoded bytes", path, token.MinKeyLen)
	}
	return key, nil
}
