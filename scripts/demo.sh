#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - one container cold start under startpath, then its Start Path Map.
# crun runs a busybox bundle built here from Debian's busybox-static (no
# network, no registry).  Needs root (namespaces and mounts).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/bundle.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "startpath: the demo starts a container and needs root: sudo make demo" >&2
	exit 1
fi
work="$top/build/demo"
rm -rf "$work"
mkdir -p "$work"
make_bundle "$work/bundle" '["/bin/echo","hello from a busybox container"]'
id="demo-$$"
echo "startpath demo: crun $(crun --version | head -1 | awk '{print $3}') starts container $id (busybox), traced by libstartpath.so"
echo
cd "$work/bundle"
in_cgroup2_ns "$top/build/bin/startpath" run -o "$work/out" -- \
	crun --root "$work/state" --cgroup-manager=disabled run "$id"
echo
echo "The files behind this map are in $work/out; list every call with:"
echo "  build/bin/startpath report $work/out --calls"
