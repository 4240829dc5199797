//go:build !windows

package app

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrAlreadyRunning means another copy of the app holds the data directory: two copies would
// sync the same replica as one device and confuse its outbox.
var ErrAlreadyRunning = errors.New("Hearth is already running on this computer with the same data: switch to that window")

// lockDataDir takes an exclusive lock on the data directory for the life of the process
// (the OS drops it if the process dies).
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir+"/.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrAlreadyRunning
		}
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	return f, nil
}
