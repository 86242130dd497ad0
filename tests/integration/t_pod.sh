#!/usr/bin/env bash
# Pods through containerd's CRI, as a kubelet starts them: a private CRI
# containerd (CNI bridge + host-local + loopback, a locally built pause
# image) under the library, scripts/cri/cri.py as the kubelet.  One map per
# pod: the sandbox's phases (netns, CNI ADD with each plugin, the pause) and
# each container's; concurrent pods apart; a slowed CNI plugin found.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/containerd-env.sh"
. "$TOP/scripts/cri-env.sh"
need_root
for c in containerd ctr runc jq; do need_cmd $c; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
[ -x /usr/lib/cni/bridge ] || skip "needs the CNI plugins (apt-get install containernetworking-plugins)"
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
	skip "needs python3-grpcio and python3-grpc-tools"
D="$TMP/cri"
U="$TMP/plain"
cleanup_hook() { cri_stop "$D"; cri_stop "$U"; }
mkdir -p "$TMP/cnibin"
cp "$PROGS/cni_delay" "$TMP/cnibin/sp-delay"
echo 0 >"$TMP/delay"
export CRI_CNI_BIN="$TMP/cnibin"
export CRI_CNI_EXTRA="{ \"type\": \"sp-delay\", \"delayFile\": \"$TMP/delay\" }"
export STARTPATH_CRI_GEN="$TMP/crigen"

sandbox_phases='snapshot_prepare sandbox_create netns_create cni_add task_create shim_start
	snapshot_mount runtime_create runtime_init namespace_setup rootfs_setup pivot_root task_start
	process_exec'
container_phases='container_create snapshot_prepare container_config task_create shim_start
	snapshot_mount runtime_create runtime_init namespace_join rootfs_setup pivot_root task_start
	process_exec'
# every_phase POD NCONTAINERS: the pod's map has every phase of its sandbox
# and of each container, seen.
every_phase() {
	local want=() p k
	for p in $sandbox_phases; do want+=("$p"); done
	for k in $(seq 1 "$2"); do
		for p in $container_phases; do want+=("c$k/$p"); done
	done
	jq -e --arg pod "$1" --argjson n "$2" --args '[.maps[] | select(.name == $pod)] as $m |
		($m | length == 1) and ($m[0].containers | length == $n + 1) and
		($m[0].missing_phases == 0) and
		([$ARGS.positional[] as $w | $m[0].phases[] | select(.name == $w and .seen)] | length)
			== ($ARGS.positional | length)' "$TMP/report.json" "${want[@]}" >/dev/null
}

# --- Nothing breaks: the same pod, untraced and traced, answers alike.
cri_start "$U" || fail "the untraced CRI containerd did not start"
cri_client "$U" pod --name two --containers 2 --logdir "$U/logs" >"$TMP/plain.json" ||
	fail "a pod on the untraced containerd failed"
cri_stop "$U"
cri_start "$D" "$LIB" || fail "the CRI containerd did not start under the library"
cri_client "$D" pod --name two --containers 2 --logdir "$D/logs" >"$TMP/two.json" ||
	fail "a pod of 2 containers failed under the library"
for k in states exit_codes; do
	[ "$(jq -c ".$k" "$TMP/two.json")" = "$(jq -c ".$k" "$TMP/plain.json")" ] ||
		fail "$k: $(jq -c ".$k" "$TMP/two.json") traced, $(jq -c ".$k" "$TMP/plain.json") untraced"
done
ok "a pod of 2 containers: CRI states $(jq -c .states "$TMP/two.json"), exit codes $(jq -c .exit_codes "$TMP/two.json") and logs as without the library"
report_json "$D/out" >"$TMP/report.json" || fail "report failed"
every_phase two 2 || fail "the pod of 2 containers: not one map with every phase of the sandbox and both containers:
$("$SP" report "$D/out")"
ok "a pod of 2 containers: one map, the sandbox once, every phase of both containers"

# --- 20 consecutive pods, one container each.
N=${STARTPATH_POD_RUNS:-20}
: >"$TMP/seq.json"
for i in $(seq 1 "$N"); do
	cri_client "$D" pod --name "seq-$i" >>"$TMP/seq.json" 2>"$TMP/err" ||
		fail "pod $i of $N failed: $(cat "$TMP/err")"
done
report_json "$D/out" >"$TMP/report.json" || fail "report failed"
n=$(jq '[.maps[] | select(.profile == "pod" and (.name // "" | startswith("seq-")))] | length' "$TMP/report.json")
[ "$n" -eq "$N" ] || fail "$n pod maps for $N pods"
for i in $(seq 1 "$N"); do
	every_phase "seq-$i" 1 || fail "pod seq-$i: a phase missing:
$("$SP" report "$D/out" --format json | jq -r --arg p "seq-$i" '.maps[] | select(.name==$p) | .phases[] | select(.seen|not) | "\(.name): \(.why)"')"
done
ok "$N consecutive pods: $N maps, every sandbox and container phase in each"
# The CNI plugins' own calls (their setns into the pod's namespace), in
# their own processes, under cni_add.
jq -e '[.maps[] | select(.name // "" | startswith("seq-")) |
	(any(.processes[]; .comm == "bridge" and .calls > 0) and
	 any(.processes[]; .comm == "host-local") and
	 ([.phases[] | select(.parent == "cni_add") | .name] | index("bridge(eth0)") != null))] |
	all' "$TMP/report.json" >/dev/null || fail "the CNI plugins' calls are not in every pod's map"
