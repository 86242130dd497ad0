#!/usr/bin/env bash
# The library runs as root inside container runtimes, next to untrusted
# images and, on a shared host, untrusted users.  Each attack of the
# security review is reproduced here against the real thing (runc, crun,
# root, the `nobody` user) and must fail, with the traced program running
# as it does without the library:
#   1. an image's STARTPATH_EXEC (runc copies process.env into its own
#      environment before createContainer hooks) runs the image's file as
#      root on the host;
#   2. an output directory or site cache made by another user: planted
#      cache entries, symlinks for temporary files, a FIFO;
#   3. entering a container by setns(pidfd, all) (crun exec) or
#      setns(fd, 0), which let LD_PRELOAD and STARTPATH_* follow;
#   4. `startpath run -o DIR` deleting a project's *.json;
#   6. a static setuid program losing its privilege through the launcher;
#   7. hostile input to the CLI: quadratic pairing, a FIFO as a file, HTML.
# (5, retention across pid namespaces, is in t_retention.)
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/bundle.sh"
need_root "root and the nobody user"
for c in setpriv jq python3 runc crun objdump readelf unshare; do need_cmd $c; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
id nobody >/dev/null 2>&1 || skip "needs the nobody user"
NOBODY=$(id -u nobody)
as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
# nobody_dir MODE DIR: a directory as nobody would have made it.
nobody_dir() { mkdir -m "$1" "$2" && chown nobody "$2" && chmod "$1" "$2"; }
chmod 0711 "$TMP"

# ---- 1. the image's environment never steers root ----
make_bundle "$TMP/b1" '["/bin/true"]' || fail "cannot make a bundle"
printf '#!/bin/sh\necho "uid=$(id -u)" >%s/pwned\n' "$TMP" >"$TMP/b1/rootfs/evil"
chmod 0755 "$TMP/b1/rootfs/evil"
jq '.process.env += ["STARTPATH_EXEC=/proc/self/cwd/evil", "STARTPATH_DIR=/proc/self/cwd/tmp",
	"STARTPATH_LOG=/proc/self/cwd/log"] |
    .hooks = {"createContainer": [{"path": "/bin/busybox", "args": ["busybox", "true"]}]}' \
	"$TMP/b1/config.json" >"$TMP/b1/c" && mv "$TMP/b1/c" "$TMP/b1/config.json"
mkdir -m 0700 "$TMP/o1"
(cd "$TMP/b1" && STARTPATH_DIR="$TMP/o1" LD_PRELOAD="$LIB" runc --root "$TMP/runc" run sec1 \
	>"$TMP/o1.out" 2>"$TMP/o1.err"); rc=$?
[ $rc -eq 0 ] || fail "runc run with a createContainer hook under the library: exit $rc ($(cat "$TMP/o1.err"))"
[ ! -e "$TMP/pwned" ] || fail "the image's STARTPATH_EXEC ran as $(cat "$TMP/pwned") on the host"
ls "$TMP/b1/rootfs/tmp" "$TMP/b1/rootfs" | grep -q -e '\.ring$' -e '\.json$' -e '^log' &&
	fail "the image's STARTPATH_DIR or STARTPATH_LOG was written to"
report_json "$TMP/o1" | jq -e '[.processes[] | select(.exe == "/usr/bin/busybox" or .exe == "/bin/busybox")] | length == 1' >/dev/null ||
	fail "the static hook was not traced through the real launcher"
ok "1: runc's createContainer hook with an image setting STARTPATH_EXEC/DIR/LOG: nothing of the image ran or was written, the hook was traced"

# ---- 2. a directory or cache another user made ----
# An output directory made by nobody (the README once showed /tmp/sp; the
# non-root default /tmp/startpath-UID can be made first by anyone).
want=$("$PROGS/forkexec" chain 2; echo "rc=$?")
for how in owner mode link; do
	d="$TMP/d-$how"
	case $how in
	owner) nobody_dir 0777 "$d" ;;
	mode) mkdir -m 0777 "$d" ;;
	link) mkdir -m 0700 "$TMP/real"; ln -s "$TMP/real" "$d" ;;
	esac
	out=$(STARTPATH_DIR="$d" LD_PRELOAD="$LIB" "$PROGS/forkexec" chain 2 2>"$TMP/err"; echo "rc=$?")
	[ "$out" = "$want" ] || fail "$how: the program ran differently: $out"
	grep -v '^startpath: ' "$TMP/err" && fail "$how: other stderr output"
	n=$(grep -c '^startpath: .*output directory' "$TMP/err")
	[ "$n" -ge 1 ] && [ "$n" -le 3 ] || fail "$how: $n messages for 3 processes ($(head -2 "$TMP/err"))"
	[ -z "$(ls -A "$d/")" ] || fail "$how: root wrote into $d: $(ls -A "$d/")"
	ok "2: output directory ($how): refused, said $n time(s): $(head -1 "$TMP/err" | cut -c1-150)"
