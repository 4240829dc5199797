package app

// Sync is the connection's state as the status bar shows it.
type Sync struct{ a *App }

// Status returns the current sync status (also emitted as EventSync on every change).
func (s *Sync) Status() SyncStatus {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	return s.a.status
}
