#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# soak.sh [N] - N consecutive cold starts (default 1000) on a private
# containerd under libstartpath.so; counts failed starts, and checks the map
# of every 10th start right after it (later, retention and containerd's ring
# wrap take older starts' files and records away, as they should).  Exit 1
# on any failure or incomplete map.  Needs root.
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
failed=0 checked=0 incomplete=0
for i in $(seq 1 "$n"); do
	ctrd_ctr "$work" run --rm docker.io/library/bb:latest "soak$i" /bin/true >/dev/null 2>&1 ||
		{ failed=$((failed + 1)); echo "soak: start $i failed" >&2; }
	if [ $((i % 10)) -eq 0 ]; then
		m=$("$top/build/bin/startpath" report "$out" --container "soak$i" --format json 2>/dev/null |
			jq '.maps[0].missing_phases // 99')
		checked=$((checked + 1))
		[ "${m:-99}" = 0 ] || { incomplete=$((incomplete + 1)); echo "soak: start $i: map incomplete ($m)" >&2; }
	fi
	[ -t 1 ] && printf '\r  %d/%d (%d failed)' "$i" "$n" "$failed"
done
[ -t 1 ] && printf '\n'
echo "soak: $n cold starts, $failed failed; $checked maps checked, $incomplete incomplete;" \
	"$(ls "$out" | wc -l) files kept by retention"
[ "$failed" -eq 0 ] && [ "$incomplete" -eq 0 ]
