#!/usr/bin/env bash
# Debian's dockerd is a stripped cgo PIE (no .symtab, no .gopclntab
# section): under the library its syscall sites are found (the Go function
# table by its header) and rewritten, so the overlay mounts it makes itself
# are recorded.  A private dockerd (own data-root, exec-root, socket, no
# bridge, no iptables) checks overlay support with real overlay mounts at
# start; they must be in its ring, with their duration.
. "$(dirname "$0")/lib.sh"
need_root
for c in dockerd readelf jq; do need_cmd $c docker.io; done
readelf -S /usr/sbin/dockerd | grep -q -e '\.symtab' -e 'gopclntab' &&
	echo "note: this dockerd is not stripped; the test still runs"
D="$TMP/d"
mkdir -p "$D"
mkdir -m 0700 "$D/out"
cleanup_hook() {
	local p
	p=$(cat "$D/docker.pid" 2>/dev/null) && kill "$p" 2>/dev/null
	for _ in $(seq 1 50); do [ -n "$p" ] && kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	pkill -f "containerd --config $D/exec/containerd/containerd.toml" 2>/dev/null
	grep -F "$D/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
STARTPATH_DIR="$D/out" LD_PRELOAD="$LIB" dockerd --data-root "$D/data" --exec-root "$D/exec" \
	--pidfile "$D/docker.pid" -H "unix://$D/docker.sock" --bridge=none --iptables=false \
	--ip6tables=false --storage-driver overlay2 >"$D/log" 2>&1 &
for _ in $(seq 1 150); do
	[ -S "$D/docker.sock" ] && [ -s "$D/docker.pid" ] && break
	sleep 0.2
done
[ -S "$D/docker.sock" ] || fail "dockerd did not start under the library: $(tail -5 "$D/log")"
# The storage driver is set up, with its overlay checks, by the time the
# daemon answers on its socket.
docker=/usr/bin/docker; [ -x "$docker" ] || docker=docker
for _ in $(seq 1 100); do "$docker" -H "unix://$D/docker.sock" info >/dev/null 2>&1 && break; sleep 0.2; done
"$docker" -H "unix://$D/docker.sock" info 2>/dev/null | grep -q 'Storage Driver: overlay2' ||
	fail "dockerd does not answer with overlay2: $(tail -5 "$D/log")"
ok "dockerd $(cat "$D/docker.pid") started under the library"
check "$D/out" '[.processes[] | select(.comm=="dockerd") | .notes // "" | select(test("rewrote [1-9][0-9]* of"))] | length == 1' \
	"dockerd's syscall sites were rewritten"
check "$D/out" '[.processes[] | select(.comm=="dockerd") | .spans[] | select(.src=="raw" and .call=="mount" and .args.fstype=="overlay" and .result==0 and .dur_ns > 0)] | length >= 1' \
	"dockerd's own overlay mounts recorded (raw), with their duration"
check "$D/out" '[.processes[] | select(.comm=="dockerd") | .spans[] | select(.src=="raw" and .call=="umount2" and .result==0)] | length >= 1' \
	"and their unmounts"
