#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-pull.sh [PAIRS [JSON]] - image pull overhead of libstartpath.so: a
# private registry on 127.0.0.1 (scripts/registry-env.sh) with a 3-layer
# image (busybox, 20 MB, 60 MB of random data), two private containerds,
# one untraced, one with the library preloaded (its `ctr image pull` traced
# too, as a map of the pull needs); the image is removed and pulled again on
# each in turn (the order alternating) for PAIRS rounds (default 20).  The
# time is `ctr image pull`'s wall time.  Reported: the ratio of the medians,
# and the median of the per-round ratios with its 95% confidence interval.
# Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
. "$top/scripts/registry-env.sh"
. "$top/scripts/bench-stats.sh"
pairs=${1:-20}
json=${2:-}
lib="$top/build/lib/libstartpath.so"
if [ "$(id -u)" -ne 0 ]; then
	echo "pull benchmark skipped: needs root (containerd)"
	exit 0
fi
for c in containerd ctr docker-registry curl openssl; do
	command -v $c >/dev/null || { echo "pull benchmark skipped: needs $c"; exit 0; }
done
work=$(mktemp -d /tmp/startpath-pullbench.XXXXXX)
trap 'ctrd_stop "$work/plain"; ctrd_stop "$work/lib"; reg_stop "$work/reg"; rm -rf "$work"' EXIT
reg_start "$work/reg" >/dev/null || exit 1
reg_image "$work/reg" app 20 60 || exit 1
ref="$REG_ADDR/app:latest"
ctrd_start "$work/plain" || exit 1
ctrd_start "$work/lib" "$lib" || exit 1
# ctr's progress display says "failed to get content info ... context
# canceled" on stderr now and then while the pull succeeds: shown only when
# the pull fails.
pull_failed() { echo "bench-pull: ctr image pull $ref failed:" >&2; cat "$work/pull.err" >&2; }
pull() { # pull DIR -> ms of a cold ctr image pull
	local d=$1 a b img
	for img in $(ctrd_ctr "$d" image ls -q); do ctrd_ctr "$d" image rm --sync "$img" >/dev/null || return 1; done
	sync # the previous unpack's writeback is not this pull's
	a=$(date +%s%N)
	if [ "$d" = "$work/lib" ]; then
		LD_PRELOAD="$lib" STARTPATH_DIR="$d/out" ctr --address "$d/containerd.sock" \
			image pull --plain-http "$ref" >/dev/null 2>"$work/pull.err" || { pull_failed; return 1; }
	else
		ctrd_ctr "$d" image pull --plain-http "$ref" >/dev/null 2>"$work/pull.err" ||
			{ pull_failed; return 1; }
	fi
	b=$(date +%s%N)
	awk -v n=$((b - a)) 'BEGIN { printf "%.3f\n", n / 1e6 }'
}
pull "$work/plain" >/dev/null && pull "$work/lib" >/dev/null || exit 1
: >"$work/plain.t"
: >"$work/lib.t"
: >"$work/ratio.t"
for i in $(seq 1 "$pairs"); do
	if [ $((i % 2)) -eq 0 ]; then order="plain lib"; else order="lib plain"; fi
	for m in $order; do pull "$work/$m" >"$work/last.$m" || exit 1; done
	cat "$work/last.plain" >>"$work/plain.t"
	cat "$work/last.lib" >>"$work/lib.t"
	awk -v l="$(cat "$work/last.lib")" -v p="$(cat "$work/last.plain")" 'BEGIN{printf "%.5f\n", l/p}' >>"$work/ratio.t"
	[ -t 1 ] && printf '\r  %d/%d rounds' "$i" "$pairs"
done
[ -t 1 ] && printf '\r'
[ -n "${STARTPATH_BENCH_PULL_SHOW:-}" ] && { echo plain: $(sort -n "$work/plain.t"); echo lib: $(sort -n "$work/lib.t"); }
p=$(med "$work/plain.t"); l=$(med "$work/lib.t")
r=$(med "$work/ratio.t"); set -- $(ci "$work/ratio.t"); rlo=$1 rhi=$2
echo "cold ctr image pull (3 layers, 81 MB, local registry), $pairs alternating rounds:"
printf '  untraced          median %8.1f ms\n' "$p"
printf '  libstartpath.so   median %8.1f ms   ratio %.3f; per round: median %.3f, 95%% CI %.3f-%.3f\n' \
	"$l" "$(awk -v a="$l" -v b="$p" 'BEGIN{print a/b}')" "$r" "$rlo" "$rhi"
if [ -n "$json" ]; then
	awk -v n="$pairs" -v p="$p" -v l="$l" -v r="$r" -v lo="$rlo" -v hi="$rhi" 'BEGIN {
		printf "{\"rounds\":%d,\"untraced_ms\":%.3f,\"library_ms\":%.3f,\"library_ratio\":%.4f", n, p, l, l/p
		printf ",\"library_ratio_per_round_median\":%.4f,\"library_ratio_ci95\":[%.4f,%.4f]}\n", r, lo, hi }' >"$json"
fi
