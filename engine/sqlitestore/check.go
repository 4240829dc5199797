//go:build !js

package sqlitestore

import "hearth/engine"

var _ engine.SyncStore = (*Replica)(nil)
