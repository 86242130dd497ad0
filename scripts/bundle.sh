# SPDX-License-Identifier: Apache-2.0
# bundle.sh - make a busybox OCI bundle for crun/runc, offline (sourced by
# the demo and the tests).
#   make_bundle DIR ARGS_JSON   e.g. make_bundle "$TMP/b" '["/bin/echo","hello"]'
make_bundle() {
	local dir=$1 args=$2 hard
	mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys" \
		"$dir/rootfs/tmp" "$dir/rootfs/etc"
	cp /bin/busybox "$dir/rootfs/bin/busybox"
	for a in sh echo true cat ls sleep mount; do ln -sf busybox "$dir/rootfs/bin/$a"; done
	(cd "$dir" && rm -f config.json && crun spec) || return 1
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] && hard=1048576
	[ "$hard" -gt 1024 ] && hard=1024
	jq --argjson args "$args" --argjson n "$hard" \
		'.process.terminal=false | .process.args=$args |
		 .process.rlimits=[{"type":"RLIMIT_NOFILE","hard":$n,"soft":$n}]' \
		"$dir/config.json" >"$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}

# Run "$@" where crun works on these machines: a private mount namespace
# with a cgroup2-only /sys/fs/cgroup.
in_cgroup2_ns() {
	unshare -m sh -c 'umount -R /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh "$@"
}
