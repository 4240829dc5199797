#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test Hearth:
#   - a C toolchain for cgo (mattn/go-sqlite3, Wails),
#   - GTK 3 and WebKitGTK 4.1 development files for the desktop app (Wails, tag webkit2_41),
#   - Xvfb, ImageMagick and xdotool for the desktop end-to-end test (a real window, screenshots),
#   - Node.js and npm for the UI (frontend/), then the UI's packages (npm ci),
#   - the Go modules.
# Safe to run again: it installs only what is missing. Go 1.26 itself must already be
# installed (https://go.dev/doc/install).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v git >/dev/null || need+=(git)
for pkg in libgtk-3-dev libwebkit2gtk-4.1-dev xvfb imagemagick xdotool; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "install-deps: installing ${need[*]}"
	$sudo apt-get update -q
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${need[@]}"
fi

# The UI's toolchain (Vite 7) needs Node.js 20 or newer.
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
	echo "install-deps: Node.js $(node --version) is too old for the UI's build; install Node.js 20 or newer" >&2
	exit 1
fi
# npm ci is exact (package-lock.json) and reuses npm's cache; skip it when node_modules
# already matches the lock file.
if ! cmp -s frontend/package-lock.json frontend/node_modules/.hearth-installed-lock 2>/dev/null; then
	(cd frontend && npm ci --no-audit --no-fund)
	cp frontend/package-lock.json frontend/node_modules/.hearth-installed-lock
fi

if ! command -v go >/dev/null; then
	echo "install-deps: Go is not installed; install Go 1.26 or newer first" >&2
	exit 1
fi
go mod download
