#!/usr/bin/env bash
# Static programs through startpath-exec: a static Go program (CGO_ENABLED=0,
# built here with Debian's golang-go) with goroutines, a tmpfs mount in a new
# mount namespace, os/exec of a dynamic program and of itself through
# /proc/self/exe, a recovered nil dereference, signals and exit code 3 runs
# with identical output and status over 20 launched runs; its raw syscalls
# are recorded with durations; its re-exec of itself is traced too; a traced
# dynamic program's exec of it goes through the launcher by itself; and an
# unusable output directory leaves it running untraced.
. "$(dirname "$0")/lib.sh"
need_cmd go golang-go
[ -x "$SPEXEC" ] || fail "no $SPEXEC (make all builds it)"
export GOCACHE="$TMP/gocache" GOPATH="$TMP/gopath" GO111MODULE=off CGO_ENABLED=0
go build -o "$TMP/static-prog" "$TOP/tests/go/static/main.go" || fail "go build failed"
file "$TMP/static-prog" | grep -q 'statically linked' || fail "not a static binary: $(file "$TMP/static-prog")"

plain=$("$TMP/static-prog"); rc1=$?
[ "$rc1" -eq 3 ] || fail "exit $rc1 without the launcher, expected 3"
for want in "recovered: runtime error: invalid memory address or nil pointer dereference" \
	"exec: exec ok err=<nil>" 'self: "child: argv [child x]\nexecutable (child): '"$TMP"'/static-prog\n" exit=5' "signal: user defined signal 1"; do
	echo "$plain" | grep -qF "$want" || fail "the program itself misbehaves: no '$want' in: $plain"
done
root=0
[ "$(id -u)" -eq 0 ] && root=1
[ $root = 0 ] || echo "$plain" | grep -q "^mount: ok" || fail "mount failed: $plain"
echo "$plain" | grep -qxF "executable: $TMP/static-prog <nil>" || fail "os.Executable() wrong without the launcher: $plain"
# What the program reads from /proc/self/exe (os.Executable) is the program
# itself only where the launcher may change it (PR_SET_MM_MAP: CAP_SYS_ADMIN
# or CAP_CHECKPOINT_RESTORE); elsewhere it names the launcher.
noexe() { sed -e 's|executable\( (child)\)\{0,1\}: [^ \\]*|executable\1: X|g'; }
same() { [ $root = 1 ] && [ "$1" = "$2" ] || [ "$(echo "$1" | noexe)" = "$(echo "$2" | noexe)" ]; }

runs=20
for i in $(seq 1 $runs); do
	traced=$(STARTPATH_DIR="$TMP/out" STARTPATH_DEBUG=1 "$SPEXEC" "$TMP/static-prog" 2>"$TMP/err"); rc2=$?
	[ "$rc2" -eq "$rc1" ] || fail "run $i: exit $rc2 through the launcher, $rc1 without ($(cat "$TMP/err"))"
	same "$traced" "$plain" || fail "run $i: output differs:
--- plain
$plain
--- launched
$traced"
	if grep -v '^startpath: .*\(rewrote\|rewritten\)' "$TMP/err" | grep -q .; then
		fail "run $i: unexpected stderr: $(cat "$TMP/err")"
	fi
done
# The last run found its patch plan cached: it was loaded from the
# launcher's entry point, before glibc (the fast path), not by main().
grep -q 'syscall sites rewritten (cached plan)' "$TMP/err" ||
	fail "run $runs did not take the cached-plan path: $(cat "$TMP/err")"
ok "identical output and exit 3 over $runs launched runs$([ $root = 1 ] && echo ", os.Executable() and /proc/self/cmdline included")"

