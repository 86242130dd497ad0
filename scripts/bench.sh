#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench.sh - what libstartpath.so costs, printed as tables and written to
# bench/results.json (schema startpath/benchresults/v1):
#   1. ns per call, untraced against traced (5 alternating runs, best kept):
#      hooked libc calls, syscall(), and a raw syscall site in the program's
#      own text (rewritten: recorded, and filtered out);
#   2. ring throughput with 1, 2 and 8 producer threads (best of 3);
#   3. start cost per exec: untraced, traced with the site cache warm (hit)
#      and emptied (miss), and with an empty shared object preloaded (the
#      unit), taking turns; 3b. the library's own time per ctr run cold
#      start (a timing build; root);
#   4. cold start of `ctr run` untraced, under the library and under
#      strace -f (root; STARTPATH_BENCH_PAIRS rounds, default 300: this VM
#      needs that many to put the ratio within about +-1%); 4b. the CPU
#      time the library adds to the same start (root;
#      STARTPATH_BENCH_CPU_ROUNDS, default 300);
#   5. pod start through containerd's CRI, untraced against traced
#      (root; STARTPATH_BENCH_POD_PAIRS rounds, default 40);
#   6. docker run, untraced against traced (root; STARTPATH_BENCH_DOCKER_PAIRS
#      rounds, default 40);
#   7. how reliable `startpath diff` is on this machine (root; skipped with
#      STARTPATH_BENCH_DIFF=0).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
b="$top/build/bench"
lib="$top/build/lib/libstartpath.so"
res="$top/bench/results.json"
out=$(mktemp -d)
# The rings of section 3 go where the library puts them by default when it
# can (/run, a tmpfs on a systemd host), not onto the disk under /tmp.  Where
# /run is no tmpfs (some VMs), root mounts a private one in its place.
xd=$(mktemp -d /run/startpath-bench.XXXXXX 2>/dev/null || echo "$out/xd")
mkdir -p "$xd"
xd_fs=$(stat -f -c %T "$xd")
if [ "$xd_fs" != tmpfs ] && [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=256m,mode=0700 spbench "$xd"; then
	xd_fs="tmpfs (private: $(stat -f -c %T /run) under /run here)"
fi
trap 'umount "$xd" 2>/dev/null; rm -rf "$out" "$xd"' EXIT
mkdir -p "$top/bench"

echo "== 1. ns per call (best of 5 alternating runs x 15 rounds x 100000 calls)"
for i in 1 2 3 4 5; do
	"$b/hookbench" 100000 >"$out/plain.$i"
	STARTPATH_DIR="$out/d$i" STARTPATH_RING=1024 LD_PRELOAD="$lib" "$b/hookbench" 100000 >"$out/traced.$i"
	rm -rf "$out/d$i"
	printf '\r  run %d/5' "$i" >&2
done
printf '\r' >&2
printf '%-34s %10s %10s %10s\n' call untraced traced added
best() { grep -hF "$1" "$out"/"$2".* | awk '{print $NF}' | sort -g | head -1; }
: >"$out/hooks.json"
cut -c1-34 "$out/plain.1" | sed 's/ *$//' | while IFS= read -r name; do
	p=$(best "$name" plain)
	t=$(best "$name" traced)
	printf '%-34s %10.1f %10.1f %+10.1f\n' "$name" "$p" "$t" "$(awk -v a="$t" -v b="$p" 'BEGIN{print a-b}')"
	awk -v n="$name" -v a="$t" -v b="$p" 'BEGIN{printf "{\"call\":\"%s\",\"untraced_ns\":%.1f,\"traced_ns\":%.1f,\"added_ns\":%.1f}\n", n, b, a, a-b}' >>"$out/hooks.json"
done

echo
echo "== 2. ring throughput, M records/s (best of 3)"
printf '%-10s %16s %16s\n' producers "1024 records" "16384 records"
for cap in 1024 16384; do
	for i in 1 2 3; do "$b/ringbench" "$cap"; done >"$out/ring.$cap"
done
: >"$out/ring.json"
for th in 1 2 8; do
	a=$(awk -v t=$th '$1==t{print $3}' "$out/ring.1024" | sort -g | tail -1)
	c=$(awk -v t=$th '$1==t{print $3}' "$out/ring.16384" | sort -g | tail -1)
	printf '%-10s %16.1f %16.1f\n' "$th" "$a" "$c"
	echo "{\"threads\":$th,\"capacity_1024_mrps\":$a,\"capacity_16384_mrps\":$c}" >>"$out/ring.json"
done

echo
echo "== 3. start cost per exec (fork, exec, exit, wait; medians of 100 rounds; rings on $xd_fs)"
echo "   Each added cost also as a multiple of what preloading an empty shared object adds to the"
echo "   same program, measured in the same run (for static Go, which preloads nothing: /bin/true's)."
printf '%-28s %9s %9s %9s %10s %9s %10s %7s\n' program untraced "cache hit" added "cache miss" added "empty .so" "x empty"
: >"$out/exec.json"
empty="$b/libempty.so"
true_empty=
for cmd in "/bin/true" "$b/hookbench 0" "containerd-shim-runc-v2 -v" "runc --version"; do
	command -v ${cmd%% *} >/dev/null 2>&1 || continue
	rm -rf "$xd/x"
	mkdir -p -m 0700 "$xd/x"
	# shellcheck disable=SC2086
	r=$(EXECBENCH_EMPTYLIB="$empty" "$b/execbench" 100 "$lib" "$xd/x" $cmd) || continue
	set -- $r
	name=$(basename "${cmd%% *}")
	e=${5#empty=}
	ea=$(awk -v a="$e" -v b="$2" 'BEGIN{print a-b}')
	[ "$name" = true ] && true_empty=$ea
	printf '%-28s %6.0f us %6.0f us %+6.0f us %7.0f us %+6.0f us %+7.0f us %6.2fx\n' "$name" "$2" "$3" \
		"$(awk -v a="$3" -v b="$2" 'BEGIN{print a-b}')" "$4" "$(awk -v a="$4" -v b="$2" 'BEGIN{print a-b}')" \
		"$ea" "$(awk -v a="$3" -v b="$2" -v e="$ea" 'BEGIN{print (e > 0 ? (a-b)/e : 0)}')"
	awk -v n="$name" -v p="$2" -v h="$3" -v m="$4" -v e="$e" 'BEGIN{printf "{\"program\":\"%s\",\"untraced_us\":%.1f,\"hit_us\":%.1f,\"hit_added_us\":%.1f,\"miss_us\":%.1f,\"miss_added_us\":%.1f,\"empty_so_us\":%.1f,\"empty_so_added_us\":%.1f,\"hit_added_x_empty\":%.2f}\n", n, p, h, h-p, m, m-p, e, e-p, ((e-p) > 0 ? (h-p)/(e-p) : 0)}' >>"$out/exec.json"
done
# A static program through startpath-exec (cached patch plan = "hit"),
# built here when Debian's golang-go is installed.
if command -v go >/dev/null 2>&1; then
	sg="$out/static-prog"
	if GOCACHE="$out/gocache" GO111MODULE=off CGO_ENABLED=0 \
		go build -o "$sg" "$top/tests/go/static/main.go" >/dev/null 2>&1; then
		r=$(EXECBENCH_LAUNCHER="$top/build/bin/startpath-exec" "$b/execbench" 100 "$lib" "$xd/x" "$sg" child)
		set -- $r
		printf '%-28s %6.0f us %6.0f us %+6.0f us %7.0f us %+6.0f us %+7.0f us %6.2fx  (startpath-exec; /bin/true'"'"'s empty .so)\n' \
			"static Go" "$2" "$3" "$(awk -v a="$3" -v b="$2" 'BEGIN{print a-b}')" "$4" \
			"$(awk -v a="$4" -v b="$2" 'BEGIN{print a-b}')" "${true_empty:-0}" \
			"$(awk -v a="$3" -v b="$2" -v e="${true_empty:-0}" 'BEGIN{print (e > 0 ? (a-b)/e : 0)}')"
		awk -v p="$2" -v h="$3" -v m="$4" -v e="${true_empty:-0}" 'BEGIN{printf "{\"program\":\"static Go (startpath-exec)\",\"untraced_us\":%.1f,\"hit_us\":%.1f,\"hit_added_us\":%.1f,\"miss_us\":%.1f,\"miss_added_us\":%.1f,\"empty_so_added_us\":%.1f,\"hit_added_x_empty\":%.2f}\n", p, h, h-p, m, m-p, e, (e > 0 ? (h-p)/e : 0)}' >>"$out/exec.json"
		# The floor: the launcher's own exec, passing it on (recording off).
		r=$(STARTPATH_DISABLE=1 EXECBENCH_LAUNCHER="$top/build/bin/startpath-exec" "$b/execbench" 100 "$lib" "$xd/x" "$sg" child)
		set -- $r
		printf '%-28s %6.0f us %6.0f us %+6.0f us   (startpath-exec, STARTPATH_DISABLE=1: the extra exec alone)\n' "static Go" "$2" "$3" \
			"$(awk -v a="$3" -v b="$2" 'BEGIN{print a-b}')"
		awk -v p="$2" -v h="$3" 'BEGIN{printf "{\"program\":\"static Go (startpath-exec, disabled)\",\"untraced_us\":%.1f,\"hit_us\":%.1f,\"hit_added_us\":%.1f}\n", p, h, h-p}' >>"$out/exec.json"
	fi
fi
# What loading the library alone costs (STARTPATH_DISABLE=1: mapped, records nothing).
r=$(STARTPATH_DISABLE=1 "$b/execbench" 100 "$lib" "$xd/x" /bin/true)
set -- $r
printf '%-28s %6.0f us %6.0f us %+6.0f us   (library loaded, recording disabled)\n' true "$2" "$3" \
	"$(awk -v a="$3" -v b="$2" 'BEGIN{print a-b}')"
load_only=$(awk -v a="$3" -v b="$2" 'BEGIN{printf "%.1f", a-b}')

echo
echo "== 3b. library time per ctr run cold start (timing build; against the library before the cuts)"
libt="$out/libtime.json"
echo null >"$libt"
"$top/scripts/bench-libtime.sh" "${STARTPATH_BENCH_LIBTIME_ROUNDS:-40}" "$libt"

echo
echo "== 4. cold start"
cold="$out/cold.json"
echo null >"$cold"
"$top/scripts/bench-coldstart.sh" "${STARTPATH_BENCH_PAIRS:-300}" "$cold"

echo
echo "== 4b. CPU time per cold start"
cpu="$out/cpu.json"
echo null >"$cpu"
"$top/scripts/bench-cpu.sh" "${STARTPATH_BENCH_CPU_ROUNDS:-300}" "$cpu"

echo
echo "== 5. pod start"
pod="$out/pod.json"
echo null >"$pod"
"$top/scripts/bench-pod.sh" "${STARTPATH_BENCH_POD_PAIRS:-40}" "$pod"

echo
echo "== 6. docker run"
dock="$out/docker.json"
echo null >"$dock"
"$top/scripts/bench-docker.sh" "${STARTPATH_BENCH_DOCKER_PAIRS:-40}" "$dock"

echo
echo "== 7. image pull"
pull="$out/pull.json"
echo null >"$pull"
"$top/scripts/bench-pull.sh" "${STARTPATH_BENCH_PULL_PAIRS:-20}" "$pull"

arr() { if [ -s "$1" ]; then paste -sd, "$1"; fi; }
{
	printf '{"schema":"startpath/benchresults/v1","version":"%s",' \
		"$(sed -n 's/^#define STARTPATH_VERSION "\(.*\)"/\1/p' "$top/include/startpath.h")"
	printf '"machine":{"kernel":"%s","cpus":%d,"cpu":"%s"},' "$(uname -r)" "$(nproc)" \
		"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1 | tr -d '"\\')"
	printf '"date":"%s",' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '"calls":[%s],' "$(arr "$out/hooks.json")"
	printf '"ring":[%s],' "$(arr "$out/ring.json")"
	printf '"exec":[%s],"exec_load_only_added_us":%s,' "$(arr "$out/exec.json")" "$load_only"
	printf '"libtime":%s,"coldstart":%s,"coldstart_cpu":%s,"pod":%s,"docker":%s,"pull":%s}\n' "$(cat "$libt")" \
		"$(cat "$cold")" "$(cat "$cpu")" "$(cat "$pod")" "$(cat "$dock")" "$(cat "$pull")"
} >"$res.tmp"
mv "$res.tmp" "$res"
echo
echo "figures written to ${res#$top/}"

if [ "$(id -u)" -eq 0 ] && [ "${STARTPATH_BENCH_DIFF:-1}" != 0 ]; then
	echo
	echo "== 8. diff reliability"
	"$top/tests/bench/diff-reliability.sh" 20 12
fi
