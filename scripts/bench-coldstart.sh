#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-coldstart.sh [PAIRS [JSON]] - cold-start overhead of libstartpath.so
# on a whole `ctr run --rm` (busybox, /bin/true): three private containerds,
# one untraced, one with the library preloaded, one under `strace -f` (what
# users do without startpath).  Untraced and library runs take turns for
# PAIRS rounds (default 100); strace joins the first STARTPATH_BENCH_STRACE
# rounds (default 10: it is there for comparison, at 5-6x).  Reported: the
# ratio of the medians, and the median of the per-round ratios with its 95%
# confidence interval (order statistics, no assumption about the noise).
# A third containerd with an empty shared object preloaded (build/bench/
# libempty.so) takes its turn in every round too, unless
# STARTPATH_BENCH_EMPTY=0: what LD_PRELOAD itself costs the same start, the
# floor under any preloaded tracer.
# With JSON, the figures are also written there as a JSON object.
# Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
pairs=${1:-100}
json=${2:-}
strace_rounds=${STARTPATH_BENCH_STRACE:-10}
if [ "$(id -u)" -ne 0 ]; then
	echo "cold-start benchmark skipped: needs root (containerd)"
	exit 0
fi
for c in containerd ctr runc; do
	command -v $c >/dev/null || { echo "cold-start benchmark skipped: no $c"; exit 0; }
done
work=$(mktemp -d /tmp/startpath-bench.XXXXXX)
# The library's files go where they go by default for root: /run, which is
# a tmpfs on a systemd host.  Where /run is not (some VMs and containers),
# a private tmpfs stands in for it, and the output says so.
out=$(mktemp -d /run/startpath-bench.XXXXXX)
rings_on="/run ($(stat -f -c %T /run))"
if [ "$(stat -f -c %T "$out")" != tmpfs ] && mount -t tmpfs -o size=512m,mode=0700 spbench "$out"; then
	rings_on="a private tmpfs (/run is $(stat -f -c %T /run) here)"
fi
have_strace=0
empty_so="$top/build/bench/libempty.so"
have_empty=0
[ "${STARTPATH_BENCH_EMPTY:-1}" != 0 ] && [ -f "$empty_so" ] && have_empty=1
command -v strace >/dev/null && [ "$strace_rounds" -gt 0 ] && have_strace=1
trap 'ctrd_stop "$work/plain"; ctrd_stop "$work/lib"; ctrd_stop "$work/empty"; ctrd_stop "$work/strace"; umount "$out" 2>/dev/null; rm -rf "$work" "$out"' EXIT
ctrd_start "$work/plain" || exit 1
STARTPATH_OUT="$out" ctrd_start "$work/lib" "$top/build/lib/libstartpath.so" || exit 1
ctrd_image "$work/plain" && ctrd_image "$work/lib" || exit 1
if [ $have_empty = 1 ]; then
	ctrd_start "$work/empty" "$empty_so" && ctrd_image "$work/empty" || exit 1
fi
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
[ $have_empty = 1 ] && modes="$modes empty"
[ $have_strace = 1 ] && modes="$modes strace"
for i in 1 2 3; do for m in $modes; do run "$work/$m" "w$i" >/dev/null; done; done
[ $have_strace = 1 ] && : >"$work/strace.t"
for m in plain lib empty; do : >"$work/$m.t"; done
: >"$work/ratio.t"
: >"$work/eratio.t"
for i in $(seq 1 "$pairs"); do
	# Take turns, the order alternating so no mode always runs first.
	if [ $((i % 2)) -eq 0 ]; then order="plain lib"; else order="lib plain"; fi
	# The empty object: first, between or last, in turn.
	if [ $have_empty = 1 ]; then
		case $((i % 3)) in
		0) order="empty $order" ;;
		1) order="${order% *} empty ${order#* }" ;;
		*) order="$order empty" ;;
		esac
	fi
	[ $have_strace = 1 ] && [ "$i" -le "$strace_rounds" ] && order="$order strace"
	for m in $order; do run "$work/$m" "$m$i" >"$work/last.$m"; cat "$work/last.$m" >>"$work/$m.t"; done
	awk -v l="$(cat "$work/last.lib")" -v p="$(cat "$work/last.plain")" 'BEGIN{printf "%.5f\n", l/p}' >>"$work/ratio.t"
	[ $have_empty = 1 ] &&
		awk -v l="$(cat "$work/last.empty")" -v p="$(cat "$work/last.plain")" 'BEGIN{printf "%.5f\n", l/p}' >>"$work/eratio.t"
	if [ $have_strace = 1 ] && [ "$i" -eq "$strace_rounds" ]; then
		ctrd_stop "$work/strace" # it would slow the other two down
		rm -f "$out/strace.log"
	fi
	[ $have_strace = 1 ] && [ -f "$out/strace.log" ] && : >"$out/strace.log" # keep tmpfs small
	[ -t 1 ] && printf '\r  %d/%d rounds' "$i" "$pairs"
