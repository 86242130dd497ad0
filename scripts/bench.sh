#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench.sh - ns per hooked call with and without libstartpath.so (3 pairs,
# alternating, best figure kept), and ring throughput.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
hb="$top/build/bench/hookbench"
lib="$top/build/lib/libstartpath.so"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in 1 2 3; do
	"$hb" >"$out/plain.$i"
	STARTPATH_DIR="$out/d$i" STARTPATH_RING=1024 LD_PRELOAD="$lib" "$hb" >"$out/traced.$i"
done
echo "ns per call (best of 3 alternating runs x 7 rounds x 200000 calls)"
printf '%-34s %10s %10s %10s\n' call untraced traced added
cut -c1-34 "$out/plain.1" | while IFS= read -r name; do
	p=$(grep -hF "$name" "$out"/plain.* | awk '{print $NF}' | sort -g | head -1)
	t=$(grep -hF "$name" "$out"/traced.* | awk '{print $NF}' | sort -g | head -1)
	printf '%-34s %10.1f %10.1f %+10.1f\n' "$name" "$p" "$t" "$(echo "$t - $p" | bc -l 2>/dev/null || awk -v a="$t" -v b="$p" 'BEGIN{print a-b}')"
done
echo
"$top/build/bench/ringbench"
echo
"$top/scripts/bench-coldstart.sh" "${STARTPATH_BENCH_PAIRS:-20}"
echo
"$top/tests/bench/diff-reliability.sh" 20 12
