#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-libtime.sh [ROUNDS [JSON]] - the time libstartpath.so spends inside
# itself per `ctr run --rm` cold start (busybox, /bin/true), summed over
# every traced process of the start (containerd's share included): a timing
# build (make SELFTIME=1) preloaded into a private containerd, its rings'
# headers read after each run (tests/bench/libtime.c).  Broken down by
# where: load (the constructor), calls, fork children, exec preparation,
# exit, and, taken out of those, making the ring files and reading and
# applying the syscall sites' patch plans (a reference built before these
# two had columns counts them in the others).
#
# With a reference (STARTPATH_BENCH_LIBTIME_REF, a git commit; default the
# commit that added the timing build, the library before the cost cuts of
# issue 20), its timing build is made in a temporary worktree and preloaded
# into a second containerd; the two take turns, ROUNDS each (default 40),
# and the ratio of the medians is printed.  STARTPATH_BENCH_LIBTIME_REF=none
# leaves it out.  With JSON, the figures are also written there.  Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
. "$top/scripts/bench-stats.sh"
rounds=${1:-40}
json=${2:-}
ref=${STARTPATH_BENCH_LIBTIME_REF:-ff04b48}
if [ "$(id -u)" -ne 0 ]; then
	echo "library-time benchmark skipped: needs root (containerd)"
	exit 0
fi
for c in containerd ctr runc; do
	command -v $c >/dev/null || { echo "library-time benchmark skipped: no $c"; exit 0; }
done
work=$(mktemp -d /tmp/startpath-libtime.XXXXXX)
# The rings go on a tmpfs, as by default on a systemd host (/run).
out=$(mktemp -d /run/startpath-libtime.XXXXXX)
[ "$(stat -f -c %T "$out")" = tmpfs ] || mount -t tmpfs -o size=512m,mode=0700 splibtime "$out"
trap 'ctrd_stop "$work/cur"; ctrd_stop "$work/ref"; umount "$out" 2>/dev/null; rm -rf "$out"; [ -d "$work/tree" ] && git -C "$top" worktree remove --force "$work/tree" >/dev/null 2>&1; rm -rf "$work"' EXIT
make -C "$top" --no-print-directory -s SELFTIME=1 build/selftime/lib/libstartpath.so || exit 1
make -C "$top" --no-print-directory -s build/bench/libtime || exit 1
lt="$top/build/bench/libtime"
modes=cur
if [ "$ref" != none ]; then
	if git -C "$top" rev-parse -q --verify "$ref^{commit}" >/dev/null 2>&1 &&
		git -C "$top" worktree add -q --detach "$work/tree" "$ref" >/dev/null 2>&1 &&
		make -C "$work/tree" --no-print-directory -s SELFTIME=1 build/selftime/lib/libstartpath.so >/dev/null 2>&1; then
		modes="cur ref"
	else
		echo "  (no reference: commit $ref is not in this repository or does not build)"
	fi
fi
# Nothing may be removed while the rings are summed.
export STARTPATH_KEEP_PROCS=1000000 STARTPATH_KEEP_MB=1000000 STARTPATH_KEEP_AGE=1000000
mkdir -p -m 0700 "$out/cur"
STARTPATH_OUT="$out/cur" ctrd_start "$work/cur" "$top/build/selftime/lib/libstartpath.so" || exit 1
if [ "$modes" = "cur ref" ]; then
	mkdir -p -m 0700 "$out/ref"
	STARTPATH_OUT="$out/ref" ctrd_start "$work/ref" "$work/tree/build/selftime/lib/libstartpath.so" || exit 1
fi
for m in $modes; do ctrd_image "$work/$m" || exit 1; done
run() { # run MODE ID: one start; appends "rings load calls child exec exit ring plan total" (delta) to MODE.t
	local before after
	before=$("$lt" "$out/$1")
	ctrd_ctr "$work/$1" run --rm docker.io/library/bb:latest "$2" /bin/true >/dev/null 2>&1 || echo "run failed" >&2
	after=$("$lt" "$out/$1")
	echo "$before $after" | awk '{n=NF/2; s=""; for (i=1;i<=n;i++) s=s (i>1?" ":"") $(n+i)-$i; print s}' >>"$work/$1.t"
}
for m in $modes; do run "$m" "w$m" && : >"$work/$m.t"; done
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) -eq 0 ]; then order=$modes; else order=$(echo $modes | awk '{for(i=NF;i>0;i--) printf "%s ", $i}'); fi
	for m in $order; do run "$m" "$m$i"; done
	[ -t 1 ] && printf '\r  %d/%d rounds' "$i" "$rounds"
done
[ -t 1 ] && printf '\r'
col() { awk -v c="$2" '{print $c}' "$1" >"$1.$2"; med "$1.$2"; }
echo "library time per ctr run cold start, summed over its traced processes ($rounds rounds, medians):"
printf '  %-10s %6s %9s %9s %9s %9s %9s %9s %9s %9s\n' build procs load calls fork exec exit ring plan total
for m in $modes; do
	label=$m
	[ "$m" = cur ] && label="this"
	[ "$m" = ref ] && label="${ref:0:10}"
	printf '  %-10s %6s' "$label" "$(col "$work/$m.t" 1)"
	for c in 2 3 4 5 6 7 8 9; do printf ' %6.0f us' "$(awk -v v="$(col "$work/$m.t" $c)" 'BEGIN{print v/1000}')"; done
	echo
done
cur=$(col "$work/cur.t" 9)
refv=null
if [ "$modes" = "cur ref" ]; then
	refv=$(col "$work/ref.t" 9)
	printf '  this build / reference: %.2f\n' "$(awk -v a="$cur" -v b="$refv" 'BEGIN{print a/b}')"
fi
if [ -n "$json" ]; then
	printf '{"rounds":%d,"total_ns":%s,"ring_ns":%s,"plan_ns":%s,"reference":"%s","reference_total_ns":%s,"procs":%s}\n' \
		"$rounds" "$cur" "$(col "$work/cur.t" 7)" "$(col "$work/cur.t" 8)" "$ref" "$refv" "$(col "$work/cur.t" 1)" >"$json"
fi