done
[ -t 1 ] && printf '\r'
. "$top/scripts/bench-stats.sh"
p=$(med "$work/plain.t"); l=$(med "$work/lib.t")
r=$(med "$work/ratio.t"); set -- $(ci "$work/ratio.t"); rlo=$1 rhi=$2
s=0
[ $have_strace = 1 ] && s=$(med "$work/strace.t")
echo "cold start, ctr run --rm busybox /bin/true, $pairs alternating rounds, rings on $rings_on:"
printf '  untraced          median %8.1f ms\n' "$(awk -v a="$p" 'BEGIN{print a/1000}')"
printf '  libstartpath.so   median %8.1f ms   ratio %.3f; per round: median %.3f, 95%% CI %.3f-%.3f\n' \
	"$(awk -v a="$l" 'BEGIN{print a/1000}')" "$(awk -v a="$l" -v b="$p" 'BEGIN{print a/b}')" "$r" "$rlo" "$rhi"
e=0
if [ $have_empty = 1 ]; then
	e=$(med "$work/empty.t"); er=$(med "$work/eratio.t"); set -- $(ci "$work/eratio.t")
	printf '  empty .so         median %8.1f ms   ratio %.3f; per round: median %.3f, 95%% CI %.3f-%.3f (LD_PRELOAD alone)\n' \
		"$(awk -v a="$e" 'BEGIN{print a/1000}')" "$(awk -v a="$e" -v b="$p" 'BEGIN{print a/b}')" "$er" "$1" "$2"
	ere_lo=$1 ere_hi=$2
fi
if [ $have_strace = 1 ]; then
	printf '  strace -f         median %8.1f ms   ratio %.3f (%d rounds)\n' "$(awk -v a="$s" 'BEGIN{print a/1000}')" \
		"$(awk -v a="$s" -v b="$p" 'BEGIN{print a/b}')" "$strace_rounds"
else
	echo "  strace -f         not measured ($( [ "$strace_rounds" -gt 0 ] && echo "strace not installed" || echo "STARTPATH_BENCH_STRACE=0"))"
fi
if [ -n "$json" ]; then
	awk -v n="$pairs" -v p="$p" -v l="$l" -v s="$s" -v r="$r" -v lo="$rlo" -v hi="$rhi" \
	    -v sn="$strace_rounds" -v on="$rings_on" -v e="$e" -v er="${er:-0}" -v elo="${ere_lo:-0}" -v ehi="${ere_hi:-0}" 'BEGIN {
		printf "{\"rounds\":%d,\"rings_on\":\"%s\",\"untraced_ms\":%.3f,\"library_ms\":%.3f,\"library_ratio\":%.4f", n, on, p/1000, l/1000, l/p
		printf ",\"library_ratio_per_round_median\":%.4f,\"library_ratio_ci95\":[%.4f,%.4f]", r, lo, hi
		if (e > 0) printf ",\"empty_ms\":%.3f,\"empty_ratio\":%.4f,\"empty_ratio_per_round_median\":%.4f,\"empty_ratio_ci95\":[%.4f,%.4f]", e/1000, e/p, er, elo, ehi
		if (s > 0) printf ",\"strace_rounds\":%d,\"strace_ms\":%.3f,\"strace_ratio\":%.4f", sn, s/1000, s/p
		printf "}\n" }' >"$json"
fi
