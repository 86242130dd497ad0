#!/usr/bin/env bash
# export: Chrome Trace Event JSON structurally valid (every event has ph,
# ts, dur, pid, tid, name; slices on each track nest), and OTLP/JSON with
# the mapping's names and encodings (hex ids of the right length, times as
# decimal strings, kind and status enums, parents that exist), made from
# recorded containerd and crun starts (tests/data).
. "$(dirname "$0")/lib.sh"
for src in containerd-run crun-run; do
	D="$TOP/tests/data/$src"
	"$SP" export --format chrome "$D" >"$TMP/c.json" || fail "$src: chrome export failed"
	jq -e '.traceEvents | length > 10 and all(.[]; has("ph") and has("ts") and has("dur") and has("pid") and has("tid") and has("name"))' \
		"$TMP/c.json" >/dev/null || fail "$src: an event lacks ph/ts/dur/pid/tid/name"
	n=$(jq '[.traceEvents[] | select(.ph=="X" and (.cat=="phase" or .cat=="subphase"))] | length' "$TMP/c.json")
	[ "$n" -ge 6 ] || fail "$src: $n phase slices"
	jq -e '[.traceEvents[] | select(.ph=="M" and .name=="process_name")] | length >= 2' "$TMP/c.json" >/dev/null ||
		fail "$src: no process names"
	# Nesting: on each track, a slice starts after the previous one ends or
	# lies inside every slice still open.
	jq -r '.traceEvents[] | select(.ph=="X") | "\(.pid) \(.tid) \(.ts) \(.dur)"' "$TMP/c.json" |
		sort -k1,1n -k2,2n -k3,3g -k4,4gr | awk '
		{ key = $1 " " $2; s = $3; e = $3 + $4
		  if (key != last) { n = 0; last = key }
		  while (n > 0 && s >= end[n] - 1e-6) n--
		  if (n > 0 && e > end[n] + 1e-6) { print "overlap on " key ": " s "-" e " vs open until " end[n]; bad = 1 }
		  end[++n] = e }
		END { exit bad }' || fail "$src: slices do not nest"
	ok "$src: chrome trace valid ($(jq '.traceEvents | length' "$TMP/c.json") events, $n phases), slices nest"

	"$SP" export --format otlp "$D" >"$TMP/o.json" || fail "$src: otlp export failed"
	jq -e '
	  (.resourceSpans | length >= 1) and
	  all(.resourceSpans[]; (.resource.attributes | map(.key) | index("container.id") != null and index("service.name") != null and index("host.name") != null and index("container.runtime") != null) and
	    all(.scopeSpans[].spans[];
	      (.traceId | test("^[0-9a-f]{32}$")) and (.spanId | test("^[0-9a-f]{16}$")) and
	      ((.parentSpanId // "") | test("^([0-9a-f]{16})?$")) and
	      (.startTimeUnixNano | test("^[0-9]+$")) and (.endTimeUnixNano | test("^[0-9]+$")) and
	      ((.endTimeUnixNano | tonumber) >= (.startTimeUnixNano | tonumber)) and
	      (.kind == 1) and (.status.code == 1 or .status.code == 2) and
	      all(.attributes[]; has("key") and (.value | has("stringValue") or has("intValue")))))' \
		"$TMP/o.json" >/dev/null || fail "$src: an OTLP field has the wrong name or encoding"
	jq -e 'all(.resourceSpans[].scopeSpans[]; [.spans[].spanId] as $ids |
	      ([.spans[] | select(.parentSpanId == null)] | length == 1) and
	      all(.spans[]; .parentSpanId == null or (.parentSpanId as $p | $ids | index($p) != null)) and
	      ([.spans[].traceId] | unique | length == 1) and ($ids | unique | length == ($ids | length)))' \
		"$TMP/o.json" >/dev/null || fail "$src: a parent id that does not exist, or ids not unique"
	jq -e '[.resourceSpans[0].scopeSpans[0].spans[] | select(.name=="mount") | .parentSpanId] as $p |
	      [.resourceSpans[0].scopeSpans[0].spans[] | select(.name=="rootfs_setup" or .name=="snapshot_mount" or .name=="pivot_root") | .spanId] as $ph |
	      any($p[]; . as $x | $ph | index($x) != null)' "$TMP/o.json" >/dev/null ||
		fail "$src: no mount span is a child of a phase span"
	ok "$src: OTLP JSON ($(jq '[.resourceSpans[].scopeSpans[].spans[]] | length' "$TMP/o.json") spans, one root per start, phases parent their calls)"
done
# A report JSON is a source too: the same trace as from the directory.
"$SP" report "$TOP/tests/data/containerd-run" --format json >"$TMP/report.json"
a=$("$SP" export --format chrome "$TOP/tests/data/containerd-run" | jq -S '.traceEvents | sort_by(.pid, .tid, .ts, .name)')
b=$("$SP" export --format chrome "$TMP/report.json" | jq -S '.traceEvents | sort_by(.pid, .tid, .ts, .name)')
[ "$a" = "$b" ] || fail "chrome export from the report JSON differs from the directory's"
[ "$("$SP" export --format otlp "$TMP/report.json" | jq '[.resourceSpans[].scopeSpans[].spans[]] | length')" = \
  "$("$SP" export --format otlp "$TOP/tests/data/containerd-run" | jq '[.resourceSpans[].scopeSpans[].spans[]] | length')" ] ||
	fail "otlp export from the report JSON differs"
ok "a report JSON exports the same trace as its directory"
"$SP" export --format svg "$TOP/tests/data/crun-run" 2>/dev/null; [ $? -eq 2 ] || fail "bad format not exit 2"
"$SP" export --format chrome "$TOP/tests/data/crun-run" --container nope >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown container not exit 2"
ok "bad input: exit 2"

# --otlp-endpoint: the body arrives whole at a receiver on 127.0.0.1; an
# error status is an error.
need_cmd python3 python3
"$SP" export --format otlp "$TOP/tests/data/containerd-run" >"$TMP/expected.json"
for status in 200 500; do
	port=$((30000 + RANDOM % 20000))
	python3 "$TOP/tests/integration/otlp_receiver.py" "$port" "$TMP/got.$status" "$status" &
	rpid=$!
	for _ in $(seq 1 100); do [ -e "$TMP/got.$status.ready" ] && break; sleep 0.05; done
	[ -e "$TMP/got.$status.ready" ] || fail "the receiver did not start"
	"$SP" export --format otlp "$TOP/tests/data/containerd-run" \
		--otlp-endpoint "http://127.0.0.1:$port/v1/traces" 2>"$TMP/e"; rc=$?
	wait $rpid
	if [ "$status" = 200 ]; then
		[ $rc -eq 0 ] || fail "POST failed: $(cat "$TMP/e")"
		cmp -s <(jq -S . "$TMP/expected.json") <(jq -S . "$TMP/got.200") || fail "the POSTed body differs from the export"
		grep -q "^/v1/traces application/json " "$TMP/got.200.meta" || fail "path or content type: $(cat "$TMP/got.200.meta")"
		ok "POST to a receiver on 127.0.0.1: $(cut -d' ' -f3 "$TMP/got.200.meta") bytes arrived whole"
	else
		[ $rc -ne 0 ] && grep -q "HTTP 500" "$TMP/e" || fail "a 500 answer was not an error (exit $rc): $(cat "$TMP/e")"
		ok "a receiver answering 500: exit $rc, '$(cat "$TMP/e")'"
	fi
done
