# SPDX-License-Identifier: Apache-2.0
# containerd-env.sh - a private containerd and a local busybox image, offline
# (sourced by the demo, the tests and the benchmarks).
#   ctrd_start DIR [LIB [WRAPPER]]
#                          start containerd with its own root, state, socket and
#                          config under DIR (preloading LIB if given, run under
#                          WRAPPER, e.g. "strace -f -o F", if given); with
#                          CTRD_ROOT_FLAGS=1 the root and state are given as
#                          --root/--state flags instead of in the config
#   ctrd_image DIR [NAME [CMD [NS]]]
#                          build and import docker.io/library/NAME:latest (bb),
#                          a busybox image whose Cmd is the JSON array CMD
#                          (["/bin/sh"]), into namespace NS (ctr's default)
#   ctrd_ctr DIR ARGS...   ctr against it
#   ctrd_stop DIR          stop it and unmount what it left
ctrd_start() {
	local d=$1 lib=${2:-} wrap=${3:-} paths flags=()
	mkdir -p "$d/root" "$d/state" "$d/out"
	chmod 0700 "$d/out" # the library records only where nobody else can write
	paths="root = \"$d/root\"
state = \"$d/state\""
	if [ "${CTRD_ROOT_FLAGS:-}" = 1 ]; then
		paths=""
		flags=(--root "$d/root" --state "$d/state")
	fi
	cat >"$d/config.toml" <<EOT
version = 2
$paths
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
EOT
	if [ -n "$lib" ]; then
		# No STARTPATH_PREFIXES: the library learns this containerd's root
		# and state from its config, as on any installation.
		LD_PRELOAD="$lib" STARTPATH_DIR="${STARTPATH_OUT:-$d/out}" \
			$wrap containerd --config "$d/config.toml" "${flags[@]}" >"$d/containerd.log" 2>&1 &
	else
		$wrap containerd --config "$d/config.toml" "${flags[@]}" >"$d/containerd.log" 2>&1 &
	fi
	echo $! >"$d/containerd.pid"
	for _ in $(seq 1 100); do
		[ -S "$d/containerd.sock" ] && ctr --address "$d/containerd.sock" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "containerd did not start; its log:" >&2
	tail -20 "$d/containerd.log" >&2
	return 1
}

# `ctr run` opens the container's stdout FIFO from a goroutine and, once the
# task has exited, cancels that open: a process that prints and exits before
# ctr gets scheduled loses its output (ctr exits 0, prints nothing; seen under
# a CPU hog with and without the library). A start whose output is checked
# runs `sh -c "echo ...; sleep 0.2"`.
ctrd_ctr() {
	local d=$1
	shift
	ctr --address "$d/containerd.sock" "$@"
}

ctrd_image() {
	local d=$1 name=${2:-bb} cmd=${3:-'["/bin/sh"]'} ns=${4:-default} img l c m
	img="$d/image-$name"
	rm -rf "$img"
	mkdir -p "$img/rootfs/bin" "$img/layout/blobs/sha256"
	cp /bin/busybox "$img/rootfs/bin/busybox"
	for a in sh echo true cat ls sleep mount nc wget; do ln -sf busybox "$img/rootfs/bin/$a"; done
	mkdir -p "$img/rootfs/etc" "$img/rootfs/proc" "$img/rootfs/sys" "$img/rootfs/dev" "$img/rootfs/tmp"
	tar -C "$img/rootfs" --numeric-owner --owner=0 --group=0 -cf "$img/layer.tar" .
	l=$(sha256sum "$img/layer.tar" | cut -d' ' -f1)
	cp "$img/layer.tar" "$img/layout/blobs/sha256/$l"
	printf '{"architecture":"amd64","os":"linux","config":{"Cmd":%s,"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$cmd" "$l" >"$img/config.json"
	c=$(sha256sum "$img/config.json" | cut -d' ' -f1)
	cp "$img/config.json" "$img/layout/blobs/sha256/$c"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
		"$c" "$(stat -c %s "$img/config.json")" "$l" "$(stat -c %s "$img/layer.tar")" >"$img/manifest.json"
	m=$(sha256sum "$img/manifest.json" | cut -d' ' -f1)
	cp "$img/manifest.json" "$img/layout/blobs/sha256/$m"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
		"$m" "$(stat -c %s "$img/manifest.json")" >"$img/layout/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$img/layout/oci-layout"
	tar -C "$img/layout" -cf "$img/$name.tar" .
	ctrd_ctr "$d" -n "$ns" image import --base-name "docker.io/library/$name" "$img/$name.tar" >/dev/null
}

ctrd_stop() {
	local d=$1 pid
	pid=$(cat "$d/containerd.pid" 2>/dev/null) || return 0
	for t in $(ctrd_ctr "$d" task ls -q 2>/dev/null); do ctrd_ctr "$d" task kill -s KILL "$t" >/dev/null 2>&1 || true; done
	# $pid may be a wrapper (strace): stop containerd itself by its config.
	pkill -f "containerd --config $d/config.toml" 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	pkill -9 -f "containerd --config $d/config.toml" 2>/dev/null || true
	kill -9 "$pid" 2>/dev/null || true
	pkill -f "containerd-shim-runc-v2 -namespace [a-z]* -id .* -address $d/containerd.sock" 2>/dev/null || true
	grep -F "$d/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -f "$d/containerd.pid"
	return 0
}
