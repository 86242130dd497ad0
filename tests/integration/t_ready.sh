#!/usr/bin/env bash
# Readiness probes end process_exec with a ready mark: --ready-log on the
# container's output, --ready-tcp on a port the container opens, measured
# on the real crun; a probe that never succeeds changes nothing.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/bundle.sh"
need_root
for c in crun jq unshare; do need_cmd $c; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
make_bundle "$TMP/b" '["/bin/sh","-c","sleep 0.1; echo READY; sleep 0.3"]' || fail "no bundle"
cd "$TMP/b"
out=$(in_cgroup2_ns "$SP" run -q -o "$TMP/o1" --ready-log '^READY$' -- crun --root "$TMP/st" \
	--cgroup-manager=disabled run r1) || fail "run failed: $out"
[ "$out" = READY ] || fail "the container's output was not passed on: '$out'"
report_json "$TMP/o1" >"$TMP/r1.json"
jq -e '.maps[0].ready_offset_ns != null and
	(.maps[0].phases[] | select(.name=="process_exec") | .duration_ns > 90000000 and .duration_ns < 250000000)' \
	"$TMP/r1.json" >/dev/null || fail "process_exec did not end at READY: $(jq -c '.maps[0].phases[] | select(.name=="process_exec")' "$TMP/r1.json")"
ok "--ready-log: process_exec $(jq '.maps[0].phases[] | select(.name=="process_exec") | .duration_ns / 1e6' "$TMP/r1.json") ms (the container said READY after 100 ms, ran 300 ms more)"
# A port, in the host's network namespace.
port=$((20000 + RANDOM % 20000))
jq --arg p "$port" '.process.args = ["/bin/sh","-c","sleep 0.1; exec nc -l -p " + $p] |
	.linux.namespaces |= map(select(.type != "network"))' config.json >c2 && mv c2 config.json
out=$(in_cgroup2_ns timeout 20 "$SP" run -q -o "$TMP/o2" --ready-tcp "127.0.0.1:$port" -- crun \
	--root "$TMP/st" --cgroup-manager=disabled run r2) || fail "run (tcp) failed: $out"
report_json "$TMP/o2" >"$TMP/r2.json"
jq -e '.maps[0].ready_offset_ns != null and
	(.maps[0].phases[] | select(.name=="process_exec") | .duration_ns > 90000000 and .duration_ns < 1000000000)' \
	"$TMP/r2.json" >/dev/null || fail "process_exec did not end at the connection: $(jq -c '.maps[0]|{ready_offset_ns, p: [.phases[] | select(.name=="process_exec")]}' "$TMP/r2.json")"
ok "--ready-tcp: process_exec $(jq '.maps[0].phases[] | select(.name=="process_exec") | .duration_ns / 1e6' "$TMP/r2.json") ms"
"$SP" run -q -o "$TMP/o3" --ready-tcp nonsense -- true 2>"$TMP/e"; [ $? -eq 2 ] || fail "bad --ready-tcp not exit 2"
grep -q "HOST:PORT" "$TMP/e" || fail "bad --ready-tcp: no message"
"$SP" run -q -o "$TMP/o3" --ready-log '(' -- true 2>"$TMP/e"; [ $? -eq 2 ] || fail "bad regex not exit 2"
ok "bad probe settings: exit 2"
