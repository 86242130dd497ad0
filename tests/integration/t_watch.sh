#!/usr/bin/env bash
# startpath watch on a live, traced private containerd:
#  1. 30 `ctr run`s under the watcher (metrics, OTLP, NDJSON) while a real
#     Prometheus scrapes it, the OTLP receiver down for the first 10 starts:
#     Prometheus counts 30 of every start phase and its medians fall within
#     one bucket of the report's medians of the same starts; the receiver
#     gets the 30 traces, none twice; 30 JSON lines, one per start;
#  2. 10 more, the watcher stopped (SIGTERM) after the 5th, 2 starts made
#     while it is down, then started again: each of the 40 starts emitted
#     exactly once (NDJSON and OTLP);
#  3. idle, it does not scan; bad input is exit 2.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/containerd-env.sh"
need_root
for c in containerd ctr runc jq python3 curl; do need_cmd $c; done
need_cmd prometheus prometheus
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
D="$TMP/c"
O="$TMP/out"
WPID= PPID_= SPID=
cleanup_hook() {
	for p in $WPID $PPID_ $SPID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ctrd_stop "$D"
}
mkdir -m 0700 "$O"
STARTPATH_OUT="$O" ctrd_start "$D" "$LIB" || fail "containerd did not start under the library"
ctrd_image "$D" || fail "image import failed"

port() { echo $((20000 + RANDOM % 30000)); }
MP=$(port) RP=$(port) PP=$(port)
start_watch() {
	"$SP" watch "$O" --metrics-listen "127.0.0.1:$MP" --otlp-endpoint "http://127.0.0.1:$RP/v1/traces" \
		--json --settle 1 >>"$TMP/json" 2>>"$TMP/watch.err" &
	WPID=$!
	for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$MP/metrics" >/dev/null && return 0; sleep 0.05; done
	fail "the watcher's metrics endpoint did not come up: $(cat "$TMP/watch.err")"
}
start_watch
cat >"$TMP/prom.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: startpath
    static_configs:
      - targets: ['127.0.0.1:$MP']
EOF
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$PP" >"$TMP/prom.log" 2>&1 &
PPID_=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$PP/-/ready" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PP/-/ready" >/dev/null || fail "prometheus did not start: $(tail -5 "$TMP/prom.log")"
ok "containerd, the watcher and Prometheus up"

start_sink() {
	python3 "$TOP/tests/integration/otlp_sink.py" "$RP" "$TMP/traces" &
	SPID=$!
	for _ in $(seq 1 100); do [ -e "$TMP/traces.ready" ] && return 0; sleep 0.05; done
	fail "the OTLP receiver did not start"
}
run() { ctrd_ctr "$D" run --rm docker.io/library/bb:latest "$1" /bin/true || fail "ctr run $1 failed"; }
for i in $(seq 1 30); do
	run "w$i"
	[ "$i" = 10 ] && start_sink
done
# Wait until every start was emitted and every trace taken (the receiver
# came up after 10: the watcher retries with a backoff of up to 30 s).
lines() { [ -s "$1" ] && wc -l <"$1" || echo 0; }
ids() { [ -s "$TMP/traces" ] && tr ' ' '\n' <"$TMP/traces" | grep -c . || echo 0; }
for _ in $(seq 1 900); do [ "$(lines "$TMP/json")" -ge 30 ] && [ "$(ids)" -ge 30 ] && break; sleep 0.1; done
[ "$(lines "$TMP/json")" -eq 30 ] || fail "$(lines "$TMP/json") JSON lines for 30 starts"
[ "$(jq -r .container_id "$TMP/json" | sort -u | wc -l)" -eq 30 ] || fail "the 30 JSON lines are not 30 starts"
jq -e -s 'all(.[]; .complete and .missing_phases == 0 and .profile == "containerd" and .runtime == "runc")' \
	"$TMP/json" >/dev/null || fail "a JSON line is not a complete containerd start: $(head -c 600 "$TMP/json")"
ok "30 starts, 30 JSON lines, each complete"
[ "$(ids)" -eq 30 ] && [ "$(tr ' ' '\n' <"$TMP/traces" | grep . | sort -u | wc -l)" -eq 30 ] ||
	fail "the OTLP receiver got $(ids) traces ($(tr ' ' '\n' <"$TMP/traces" | grep . | sort -u | wc -l) distinct) for 30 starts"
ok "the OTLP receiver, down for the first 10 starts, got all 30 traces, none twice"

