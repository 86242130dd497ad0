#!/usr/bin/env bash
# The upstream layout: containerd (dynamic, under the library) with a static
# containerd-shim-runc-v2 and a static runc, both built here, offline, from
# Debian's packaged sources (GOPATH mode):
#   runc 1.1.5   golang-github-opencontainers-runc-dev + libseccomp-dev,
#                cgo + static glibc, as upstream's release build;
#   shim 1.6.20  golang-github-containerd-containerd-dev, CGO_ENABLED=0.
# containerd's exec of the shim, the shim's of runc and runc's re-execs of
# itself (runc init, its clone of /proc/self/exe) go through startpath-exec:
#  - every `ctr run --rm` works and says what it should;
#  - every map has every start phase; the overlay mount (snapshot_mount) is
#    recorded inside the static shim, with its container's rootfs as target;
#    runtime_init .. process_exec inside static runc processes;
#  - runc init sees itself in /proc/self/exe (its clone of itself works, and
#    its process is named after runc, not the launcher);
#  - the debug self-check never finds two threads on one recorder area, and
#    messages went to STARTPATH_LOG (containerd reads a shim's stderr).
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/containerd-env.sh"
need_root
for c in containerd ctr go jq file gcc; do need_cmd $c; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
[ -x "$SPEXEC" ] || fail "no $SPEXEC (make all builds it)"
RUNC_SRC=/usr/share/gocode/src/github.com/opencontainers/runc
CTRD_SRC=/usr/share/gocode/src/github.com/containerd/containerd
[ -f "$RUNC_SRC/main.go" ] && [ -f /usr/include/seccomp.h ] ||
	skip "needs runc's sources (apt-get install golang-github-opencontainers-runc-dev libseccomp-dev)"
[ -d "$CTRD_SRC/runtime/v2/runc/manager" ] ||
	skip "needs containerd's sources (apt-get install golang-github-containerd-containerd-dev)"

export GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$TMP/gocache" GOFLAGS=-buildvcs=false
mkdir -p "$TMP/bin"
static=$("$TOP/scripts/static-runc.sh") || fail "building a static runc failed"
cp "$static" "$TMP/bin/runc"
CGO_ENABLED=0 go build -o "$TMP/bin/containerd-shim-runc-v2" "$TOP/tests/go/shim/main.go" \
	>"$TMP/build.log" 2>&1 || fail "building a static shim failed: $(tail -5 "$TMP/build.log")"
for b in runc containerd-shim-runc-v2; do
	file "$TMP/bin/$b" | grep -q 'statically linked' || fail "$b is not static: $(file "$TMP/bin/$b")"
done
ok "static runc ($(dpkg-query -W -f='${Version}' golang-github-opencontainers-runc-dev 2>/dev/null)) and a static containerd-shim-runc-v2 built from Debian's sources"

D="$TMP/c"
cleanup_hook() { ctrd_stop "$D"; [ -n "${KEEP:-}" ] && cp -a "$TMP/report.json" "$KEEP" 2>/dev/null; }
mkdir -p "$TMP/log"
PATH="$TMP/bin:$PATH" STARTPATH_DEBUG=1 STARTPATH_LOG="$TMP/log/sp" ctrd_start "$D" "$LIB" ||
	fail "containerd did not start under the library"
ctrd_image "$D" || fail "image import failed"
N=${STARTPATH_STATIC_CTR_RUNS:-5}
for i in $(seq 1 "$N"); do
	out=$(ctrd_ctr "$D" run --rm docker.io/library/bb:latest "s$i" /bin/sh -c "echo hello $i; sleep 0.2" 2>&1) ||
		fail "ctr run $i with the static shim and runc failed: $out"
	[ "$out" = "hello $i" ] || fail "container $i said '$out'"
done
ok "$N consecutive ctr run --rm through the static shim and runc"
"$SP" report "$D/out" --container "s$N"
report_json "$D/out" >"$TMP/report.json" || fail "report failed"

jq -e --argjson n "$N" '[.maps[] | select(.profile=="containerd")] | length == $n' "$TMP/report.json" >/dev/null ||
	fail "expected $N maps, got $(jq '.maps | length' "$TMP/report.json")"
for ph in snapshot_prepare shim_start snapshot_mount runtime_create runtime_init namespace_setup \
	rootfs_setup pivot_root task_start process_exec; do
	n=$(jq --arg p "$ph" '[.maps[] | select(any(.phases[]; .name==$p and .seen))] | length' "$TMP/report.json")
	[ "$n" -eq "$N" ] || fail "phase $ph seen in $n of $N maps"
done
ok "every start phase in every map"

