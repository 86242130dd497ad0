#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# diff-reliability.sh [K] [N] - how often `startpath diff` cries wolf and how
# often it catches a real delay, on crun (root): K comparisons of two benches
# of the same setup (expect exit 0), and K comparisons of a bench against one
# whose createRuntime hook sleeps 10 ms (expect exit 1, rootfs_setup flagged).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/bundle.sh"
K=${1:-20}
N=${2:-12}
sp="$top/build/bin/startpath"
[ "$(id -u)" -eq 0 ] || { echo "diff reliability: needs root (crun)"; exit 0; }
work=$(mktemp -d /tmp/startpath-diffrel.XXXXXX)
trap 'rm -rf "$work"' EXIT
make_bundle "$work/b" '["/bin/true"]' >/dev/null
cp -a "$work/b" "$work/slow"
jq '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "0.01"]}]}' \
	"$work/b/config.json" >"$work/slow/config.json"
bench() { (cd "$1" && in_cgroup2_ns "$sp" bench -q -n "$N" -o "$2" -- \
	crun --root "$work/state" --cgroup-manager=disabled run '{}') >/dev/null 2>&1; }
quiet=0 caught=0 only=0
for i in $(seq 1 "$K"); do
	bench "$work/b" "$work/a.json"; bench "$work/b" "$work/c.json"; bench "$work/slow" "$work/s.json"
	"$sp" diff "$work/a.json" "$work/c.json" >/dev/null && quiet=$((quiet + 1))
	"$sp" diff "$work/a.json" "$work/s.json" --format json >"$work/d.json"
	flagged=$(jq -r '[.phases[] | select(.verdict=="REGRESSION" and .name!="total") | .name] | join(",")' "$work/d.json")
	case ",$flagged," in *,rootfs_setup,*) caught=$((caught + 1)) ;; esac
	[ "$flagged" = rootfs_setup ] && only=$((only + 1))
	[ -t 1 ] && printf '\r  %d/%d' "$i" "$K"
done
[ -t 1 ] && printf '\r'
echo "diff reliability (crun, $N runs per bench, default thresholds: 10%, 1 ms, alpha 0.01):"
echo "  same setup, no regression reported: $quiet of $K"
echo "  10 ms delay in rootfs_setup caught: $caught of $K (no other phase flagged: $only of $K)"
