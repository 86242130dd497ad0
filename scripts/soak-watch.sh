#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# soak-watch.sh [N] - N consecutive cold starts (default 2000) on a private
# containerd under libstartpath.so, followed by `startpath watch` (NDJSON
# and a /metrics endpoint that is scraped every 50 starts).  Reports the
# watcher's resident memory after the first 200 starts and at the end, and
# its CPU time per start; exit 1 if its memory grew by 1 MiB or more after
# the first 200 starts, if a start failed, or if a start was not emitted
# exactly once.  Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
n=${1:-2000}
[ "$(id -u)" -eq 0 ] || { echo "soak-watch: needs root" >&2; exit 2; }
[ "$n" -ge 200 ] || { echo "soak-watch: needs at least 200 starts" >&2; exit 2; }
work=$(mktemp -d /tmp/startpath-soakw.XXXXXX)
out=$(mktemp -d /run/startpath-soakw.XXXXXX)
wpid=
trap '[ -n "$wpid" ] && kill $wpid 2>/dev/null; ctrd_stop "$work"; rm -rf "$work" "$out"' EXIT
STARTPATH_OUT="$out" ctrd_start "$work" "$top/build/lib/libstartpath.so" || exit 2
ctrd_image "$work" || exit 2
port=$((20000 + RANDOM % 30000))
"$top/build/bin/startpath" watch "$out" --json --metrics-listen "127.0.0.1:$port" --settle 1 \
	>"$work/json" 2>"$work/watch.err" &
wpid=$!
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$wpid/status"; }          # KiB
cpu() { awk '{print $14 + $15}' "/proc/$wpid/stat"; }                # ticks
failed=0 rss200= cpu200=
for i in $(seq 1 "$n"); do
	ctrd_ctr "$work" run --rm docker.io/library/bb:latest "soak$i" /bin/true >/dev/null 2>&1 ||
		{ failed=$((failed + 1)); echo "soak-watch: start $i failed" >&2; }
	[ $((i % 50)) -eq 0 ] && curl -sf "http://127.0.0.1:$port/metrics" >/dev/null
	if [ "$i" -eq 200 ]; then sleep 3; rss200=$(rss); cpu200=$(cpu); fi
	[ -t 1 ] && printf '\r  %d/%d (%d failed, watcher %s KiB)' "$i" "$n" "$failed" "$(rss)"
done
[ -t 1 ] && printf '\n'
sleep 3
rssN=$(rss) cpuN=$(cpu)
lines=$(wc -l <"$work/json")
dup=$(jq -r .container_id "$work/json" | sort | uniq -d | wc -l)
hz=$(getconf CLK_TCK)
echo "soak-watch: $n cold starts, $failed failed; the watcher emitted $lines ($dup twice)"
echo "  resident memory: $rss200 KiB after 200 starts, $rssN KiB after $n ($((rssN - rss200)) KiB more)"
awk -v c0="$cpu200" -v c1="$cpuN" -v hz="$hz" -v k=$((n - 200)) -v all="$n" \
	'BEGIN { printf "  CPU: %.2f ms per start over the last %d (%.2f s in all)\n", (c1 - c0) / hz * 1000 / k, k, c1 / hz }'
[ "$failed" -eq 0 ] && [ "$lines" -eq "$n" ] && [ "$dup" -eq 0 ] && [ $((rssN - rss200)) -lt 1024 ]
