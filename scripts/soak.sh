#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# soak.sh [N] - N consecutive cold starts (default 1000) on a private
# containerd under libstartpath.so; counts failed starts and starts whose
# map lacks a phase.  Exit 1 if any.  Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
n=${1:-1000}
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root" >&2; exit 2; }
work=$(mktemp -d /tmp/startpath-soak.XXXXXX)
out=$(mktemp -d /run/startpath-soak.XXXXXX)
trap 'ctrd_stop "$work"; rm -rf "$work" "$out"' EXIT
STARTPATH_OUT="$out" ctrd_start "$work" "$top/build/lib/libstartpath.so" || exit 2
ctrd_image "$work" || exit 2
failed=0
for i in $(seq 1 "$n"); do
	ctrd_ctr "$work" run --rm docker.io/library/bb:latest "soak$i" /bin/true >/dev/null 2>&1 ||
		{ failed=$((failed + 1)); echo "soak: start $i failed" >&2; }
	[ -t 1 ] && printf '\r  %d/%d (%d failed)' "$i" "$n" "$failed"
done
[ -t 1 ] && printf '\n'
incomplete=$("$top/build/bin/startpath" report "$out" --format json |
	jq '[.maps[] | select(.missing_phases > 0)] | length')
maps=$("$top/build/bin/startpath" report "$out" --format json | jq '.maps | length')
echo "soak: $n cold starts, $failed failed; $maps maps, $incomplete with a phase missing"
[ "$failed" -eq 0 ] && [ "$incomplete" -eq 0 ]
