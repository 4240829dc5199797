#!/usr/bin/env bash
# Builds the caregiver desktop app without the wails CLI: the UI (frontend/dist), then the
# Go binary with the UI embedded, as build/bin/hearth. Needs build/install-deps.sh first.
# (The wails CLI is not needed: its `wails build` expects the main package at the root.)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/bin/hearth}
(cd frontend && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
CGO_ENABLED=1 go build -tags desktop,production,webkit2_41 -ldflags "-s -w" -o "$out" ./app/cmd/hearth
echo "desktop: built $out"
