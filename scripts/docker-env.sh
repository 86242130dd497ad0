# SPDX-License-Identifier: Apache-2.0
# docker-env.sh - a private dockerd (Debian's docker.io) and a local busybox
# image, offline (sourced by the demo, the tests and the benchmarks).
#   dockerd_start DIR [LIB]  start dockerd with its own data-root, exec-root,
#                            socket, no bridge and no iptables (preloading LIB
#                            if given; its files go to DIR/out, or
#                            $STARTPATH_OUT); it starts its own containerd
#   dockerd_image DIR        import bb:latest, a busybox-static rootfs
#   dockerd_cli DIR ARGS...  Debian's docker client against it
#   dockerd_stop DIR         stop it (by pid), its containerd and shims, and
#                            unmount what they left
_docker_cli() { if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else echo docker; fi; }

dockerd_start() {
	local d=$1 lib=${2:-}
	mkdir -p "$d/out"
	chmod 0700 "$d/out"
	if [ -n "$lib" ]; then
		STARTPATH_DIR="${STARTPATH_OUT:-$d/out}" LD_PRELOAD="$lib" dockerd --data-root "$d/data" \
			--exec-root "$d/exec" --pidfile "$d/docker.pid" -H "unix://$d/docker.sock" \
			--bridge=none --iptables=false --ip6tables=false --ip-masq=false \
			--storage-driver overlay2 >"$d/dockerd.log" 2>&1 &
	else
		dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
			-H "unix://$d/docker.sock" --bridge=none --iptables=false --ip6tables=false \
			--ip-masq=false --storage-driver overlay2 >"$d/dockerd.log" 2>&1 &
	fi
	echo $! >"$d/dockerd.start-pid"
	for _ in $(seq 1 150); do
		dockerd_cli "$d" info >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "dockerd did not start; its log:" >&2
	tail -20 "$d/dockerd.log" >&2
	return 1
}

dockerd_cli() {
	local d=$1
	shift
	"$(_docker_cli)" -H "unix://$d/docker.sock" "$@"
}

dockerd_image() {
	local d=$1 r
	r="$d/image-rootfs"
	rm -rf "$r"
	mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp"
	cp /bin/busybox "$r/bin/busybox"
	for a in sh echo true cat ls sleep; do ln -sf busybox "$r/bin/$a"; done
	tar -C "$r" --numeric-owner --owner=0 --group=0 -c . |
		dockerd_cli "$d" import -c 'ENV PATH=/bin' - bb:latest >/dev/null
}

dockerd_stop() {
	local d=$1 p
	p=$(cat "$d/docker.pid" 2>/dev/null || cat "$d/dockerd.start-pid" 2>/dev/null) || return 0
	for c in $(dockerd_cli "$d" ps -aq 2>/dev/null); do dockerd_cli "$d" rm -f "$c" >/dev/null 2>&1; done
	kill "$p" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	pkill -9 -f "containerd --config $d/exec/containerd/containerd.toml" 2>/dev/null
	pkill -9 -f "containerd-shim-runc-v2 -namespace moby -id .* -address $d/exec/containerd/containerd.sock" 2>/dev/null
	sleep 0.2
	grep -F "$d/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -f "$d/docker.pid" "$d/dockerd.start-pid"
	return 0
}
