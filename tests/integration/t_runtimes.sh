#!/usr/bin/env bash
# The map on installations that differ from the defaults: runtimes found by
# what they do, not by their file name or default paths.
#  - a private containerd whose root and state are given as flags, with no
#    STARTPATH_PREFIXES: the library learns them (snapshot_prepare seen);
#  - runc installed as runc.amd64 in another directory and set as the
#    runtime's binary (ctr run --runc-binary): Debian's dynamic runc, a
#    static runc built here (through startpath-exec), and a wrapper script
#    that execs runc, as vendors' runtimes do: every phase in 10 of 10 starts
#    each;
#  - runc on its own under `startpath run`: `runc run`, and `runc create`
#    then `runc start` (then `runc delete`) as separate commands into one
#    output directory, Debian's runc and the static one: a complete runc map,
#    output and exit status unchanged.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/containerd-env.sh"
. "$TOP/scripts/bundle.sh"
need_root
for c in containerd ctr runc jq; do need_cmd $c; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
N=${STARTPATH_RUNTIME_RUNS:-10}
D="$TMP/c"
cleanup_hook() { ctrd_stop "$D"; }
static=$("$TOP/scripts/static-runc.sh"); rc=$?
[ $rc -eq 77 ] && skip "no runc sources to build a static runc"
[ $rc -eq 0 ] || fail "building a static runc failed"
mkdir -p "$TMP/opt/dyn" "$TMP/opt/static" "$TMP/opt/wrap"
runc_path=$(command -v runc)
cp "$runc_path" "$TMP/opt/dyn/runc.amd64"
cp "$static" "$TMP/opt/static/runc.amd64"
printf '#!/bin/sh\n# a vendor runtime: adds its hooks, then runs runc\nexec %s "$@"\n' "$runc_path" \
	>"$TMP/opt/wrap/oci-runtime"
chmod 0755 "$TMP/opt/dyn/runc.amd64" "$TMP/opt/static/runc.amd64" "$TMP/opt/wrap/oci-runtime"

CTRD_ROOT_FLAGS=1 ctrd_start "$D" "$LIB" || fail "containerd (root and state as flags) did not start"
ctrd_image "$D" || fail "image import failed"
grep -q -- "--root $D/root --state $D/state" /proc/"$(cat "$D/containerd.pid")"/cmdline 2>/dev/null ||
	tr '\0' ' ' </proc/"$(cat "$D/containerd.pid")"/cmdline | grep -q -- "--root $D/root --state $D/state" ||
	fail "containerd was not given its root and state as flags"
ok "containerd with --root $D/root --state $D/state, no STARTPATH_PREFIXES"
phases="snapshot_prepare task_create shim_start snapshot_mount runtime_create runtime_init namespace_setup rootfs_setup pivot_root task_start process_exec"
for v in dyn static wrap; do
	bin=$TMP/opt/$v/runc.amd64
	[ $v = wrap ] && bin=$TMP/opt/wrap/oci-runtime
	for i in $(seq 1 "$N"); do
		out=$(ctrd_ctr "$D" run --rm --runc-binary "$bin" docker.io/library/bb:latest "$v$i" \
			/bin/sh -c "echo hello $v $i; sleep 0.2" 2>&1) || fail "$v: ctr run $i failed: $out"
		[ "$out" = "hello $v $i" ] || fail "$v: container $i said '$out'"
	done
	report_json "$D/out" >"$TMP/report.json" || fail "report failed"
	for ph in $phases; do
		n=$(jq --arg p "$ph" --arg v "$v" '[.maps[] | select(.container_id | startswith($v)) |
			select(any(.phases[]; .name==$p and .seen))] | length' "$TMP/report.json")
		[ "$n" -eq "$N" ] || fail "$v ($bin): phase $ph seen in $n of $N maps:
$("$SP" report "$D/out" --container "${v}1")"
	done
	jq -e --arg v "$v" --arg bin "$bin" '[.maps[] | select(.container_id | startswith($v)) |
		.phases[] | select(.name=="runtime_init") | .process] | unique | length == 1' \
		"$TMP/report.json" >/dev/null || fail "$v: runtime_init not in one kind of process"
	ok "$v: runc as $bin, $N of $N starts with every phase ($phases)"
done
ctrd_stop "$D"

# runc on its own.
make_bundle "$TMP/b" '["/bin/echo","hello from runc"]' || fail "cannot make a bundle"
cd "$TMP/b"
for v in debian static; do
	r=$runc_path
	[ $v = static ] && r=$TMP/opt/static/runc.amd64
	want=$("$r" --root "$TMP/plain-$v" run "plain-$v"); wrc=$?
	out=$("$SP" run -q -o "$TMP/run-$v" -- "$r" --root "$TMP/state-$v" run "run-$v"); rc=$?
	[ $rc -eq $wrc ] && [ "$out" = "$want" ] || fail "$v: runc run under startpath: exit $rc '$out', plain exit $wrc '$want'"
	check "$TMP/run-$v" '(.maps | length) == 1 and .maps[0].profile == "runc" and .maps[0].missing_phases == 0' \
		"$v: startpath run -- runc run: one complete runc map"
	for ph in runtime_create runtime_init namespace_setup rootfs_setup pivot_root task_start process_exec; do
		jqr "$TMP/run-$v" ".maps[0].phases[] | select(.name==\"$ph\") | .seen" >/dev/null ||
			fail "$v: runc run: $ph not seen: $("$SP" report "$TMP/run-$v")"
	done
	"$SP" run -q -o "$TMP/cs-$v" -- "$r" --root "$TMP/state-$v" create "cs-$v" >"$TMP/cs.out" ||
		fail "$v: runc create under startpath failed"
	"$SP" run -q -a -o "$TMP/cs-$v" -- "$r" --root "$TMP/state-$v" start "cs-$v" >>"$TMP/cs.out" ||
		fail "$v: runc start under startpath failed"
	for _ in $(seq 1 50); do
		"$r" --root "$TMP/state-$v" state "cs-$v" 2>/dev/null | grep -q '"stopped"' && break
		sleep 0.1
	done
	"$SP" run -q -a -o "$TMP/cs-$v" -- "$r" --root "$TMP/state-$v" delete "cs-$v" ||
		fail "$v: runc delete under startpath failed"
	grep -q "hello from runc" "$TMP/cs.out" || fail "$v: the container said nothing"
	check "$TMP/cs-$v" '(.maps | length) == 1 and .maps[0].profile == "runc" and .maps[0].missing_phases == 0 and
		(.maps[0].phases[] | select(.name=="runtime_delete") | .seen)' \
		"$v: runc create, start and delete as three commands into one directory: one complete runc map, teardown included"
done
# scripts/startpath-runc (the wrapper one sets as BinaryName, or puts in
# PATH as runc) gives the same map of a runc driven directly.
mkdir -m 0700 "$TMP/wrapped"
out=$(STARTPATH_DIR="$TMP/wrapped" STARTPATH_REAL_RUNC="$runc_path" STARTPATH_BIN="$SP" \
	"$TOP/scripts/startpath-runc" --root "$TMP/state-w" run wrapped) || fail "startpath-runc run failed: $out"
[ "$out" = "hello from runc" ] || fail "startpath-runc: the container said '$out'"
check "$TMP/wrapped" '(.maps | length) == 1 and .maps[0].profile == "runc" and .maps[0].missing_phases == 0' \
	"scripts/startpath-runc run: one complete runc map"
