#!/usr/bin/env bash
# `startpath run -- podman run --rm` as root (Debian's podman 4.3, a private
# storage root), with runc and with crun: a complete map of podman's own
# steps (layer, rootfs mount, conmon) and the runtime's, and podman's output
# and exit status as without the library.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/bundle.sh"
need_root
for c in podman conmon runc crun jq; do need_cmd $c podman; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
D="$TMP/p"
mkdir -p "$D"
P() {
	podman --root "$D/root" --runroot "$D/run" --tmpdir "$D/tmp" --storage-driver overlay \
		--cgroup-manager cgroupfs --events-backend file "$@"
}
cleanup_hook() {
	P rm -af >/dev/null 2>&1
	grep -F "$D/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
r="$D/rootfs"
mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp"
cp /bin/busybox "$r/bin/busybox"
for a in sh echo true; do ln -sf busybox "$r/bin/$a"; done
tar -C "$r" --numeric-owner --owner=0 --group=0 -c . | P import -c 'ENV PATH=/bin' - bb:latest >/dev/null 2>&1 ||
	fail "podman import failed"
run_args=(run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
cmd=(bb:latest /bin/sh -c 'echo out; echo err >&2; exit 3')
for rt in runc crun; do
	extra=() wrap=()
	# crun refuses this VM's mixed cgroup v1/v2 layout, with or without the
	# library: a private mount namespace with cgroup2 alone, no cgroups.
	[ $rt = crun ] && extra=(--cgroups=disabled) wrap=(in_cgroup2_ns)
	"${wrap[@]}" podman --root "$D/root" --runroot "$D/run" --tmpdir "$D/tmp" --storage-driver overlay \
		--cgroup-manager cgroupfs --events-backend file --runtime $rt "${run_args[@]}" "${extra[@]}" \
		"${cmd[@]}" >"$TMP/plain.out" 2>"$TMP/plain.err"
	prc=$?
	"${wrap[@]}" "$SP" run -q -o "$D/out-$rt" -- podman --root "$D/root" --runroot "$D/run" \
		--tmpdir "$D/tmp" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
		--runtime $rt "${run_args[@]}" "${extra[@]}" "${cmd[@]}" >"$TMP/traced.out" 2>"$TMP/traced.err"
	trc=$?
	[ $prc -eq 3 ] && [ $trc -eq 3 ] || fail "$rt: podman run exited $prc untraced, $trc traced (expected 3): $(cat "$TMP/traced.err")"
	cmp -s "$TMP/plain.out" "$TMP/traced.out" && [ "$(cat "$TMP/traced.out")" = out ] ||
		fail "$rt: stdout '$(cat "$TMP/traced.out")' traced, '$(cat "$TMP/plain.out")' untraced"
	grep -qx err "$TMP/traced.err" || fail "$rt: the container's stderr lost: $(cat "$TMP/traced.err")"
	ok "podman run --runtime $rt: output and exit status 3 as without the library"
	want=podman
	[ $rt = crun ] && want=podman-crun
	check "$D/out-$rt" "[.maps[] | select(.profile == \"$want\" and .missing_phases == 0)] | length == 1" \
		"podman run --runtime $rt: one complete $want map"
	check "$D/out-$rt" '[.maps[0].phases[] | select(.seen) | .name] as $n |
		(["engine_start","layer_create","rootfs_mount","conmon_start","runtime_create","rootfs_setup","pivot_root","process_exec"] - $n) == []' \
		"podman run --runtime $rt: podman's layer and rootfs mount, conmon, the runtime's create and the exec"
	check "$D/out-$rt" '.maps[0].phases[] | select(.name == "rootfs_mount") | .calls[0].args.fstype == "overlay" and .process == "podman"' \
		"podman run --runtime $rt: rootfs_mount is podman's own overlay mount"
done
