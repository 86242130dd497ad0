#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-cpu.sh [ROUNDS [JSON]] - the CPU time libstartpath.so adds to a
# `ctr run --rm` cold start (busybox, /bin/true): two private containerds,
# one untraced and one with the library preloaded, each with its ctr client
# in a cgroup of its own (cgroup v2 cpu.stat usage_usec, or v1 cpuacct),
# taking turns for ROUNDS rounds (default 100; 300 resolve about +-0.9 ms
# here).  Per start: the CPU time the cgroup used (containerd, its client,
# the shims, runc create, start and delete; runc init and the container
# move to the container's cgroup and are not in it, on both sides).
# Reported: both medians and the median of the per-round differences with
# its 95% confidence interval.  CPU time does not wait for the scheduler:
# about 2.5 times finer than the wall clock of bench-coldstart.sh over as
# many rounds.
# With JSON, the figures are also written there.  Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/containerd-env.sh"
. "$top/scripts/bench-stats.sh"
rounds=${1:-100}
json=${2:-}
if [ "$(id -u)" -ne 0 ]; then
	echo "CPU-time benchmark skipped: needs root (containerd, cgroups)"
	exit 0
fi
for c in containerd ctr runc; do
	command -v $c >/dev/null || { echo "CPU-time benchmark skipped: no $c"; exit 0; }
done
# Where a cgroup's CPU time is read: cg_new NAME -> its directory
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	cgroot=/sys/fs/cgroup
	cg_usage() { awk '$1 == "usage_usec" {print $2}' "$1/cpu.stat"; }
	cg_procs=cgroup.procs
elif [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
	cgroot=/sys/fs/cgroup/cpuacct
	cg_usage() { echo $(($(cat "$1/cpuacct.usage") / 1000)); }
	cg_procs=tasks
else
	echo "CPU-time benchmark skipped: neither cgroup v2 nor v1 cpuacct at /sys/fs/cgroup"
	exit 0
fi
work=$(mktemp -d /tmp/startpath-cpubench.XXXXXX)
out=$(mktemp -d /run/startpath-cpubench.XXXXXX)
[ "$(stat -f -c %T "$out")" = tmpfs ] || mount -t tmpfs -o size=512m,mode=0700 spcpubench "$out"
tag=$(basename "$work")
cleanup() {
	ctrd_stop "$work/plain"
	ctrd_stop "$work/lib"
	umount "$out" 2>/dev/null
	rm -rf "$work" "$out"
	for m in plain lib; do rmdir "$cgroot/$tag-$m" 2>/dev/null; done
}
trap cleanup EXIT
for m in plain lib; do mkdir "$cgroot/$tag-$m" || exit 1; done
# Each containerd is started from a shell already in its cgroup: it and
# every process it starts are counted there.
(echo "$BASHPID" >"$cgroot/$tag-plain/$cg_procs" && ctrd_start "$work/plain") || exit 1
(echo "$BASHPID" >"$cgroot/$tag-lib/$cg_procs" &&
	STARTPATH_OUT="$out" ctrd_start "$work/lib" "$top/build/lib/libstartpath.so") || exit 1
for m in plain lib; do ctrd_image "$work/$m" || exit 1; done
run() { # run MODE ID -> CPU microseconds of one start
	local g="$cgroot/$tag-$1" b a
	b=$(cg_usage "$g")
	(echo "$BASHPID" >"$g/$cg_procs" &&
		ctrd_ctr "$work/$1" run --rm docker.io/library/bb:latest "$2" /bin/true >/dev/null 2>&1) ||
		echo "run failed" >&2
	# What the shim does after ctr returns (its exit) is this start's too.
	sleep 0.05
	a=$(cg_usage "$g")
	echo $((a - b))
}
for i in 1 2 3; do for m in plain lib; do run "$m" "w$i" >/dev/null; done; done
: >"$work/plain.t"
: >"$work/lib.t"
: >"$work/diff.t"
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) -eq 0 ]; then order="plain lib"; else order="lib plain"; fi
	for m in $order; do run "$m" "$m$i" >"$work/last.$m"; cat "$work/last.$m" >>"$work/$m.t"; done
	echo $(($(cat "$work/last.lib") - $(cat "$work/last.plain"))) >>"$work/diff.t"
	[ -t 1 ] && printf '\r  %d/%d rounds' "$i" "$rounds"
done
[ -t 1 ] && printf '\r'
p=$(med "$work/plain.t")
l=$(med "$work/lib.t")
d=$(med "$work/diff.t")
set -- $(ci "$work/diff.t")
echo "CPU time per ctr run cold start (containerd, client, shims, runc but runc init), $rounds alternating rounds:"
printf '  untraced          median %8.2f ms\n' "$(awk -v a="$p" 'BEGIN{print a/1000}')"
printf '  libstartpath.so   median %8.2f ms   added per round: median %+.2f ms, 95%% CI %+.2f to %+.2f ms (%+.1f%%)\n' \
	"$(awk -v a="$l" 'BEGIN{print a/1000}')" "$(awk -v a="$d" 'BEGIN{print a/1000}')" \
	"$(awk -v a="$1" 'BEGIN{print a/1000}')" "$(awk -v a="$2" 'BEGIN{print a/1000}')" \
	"$(awk -v a="$d" -v b="$p" 'BEGIN{print 100*a/b}')"
if [ -n "$json" ]; then
	awk -v n="$rounds" -v p="$p" -v l="$l" -v d="$d" -v lo="$1" -v hi="$2" 'BEGIN {
		printf "{\"rounds\":%d,\"untraced_cpu_ms\":%.3f,\"library_cpu_ms\":%.3f,", n, p/1000, l/1000
		printf "\"added_cpu_ms_per_round_median\":%.3f,\"added_cpu_ms_ci95\":[%.3f,%.3f]}\n", d/1000, lo/1000, hi/1000 }' >"$json"
fi
