#!/usr/bin/env bash
# fork/exec chains with an empty environment stay traced: the exec hook puts
# LD_PRELOAD and STARTPATH_DIR back.  Every image that records a call has its
# file; the last of the chain records none and has none (a process's file is
# made at its first record).
. "$(dirname "$0")/lib.sh"
STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$PROGS/forkexec" chain 6
rc=$?
[ $rc -eq 6 ] || fail "chain returned $rc, expected 6"
# 6 exec'd images that fork (chain 6..1) + 6 fork children before their exec
check "$TMP/out" '[.processes[] | select(.comm=="forkexec" and .forked==false)] | length == 6' "6 program images"
check "$TMP/out" '[.processes[] | select(.comm=="forkexec" and .forked==true)] | length == 6' "6 fork children"
check "$TMP/out" '[.processes[] | .spans[] | select(.call=="execve" and .args.env_added==2 and .args.argv1=="chain")] | length == 6' \
	"6 execs got LD_PRELOAD and STARTPATH_DIR added"
check "$TMP/out" '[.processes[] | .spans[] | select(.call=="fork" and .exit and .args.child_pid > 0)] | length == 6' \
	"6 forks with child pids"
check "$TMP/out" '[.processes[] | select(.forked==false and .comm=="forkexec") | .argv[2]] | sort == ["1","2","3","4","5","6"]' \
	"argv of every image that recorded"
# Each exec'd image learnt its host pid and pid namespace from the exec
# (STARTPATH_PROC), not from /proc: the same values as /proc gives.
check "$TMP/out" '[.processes[] | select(.host_pid != .pid)] | length == 0' "host pid of every process as /proc says"
ns=$(stat -L -c %i /proc/self/ns/pid)
bad=$(python3 - "$TMP/out" "$ns" <<'EOT'
import glob, struct, sys
off = 1360  # startpath.h: sp_ring_hdr.pidns (as in mkring.py)
print(sum(1 for f in glob.glob(sys.argv[1] + "/*.ring")
          if struct.unpack_from("<Q", open(f, "rb").read(off + 8), off)[0] != int(sys.argv[2])))
EOT
)
[ "$bad" = 0 ] || fail "$bad ring(s) with a pid namespace other than /proc's ($ns)"
ok "pid namespace of every process as /proc says"
# A process that records nothing leaves no file.
mkdir -m 0700 "$TMP/quiet"
STARTPATH_DIR="$TMP/quiet" LD_PRELOAD="$LIB" /bin/true || fail "/bin/true failed"
[ -z "$(ls -A "$TMP/quiet")" ] || fail "/bin/true left files: $(ls -A "$TMP/quiet")"
ok "a process that records nothing leaves no file"
# What an exec'd image gets in its environment from the library is exactly
# LD_PRELOAD, STARTPATH_DIR and STARTPATH_PROC=<its pid>:<host pid>:<pid
# namespace> (the parent's fork was recorded, so it knew them): well-formed
# strings, nothing else.  (The note was once formatted in a stack frame that
# was gone by the exec: the child got whatever bytes the stack held there.)
for v in $(compgen -e | grep '^STARTPATH_'); do unset "$v"; done
mkdir -m 0700 "$TMP/envout"
envs=$(STARTPATH_DIR="$TMP/envout" LD_PRELOAD="$LIB" "$PROGS/forkexec" env /usr/bin/env) ||
	fail "forkexec env failed: $envs"
child=$(printf '%s\n' "$envs" | sed -n 's/^child=//p')
[ -n "$child" ] || fail "no child pid in: $envs"
want="LD_PRELOAD=$LIB
STARTPATH_DIR=$TMP/envout
STARTPATH_PROC=$child:$child:$ns"
got=$(printf '%s\n' "$envs" | grep -v '^child=' | LC_ALL=C sort)
[ "$got" = "$(printf '%s\n' "$want" | LC_ALL=C sort)" ] ||
	fail "the exec'd child's environment is not the library's three settings: $(printf '%s' "$got" | od -c | head -20)"
ok "an exec'd child gets LD_PRELOAD, STARTPATH_DIR and its own STARTPATH_PROC, well-formed"
