#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-coldstart.sh [PAIRS] - cold-start overhead of libstartpath.so on a
# whole `ctr run --rm` (busybox, /bin/true): two private containerds, one
# with the library preloaded and one without, runs alternating between them,
# medians compared.  Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
pairs=${1:-20}
if [ "$(id -u)" -ne 0 ]; then
	echo "cold-start benchmark skipped: needs root (containerd)"
	exit 0
fi
for c in containerd ctr runc; do
	command -v $c >/dev/null || { echo "cold-start benchmark skipped: no $c"; exit 0; }
done
work=$(mktemp -d /tmp/startpath-bench.XXXXXX)
# The library's files go where they go by default for root: tmpfs under /run.
out=$(mktemp -d /run/startpath-bench.XXXXXX)
trap 'ctrd_stop "$work/plain"; ctrd_stop "$work/lib"; rm -rf "$work" "$out"' EXIT
ctrd_start "$work/plain" || exit 1
STARTPATH_OUT="$out" ctrd_start "$work/lib" "$top/build/lib/libstartpath.so" || exit 1
ctrd_image "$work/plain" && ctrd_image "$work/lib" || exit 1
run() { # run DIR ID -> ns
	local t0 t1
	t0=$(date +%s%N)
	ctrd_ctr "$1" run --rm docker.io/library/bb:latest "$2" /bin/true >/dev/null 2>&1 || echo "run failed" >&2
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
for i in 1 2 3; do run "$work/plain" "w$i" >/dev/null; run "$work/lib" "w$i" >/dev/null; done
: >"$work/p"; : >"$work/l"
for i in $(seq 1 "$pairs"); do
	if [ $((i % 2)) -eq 0 ]; then
		run "$work/plain" "p$i" >>"$work/p"; run "$work/lib" "l$i" >>"$work/l"
	else
		run "$work/lib" "l$i" >>"$work/l"; run "$work/plain" "p$i" >>"$work/p"
	fi
	[ -t 1 ] && printf '\r  %d/%d pairs' "$i" "$pairs"
done
[ -t 1 ] && printf '\r'
med() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
p=$(med "$work/p"); l=$(med "$work/l")
echo "cold start, ctr run --rm busybox /bin/true, $pairs alternating pairs:"
printf '  untraced median %8.1f ms\n  traced   median %8.1f ms\n  overhead ratio   %8.3f\n' \
	"$(echo "$p" | awk '{print $1/1000}')" "$(echo "$l" | awk '{print $1/1000}')" \
	"$(awk -v a="$l" -v b="$p" 'BEGIN{print a/b}')"
