#!/usr/bin/env bash
# Retention: files of processes that are gone are removed once older than
# STARTPATH_KEEP_AGE, oldest first beyond STARTPATH_KEEP_MB or
# STARTPATH_KEEP_PROCS; a running process keeps its files, also when the
# scan runs in another pid namespace (whose kill() cannot see it); at most
# one scan every 10 s; a FIFO or a link never stops or steers it.
. "$(dirname "$0")/lib.sh"
O="$TMP/out"
mkdir -p "$O"
# CLOCK_MONOTONIC now, as the library names its files
STARTPATH_DIR="$TMP/clock" LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
now=$(ls "$TMP/clock" | sed -n 's/^[0-9]*-\([0-9]*\)\.ring$/\1/p' | head -1)
[ -n "$now" ] || fail "no ring file to read the clock from"
dead=$(((1 << 22) + 1000)); while kill -0 $dead 2>/dev/null; do dead=$((dead + 1)); done
old=$((now - 120 * 1000000000))
recent=$((now - 10 * 1000000000))
NS=$(stat -L -c %i /proc/self/ns/pid)
# mk PID-TLOAD SIZE [mkring options]: a ring as the library writes it, of a
# process of this pid namespace unless the options say otherwise.
mk() {
	local name=$1 size=$2; shift 2
	python3 "$TOP/tests/integration/mkring.py" "$O/$name.ring" --pid "${name%%-*}" \
		--t-load "${name#*-}" --pidns "$NS" --size "$(numfmt --from=iec "$size")" "$@" ||
		fail "mkring $name"
	fallocate -l "$size" "$O/$name.ring" 2>/dev/null ||
		head -c "$(numfmt --from=iec "$size")" /dev/zero | dd of="$O/$name.ring" bs=64k seek=1 \
			conv=notrunc 2>/dev/null
	echo '{}' >"$O/$name.json"
}
mk "$dead-$old" 1M          # gone, 2 min old: removed
mk "$dead-$recent" 1M       # gone, 10 s old: kept (age 1 min)
mk "$$-$old" 1M             # this shell, running: kept
STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
[ ! -e "$O/$dead-$old.ring" ] && [ ! -e "$O/$dead-$old.json" ] || fail "old files of a dead process kept"
[ -e "$O/$dead-$recent.ring" ] || fail "recent files removed"
[ -e "$O/$$-$old.ring" ] || fail "a running process's files removed"
ok "age: old files of a gone process removed, recent and running kept"
# Size: over STARTPATH_KEEP_MB, the oldest files of gone processes go first.
mk "$dead-$((recent - 5000000000))" 3M
mk "$dead-$((recent - 1000000000))" 3M
rm -f "$O/.retention"
STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 STARTPATH_KEEP_MB=8 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
[ ! -e "$O/$dead-$((recent - 5000000000)).ring" ] || fail "oldest file kept although over the size"
[ -e "$O/$dead-$((recent - 1000000000)).ring" ] || fail "a newer file removed before the limit was met"
ok "size: oldest gone files removed until under STARTPATH_KEEP_MB"
# A .json beside a ring (an older version wrote one per process) counts with
# it: two gone images of 4 KiB rings and 3 MiB .json files are over 4 MB,
# the older goes, ring and .json.
rm -rf "$O"; mkdir -p "$O"
for k in 2 1; do
	mk "$dead-$((recent - k * 1000000000))" 4K
	head -c 3M /dev/urandom >"$O/$dead-$((recent - k * 1000000000)).json"
done
STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 STARTPATH_KEEP_MB=4 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
[ ! -e "$O/$dead-$((recent - 2000000000)).ring" ] && [ ! -e "$O/$dead-$((recent - 2000000000)).json" ] ||
	fail "the .json files' megabytes not counted: the older image kept ($(ls "$O" | tr '\n' ' '))"
[ -e "$O/$dead-$((recent - 1000000000)).json" ] || fail "the newer image removed too"
ok "size: a ring's .json counts with it"
# Count: beyond STARTPATH_KEEP_PROCS process images, the oldest gone go first
# (rings are sparse: the megabytes alone would keep tens of thousands).
rm -rf "$O"; mkdir -p "$O"
for k in 1 2 3 4 5 6; do mk "$dead-$((recent - k * 1000000000))" 4K; done
STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 STARTPATH_KEEP_PROCS=4 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
left=$(ls "$O" | grep -c '\.ring$')
[ "$left" -eq 4 ] || fail "$left process images kept with STARTPATH_KEEP_PROCS=4 (6 gone + the scanner)"
[ ! -e "$O/$dead-$((recent - 6000000000)).ring" ] && [ ! -e "$O/$dead-$((recent - 5000000000)).ring" ] &&
	[ ! -e "$O/$dead-$((recent - 4000000000)).ring" ] || fail "not the oldest removed first"
