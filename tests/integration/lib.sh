# SPDX-License-Identifier: Apache-2.0
# lib.sh - helpers for the integration tests (sourced).  Each test runs the
# build-tree library and CLI against small programs in build/progs.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SP="$TOP/build/bin/startpath"
LIB="$TOP/build/lib/libstartpath.so"
SPEXEC="$TOP/build/bin/startpath-exec"
PROGS="$TOP/build/progs"
TMP=$(mktemp -d /tmp/startpath-test.XXXXXX)
trap 'cleanup_hook; rm -rf "$TMP"' EXIT
cleanup_hook() { :; }

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (${1:-mounts and namespaces})"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "needs $1 (apt-get install ${2:-$1})"; }
ok() { echo "ok: $*"; }

# report JSON of an output directory
report_json() { "$SP" report "$1" --format json; }

# jq on the report of a directory: jqr DIR FILTER (fails when the report
# fails or is empty: jq -e alone holds on no input at all)
jqr() {
	local json
	json=$(report_json "$1") && [ -n "$json" ] || return 1
	printf '%s\n' "$json" | jq -e "$2"
}

# assert a jq filter holds on the report of DIR: check DIR FILTER WHAT
check() {
	local out json
	json=$(report_json "$1" 2>"$TMP/.check.err") && [ -n "$json" ] ||
		fail "$3 (no report of $1: $(head -3 "$TMP/.check.err"))"
	out=$(printf '%s\n' "$json" | jq -e "$2" 2>&1) || fail "$3 (jq: $2 -> $out)"
	ok "$3"
}
