#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-pod.sh [PAIRS [JSON]] - pod start overhead of libstartpath.so: two
# private CRI containerds (scripts/cri-env.sh), one untraced, one with the
# library preloaded; a pod of one container starts on each in turn (the
# order alternating) for PAIRS rounds (default 40).  The time is the CRI
# client's, from RunPodSandbox sent to StartContainer returned
# (scripts/cri/cri.py's start_ms; its own start and the teardown are not in
# it).  Reported: the ratio of the medians, and the median of the per-round
# ratios with its 95% confidence interval.  A third CRI containerd with an
# empty shared object preloaded (build/bench/libempty.so) takes its turn in
# every round too, unless STARTPATH_BENCH_EMPTY=0: what LD_PRELOAD itself
# costs a pod start.  Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
. "$top/scripts/cri-env.sh"
. "$top/scripts/bench-stats.sh"
pairs=${1:-40}
json=${2:-}
if [ "$(id -u)" -ne 0 ]; then
	echo "pod benchmark skipped: needs root (containerd)"
	exit 0
fi
if ! command -v containerd >/dev/null || [ ! -x /usr/lib/cni/bridge ] ||
	! /usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null; then
	echo "pod benchmark skipped: needs containerd, containernetworking-plugins, python3-grpcio, python3-grpc-tools"
	exit 0
fi
work=$(mktemp -d /tmp/startpath-podbench.XXXXXX)
out=$(mktemp -d /run/startpath-podbench.XXXXXX)
if [ "$(stat -f -c %T "$out")" != tmpfs ]; then
	mount -t tmpfs -o size=512m,mode=0700 sppodbench "$out" || true
fi
empty_so="$top/build/bench/libempty.so"
have_empty=0
[ "${STARTPATH_BENCH_EMPTY:-1}" != 0 ] && [ -f "$empty_so" ] && have_empty=1
trap 'cri_stop "$work/plain"; cri_stop "$work/lib"; cri_stop "$work/empty"; umount "$out" 2>/dev/null; rm -rf "$work" "$out"' EXIT
cri_start "$work/plain" || exit 1
STARTPATH_OUT="$out" cri_start "$work/lib" "$top/build/lib/libstartpath.so" || exit 1
if [ $have_empty = 1 ]; then
	cri_start "$work/empty" "$empty_so" || exit 1
fi
pod() { # pod DIR NAME -> ms from RunPodSandbox to StartContainer returned
	cri_client "$1" pod --name "$2" | jq -r .start_ms
}
for i in 1 2; do
	pod "$work/plain" "w$i" >/dev/null; pod "$work/lib" "w$i" >/dev/null
	[ $have_empty = 1 ] && pod "$work/empty" "w$i" >/dev/null
done
for f in plain.t lib.t empty.t ratio.t eratio.t; do : >"$work/$f"; done
for i in $(seq 1 "$pairs"); do
	if [ $((i % 2)) -eq 0 ]; then order="plain lib"; else order="lib plain"; fi
	if [ $have_empty = 1 ]; then
		case $((i % 3)) in
		0) order="empty $order" ;;
		1) order="${order% *} empty ${order#* }" ;;
		*) order="$order empty" ;;
		esac
	fi
	for m in $order; do pod "$work/$m" "$m-$i" >"$work/last.$m" || exit 1; done
	cat "$work/last.plain" >>"$work/plain.t"
	cat "$work/last.lib" >>"$work/lib.t"
	awk -v l="$(cat "$work/last.lib")" -v p="$(cat "$work/last.plain")" 'BEGIN{printf "%.5f\n", l/p}' >>"$work/ratio.t"
	if [ $have_empty = 1 ]; then
		cat "$work/last.empty" >>"$work/empty.t"
		awk -v l="$(cat "$work/last.empty")" -v p="$(cat "$work/last.plain")" 'BEGIN{printf "%.5f\n", l/p}' >>"$work/eratio.t"
	fi
	[ -t 1 ] && printf '\r  %d/%d rounds' "$i" "$pairs"
done
[ -t 1 ] && printf '\r'
p=$(med "$work/plain.t"); l=$(med "$work/lib.t")
r=$(med "$work/ratio.t"); set -- $(ci "$work/ratio.t"); rlo=$1 rhi=$2
echo "pod start (CRI: RunPodSandbox + CreateContainer + StartContainer, 1 container), $pairs alternating rounds:"
printf '  untraced          median %8.1f ms\n' "$p"
printf '  libstartpath.so   median %8.1f ms   ratio %.3f; per round: median %.3f, 95%% CI %.3f-%.3f\n' \
	"$l" "$(awk -v a="$l" -v b="$p" 'BEGIN{print a/b}')" "$r" "$rlo" "$rhi"
e=0 er=0 elo=0 ehi=0
if [ $have_empty = 1 ]; then
	e=$(med "$work/empty.t"); er=$(med "$work/eratio.t"); set -- $(ci "$work/eratio.t"); elo=$1 ehi=$2
	printf '  empty .so         median %8.1f ms   ratio %.3f; per round: median %.3f, 95%% CI %.3f-%.3f (LD_PRELOAD alone)\n' \
		"$e" "$(awk -v a="$e" -v b="$p" 'BEGIN{print a/b}')" "$er" "$elo" "$ehi"
fi
if [ -n "$json" ]; then
	awk -v n="$pairs" -v p="$p" -v l="$l" -v r="$r" -v lo="$rlo" -v hi="$rhi" \
	    -v e="$e" -v er="$er" -v elo="$elo" -v ehi="$ehi" 'BEGIN {
		printf "{\"rounds\":%d,\"untraced_ms\":%.3f,\"library_ms\":%.3f,\"library_ratio\":%.4f", n, p, l, l/p
		printf ",\"library_ratio_per_round_median\":%.4f,\"library_ratio_ci95\":[%.4f,%.4f]", r, lo, hi
		if (e > 0) printf ",\"empty_ms\":%.3f,\"empty_ratio\":%.4f,\"empty_ratio_per_round_median\":%.4f,\"empty_ratio_ci95\":[%.4f,%.4f]", e, e/p, er, elo, ehi
		printf "}\n" }' >"$json"
fi
