# SPDX-License-Identifier: Apache-2.0
# cri-env.sh - a private containerd with its CRI plugin on, CNI from Debian's
# containernetworking-plugins on a private bridge, a locally built pause
# image: what a Kubernetes node runs, offline (sourced by the demo, the tests
# and the benchmarks; needs containerd-env.sh sourced first).
#   cri_start DIR [LIB]    start it (preloading LIB if given); its files under DIR
#   cri_client DIR ARGS... scripts/cri/cri.py against it (pod, pods)
#   cri_stop DIR           stop it, its shims and pods, and remove what it
#                          left outside DIR (bridge, CNI cache, cgroups)
# CRI_CNI_EXTRA: a JSON object of one more plugin, chained after the bridge.
# CRI_CNI_BIN: extra directory searched for CNI plugins (before /usr/lib/cni).
# CRI_REGISTRY: HOST:PORT of a plain-HTTP registry (registry-env.sh) to pull from.
_cri_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Names of this instance's bridge and network, from DIR: two instances
# (a test and the demo) do not share them.
_cri_tag() { printf '%s' "$1" | sha256sum | cut -c1-6; }

cri_start() {
	local d=$1 lib=${2:-} tag h net extra=""
	tag=$(_cri_tag "$d")
	h=$((16#$tag))
	net="startpath-$tag"
	mkdir -p "$d/root" "$d/state" "$d/out" "$d/cni/conf" "$d/cni/ipam" "$d/logs"
	chmod 0700 "$d/out"
	[ -n "${CRI_CNI_EXTRA:-}" ] && extra=", $CRI_CNI_EXTRA"
	cat >"$d/cni/conf/10-startpath.conflist" <<EOT
{ "cniVersion": "1.0.0", "name": "$net", "plugins": [
  { "type": "bridge", "bridge": "sp$tag", "isGateway": false, "ipMasq": false,
    "ipam": { "type": "host-local", "dataDir": "$d/cni/ipam",
              "ranges": [[{ "subnet": "10.$((200 + h % 50)).$((h / 50 % 250)).0/24" }]] } }$extra,
  { "type": "loopback" } ] }
EOT
	cat >"$d/config.toml" <<EOT
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/pause:latest"
  netns_mounts_under_state_dir = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni/conf"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$d/runc"
EOT
	if [ -n "${CRI_REGISTRY:-}" ]; then
		cat >>"$d/config.toml" <<EOT
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$CRI_REGISTRY"]
    endpoint = ["http://$CRI_REGISTRY"]
EOT
	fi
	if [ -n "${CRI_CNI_BIN:-}" ]; then
		# containerd 1.6 takes one bin_dir: a private one with links to
		# Debian's plugins and the extra ones.
		mkdir -p "$d/cni/bin"
		ln -sf /usr/lib/cni/* "$d/cni/bin/"
		ln -sf "$CRI_CNI_BIN"/* "$d/cni/bin/"
		sed -i "s|bin_dir = .*|bin_dir = \"$d/cni/bin\"|" "$d/config.toml"
	fi
	if [ -n "$lib" ]; then
		LD_PRELOAD="$lib" STARTPATH_DIR="${STARTPATH_OUT:-$d/out}" \
			containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
	else
		containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
	fi
	echo $! >"$d/containerd.pid"
	for _ in $(seq 1 150); do
		if [ -S "$d/containerd.sock" ] && ctr --address "$d/containerd.sock" version >/dev/null 2>&1; then
			ctrd_image "$d" pause '["/bin/sleep","2147483647"]' k8s.io &&
				ctrd_image "$d" bb '["/bin/sh"]' k8s.io && return 0
			echo "cri_start: image import failed" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "containerd (CRI) did not start; its log:" >&2
	tail -20 "$d/containerd.log" >&2
	return 1
}

cri_client() {
	local d=$1
	shift
	/usr/bin/python3 "$_cri_here/cri/cri.py" --address "$d/containerd.sock" \
		--cgroup-parent "/startpath-cri-$(_cri_tag "$d")" "$@"
}

cri_stop() {
	local d=$1 pid tag
	tag=$(_cri_tag "$d")
	pid=$(cat "$d/containerd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	# The shims and what they run (pause, the apps) die with their shim.
	pkill -9 -f "containerd-shim-runc-v2 -namespace k8s.io -id .* -address $d/containerd.sock" 2>/dev/null || true
	sleep 0.2
	grep -F "$d/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	ip link delete "sp$tag" 2>/dev/null || true
	rm -f /var/lib/cni/results/startpath-"$tag"-* 2>/dev/null || true
	for c in /sys/fs/cgroup/*/startpath-cri-"$tag" /sys/fs/cgroup/startpath-cri-"$tag"; do
		[ -d "$c" ] || continue
		find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	rm -f "$d/containerd.pid"
	return 0
}