done
# The same directory as an unprivileged user's own: recorded.
as_nobody chmod 0700 "$TMP/d-owner"
as_nobody env STARTPATH_DIR="$TMP/d-owner" LD_PRELOAD="$LIB" "$PROGS/forkexec" chain 2 >/dev/null 2>"$TMP/err"
n=$(ls "$TMP/d-owner" | grep -c '\.ring$')
[ "$n" -ge 3 ] || fail "nobody's own 0700 directory: $n rings ($(cat "$TMP/err"))"
ok "2: the owner's own 0700 directory records ($n rings)"
# The default directories: root's /run/startpath, nobody's /tmp/startpath-UID.
pid=$(sh -c 'echo $$; exec env -u STARTPATH_DIR LD_PRELOAD="$1" "$2" >/dev/null 2>&1' sh "$LIB" "$PROGS/ctor_main")
ls /run/startpath/"$pid"-*.ring >/dev/null 2>&1 || fail "root's default /run/startpath: no ring of pid $pid"
[ "$(stat -c '%u' /run/startpath)" = 0 ] && [ $(( 0$(stat -c '%a' /run/startpath) & 022 )) -eq 0 ] ||
	fail "/run/startpath is $(stat -c '%u %a' /run/startpath)"
rm -f /run/startpath/"$pid"-*
ok "2: root's default directory /run/startpath records"
d=/tmp/startpath-$NOBODY
rm -rf "$d"
as_nobody env -u STARTPATH_DIR -u XDG_RUNTIME_DIR LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null 2>"$TMP/err"
[ "$(stat -c '%u %a' "$d")" = "$NOBODY 700" ] && ls "$d" | grep -q '\.ring$' ||
	fail "nobody's default directory $d: $(stat -c '%u %a' "$d" 2>&1) $(cat "$TMP/err")"
rm -rf "$d"
ok "2: the default directory of an unprivileged user is made 0700 and records"
# ...made by someone else first: refused, said, nothing written.
mkdir -m 0777 "$d"
as_nobody env -u STARTPATH_DIR -u XDG_RUNTIME_DIR LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null 2>"$TMP/err"
grep -q "^startpath: .*output directory $d is owned by another user" "$TMP/err" || fail "pre-made $d: $(cat "$TMP/err")"
[ -z "$(ls -A "$d")" ] || fail "nobody wrote into root's pre-made $d"
rmdir "$d"
ok "2: a default directory made by another user first: refused"

# A planted site cache: an entry that patches the RIP-relative lea in
# _start of a program with syscall sites (rawsys; a program without any,
# like /usr/bin/true, never reads the cache) into a stub (a crash if
# followed), owned by nobody in root's own directory, and the same entry
# owned by root (a plan that does not hold a SYSCALL at its offset: never
# followed).
P="$PROGS/rawsys"
bid=$(readelf -n "$P" | sed -n 's/.*Build ID: *//p')
entry=$(readelf -h "$P" | awk '/Entry point/ { print $4 }')
read -r addr bytes < <(objdump -d --start-address="$entry" "$P" |
	awk -F'\t' '$3 ~ /^lea .*\(%rip\)/ { gsub(/[ :]/, "", $1); gsub(/ /, "", $2); print $1, $2; exit }')
