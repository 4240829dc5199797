package app

// CheckLock runs the inactivity check now, for tests that drive the clock.
func (a *App) CheckLock() { a.checkLock() }