ok "the CNI plugins (bridge, host-local, loopback) recorded in their own processes, each a sub-span of cni_add"
# The map's total against the client's RunPodSandbox .. last StartContainer.
jq -s --slurpfile r "$TMP/report.json" '[.[] | .name as $n | .start_ms as $c |
	($r[0].maps[] | select(.name == $n) | .total_ns / 1e6) as $t |
	{name: $n, client: $c, map: $t, off: (($t - $c) / $c)}]' "$TMP/seq.json" >"$TMP/agree.json"
jq -e 'all(.[]; .off | fabs <= 0.10)' "$TMP/agree.json" >/dev/null ||
	fail "a pod map's total is more than 10% from the client's time: $(jq -c '[.[] | select(.off | fabs > 0.10)]' "$TMP/agree.json")"
ok "each pod's total within 10% of the client's RunPodSandbox-to-last-StartContainer time (worst $(jq '[.[].off | fabs] | max * 100 | floor' "$TMP/agree.json")%)"

# --- 4 pods at once: 4 maps, every call about its own pod.
cri_client "$D" pods --count 4 --name par >"$TMP/par.json" 2>"$TMP/err" ||
	fail "4 pods at once failed: $(cat "$TMP/err")"
report_json "$D/out" >"$TMP/report.json" || fail "report failed"
for i in 1 2 3 4; do
	every_phase "par-$i" 1 || fail "concurrent pod par-$i: a phase missing:
$("$SP" report "$D/out" | sed -n "/pod par-$i /,/^Start Path Map/p")"
done
# Each pod's ids (from the client) are the only container ids in its calls;
# its netns and its snapshots are its own.
jq -e -s --slurpfile r "$TMP/report.json" '[.[] | .name as $n | ([.sandbox_id] + .containers) as $ids |
	($r[0].maps[] | select(.name == $n)) as $m |
	([$m.phases[].calls[]?.args | .. | strings | scan("[0-9a-f]{64}")] | unique) - $ids == []] |
	all' "$TMP/par.json" >/dev/null ||
	fail "a concurrent pod's map holds another pod's container id"
jq -e '[.maps[] | select(.name // "" | startswith("par-")) |
	{ns: ([.phases[].calls[]?.args.target? // empty | select(test("/netns/"))] | unique),
	 snap: ([.phases[].calls[]?.args | .. | strings | scan("/snapshots/([0-9]+)/") | .[0]] | unique)}] |
	(map(.ns | length == 1) | all) and (map(.ns[0]) | unique | length == 4) and
	([.[].snap[]] | length) == ([.[].snap[]] | unique | length)' "$TMP/report.json" >/dev/null ||
	fail "the concurrent pods' netns or snapshots are shared between maps"
ok "4 pods at once: 4 maps, each with its own ids, one netns of its own, snapshots of its own"

# --- A CNI plugin slowed by 50 ms: the A/B bench finds it in the CNI phase.
for side in a:0 b:0.05; do
	cat >"$TMP/run-${side%%:*}.sh" <<EOT
echo ${side#*:} >"$TMP/delay"
exec /usr/bin/python3 "$TOP/scripts/cri/cri.py" --address "$D/containerd.sock" \
	--cgroup-parent "/startpath-cri-$(_cri_tag "$D")" pod --name "\$1"
EOT
done
"$SP" bench -q -n "${STARTPATH_POD_BENCH_RUNS:-12}" -d "$D/out" -o "$TMP/ab.json" -- \
	sh "$TMP/run-a.sh" aba-{} ::: sh "$TMP/run-b.sh" abb-{} >/dev/null 2>"$TMP/err" ||
	fail "the pod A/B bench failed: $(tail -3 "$TMP/err")"
jq -e '.failed == 0 and .candidate.failed == 0' "$TMP/ab.json" >/dev/null ||
	fail "pod bench runs failed: $(cat "$TMP/err")"
# A pod has ~40 phases, most a few ms: with a 1 ms floor, 12 pairs and
# alpha 0.01, about one diff in ten flags a phase that did not change (seen:
# c1/runtime_create +1.05 ms, p 0.008).  5 ms, as in t_bench.
"$SP" diff --min-ms 5 "$TMP/ab.json" --format json >"$TMP/d.json"; rc=$?
"$SP" diff --min-ms 5 "$TMP/ab.json" >&2
flagged=$(jq -r '[.phases[] | select(.verdict=="REGRESSION") | .name] | join(" ")' "$TMP/d.json")
[ $rc -eq 1 ] || fail "diff of the slowed CNI plugin: exit $rc, expected 1"
for p in $flagged; do
	case $p in cni_add|*"(eth0)"|*"(lo)"|total) ;; *) fail "diff flagged $p too (flagged: $flagged)" ;; esac
done
case " $flagged " in *" cni_add "*) ;; *) fail "diff did not flag cni_add (flagged: $flagged)" ;; esac
ok "CNI plugin slowed by 50 ms: diff flags $flagged, no other phase"
