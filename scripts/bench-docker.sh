#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-docker.sh [PAIRS [JSON]] - `docker run` overhead of libstartpath.so:
# two private dockerds (scripts/docker-env.sh), one untraced, one with the
# library preloaded; `docker run --rm --network none bb /bin/true` on each
# in turn (the order alternating) for PAIRS rounds (default 40), timed
# around the client.  Reported: the ratio of the medians, and the median of
# the per-round ratios with its 95% confidence interval.  Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/docker-env.sh"
. "$top/scripts/bench-stats.sh"
pairs=${1:-40}
json=${2:-}
if [ "$(id -u)" -ne 0 ]; then
	echo "docker benchmark skipped: needs root"
	exit 0
fi
command -v dockerd >/dev/null || { echo "docker benchmark skipped: no dockerd (apt-get install docker.io)"; exit 0; }
work=$(mktemp -d /tmp/startpath-dockerbench.XXXXXX)
out=$(mktemp -d /run/startpath-dockerbench.XXXXXX)
if [ "$(stat -f -c %T "$out")" != tmpfs ]; then
	mount -t tmpfs -o size=512m,mode=0700 spdockerbench "$out" || true
fi
trap 'dockerd_stop "$work/plain"; dockerd_stop "$work/lib"; umount "$out" 2>/dev/null; rm -rf "$work" "$out"' EXIT
dockerd_start "$work/plain" || exit 1
STARTPATH_OUT="$out" dockerd_start "$work/lib" "$top/build/lib/libstartpath.so" || exit 1
dockerd_image "$work/plain" && dockerd_image "$work/lib" || exit 1
run() { # run DIR -> µs
	local t0 t1
	t0=$(date +%s%N)
	dockerd_cli "$1" run --rm --network none bb:latest /bin/true >/dev/null 2>&1 || echo "run failed" >&2
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
for i in 1 2 3; do run "$work/plain" >/dev/null; run "$work/lib" >/dev/null; done
: >"$work/plain.t"
: >"$work/lib.t"
: >"$work/ratio.t"
for i in $(seq 1 "$pairs"); do
	if [ $((i % 2)) -eq 0 ]; then order="plain lib"; else order="lib plain"; fi
	for m in $order; do run "$work/$m" >"$work/last.$m"; done
	cat "$work/last.plain" >>"$work/plain.t"
	cat "$work/last.lib" >>"$work/lib.t"
	awk -v l="$(cat "$work/last.lib")" -v p="$(cat "$work/last.plain")" 'BEGIN{printf "%.5f\n", l/p}' >>"$work/ratio.t"
	[ -t 1 ] && printf '\r  %d/%d rounds' "$i" "$pairs"
done
[ -t 1 ] && printf '\r'
p=$(med "$work/plain.t"); l=$(med "$work/lib.t")
r=$(med "$work/ratio.t"); set -- $(ci "$work/ratio.t"); rlo=$1 rhi=$2
echo "docker run --rm --network none busybox /bin/true, $pairs alternating rounds:"
printf '  untraced          median %8.1f ms\n' "$(awk -v a="$p" 'BEGIN{print a/1000}')"
printf '  libstartpath.so   median %8.1f ms   ratio %.3f; per round: median %.3f, 95%% CI %.3f-%.3f\n' \
	"$(awk -v a="$l" 'BEGIN{print a/1000}')" "$(awk -v a="$l" -v b="$p" 'BEGIN{print a/b}')" "$r" "$rlo" "$rhi"
if [ -n "$json" ]; then
	awk -v n="$pairs" -v p="$p" -v l="$l" -v r="$r" -v lo="$rlo" -v hi="$rhi" 'BEGIN {
		printf "{\"rounds\":%d,\"untraced_ms\":%.3f,\"library_ms\":%.3f,\"library_ratio\":%.4f", n, p/1000, l/1000, l/p
		printf ",\"library_ratio_per_round_median\":%.4f,\"library_ratio_ci95\":[%.4f,%.4f]}\n", r, lo, hi }' >"$json"
fi
