//go:build production || dev

// Package frontend holds the caregiver UI's built files (dist/, made by npm run build) for
// the desktop binary to embed.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Assets is the built UI, index.html at its root.
var Assets = mustSub(dist, "dist")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
