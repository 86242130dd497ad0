#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ci-coldstart.sh - a cold-start regression gate for CI.
# On a Debian or Ubuntu runner, as root: installs what it needs (containerd,
# runc, busybox-static, build tools), builds startpath, starts a private
# containerd under libstartpath.so with a busybox image built on the spot,
# and benches N `ctr run --rm` cold starts:
#  - with --candidate-runc PATH, an A/B bench in one job: the runner's runc
#    and PATH take turns, judged on paired differences (a noisy runner's
#    drift cancels); no baseline needed;
#  - else against a stored baseline (a file from an earlier job); a
#    regression is confirmed by a second bench before the job fails.
# With --docker, the runner's own Docker is benched instead: `docker run
# --rm --network none IMAGE /bin/true` (IMAGE: --image, else a busybox image
# imported on the spot), read from DIR where dockerd records (--dir, default
# /run/startpath: dockerd must already run under the library, e.g. with
# examples/docker/startpath.conf); --candidate-image IMAGE2 makes it an A/B
# bench of two images.
#
#   scripts/ci-coldstart.sh [-n N] [--baseline FILE] [--save FILE]
#                           [--candidate-runc PATH] [-- DIFF-OPTIONS]
#   scripts/ci-coldstart.sh --docker [--dir DIR] [--image IMAGE]
#                           [--candidate-image IMAGE2] [-n N] [--baseline FILE]
#                           [--save FILE] [-- DIFF-OPTIONS]
#
# Exit: 0 no regression (or no baseline yet), 1 a phase regressed, 2 usage
# or setup error.  The bench (startpath/bench/v1) is written to --save.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
n=30 baseline= save= cand= docker= ddir=/run/startpath image= cimage=
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift 2 ;;
	--docker) docker=1; shift ;;
	--dir) ddir=$2; shift 2 ;;
	--image) image=$2; shift 2 ;;
	--candidate-image) cimage=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	--save) save=$2; shift 2 ;;
	--candidate-runc) cand=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "ci-coldstart: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "ci-coldstart: needs root (run it with sudo)" >&2; exit 2; }
[ -z "$cand" ] || [ -x "$cand" ] || { echo "ci-coldstart: --candidate-runc $cand: not an executable" >&2; exit 2; }
"$top/scripts/deps.sh" ci || exit 2
make -C "$top" --no-print-directory all >/dev/null || { echo "ci-coldstart: build failed" >&2; exit 2; }
. "$top/scripts/containerd-env.sh"
work=$(mktemp -d /tmp/startpath-ci.XXXXXX)
result="$work/bench.json"
if [ -n "$docker" ]; then
	trap 'rm -rf "$work"' EXIT
	docker info >/dev/null 2>&1 ||
		{ echo "ci-coldstart: --docker: no Docker daemon answers (is docker installed and running?)" >&2; exit 2; }
	[ -d "$ddir" ] && ls "$ddir" | grep -q '\.ring$' || {
		echo "ci-coldstart: --docker: dockerd records nothing in $ddir: install examples/docker/startpath.conf," >&2
		echo "  then: systemctl daemon-reload && systemctl restart docker (or give --dir)" >&2
		exit 2
	}
	if [ -z "$image" ]; then
		image=startpath-ci-bb:latest
		mkdir -p "$work/r/bin" "$work/r/proc" "$work/r/sys" "$work/r/dev" "$work/r/etc"
		cp /bin/busybox "$work/r/bin/" && ln -s busybox "$work/r/bin/true"
		tar -C "$work/r" -c . | docker import - "$image" >/dev/null ||
			{ echo "ci-coldstart: docker import failed" >&2; exit 2; }
	fi
	drun() { echo docker run --rm --network none "$1" /bin/true; }
	bench() {
		if [ -n "$cimage" ]; then
			# shellcheck disable=SC2046
			"$top/build/bin/startpath" bench -n "$n" --warmup 2 --dir "$ddir" -o "$1" -- \
				$(drun "$image") ::: $(drun "$cimage")
		else
			# shellcheck disable=SC2046
			"$top/build/bin/startpath" bench -n "$n" --warmup 2 --dir "$ddir" -o "$1" -- $(drun "$image")
		fi
	}
	cand=$cimage
	if [ -n "$cimage" ]; then
		echo "ci-coldstart: $n docker runs each of $image and $cimage, taking turns"
	else
		echo "ci-coldstart: $n cold starts of docker run --rm $image /bin/true under startpath"
	fi
else
out=$(mktemp -d /run/startpath-ci.XXXXXX)
trap 'ctrd_stop "$work"; rm -rf "$work" "$out"' EXIT
STARTPATH_OUT="$out" ctrd_start "$work" "$top/build/lib/libstartpath.so" || exit 2
ctrd_image "$work" || { echo "ci-coldstart: image import failed" >&2; exit 2; }
ctr_run() { echo ctr --address "$work/containerd.sock" run --rm "$@" docker.io/library/bb:latest; }
bench() { # bench OUT: N cold starts, or the A/B pair
	if [ -n "$cand" ]; then
		# shellcheck disable=SC2046
		"$top/build/bin/startpath" bench -n "$n" --warmup 2 --dir "$out" -o "$1" -- \
			$(ctr_run) 'a{}' /bin/true ::: $(ctr_run --runc-binary "$cand") 'b{}' /bin/true
	else
		# shellcheck disable=SC2046
		"$top/build/bin/startpath" bench -n "$n" --warmup 2 --dir "$out" -o "$1" -- \
			$(ctr_run) '{}' /bin/true
	fi
}
if [ -n "$cand" ]; then
	echo "ci-coldstart: $n cold starts each of the runner's runc and $cand, taking turns"
else
	echo "ci-coldstart: $n cold starts of ctr run --rm busybox /bin/true under startpath"
fi
fi
bench "$result" || { echo "ci-coldstart: bench failed" >&2; exit 2; }
[ -n "$save" ] && cp "$result" "$save"
if [ -n "$cand" ]; then
	echo
	base_name="the runner's runc"
	[ -n "$docker" ] && base_name=$image
	echo "ci-coldstart: $cand against $base_name, paired by round"
	"$top/build/bin/startpath" diff "$@" "$result"
	exit $?
fi
if [ -z "$baseline" ]; then
	echo "ci-coldstart: no baseline given; results${save:+ saved in $save}"
	exit 0
fi
if [ ! -f "$baseline" ]; then
	echo "ci-coldstart: baseline $baseline does not exist yet; results${save:+ saved in $save}"
	exit 0
fi
echo
echo "ci-coldstart: compared with $baseline"
"$top/build/bin/startpath" diff "$@" "$baseline" "$result"
rc=$?
[ $rc -eq 1 ] || exit $rc
# A stored baseline was measured on another runner, at another hour: before
# failing, bench again and count only what that second bench shows too.
echo
echo "ci-coldstart: a regression against the baseline: confirming with a second bench"
bench "$work/confirm.json" || { echo "ci-coldstart: confirmation bench failed" >&2; exit 2; }
"$top/build/bin/startpath" diff "$@" --confirm "$work/confirm.json" "$baseline" "$result"