# Which binary each phase ran in: the process records name the program.
jq -e --arg shim "$TMP/bin/containerd-shim-runc-v2" '. as $r | [.maps[] | .container_id as $id |
	.phases[] | select(.name == "snapshot_mount") | .pid as $pid |
	select(any($r.processes[]; ((.host_pid // 0) as $h | if $h > 0 then $h else .pid end) == $pid and .exe == $shim)) | .calls[] |
	select(.call == "mount" and .args.fstype == "overlay" and .returned and .result == 0 and
		.duration_ns > 0 and (.args.target | endswith("/" + $id + "/rootfs")))] |
	length == ($r.maps | length)' "$TMP/report.json" >/dev/null ||
	fail "snapshot_mount's overlay mount not recorded inside the static shim in every map"
ok "the overlay mount recorded inside the static shim, in every map, with its own container's rootfs"
for ph in runtime_init namespace_setup rootfs_setup task_start process_exec; do
	jq -e --arg p "$ph" --arg runc "$TMP/bin/runc" '. as $r | [.maps[] | .phases[] |
		select(.name == $p) | .pid as $pid | select(any($r.processes[]; ((.host_pid // 0) as $h | if $h > 0 then $h else .pid end) == $pid and .exe == $runc))] |
		length == ($r.maps | length)' "$TMP/report.json" >/dev/null ||
		fail "$ph not recorded inside the static runc in every map"
done
jq -e '(.maps | length) as $n | [.maps[] | select(any(.phases[] | select(.name == "namespace_setup") | .calls[];
	.call == "unshare" and .returned and .result == 0))] | length == $n' "$TMP/report.json" >/dev/null ||
	fail "nsexec's unshare (C code in static runc) not in every map's namespace_setup"
jq -e '[.maps[] | .phases[] | select(.name == "process_exec") | .calls[] |
	select(.call == "execve" and .args.path == "/bin/sh")] | length >= 1' "$TMP/report.json" >/dev/null ||
	fail "the container's final execve not recorded"
ok "runtime_init .. process_exec recorded inside the static runc (nsexec's C calls included), the final execve of /bin/sh"
jq -e --arg runc "$TMP/bin/runc" '[.processes[] | select(.argv[0:2] == ["runc", "init"] and .exe == $runc)] | length >= 1' \
	"$TMP/report.json" >/dev/null || fail "no runc init process recorded as runc"
jq -e --arg x "$SPEXEC" '[.processes[] | select(.exe == $x)] | length == 0' "$TMP/report.json" >/dev/null ||
	fail "a process recorded as the launcher"
ok "runc init and its clone of itself are recorded as runc, none as the launcher"
jq -e '[.maps[] | select(.lost_records > 0)] | length == 0' "$TMP/report.json" >/dev/null ||
	fail "records lost, by: $(jq -c '[.processes[] | select(.lost > 0) | {pid, exe, argv: .argv[0:3], lost}]' "$TMP/report.json")"

ls "$TMP/log"/sp.* >/dev/null 2>&1 || fail "no STARTPATH_LOG files written"
grep -h 'runc: .*syscall sites rewritten' "$TMP/log"/sp.* | grep -q . ||
	fail "the launcher's debug lines did not reach STARTPATH_LOG"
if grep -h 'two threads share\|runs untraced\|not rewritten' "$TMP/log"/sp.*; then
	fail "the launcher or recorder complained (above)"
fi
ok "launcher and recorder messages in STARTPATH_LOG, no complaint from the self-check"

# scripts/startpath-runc (what `startpath wrap` installs) with this static
# runc as the real one: through the launcher too.
out=$(STARTPATH_BIN="$SP" STARTPATH_DIR="$TMP/wrap" STARTPATH_REAL_RUNC="$TMP/bin/runc" \
	"$TOP/scripts/startpath-runc" --version 2>&1) || fail "startpath-runc --version with a static runc: $out"
echo "$out" | grep -q '^runc version' || fail "startpath-runc --version said: $out"
check "$TMP/wrap" "[.processes[] | select(.exe == \"$TMP/bin/runc\" and .exited and .exit_status == 0 and
	([.spans[] | select(.src == \"raw\" and (.call == \"clone\" or .call == \"clone3\"))] | length) > 0)] | length == 1" \
	"startpath-runc ran the static runc through startpath-exec: its thread clones recorded"

# A static shim says nothing on its stderr without STARTPATH_LOG, even with
# debug output on: containerd parses the `start` command's combined output
# as the shim's address (the launcher's and the recorder's lines would
# otherwise fail the start).
ctrd_stop "$D"
Q="$TMP/q"
cleanup_hook() { ctrd_stop "$D"; ctrd_stop "$Q"; }
PATH="$TMP/bin:$PATH" STARTPATH_DEBUG=1 STARTPATH_LOG= ctrd_start "$Q" "$LIB" ||
	fail "containerd (no STARTPATH_LOG) did not start under the library"
ctrd_image "$Q" || fail "image import failed"
for i in 1 2; do
	out=$(ctrd_ctr "$Q" run --rm docker.io/library/bb:latest "q$i" /bin/sh -c "echo hello $i; sleep 0.2" 2>"$TMP/qerr") ||
		fail "ctr run $i with debug output and no STARTPATH_LOG failed: $(head -c 600 "$TMP/qerr")"
	[ "$out" = "hello $i" ] || fail "container $i said '$out'"
done
ok "static shim and runc with STARTPATH_DEBUG=1 and no STARTPATH_LOG: 2 starts succeed"