# Without the capabilities: /proc/self/exe names the launcher, but the
# program's re-exec through it is still mapped back to the program.
if [ $root = 1 ] && command -v capsh >/dev/null; then
	for i in 1 2 3; do
		traced=$(capsh --drop=cap_sys_admin,cap_checkpoint_restore -- -c \
			'STARTPATH_DIR="$1" exec "$2" "$3"' x "$TMP/nocap" "$SPEXEC" "$TMP/static-prog" 2>"$TMP/err"); rc2=$?
		[ "$rc2" -eq "$rc1" ] || fail "no CAP_SYS_ADMIN, run $i: exit $rc2 ($(cat "$TMP/err"))"
		# (no mount either without CAP_SYS_ADMIN)
		[ "$(echo "$traced" | noexe | grep -v -e '^mount: ' -e '^unshare: ')" = \
			"$(echo "$plain" | noexe | grep -v -e '^mount: ' -e '^unshare: ')" ] || fail "no CAP_SYS_ADMIN, run $i: output differs: $traced"
		echo "$traced" | grep -qxF "executable: $SPEXEC <nil>" || fail "no CAP_SYS_ADMIN: expected os.Executable() to name the launcher: $traced"
	done
	check "$TMP/nocap" "[.processes[] | select(.exe | endswith(\"/static-prog\")) | select(.argv == [\"/proc/self/exe\", \"child\", \"x\"] and .exit_status == 5)] | length == 3" \
		"without CAP_SYS_ADMIN/CAP_CHECKPOINT_RESTORE: same output but the executable line, cmdline right, re-exec via /proc/self/exe mapped back and traced"
else
	echo "SKIP part: the capability-less run needs root and capsh"
fi

prog='select(.exe | endswith("/static-prog"))'
main="$prog | select(.argv[1] != \"child\")"
check "$TMP/out" "[.processes[] | $main | select(.exited and .exit_status == 3)] | length == $runs" \
	"exit_group(3) recorded in each of the $runs runs"
check "$TMP/out" "[.processes[] | $main | .spans[] | select(.src == \"raw\" and .call == \"clone\" and .args.new_stack == 1 and .args.child_pid > 0 and .dur_ns > 0)] | length >= $runs" \
	"Go's thread clones recorded with durations and child pids"
check "$TMP/out" "[.processes[] | $main | .spans[] | select(.src == \"raw\" and .call == \"execve\" and .args.path == \"/bin/echo\")] | length == $runs" \
	"os/exec's execve recorded"
check "$TMP/out" "[.processes[] | $prog | select(.argv == [\"/proc/self/exe\", \"child\", \"x\"] and .exited and .exit_status == 5)] | length == $runs" \
	"the re-exec through /proc/self/exe went through the launcher: traced, exit 5"
if [ $root = 1 ]; then
	check "$TMP/out" "[.processes[] | $main | .spans[] | select(.src == \"raw\" and .call == \"mount\" and .args.fstype == \"tmpfs\" and .args.source == \"startpath-static\" and .exit and .result == 0 and .dur_ns > 0)] | length == $runs" \
		"the tmpfs mount recorded with its duration"
	check "$TMP/out" "[.processes[] | $main | .spans[] | select(.src == \"raw\" and .call == \"unshare\" and .args.flags == 131072)] | length == $runs" \
		"unshare(CLONE_NEWNS) recorded"
	check "$TMP/out" "[.processes[] | $main | .spans[] | select(.src == \"raw\" and .call == \"umount2\" and .exit)] | length == $runs" \
		"umount2 recorded"
fi

# A traced dynamic program execs the static one: redirected by the library.
cat >"$TMP/dynexec.c" <<'EOC'
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char *a[] = { "renamed-argv0", NULL };
	(void)argc;
	execv(argv[1], a);
	perror("execv");
	return 9;
}
EOC
need_cmd gcc gcc
gcc -o "$TMP/dynexec" "$TMP/dynexec.c" || fail "cc failed"
out=$(STARTPATH_DIR="$TMP/dyn" LD_PRELOAD="$LIB" "$TMP/dynexec" "$TMP/static-prog"); rc=$?
[ $rc -eq 3 ] || fail "dynamic -> static: exit $rc"
# (argv[0] is the exec's own: /proc/self/cmdline says so too)
same "$out" "$(echo "$plain" | sed 's|^cmdline: .*|cmdline: "renamed-argv0\\x00"|')" ||
	fail "dynamic -> static: output differs: $out"
