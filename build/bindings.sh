#!/usr/bin/env bash
# Regenerates the UI's typed bindings of the Go services (frontend/src/wailsjs) without the
# wails CLI: a build with the "bindings" tag writes them where wails.json's wailsjsdir says
# and exits. Run it after changing a bound method or a type in app/views.go; the Go test
# TestBindingsUpToDate fails while they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -tags bindings -o "$tmp/hearth-bindings" ./app/cmd/hearth
"$tmp/hearth-bindings" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
echo "bindings: wrote frontend/src/wailsjs"
