#!/usr/bin/env bash
# dockerd's own pulls (docker.io 20.10, overlay2) from a real registry
# (Debian's docker-registry on 127.0.0.1), dockerd and the docker client
# under the library:
#  - `docker run` of an image not yet pulled: the start's map opens with the
#    pull: resolve (the manifest into dockerd's containerd, with its digest),
#    fetch, and one unpack span per layer with the pushed digests in
#    manifest order, then every docker start phase; the pull inside the
#    client's wall time;
#  - `docker run` of it again: no pull in that map;
#  - `docker pull` of an image sharing its base layer: a pull map of its own
#    named by the client's reference, with only the layers dockerd lacked;
#    a run started right after it (of an image dockerd had) has no pull.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/docker-env.sh"
. "$TOP/scripts/registry-env.sh"
need_root
for c in dockerd jq curl openssl docker-registry python3; do need_cmd $c; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
R="$TMP/reg"
D="$TMP/d"
cleanup_hook() {
	dockerd_stop "$D"
	reg_stop "$R"
	[ -n "${KEEP:-}" ] && cp -a "$TMP" "$KEEP"
}
reg_start "$R" || fail "the registry did not start"
reg_image "$R" dapp 1 4 || fail "pushing the image failed"
reg_image "$R" dapp2 2 3 || fail "pushing the second image failed"
REG=$REG_ADDR
dockerd_start "$D" "$LIB" || fail "dockerd did not start under the library"
# The client traced too (the reference is in its arguments).
dcli() { LD_PRELOAD="$LIB" STARTPATH_DIR="$D/out" dockerd_cli "$D" "$@"; }
ok "registry on $REG (dapp: $(wc -l <"$R/dapp.layers") layers), dockerd under the library"

# --- docker run of an image dockerd does not have.
a=$(date +%s%N)
out=$(dcli run --rm --network none "$REG/dapp:latest" /bin/echo pulled 2>&1) ||
	fail "docker run of a missing image failed: $out"
b=$(date +%s%N)
[ "$(echo "$out" | tail -1)" = pulled ] || fail "the container said: $out"
report_json "$D/out" >"$TMP/r1.json" || fail "report failed"
jq -e '[.maps[] | select(.profile == "docker")] | length == 1' "$TMP/r1.json" >/dev/null ||
	fail "expected one docker map: $("$SP" report "$D/out" | head -40)"
mapfile -t dg < <(awk '{print $1}' "$R/dapp.layers")
jq -e --arg m "$(cat "$R/dapp.manifest")" --arg d1 "${dg[0]}" --arg d2 "${dg[1]}" \
	--arg d3 "${dg[2]}" '.maps[] | select(.profile == "docker") |
	def ph($n): first(.phases[] | select(.name == $n));
	.pulled and ph("pull_resolve").seen and ph("fetch_manifest").digest == $m and
	ph("pull_fetch").seen and ph("pull_unpack").seen and
	ph("unpack_layer1").digest == $d1 and ph("unpack_layer2").digest == $d2 and
	ph("unpack_layer3").digest == $d3 and
	([.phases[] | select(.name | startswith("unpack_layer"))] | length) == 3 and
	([.phases[] | select(.name | test("^(pull_|fetch_|unpack_)")) | .process] | unique) ==
		["containerd", "dockerd"] and
	ph("pull_resolve").start_offset_ns == 0 and ph("layer_create").start_offset_ns > ph("unpack_layer3").start_offset_ns' \
	"$TMP/r1.json" >/dev/null ||
	fail "the start's map does not open with the pull as expected:
$("$SP" report "$D/out" | head -30)"
for ph in layer_create rootfs_mount container_setup task_create shim_start runtime_create \
	runtime_init namespace_setup rootfs_setup pivot_root task_start process_exec; do
	jq -e --arg p "$ph" '.maps[] | select(.profile == "docker") | any(.phases[]; .name == $p and .seen)' \
		"$TMP/r1.json" >/dev/null || fail "start phase $ph not seen after the pull"
done
# The map (pull and start) inside the client's own wall time.
jq -e --argjson w "$(((b - a) / 1000))" '.maps[] | select(.profile == "docker") |
	.total_ns / 1000 <= $w and .total_ns > 0' "$TMP/r1.json" >/dev/null ||
	fail "the map's total ($(jq '.maps[] | select(.profile == "docker") | .total_ns / 1000000' "$TMP/r1.json") ms) is longer than docker run's $(((b - a) / 1000000)) ms"
ok "docker run of a missing image: its map opens with the pull (manifest $(cut -c1-19 "$R/dapp.manifest"), 3 layers applied with their digests), then every start phase, inside the client's $(((b - a) / 1000000)) ms"

# --- the same image again: there, no pull.
dcli run --rm --network none "$REG/dapp:latest" /bin/true >"$TMP/o" 2>&1 || fail "second docker run: $(cat "$TMP/o")"
report_json "$D/out" >"$TMP/r2.json" || fail "report failed"
jq -e '([.maps[] | select(.profile == "docker")] | length) == 2 and
	([.maps[] | select(.profile == "docker" and .pulled)] | length) == 1 and
	([.maps[] | select(.profile == "pull")] | length) == 0' "$TMP/r2.json" >/dev/null ||
	fail "the second run should map without a pull: $("$SP" report "$D/out" | head -60)"
ok "docker run of it again: no pull in its map"

# --- docker pull alone, of an image whose base layer dockerd has, then at
# once a run of the image it had: the pull is a map of its own (a traced
# `docker pull` starts nothing), the run's map has no pull.
dcli pull "$REG/dapp2:latest" >"$TMP/o" 2>&1 || fail "docker pull: $(cat "$TMP/o")"
dcli run --rm --network none "$REG/dapp:latest" /bin/true >"$TMP/o" 2>&1 || fail "third docker run: $(cat "$TMP/o")"
mapfile -t dg2 < <(awk '{print $1}' "$R/dapp2.layers")
[ "${dg2[0]}" = "${dg[0]}" ] || fail "the two images' base layers differ (the test expects them shared)"
report_json "$D/out" >"$TMP/r3.json" || fail "report failed"
jq -e --arg r "$REG/dapp2:latest" --arg m "$(cat "$R/dapp2.manifest")" --arg d2 "${dg2[1]}" \
	--arg d3 "${dg2[2]}" '[.maps[] | select(.profile == "pull")] | length == 1 and
	(.[0] | def ph($n): first(.phases[] | select(.name == $n));
	.container_id == $r and ph("fetch_manifest").digest == $m and
	ph("unpack_layer1").digest == $d2 and ph("unpack_layer2").digest == $d3 and
	([.phases[] | select(.name | startswith("unpack_layer"))] | length) == 2)' \
	"$TMP/r3.json" >/dev/null ||
	fail "docker pull is not a pull map of its own with the 2 layers dockerd lacked:
$("$SP" report "$D/out" | grep -A14 'image pull')"
jq -e '([.maps[] | select(.profile == "docker")] | length) == 3 and
	([.maps[] | select(.profile == "docker" and .pulled)] | length) == 1' "$TMP/r3.json" >/dev/null ||
	fail "the run right after docker pull was given the pull: $("$SP" report "$D/out" | head -40)"
ok "docker pull alone: a pull map named $REG/dapp2:latest with the 2 layers it lacked, not the shared one; the run right after it has no pull"
