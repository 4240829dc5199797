#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test Hearth: a C toolchain for
# cgo (mattn/go-sqlite3), then the Go modules. Safe to run again: it installs only what is
# missing. Go 1.26 itself must already be installed (https://go.dev/doc/install).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v git >/dev/null || need+=(git)
if ((${#need[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "install-deps: installing ${need[*]}"
	$sudo apt-get update -q
	$sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${need[@]}"
fi

if ! command -v go >/dev/null; then
	echo "install-deps: Go is not installed; install Go 1.26 or newer first" >&2
	exit 1
fi
go mod download
