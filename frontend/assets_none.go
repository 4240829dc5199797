//go:build !production && !dev

// Package frontend holds the caregiver UI's built files (dist/, made by npm run build) for
// the desktop binary to embed.
package frontend

import (
	"embed"
	"io/fs"
)

// Assets is empty in builds that show no window (tests, binding generation), so that they
// do not need the UI built first.
var Assets fs.FS = embed.FS{}
