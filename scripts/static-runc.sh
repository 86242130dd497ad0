#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# static-runc.sh - build a static runc (cgo, static glibc, as upstream
# releases it) from Debian's sources, offline, once: build/static/runc is
# reused by every test that needs it.  Prints its path; exit 77 (a test's
# skip) when the sources are not installed.
#   needs golang-go, golang-github-opencontainers-runc-dev, libseccomp-dev
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/static/runc"
src=/usr/share/gocode/src/github.com/opencontainers/runc
if [ ! -f "$src/main.go" ] || [ ! -f /usr/include/seccomp.h ] || ! command -v go >/dev/null; then
	echo "static-runc: needs runc's sources (apt-get install golang-go golang-github-opencontainers-runc-dev libseccomp-dev)" >&2
	exit 77
fi
if [ ! -x "$out" ] || [ "$src/main.go" -nt "$out" ]; then
	mkdir -p "$top/build/static"
	(cd "$src" && GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$top/build/gocache" \
		GOFLAGS=-buildvcs=false CGO_ENABLED=1 go build -tags "seccomp netgo osusergo" \
		-ldflags '-extldflags "-static"' -o "$out.tmp" .) >"$top/build/static/runc.log" 2>&1 || {
		echo "static-runc: go build failed: $(tail -5 "$top/build/static/runc.log")" >&2
		exit 1
	}
	mv "$out.tmp" "$out"
fi
file "$out" | grep -q 'statically linked' || { echo "static-runc: $out is not static" >&2; exit 1; }
echo "$out"