check "$TMP/dyn" "[.processes[] | $prog | select(.argv == [\"renamed-argv0\"] and .exit_status == 3 and (.spans | length) > 5)] | length == 1" \
	"a traced program's exec of the static program was sent through the launcher (argv[0] kept)"
# No launcher where STARTPATH_EXEC says: the static program is exec'd as
# asked, untraced (the library looks for the launcher only once it knows
# the target is static).
out=$(STARTPATH_EXEC=/nonexistent/startpath-exec STARTPATH_DIR="$TMP/nolauncher" LD_PRELOAD="$LIB" \
	"$TMP/dynexec" "$TMP/static-prog"); rc=$?
[ $rc -eq 3 ] || fail "no launcher: dynamic -> static: exit $rc"
same "$out" "$(echo "$plain" | sed 's|^cmdline: .*|cmdline: "renamed-argv0\\x00"|')" ||
	fail "no launcher: dynamic -> static: output differs: $out"
check "$TMP/nolauncher" "[.processes[] | $prog] | length == 0" \
	"no launcher: the static program runs as asked, untraced, same output and exit"

# Fail open: an output directory that cannot be used.
: >"$TMP/notadir"
out=$(STARTPATH_DIR="$TMP/notadir/x" "$SPEXEC" "$TMP/static-prog" 2>"$TMP/err"); rc=$?
[ $rc -eq 3 ] && [ "$out" = "$plain" ] || fail "unusable STARTPATH_DIR: exit $rc, output $out"
[ "$(grep -c '^startpath: ' "$TMP/err")" -eq 1 ] || fail "unusable STARTPATH_DIR: want one startpath: line, got: $(cat "$TMP/err")"
ok "unusable STARTPATH_DIR: runs untraced, one message: $(cat "$TMP/err")"

