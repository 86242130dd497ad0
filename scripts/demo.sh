#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - one container cold start under startpath, then its Start Path Map.
# A private containerd (own root, state and socket under build/demo) runs
# with libstartpath.so preloaded; a busybox image is built here from
# Debian's busybox-static and imported (no network, no registry); one
# `ctr run --rm` starts a container through the shim and runc.
#   scripts/demo.sh          containerd + containerd-shim-runc-v2 + runc
#   scripts/demo.sh crun     crun alone, on a busybox bundle
#   scripts/demo.sh pod      a Kubernetes pod of two containers through
#                            containerd's CRI (CNI bridge, a local pause
#                            image), started as a kubelet does (scripts/cri)
#   scripts/demo.sh pull     a cold start of an image not on the node: a
#                            private registry on 127.0.0.1 (docker-registry),
#                            a 3-layer image pushed to it, `ctr image pull`
#                            then `ctr run`: the map opens with the pull
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/bundle.sh"
. "$top/scripts/containerd-env.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "startpath: the demo starts a container and needs root: sudo make demo" >&2
	exit 1
fi
sp="$top/build/bin/startpath"
lib="$top/build/lib/libstartpath.so"
work="$top/build/demo"
if [ "${1:-}" = crun ]; then
	rm -rf "$work"
	mkdir -p "$work"
	make_bundle "$work/bundle" '["/bin/echo","hello from a busybox container"]'
	id="demo-$$"
	echo "startpath demo: crun $(crun --version | head -1 | awk '{print $3}') starts container $id (busybox)"
	echo
	cd "$work/bundle"
	in_cgroup2_ns "$sp" run -o "$work/out" -- crun --root "$work/state" --cgroup-manager=disabled run "$id"
	exit 0
fi
if [ "${1:-}" = pod ]; then
	"$top/scripts/deps.sh" pod
	. "$top/scripts/cri-env.sh"
	work="$top/build/demo-pod"
	[ -d "$work" ] && cri_stop "$work" 2>/dev/null
	rm -rf "$work"
	mkdir -p "$work"
	trap 'cri_stop "$work" || true' EXIT
	echo "startpath demo: a private CRI containerd $(containerd --version | awk '{print $3}') under libstartpath.so (in $work),"
	echo "  CNI bridge + host-local + loopback from /usr/lib/cni, pause and busybox images built here"
	cri_start "$work" "$lib"
	echo "  scripts/cri/cri.py: RunPodSandbox, CreateContainer + StartContainer x2, then the teardown"
	echo
	cri_client "$work" pod --name demo --containers 2 --logdir "$work/logs" |
		jq -r '"  pod \(.name): RunPodSandbox \(.run_pod_sandbox_ms | floor) ms, last StartContainer returned at \(.start_ms | floor) ms (client side)"'
	echo
	"$sp" report "$work/out" --container demo
	echo
	echo "Every call behind this map:  build/bin/startpath report $work/out --container demo --calls"
	exit 0
fi
if [ "${1:-}" = pull ]; then
	"$top/scripts/deps.sh" pull
	. "$top/scripts/registry-env.sh"
	work="$top/build/demo-pull"
	[ -d "$work" ] && { ctrd_stop "$work/c" 2>/dev/null; reg_stop "$work/reg" 2>/dev/null; }
	rm -rf "$work"
	mkdir -p "$work"
	trap 'ctrd_stop "$work/c" || true; reg_stop "$work/reg" || true' EXIT
	reg_start "$work/reg"
	echo "startpath demo: a private registry (docker-registry) on $REG_ADDR,"
	echo "  image app: busybox + 20 MB + 60 MB layers of random data, built here and pushed"
	reg_image "$work/reg" app 20 60
	echo "  a private containerd $(containerd --version | awk '{print $3}') under libstartpath.so (in $work/c)"
	ctrd_start "$work/c" "$lib"
	id="demo-$$"
	echo "  ctr image pull --plain-http $REG_ADDR/app:latest (under the library too: it resolves),"
	echo "  then ctr run --rm $REG_ADDR/app:latest $id"
	echo
	LD_PRELOAD="$lib" STARTPATH_DIR="$work/c/out" ctr --address "$work/c/containerd.sock" \
		image pull --plain-http "$REG_ADDR/app:latest" >/dev/null
	ctrd_ctr "$work/c" run --rm "$REG_ADDR/app:latest" "$id" /bin/echo "hello from a pulled image"
	echo
	"$sp" report "$work/c/out" --container "$id"
	echo
	echo "Every call behind this map:  build/bin/startpath report $work/c/out --container $id --calls"
	exit 0
fi
[ -d "$work" ] && ctrd_stop "$work" 2>/dev/null
rm -rf "$work"
mkdir -p "$work"
trap 'ctrd_stop "$work" || true' EXIT
echo "startpath demo: a private containerd $(containerd --version | awk '{print $3}') under libstartpath.so (in $work)"
ctrd_start "$work" "$lib"
echo "  busybox image built from /bin/busybox and imported as docker.io/library/bb:latest"
ctrd_image "$work"
# Decode the shim's and runc's syscall sites once, as a host's first start
# would; every later exec reads them from the site cache.
for b in /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc; do
	STARTPATH_DIR="$work/out" LD_PRELOAD="$lib" "$b" --version >/dev/null 2>&1 || true
done
id="demo-$$"
echo "  ctr run --rm docker.io/library/bb:latest $id /bin/echo hello"
echo
ctrd_ctr "$work" run --rm docker.io/library/bb:latest "$id" /bin/echo "hello from a busybox container"
echo
"$sp" report "$work/out" --container "$id"
echo
echo "Every call behind this map:  build/bin/startpath report $work/out --container $id --calls"
echo "containerd keeps running under the library until the demo ends; its files stay in $work/out."