[ -n "$bid" ] && [ -n "$addr" ] || fail "cannot find a build id and a lea in $P"
len=$(( ${#bytes} / 2 ))
for owner in nobody root; do
	d="$TMP/cache-$owner"
	mkdir -m 0700 "$d" "$d/.sites"
	printf 'startpath-sites 2 %s %s\nsite %s %d 0 %s\n' "$bid" "$P" "$addr" "$len" "$bytes" >"$d/.sites/$bid.sites"
	chown "$owner" "$d/.sites/$bid.sites"
	STARTPATH_DIR="$d" LD_PRELOAD="$LIB" "$P" leaf 2>"$TMP/err" || fail "planted cache ($owner): rawsys exit $?"
	ok "2: a planted site-cache entry ($owner's) for rawsys was not followed"
done
# STARTPATH_CACHE pointing at a directory of nobody's: not used, said once.
nobody_dir 0755 "$TMP/ncache"
cp "$TMP/cache-root/.sites/$bid.sites" "$TMP/ncache/" && chown nobody "$TMP/ncache/$bid.sites"
STARTPATH_CACHE="$TMP/ncache" STARTPATH_DIR="$TMP/o2c" LD_PRELOAD="$LIB" "$P" leaf 2>"$TMP/err" ||
	fail "STARTPATH_CACHE of nobody's: exit $?"
grep -q "^startpath: .*site cache $TMP/ncache is owned by another user" "$TMP/err" || fail "untrusted STARTPATH_CACHE not said: $(cat "$TMP/err")"
ok "2: a STARTPATH_CACHE of another user's: not used, said"
# Symlinks planted for the cache writer's temporary files of the next pids,
# and a temporary JSON file of the process made writable by all: root
# truncated and rewrote the victim, and its JSON went to nobody's file.
d="$TMP/plant"; nobody_dir 0777 "$d"; nobody_dir 0777 "$d/.sites"
echo "victim" >"$TMP/victim"
bid=$(readelf -n "$PROGS/rawsys" | sed -n 's/.*Build ID: *//p')
# (one process makes them all: the next pids stay free for the victim run)
as_nobody perl -e 'open(my $f, "<", "/proc/sys/kernel/ns_last_pid") or die; my $last = <$f>;
	symlink($ARGV[0], "$ARGV[1].$_.tmp") or die for $last + 1 .. $last + 400' "$TMP/victim" "$d/.sites/$bid.sites" ||
	fail "cannot plant the symlinks"
STARTPATH_DIR="$d" LD_PRELOAD="$LIB" "$PROGS/rawsys" leaf 2>"$TMP/err" || fail "rawsys under a planted directory: exit $?"
[ "$(cat "$TMP/victim")" = victim ] || fail "root rewrote the victim through a planted symlink"
ok "2: symlinks planted for the site cache's temporary files: not followed"
STARTPATH_DIR="$d" LD_PRELOAD="$LIB" /bin/sh -c 'sleep 0.5; true' >/dev/null 2>&1 &
pid=$!
sleep 0.2
for f in "$d"/*.ring; do [ -e "$f" ] && as_nobody touch "$d/.$(basename "$f" .ring).json.tmp"; done
wait $pid
[ -z "$(find "$d" -user root)" ] || fail "root made files in nobody's directory: $(find "$d" -user root)"
ok "2: a temporary JSON file planted by nobody: root wrote nothing there"
# A FIFO named .retention blocked every traced process in its constructor.
as_nobody mkfifo -m 0666 "$d/.retention"
as_nobody touch -d '2 hours ago' "$d/.retention" # due for a scan
timeout 10 env STARTPATH_DIR="$d" LD_PRELOAD="$LIB" /usr/bin/true || fail "a FIFO in the directory blocked a traced process ($?)"
ok "2: a FIFO named .retention: no traced process blocks"
# startpath wrap (the runc wrapper, run as root by the shim) writes its
# span file only into a directory that passes the same checks.
STARTPATH_DIR="$d" "$SP" wrap -- "$PROGS/ids_static" >/dev/null 2>"$TMP/err" || fail "wrap in nobody's directory: exit $?"
[ -z "$(find "$d" -user root)" ] || fail "wrap wrote into nobody's directory: $(find "$d" -user root)"
grep -q "owned by another user" "$TMP/err" || fail "wrap did not say why: $(cat "$TMP/err")"
ok "2: startpath wrap into nobody's directory: nothing written, said why"

# STARTPATH_LOG in a directory others can write: the per-pid log names are
# predictable; a symlink planted there made root append to its target.
nobody_dir 0777 "$TMP/logs"
echo victim >"$TMP/victim2"
as_nobody perl -e 'open(my $f, "<", "/proc/sys/kernel/ns_last_pid") or die; my $last = <$f>;
	symlink($ARGV[0], "$ARGV[1].$_") or die for $last + 1 .. $last + 400' "$TMP/victim2" "$TMP/logs/log" ||
	fail "cannot plant the log symlinks"
# (rawsys: a program with syscall sites checks its directory at load.)
STARTPATH_LOG="$TMP/logs/log" STARTPATH_DIR=/dev/null/x LD_PRELOAD="$LIB" "$PROGS/rawsys" leaf 2>"$TMP/err" ||
	fail "rawsys with a planted log: exit $?"
[ "$(cat "$TMP/victim2")" = victim ] || fail "root appended its message through a planted STARTPATH_LOG symlink"
grep -q '^startpath: ' "$TMP/err" || fail "the message went nowhere: $(cat "$TMP/err")"
ok "8: a symlink planted for STARTPATH_LOG.<pid> is not followed; the message goes to stderr"

# ---- 3. entering a container by any form of setns ----
make_bundle "$TMP/b3" '["/bin/sleep","60"]' || fail "cannot make a bundle"
(cd "$TMP/b3" && in_cgroup2_ns crun --root "$TMP/crun" --cgroup-manager=disabled run -d sec3 \
	</dev/null >/dev/null 2>&1) || fail "crun run -d failed"
cleanup_hook() {
	crun --root "$TMP/crun" kill sec3 KILL 2>/dev/null; sleep 0.2
	crun --root "$TMP/crun" delete -f sec3 2>/dev/null
	[ -n "${nsp:-}" ] && kill "$nsp" 2>/dev/null
}
mkdir -m 0700 "$TMP/o3"
out=$(in_cgroup2_ns env STARTPATH_DIR="$TMP/o3" LD_PRELOAD="$LIB" crun --root "$TMP/crun" exec sec3 \
	/bin/sh -c 'env; echo; ls -a / /tmp') || fail "crun exec under the library failed: $out"
echo "$out" | grep -e '^LD_PRELOAD=' -e '^STARTPATH_' && fail "crun exec: the container's process got our settings"
echo "$out" | grep -q '\.ring$' && fail "crun exec: a ring was made in the container"
echo "$out" | grep -q '^PATH=' || fail "crun exec: no environment printed: $out"
ok "3: crun exec (setns with a pidfd and every flag): the container's process gets none of our settings"
unshare -m --propagation private sleep 60 & nsp=$!
sleep 0.2
for how in libc syscall raw; do
	out=$(STARTPATH_DIR="$TMP/o3" LD_PRELOAD="$LIB" "$PROGS/setns_exec" $how /proc/$nsp/ns/mnt /usr/bin/env) ||
		fail "setns_exec $how: exit $?"
	echo "$out" | grep -e '^LD_PRELOAD=' -e '^STARTPATH_' && fail "setns($how, fd, 0): our settings followed into the namespace"
	echo "$out" | grep -q '^PATH=' || fail "setns_exec $how: no environment printed"
	ok "3: setns(fd, 0) by $how: the exec'd program gets none of our settings"
done
check "$TMP/o3" '[.processes[] | select(.comm == "setns_exec") | .spans[] | select(.call == "setns" and .result == 0)] | length == 3' \
	"3: the three setns calls are recorded"

# ---- 4. run -o deletes only startpath's own files ----
mkdir -p "$TMP/proj"
echo '{"name":"x"}' >"$TMP/proj/package.json"; echo '{}' >"$TMP/proj/tsconfig.json"; echo r >"$TMP/proj/notes.ring"
"$SP" run -q -o "$TMP/proj" -- "$PROGS/rawsys" leaf || fail "run -o into a project directory failed"
"$SP" run -q -o "$TMP/proj" -- "$PROGS/rawsys" leaf || fail "second run -o failed"
for f in package.json tsconfig.json notes.ring; do [ -s "$TMP/proj/$f" ] || fail "run -o deleted $f"; done
[ "$(ls "$TMP/proj" | grep -c '^[0-9]*-[0-9]*\.ring$')" -eq 1 ] || fail "the earlier run's rings were not removed"
[ "$(stat -c %a "$TMP/proj/run.json")" = 600 ] || fail "run.json is $(stat -c %a "$TMP/proj/run.json")"
ok "4: run -o keeps package.json, tsconfig.json and notes.ring, removes its own earlier files; run.json 0600"
mkdir -m 1777 "$TMP/shared"
"$SP" run -q -o "$TMP/shared" -- /bin/true 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "writable by group or others" "$TMP/err" || fail "run -o into a 1777 directory: exit $rc, $(cat "$TMP/err")"
ok "4: run -o into a directory others can write: refused ($(head -1 "$TMP/err" | cut -c1-100))"

# ---- 6. static setuid programs keep their privilege ----
mkdir -p "$TMP/pub/lib" "$TMP/pub/bin"
cp "$LIB" "$TMP/pub/lib/"; cp "$SPEXEC" "$TMP/pub/bin/"; cp "$PROGS/ids_static" "$TMP/pub/ids"
chmod 0755 "$TMP/pub" "$TMP/pub/lib" "$TMP/pub/bin"; chmod 4755 "$TMP/pub/ids"
nobody_dir 0700 "$TMP/pub/out"
plain=$(as_nobody /bin/sh -c "$TMP/pub/ids")
traced=$(as_nobody env STARTPATH_DIR="$TMP/pub/out" LD_PRELOAD="$TMP/pub/lib/libstartpath.so" /bin/sh -c "$TMP/pub/ids")
[ "$plain" = "uid=$NOBODY euid=0" ] || fail "the setuid program untraced: $plain"
[ "$traced" = "$plain" ] || fail "a static setuid program run by a traced shell: '$traced', untraced '$plain'"
chmod 0755 "$TMP/pub/ids"
as_nobody env STARTPATH_DIR="$TMP/pub/out" LD_PRELOAD="$TMP/pub/lib/libstartpath.so" /bin/sh -c "$TMP/pub/ids" >/dev/null
check "$TMP/pub/out" "[.processes[] | select(.exe == \"$TMP/pub/ids\")] | length == 1" \
	"6: without the setuid bit the same static program still runs traced through the launcher"
ok "6: a static setuid-root program run by a traced shell keeps euid 0 ($traced)"

# ---- 7. hostile input to the CLI ----
mkdir -p "$TMP/h"
python3 "$TOP/tests/integration/mkring.py" "$TMP/h/1000-1.ring" --pid 1000 --orphan-exits 262144
start=$(date +%s.%N)
timeout 120 "$SP" report "$TMP/h" --calls >/dev/null 2>"$TMP/err"; rc=$?
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
[ $rc -ne 124 ] || fail "report of 262144 unmatched exits did not end in 120 s"
awk -v s="$secs" 'BEGIN{exit !(s < 20)}' || fail "report of 262144 unmatched exits took $secs s"
ok "7: 262144 unmatched exit records reported in $secs s (quadratic pairing took hours)"
mkdir -p "$TMP/f"; mkfifo "$TMP/f/1-1.json" "$TMP/f/2-2.ring"
timeout 10 "$SP" report "$TMP/f" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -ne 124 ] || fail "report waited on a FIFO named x.json"
grep -q "not a regular file" "$TMP/err" || fail "report of FIFOs did not say why: $(cat "$TMP/err")"
timeout 10 "$SP" diff "$TMP/f/1-1.json" "$TMP/f/1-1.json" >/dev/null 2>&1; [ $? -ne 124 ] || fail "diff waited on a FIFO"
ok "7: FIFOs named like startpath's files: report and diff say so and end (report exit $rc)"
evil='<meta http-equiv="refresh" content="0;url=https://example.invalid/">'
jq -n --arg n "$evil" '{schema: "startpath/bench/v1", runs: 3,
	phases: [{name: $n, samples_ns: [1000000, 1100000, 1200000]}, {name: "total", samples_ns: [3000000, 3100000, 3200000]}]}' >"$TMP/evil.json"
"$SP" diff --format html "$TMP/evil.json" "$TMP/evil.json" >"$TMP/evil.html" 2>"$TMP/err" ||
	[ $? -eq 1 ] || fail "diff --format html of the bench file failed: $(cat "$TMP/err")"
grep -q '&lt;meta http-equiv=&quot;refresh' "$TMP/evil.html" || fail "the phase name is not in the page at all"
grep -qi '<meta http-equiv="refresh"' "$TMP/evil.html" && fail "a bench phase name reached the HTML unescaped"
ok "7: a bench phase name with markup is escaped in diff --format html"