# Fail open: the filesystem fills while the program records.  Its ring's
# header and first records are reserved when it is made, the rest as it
# fills; here the rest has no room: records are dropped and counted, and
# the program (and its re-exec, whose ring cannot be made) runs as without
# the launcher.
if [ $root = 1 ] && command -v unshare >/dev/null; then
	mkdir -p "$TMP/tiny" "$TMP/tinyout"
	out=$(unshare -m sh -c "mount -t tmpfs -o size=2m tiny '$TMP/tiny' && mkdir '$TMP/tiny/out' &&
		{ dd if=/dev/zero of='$TMP/tiny/fill' bs=4k 2>/dev/null; truncate -s -16K '$TMP/tiny/fill'; } &&
		STARTPATH_DIR='$TMP/tiny/out' '$SPEXEC' '$TMP/static-prog' 2>'$TMP/err'; echo rc=\$?
		cp '$TMP'/tiny/out/*.ring '$TMP/tinyout/'")
	[ "$(echo "$out" | tail -1)" = rc=3 ] || fail "full tmpfs: $(echo "$out" | tail -1), want rc=3 ($(head -3 "$TMP/err"))"
	[ "$(echo "$out" | sed '$d')" = "$plain" ] || fail "full tmpfs: output differs: $out"
	grep -v '^startpath: ' "$TMP/err" && fail "full tmpfs: other stderr output"
	lost=$(report_json "$TMP/tinyout" | jq "[.processes[] | $prog | .lost] | add")
	[ "${lost:-0}" -gt 0 ] || fail "full tmpfs: no records counted as lost"
	ok "a tmpfs that fills: output and exit 3 as without the launcher, $lost records lost and counted"
fi

# Bad usage is exit 2 with a message; a missing program 127, as a shell says.
"$SPEXEC" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no arguments: want exit 2"
"$SPEXEC" --fd x /bin/true 2>"$TMP/err"; [ $? -eq 2 ] && grep -q -- "--fd" "$TMP/err" || fail "bad --fd: want exit 2"
"$SPEXEC" "$TMP/nonexistent" 2>/dev/null; [ $? -eq 127 ] || fail "missing program: want exit 127"
# A dynamic program is simply exec'd.
[ "$("$SPEXEC" /bin/echo hi)" = hi ] || fail "a dynamic program through the launcher"
ok "usage errors exit 2, a missing program 127, a dynamic one runs as it is"

# --fd N belongs to the launcher: the program never sees N open, whether
# it runs traced (loaded here) or untraced (exec'd from the descriptor).
# A static busybox lists its own descriptors.
if [ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null | grep -q INTERP; then
	for dis in 0 1; do
		fds=$(STARTPATH_DISABLE=$dis STARTPATH_DIR="$TMP/fdout" "$SPEXEC" --fd 7 /bin/busybox \
			ls /proc/self/fd 7</bin/busybox) || fail "--fd, STARTPATH_DISABLE=$dis: busybox ls failed"
		echo "$fds" | grep -qx 1 || fail "--fd, STARTPATH_DISABLE=$dis: no descriptor listed: $fds"
		echo "$fds" | grep -qx 7 && fail "--fd 7 still open in the program (STARTPATH_DISABLE=$dis):" $fds
	done
	ok "the --fd descriptor is closed before the program runs, traced or not"
fi

# scripts/startpath-runc with a static Go "runtime": through the launcher.
out=$(STARTPATH_BIN="$SP" STARTPATH_DIR="$TMP/wrap" STARTPATH_REAL_RUNC="$TMP/static-prog" \
	"$TOP/scripts/startpath-runc"); rc=$?
[ $rc -eq 3 ] && same "$out" "$plain" || fail "startpath-runc, static Go: exit $rc, output $out"
check "$TMP/wrap" "[.processes[] | $main | select(.exit_status == 3 and ([.spans[] | select(.src == \"raw\")] | length) > 5)] | length == 1" \
	"startpath-runc ran the static program through startpath-exec: its raw calls recorded"

# A static-pie C program (glibc, a thread, a failing umount2, exit 4): loaded
# at an address of the launcher's choosing, its calls recorded.
cat >"$TMP/spie.c" <<'EOC'
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
static void *th(void *a) { return a; }
int main(int argc, char **argv)
{
	pthread_t t;
	int r;

	(void)argv;
	pthread_create(&t, NULL, th, NULL);
	pthread_join(t, NULL);
	r = umount2("/startpath-nonexistent", 0);
	printf("static-pie: umount2=%d errno=%s argc=%d\n", r, strerror(errno), argc);
	return 4;
}
EOC
if gcc -static-pie -O2 -o "$TMP/spie" "$TMP/spie.c" -lpthread 2>"$TMP/err" &&
	file "$TMP/spie" | grep -q 'static-pie'; then
	want=$("$TMP/spie" a b); rc1=$?
	got=$(STARTPATH_DIR="$TMP/pie" "$SPEXEC" "$TMP/spie" a b); rc2=$?
	[ $rc1 -eq 4 ] && [ $rc2 -eq 4 ] && [ "$want" = "$got" ] ||
		fail "static-pie: exit $rc2/$rc1, output '$got' vs '$want'"
	check "$TMP/pie" '[.processes[] | select(.exe | endswith("/spie")) | select(.exit_status == 4) | .spans[] | select(.src == "raw" and ((.call == "umount2" and .exit and .errno == 2) or (.call == "clone3" and .args.child_pid > 0)))] | length == 2' \
		"static-pie (glibc): same output, exit 4, its thread's clone3 and the failing umount2 recorded"
else
	echo "SKIP part: no static-pie toolchain here ($(head -1 "$TMP/err"))"
fi