# Prometheus: every start phase counted 30 times; medians within a bucket.
sleep 3 # two more scrapes
q() { curl -sf --get "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1"; }
report_json "$O" >"$TMP/report.json" || fail "report failed"
phases=$(jq -r '[.maps[0].phases[] | select(.section == "start") | .name] | join(" ")' "$TMP/report.json")
[ -n "$phases" ] || fail "no start phases in the report"
q 'startpath_phase_duration_seconds_count' >"$TMP/counts.json" || fail "query failed"
for ph in $phases; do
	n=$(jq -r --arg p "$ph" '[.data.result[] | select(.metric.phase == $p) | .value[1] | tonumber] | add // 0' "$TMP/counts.json")
	[ "$n" = 30 ] || fail "Prometheus counts $n of phase $ph, expected 30"
done
ok "Prometheus: a histogram count of 30 for each of the $(echo $phases | wc -w) start phases"
bucket() { awk -v v="$1" 'BEGIN { split("0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10", b, " ");
	for (i = 1; i <= 16; i++) if (v <= b[i]) { print i; exit } print 17 }'; }
for ph in $phases; do
	prom=$(q "histogram_quantile(0.5, sum by (le) (startpath_phase_duration_seconds_bucket{phase=\"$ph\"}))" |
		jq -r '.data.result[0].value[1]')
	rep=$(jq -r --arg p "$ph" '[.maps[] | select(.container_id | test("^w[0-9]+$")) | .phases[] |
		select(.name == $p and .seen) | .duration_ns] | sort | .[(length - 1) / 2 | floor] / 1e9' "$TMP/report.json")
	a=$(bucket "$prom") b=$(bucket "$rep")
	[ $((a - b)) -le 1 ] && [ $((b - a)) -le 1 ] ||
		fail "phase $ph: Prometheus' median $prom s (bucket $a), the report's $rep s (bucket $b)"
done
ok "Prometheus' medians within one bucket of the report's, every phase"

# 2. Stopped and started again in the middle of a run.
for i in 31 32 33 34 35; do run "w$i"; done
kill -TERM "$WPID"; wait "$WPID"; rc=$?
[ $rc -eq 0 ] || fail "the watcher exited $rc on SIGTERM"
WPID=
run w36; run w37 # while it is down
start_watch
for i in 38 39 40; do run "w$i"; done
for _ in $(seq 1 300); do [ "$(jq -r .container_id "$TMP/json" | sort -u | wc -l)" -ge 40 ] && [ "$(ids)" -ge 40 ] && break; sleep 0.1; done
sleep 2 # anything emitted twice would be out by now
got=$(jq -r .container_id "$TMP/json" | sort | uniq -c | awk '$1 != 1 {print $2 " x" $1}')
[ -z "$got" ] || fail "emitted more than once: $got"
[ "$(lines "$TMP/json")" -eq 40 ] || fail "$(lines "$TMP/json") JSON lines for 40 starts"
[ "$(tr ' ' '\n' <"$TMP/traces" | grep . | sort | uniq -d | wc -l)" -eq 0 ] || fail "a trace was sent twice"
[ "$(tr ' ' '\n' <"$TMP/traces" | grep . | sort -u | wc -l)" -eq 40 ] || fail "$(ids) traces for 40 starts"
ok "stopped after 35 and started again (36, 37 made meanwhile): 40 starts, each emitted once, NDJSON and OTLP"

# 3. Idle: no scans without activity.
s1=$(curl -sf "http://127.0.0.1:$MP/metrics" | awk '$1 == "startpath_watch_scans_total" {print $2}')
sleep 3
s2=$(curl -sf "http://127.0.0.1:$MP/metrics" | awk '$1 == "startpath_watch_scans_total" {print $2}')
[ "$s1" = "$s2" ] || fail "the idle watcher scanned ($s1 -> $s2)"
ok "idle: no scan in 3 s"
grep -v '^startpath: watch: \(POST\|the OTLP receiver takes\)' "$TMP/watch.err" | grep . &&
	fail "the watcher said more than the receiver's outage"

expect() { "$@" >/dev/null 2>"$TMP/e"; rc=$?; [ $rc -eq 2 ] || fail "$* -> $rc, expected 2: $(cat "$TMP/e")"; }
expect "$SP" watch "$O"
expect "$SP" watch "$O" --json --settle -1
expect "$SP" watch "$O" --metrics-listen nonsense
expect "$SP" watch "$O" --otlp-endpoint ftp://x
echo garbage >"$TMP/badstate"
expect "$SP" watch "$O" --json --state "$TMP/badstate"
grep -q "not a startpath watch state file" "$TMP/e" || fail "a bad state file is not named: $(cat "$TMP/e")"
ok "bad input: exit 2, said what"
