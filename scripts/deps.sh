#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deps.sh PROFILE - make sure the Debian packages PROFILE needs are there.
#   build  compiler, pkg-config, cJSON, Check, capstone, libcurl
#   test   build + crun, busybox-static, strace, jq, util-linux, binutils,
#          containerd, runc, golang-go (a cgo test program), file, chromium
#          (the HTML test), python3 (an OTLP receiver), clang (make tsan),
#          capsh, docker.io (a stripped Go PIE daemon), and the Go sources of
#          runc and containerd with libseccomp
#          (t_static_ctr builds a static runc and shim from them)
#          containernetworking-plugins and python3-grpcio/-grpc-tools
#          (t_pod: CNI and a CRI client), podman and conmon (t_podman),
#          prometheus and kubectl (kubernetes-client) (t_watch),
#          docker-registry, curl and openssl (t_pull: a local registry, images
#          pushed to it with random layers)
#   demo   build + crun, busybox-static, jq, util-linux, containerd, runc
#   pod    demo + containernetworking-plugins, python3-grpcio, python3-grpc-tools
#          (scripts/demo.sh pod)
#   pull   demo + docker-registry, curl, openssl (scripts/demo.sh pull)
#   ci     build + containerd, runc, busybox-static, jq (scripts/ci-coldstart.sh)
# As root, missing packages are installed (and named); otherwise this stops
# with the exact apt-get line to run.
set -u
profile=${1:-build}
pkgs=(gcc make pkg-config libcjson-dev check libcapstone-dev libcurl4-openssl-dev)
case $profile in
build) ;;
test) pkgs+=(crun busybox-static strace jq util-linux binutils containerd runc golang-go file chromium python3 clang libcap2-bin
	golang-github-opencontainers-runc-dev libseccomp-dev golang-github-containerd-containerd-dev
	docker.io containernetworking-plugins python3-grpcio python3-grpc-tools python3-protobuf
	podman conmon prometheus python3-yaml docker-registry curl openssl)
	# t_watch validates the Kubernetes example with kubectl: Debian's
	# kubernetes-client, unless a kubectl is there already (another
	# package's would conflict with it).
	command -v kubectl >/dev/null 2>&1 || pkgs+=(kubernetes-client) ;;
demo) pkgs+=(crun busybox-static jq util-linux containerd runc) ;;
pod) pkgs+=(crun busybox-static jq util-linux containerd runc containernetworking-plugins
	python3-grpcio python3-grpc-tools python3-protobuf) ;;
pull) pkgs+=(crun busybox-static jq util-linux containerd runc docker-registry curl openssl) ;;
ci) pkgs+=(busybox-static jq containerd runc) ;;
*) echo "deps.sh: unknown profile '$profile' (build, test, demo, pod, pull, ci)" >&2; exit 2 ;;
esac
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "startpath: not a Debian system; make sure these are installed: ${pkgs[*]}" >&2
	exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "startpath: missing Debian packages for '$profile': ${missing[*]}" >&2
	echo "startpath: install them with:  sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "startpath: installing missing Debian packages for '$profile': ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "startpath: apt-get update failed; trying the install anyway" >&2
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/startpath-apt.log 2>&1; then
	cat /tmp/startpath-apt.log >&2
	echo "startpath: apt-get install ${missing[*]} failed (log above)" >&2
	exit 1
fi
echo "startpath: installed ${missing[*]}"
