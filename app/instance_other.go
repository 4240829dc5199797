//go:build windows

package app

import (
	"errors"
	"os"
)

// ErrAlreadyRunning means another copy of the app holds the data directory.
var ErrAlreadyRunning = errors.New("Hearth is already running on this computer with the same data: switch to that window")

// lockDataDir opens the lock file exclusively (Windows refuses a second open for writing).
func lockDataDir(dir string) (*os.File, error) {
	return os.OpenFile(dir+`\.lock`, os.O_CREATE|os.O_RDWR, 0o600)
}
