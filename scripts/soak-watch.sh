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
"$top/build/bin/startpath" watch "$out" --json --metrics-listen "127.0.0.1:$port" --settle 1 ${SOAK_WATCH_ARGS:-} \
	>"$work/json" 2>"$work/watch.err" &
wpid=$!
# Resident memory (KiB) between scans: the least of 20 samples over 2 s (a
# scan maps the rings it reads, whose pages count while it runs).
rss1() { awk '/^VmRSS:/ {print $2}' "/proc/$wpid/status"; }
rss() { for _ in $(seq 1 20); do rss1; sleep 0.1; done | sort -n | head -1; }
cpu() { awk '{print $14 + $15}' "/proc/$wpid/stat"; }                # ticks
failed=0 rss200= cpu200=
for i in $(seq 1 "$n"); do
	ctrd_ctr "$work" run --rm docker.io/library/bb:latest "soak$i" /bin/true >/dev/null 2>&1 ||
		{ failed=$((failed + 1)); echo "soak-watch: start $i failed" >&2; }
	[ $((i % 50)) -eq 0 ] && curl -sf "http://127.0.0.1:$port/metrics" |
		awk -v i="$i" '$1 == "startpath_watch_scan_duration_seconds" {print i, $2}' >>"$work/scans"
	if [ "$i" -eq 200 ]; then sleep 3; rss200=$(rss); cpu200=$(cpu); fi
	[ -t 1 ] && printf '\r  %d/%d (%d failed, watcher %s KiB)' "$i" "$n" "$failed" "$(rss1)"
done
[ -t 1 ] && printf '\n'
for _ in $(seq 1 300); do [ "$(wc -l <"$work/json")" -ge "$n" ] && break; sleep 0.1; done
rssN=$(rss) cpuN=$(cpu)
peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$wpid/status")
lines=$(wc -l <"$work/json")
dup=$(jq -r .container_id "$work/json" | sort | uniq -d | wc -l)
hz=$(getconf CLK_TCK)
echo "soak-watch: $n cold starts, $failed failed; the watcher emitted $lines ($dup twice)"
missing=$(comm -23 <(seq 1 "$n" | sed 's/^/soak/' | sort) <(jq -r .container_id "$work/json" | sort -u) | sed 's/soak//' | sort -n)
[ -z "$missing" ] || echo "  not emitted: $(echo $missing | cut -c1-300)" 
echo "  resident memory between scans: $rss200 KiB after 200 starts, $rssN KiB after $n ($((rssN - rss200)) KiB more); peak $peak KiB"
echo "  last scan: $(curl -sf "http://127.0.0.1:$port/metrics" | awk '$1 == "startpath_watch_scan_duration_seconds" {print $2}') s"
awk -v c0="$cpu200" -v c1="$cpuN" -v hz="$hz" -v k=$((n - 200)) -v all="$n" \
	'BEGIN { printf "  CPU: %.2f ms per start over the last %d (%.2f s in all)\n", (c1 - c0) / hz * 1000 / k, k, c1 / hz }'
cp "$work/json" /tmp/soak-watch.json 2>/dev/null; cp "$work/watch.err" /tmp/soak-watch.err 2>/dev/null; cp "$work/scans" /tmp/soak-watch.scans 2>/dev/null
[ "$failed" -eq 0 ] && [ "$lines" -eq "$n" ] && [ "$dup" -eq 0 ] && [ $((rssN - rss200)) -lt 1024 ]
