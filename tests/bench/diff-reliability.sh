#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# diff-reliability.sh [K] [N] - how often `startpath diff` cries wolf and how
# often it catches a real delay, on crun (root), at default thresholds (10%,
# 1 ms, alpha 0.01), each figure out of K comparisons of benches of N runs:
#   - on a quiet machine and with a CPU-bound neighbour on one of the two
#     cores for the whole run (a shared CI runner);
#   - A/B benches (base ::: candidate taking turns, judged on paired
#     differences) and, for comparison, two benches run one after the other
#     (a stored baseline, with the drift allowance);
#   - same setup (expect no regression), and a candidate whose createRuntime
#     hook sleeps 10 ms (expect rootfs_setup flagged, and no other phase).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/bundle.sh"
K=${1:-20}
N=${2:-12}
sp="$top/build/bin/startpath"
[ "$(id -u)" -eq 0 ] || { echo "diff reliability: needs root (crun)"; exit 0; }
work=$(mktemp -d /tmp/startpath-diffrel.XXXXXX)
hog=
trap '[ -n "$hog" ] && kill "$hog" 2>/dev/null; rm -rf "$work"' EXIT
make_bundle "$work/b" '["/bin/true"]' >/dev/null
cp -a "$work/b" "$work/slow"
jq '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "0.01"]}]}' \
	"$work/b/config.json" >"$work/slow/config.json"
crun_cmd() { echo crun --root "$work/state" --cgroup-manager=disabled run --bundle "$1" "$2"; }
bench() { # bench OUT BUNDLE [CANDIDATE-BUNDLE]
	local out=$1
	shift
	if [ $# -eq 2 ]; then
		# shellcheck disable=SC2046
		in_cgroup2_ns "$sp" bench -q -n "$N" -o "$out" -- $(crun_cmd "$1" 'a{}') ::: \
			$(crun_cmd "$2" 'b{}') >/dev/null 2>&1
	else
		# shellcheck disable=SC2046
		in_cgroup2_ns "$sp" bench -q -n "$N" -o "$out" -- $(crun_cmd "$1" 'a{}') >/dev/null 2>&1
	fi
}
flagged() { # flagged DIFF-ARGS...: the flagged phases, total left out
	"$sp" diff "$@" --format json 2>/dev/null |
		jq -r '[.phases[] | select(.verdict=="REGRESSION" and .name!="total") | .name] | join(",")'
}
measure() { # measure LABEL
	local quiet=0 caught=0 only=0 squiet=0 scaught=0 sonly=0 f
	for i in $(seq 1 "$K"); do
		bench "$work/ab-same.json" "$work/b" "$work/b"
		bench "$work/ab-slow.json" "$work/b" "$work/slow"
		[ -z "$(flagged "$work/ab-same.json")" ] && quiet=$((quiet + 1))
		f=$(flagged "$work/ab-slow.json")
		case ",$f," in *,rootfs_setup,*) caught=$((caught + 1)) ;; esac
		[ "$f" = rootfs_setup ] && only=$((only + 1))
		bench "$work/a.json" "$work/b"; bench "$work/c.json" "$work/b"; bench "$work/s.json" "$work/slow"
		[ -z "$(flagged "$work/a.json" "$work/c.json")" ] && squiet=$((squiet + 1))
		f=$(flagged "$work/a.json" "$work/s.json")
		case ",$f," in *,rootfs_setup,*) scaught=$((scaught + 1)) ;; esac
		[ "$f" = rootfs_setup ] && sonly=$((sonly + 1))
		[ -t 1 ] && printf '\r  %s %d/%d' "$1" "$i" "$K"
	done
	[ -t 1 ] && printf '\r\033[K'
	echo "  $1, A/B benches (paired):"
	echo "    same setup, no regression reported: $quiet of $K"
	echo "    10 ms delay in rootfs_setup caught: $caught of $K (no other phase flagged: $only of $K)"
	echo "  $1, benches run one after the other (stored baseline):"
	echo "    same setup, no regression reported: $squiet of $K"
	echo "    10 ms delay in rootfs_setup caught: $scaught of $K (no other phase flagged: $sonly of $K)"
}
echo "diff reliability (crun, $N runs per bench side, default thresholds: 10%, 1 ms, alpha 0.01):"
measure "quiet"
sh -c 'while :; do :; done' & hog=$!
measure "a CPU-bound neighbour on one core"
