#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-coldstart.sh [PAIRS [JSON]] - cold-start overhead of libstartpath.so
# on a whole `ctr run --rm` (busybox, /bin/true): three private containerds,
# one untraced, one with the library preloaded, one under `strace -f` (what
# users do without startpath), runs taking turns between them, medians
# compared.  With JSON, the figures are also written there as a JSON object.
# Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
pairs=${1:-20}
json=${2:-}
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
have_strace=0
command -v strace >/dev/null && have_strace=1
trap 'ctrd_stop "$work/plain"; ctrd_stop "$work/lib"; ctrd_stop "$work/strace"; rm -rf "$work" "$out"' EXIT
ctrd_start "$work/plain" || exit 1
STARTPATH_OUT="$out" ctrd_start "$work/lib" "$top/build/lib/libstartpath.so" || exit 1
ctrd_image "$work/plain" && ctrd_image "$work/lib" || exit 1
if [ $have_strace = 1 ]; then
	# strace's output goes to tmpfs too, like the library's.
	ctrd_start "$work/strace" "" "strace -f -qq -o $out/strace.log" || exit 1
	ctrd_image "$work/strace" || exit 1
fi
run() { # run DIR ID -> ns
	local t0 t1
	t0=$(date +%s%N)
	ctrd_ctr "$1" run --rm docker.io/library/bb:latest "$2" /bin/true >/dev/null 2>&1 || echo "run failed" >&2
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
modes="plain lib"
[ $have_strace = 1 ] && modes="plain lib strace"
for i in 1 2 3; do for m in $modes; do run "$work/$m" "w$i" >/dev/null; done; done
for m in $modes; do : >"$work/$m.t"; done
for i in $(seq 1 "$pairs"); do
	# Rotate the order each round so no mode always runs first.
	set -- $modes
	k=$((i % $#))
	order="$(echo $modes | tr ' ' '\n' | tail -n +$((k + 1))) $(echo $modes | tr ' ' '\n' | head -n $k)"
	for m in $order; do run "$work/$m" "$m$i" >>"$work/$m.t"; done
	[ $have_strace = 1 ] && : >"$out/strace.log" # keep tmpfs small
	[ -t 1 ] && printf '\r  %d/%d rounds' "$i" "$pairs"
done
[ -t 1 ] && printf '\r'
med() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
p=$(med "$work/plain.t"); l=$(med "$work/lib.t")
s=0
[ $have_strace = 1 ] && s=$(med "$work/strace.t")
echo "cold start, ctr run --rm busybox /bin/true, $pairs alternating rounds:"
printf '  untraced          median %8.1f ms\n' "$(awk -v a="$p" 'BEGIN{print a/1000}')"
printf '  libstartpath.so   median %8.1f ms   ratio %.3f\n' "$(awk -v a="$l" 'BEGIN{print a/1000}')" \
	"$(awk -v a="$l" -v b="$p" 'BEGIN{print a/b}')"
if [ $have_strace = 1 ]; then
	printf '  strace -f         median %8.1f ms   ratio %.3f\n' "$(awk -v a="$s" 'BEGIN{print a/1000}')" \
		"$(awk -v a="$s" -v b="$p" 'BEGIN{print a/b}')"
else
	echo "  strace -f         not measured (strace not installed)"
fi
if [ -n "$json" ]; then
	awk -v n="$pairs" -v p="$p" -v l="$l" -v s="$s" 'BEGIN {
		printf "{\"rounds\":%d,\"untraced_ms\":%.3f,\"library_ms\":%.3f,\"library_ratio\":%.4f", n, p/1000, l/1000, l/p
		if (s > 0) printf ",\"strace_ms\":%.3f,\"strace_ratio\":%.4f", s/1000, s/p
		printf "}\n" }' >"$json"
fi