ok "count: oldest gone images removed until STARTPATH_KEEP_PROCS are left"
# Every 10 s at most: a new old file survives the next process.
mk "$dead-$old" 1M
STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
[ -e "$O/$dead-$old.ring" ] || fail "scanned again within 10 s"
ok "at most one scan every 10 s"
# Across pid namespaces (an OCI hook, `unshare -p -f`): kill() there cannot
# see a process of the host, so a running host process's files stay; a
# process of another namespace goes only once its ring says it exited.
rm -rf "$O"; mkdir -p "$O"
sleep 30 & live=$!
mk "$live-$old" 1M
mk "$dead-$((old + 1))" 1M --pidns 4026531111
mk "$dead-$((old + 2))" 1M --pidns 4026531111 --exited
if [ "$(id -u)" -eq 0 ]; then
	unshare -p -f env STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null ||
		fail "traced program in a new pid namespace failed"
	[ -e "$O/$live-$old.ring" ] || fail "a scan in another pid namespace removed a running process's ring"
	ok "a scan in another pid namespace keeps a running process's files"
fi
rm -f "$O/.retention"
STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
[ -e "$O/$live-$old.ring" ] || fail "a running process's ring removed"
[ -e "$O/$dead-$((old + 1)).ring" ] || fail "a ring of another namespace's pid removed without knowing"
[ ! -e "$O/$dead-$((old + 2)).ring" ] || fail "an exited process of another namespace kept"
kill $live 2>/dev/null; wait $live 2>/dev/null
ok "another namespace's pid: kept until its ring says it exited"
# A FIFO as the stamp, a FIFO and a link named like rings: no traced process
# blocks, nothing is followed or removed but plain files.
rm -rf "$O"; mkdir -p "$O"
mkfifo "$O/.retention" "$O/$dead-$old.ring"
touch -d '2 hours ago' "$O/.retention" # due for a scan
ln -s /etc/passwd "$O/$dead-$((old + 1)).ring"
timeout 10 env STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null ||
	fail "a FIFO named .retention blocked a traced process (exit $?)"
rm "$O/.retention"
timeout 10 env STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null ||
	fail "a FIFO named like a ring blocked the scan (exit $?)"
[ -p "$O/$dead-$old.ring" ] && [ -L "$O/$dead-$((old + 1)).ring" ] && [ -s /etc/passwd ] ||
	fail "retention removed or followed what is not a plain file"
ok "FIFOs and links in the directory: nothing blocks, nothing followed"
# A process in a new pid namespace (a container's first process, killed or
# exec'd into the container: no exit recorded) names the namespace of /proc
# (its parent's) in its header, so that a scan can ask whether its host pid
# lives; it goes once it is gone.  (Its header used to say 0, "unknown":
# such files were never removed, and over weeks they filled the process
# budget until each scan removed the newest files instead.)
if [ "$(id -u)" -eq 0 ]; then
	rm -rf "$O"; mkdir -p "$O"
	child=$(STARTPATH_DIR="$O" LD_PRELOAD="$LIB" "$PROGS/newpid") || fail "newpid failed"
	ring=$(ls "$O" | grep "^$child-.*\.ring$")
	[ -n "$ring" ] || fail "no ring of the child $child in its new pid namespace: $(ls "$O")"
	ns=$(python3 -c 'import struct,sys; print(struct.unpack_from("<Q", open(sys.argv[1], "rb").read(1368), 1360)[0])' "$O/$ring")
	[ "$ns" = "$NS" ] || fail "the child's ring names pid namespace $ns, not /proc's ($NS)"
	rm -f "$O/.retention"
	STARTPATH_DIR="$O" STARTPATH_KEEP_AGE=60 STARTPATH_KEEP_PROCS=1 LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null
	[ ! -e "$O/$ring" ] || fail "the gone child's ring (new pid namespace) was kept"
	ok "a process of a new pid namespace names /proc's namespace; gone, its file is removed"
fi
