#!/usr/bin/env bash
# HTML: a self-contained page (a CSP that forbids loading anything, no
# external reference), opened in headless Chromium: the DOM has one bar per
# phase of the map it was made from, a screenshot is written; bench box
# plots and diff bars (regressions marked) likewise.
. "$(dirname "$0")/lib.sh"
CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || skip "needs chromium (apt-get install chromium)"
chrome() { # chrome ARGS... URL
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$TMP/profile" --window-size=1000,800 "$@" 2>/dev/null
}
static_checks() { # the page may load nothing from anywhere
	grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$1" || fail "$1: no CSP"
	! grep -Eo '(src|href|url)\(?=?"?[a-z]+:' "$1" | grep -q . || fail "$1: an external reference"
}
D="$TOP/tests/data/containerd-run"
"$SP" export --format html "$D" >"$TMP/map.html" || fail "html export failed"
static_checks "$TMP/map.html"
want=$(report_json "$D" | jq '[.maps[0].phases[] | select(.seen)] | length')
chrome --dump-dom "file://$TMP/map.html" >"$TMP/dom.html"
got=$(grep -o '<rect class="bar[^"]*"' "$TMP/dom.html" | wc -l)
[ "$got" -eq "$want" ] || fail "the DOM has $got bars, the map $want seen phases"
grep -q 'class="bar bottleneck"' "$TMP/dom.html" || fail "no bottleneck bar"
chrome --screenshot="$TMP/map.png" "file://$TMP/map.html" >/dev/null
[ -s "$TMP/map.png" ] && [ "$(head -c 4 "$TMP/map.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
	fail "no screenshot"
ok "map page: $got bars for $want phases, bottleneck marked, screenshot $(stat -c %s "$TMP/map.png") bytes"

# A bench and a diff, from two small bench files.
mk() { jq -n --argjson k "$1" '{schema: "startpath/bench/v1", phases: [
	{name: "total", samples_ns: [range(0; 12) | 20000000 + . * 10000 + $k * 1000000]},
	{name: "rootfs_setup", samples_ns: [range(0; 12) | 1000000 + . * 1000 + $k * 1000000]},
	{name: "process_exec", samples_ns: [range(0; 12) | 2000000 + . * 1000]}]}'; }
mk 0 >"$TMP/a.json"; mk 10 >"$TMP/b.json"
"$SP" export --format html "$TMP/a.json" >"$TMP/bench.html" || fail "bench html failed"
static_checks "$TMP/bench.html"
chrome --dump-dom "file://$TMP/bench.html" >"$TMP/dom2.html"
[ "$(grep -o '<rect class="box"' "$TMP/dom2.html" | wc -l)" -eq 3 ] || fail "bench page: not one box per phase"
"$SP" diff --format html "$TMP/a.json" "$TMP/b.json" >"$TMP/diff.html"; rc=$?
[ $rc -eq 1 ] || fail "diff --format html exit $rc, expected 1"
static_checks "$TMP/diff.html"
chrome --dump-dom "file://$TMP/diff.html" >"$TMP/dom3.html"
[ "$(grep -o '<rect class="after regression"' "$TMP/dom3.html" | wc -l)" -eq 2 ] ||
	fail "diff page: regressions not marked (want total and rootfs_setup)"
[ "$(grep -o '<rect class="after"' "$TMP/dom3.html" | wc -l)" -eq 1 ] || fail "diff page: unchanged phase marked"
ok "bench page: 3 boxes; diff page: 2 regressions marked, 1 unchanged"
