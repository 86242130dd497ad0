#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ci-coldstart.sh - a cold-start regression gate for CI.
# On a Debian or Ubuntu runner, as root: installs what it needs (containerd,
# runc, busybox-static, build tools), builds startpath, starts a private
# containerd under libstartpath.so with a busybox image built on the spot,
# benches N `ctr run --rm` cold starts, and compares them with a baseline.
#
#   scripts/ci-coldstart.sh [-n N] [--baseline FILE] [--save FILE] [-- DIFF-OPTIONS]
#
# Exit: 0 no regression (or no baseline yet), 1 a phase regressed, 2 usage
# or setup error.  The bench (startpath/bench/v1) is written to --save.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=30 baseline= save=
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	--save) save=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "ci-coldstart: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "ci-coldstart: needs root (run it with sudo)" >&2; exit 2; }
"$top/scripts/deps.sh" ci || exit 2
make -C "$top" --no-print-directory all >/dev/null || { echo "ci-coldstart: build failed" >&2; exit 2; }
. "$top/scripts/containerd-env.sh"
work=$(mktemp -d /tmp/startpath-ci.XXXXXX)
out=$(mktemp -d /run/startpath-ci.XXXXXX)
trap 'ctrd_stop "$work"; rm -rf "$work" "$out"' EXIT
STARTPATH_OUT="$out" ctrd_start "$work" "$top/build/lib/libstartpath.so" || exit 2
ctrd_image "$work" || { echo "ci-coldstart: image import failed" >&2; exit 2; }
result="$work/bench.json"
echo "ci-coldstart: $n cold starts of ctr run --rm busybox /bin/true under startpath"
"$top/build/bin/startpath" bench -n "$n" --warmup 2 --dir "$out" -o "$result" -- \
	ctr --address "$work/containerd.sock" run --rm docker.io/library/bb:latest '{}' /bin/true ||
	{ echo "ci-coldstart: bench failed" >&2; exit 2; }
[ -n "$save" ] && cp "$result" "$save"
if [ -z "$baseline" ]; then
	echo "ci-coldstart: no baseline given; results${save:+ saved in $save}"
	exit 0
fi
if [ ! -f "$baseline" ]; then
	echo "ci-coldstart: baseline $baseline does not exist yet; results${save:+ saved in $save}"
	exit 0
fi
echo
echo "ci-coldstart: compared with $baseline"
"$top/build/bin/startpath" diff "$@" "$baseline" "$result"
