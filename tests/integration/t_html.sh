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

# Pictures a reviewer can read, measured by Chromium's own layout: a
# 0.05 ms phase and a 50 ms phase both show as boxes on the bench page,
# each box has its median and p90 beside it, and no label of either page
# runs past the picture (the diff's total label was cut at "160.955 → 215").
# measure PAGE: a copy without the CSP and with a script that writes, per
# SVG text and box, its right edge and the SVG's width into the DOM.
measure() {
	sed 's|<meta http-equiv="Content-Security-Policy"[^>]*>||' "$1" >"$1.m.html"
	cat >>"$1.m.html" <<'JS'
<script>
var out = [];
document.querySelectorAll('svg').forEach(function (svg) {
  var w = svg.getBoundingClientRect().right;
  svg.querySelectorAll('text, rect').forEach(function (e) {
    var b = e.getBoundingClientRect();
    out.push(e.tagName + '|' + (e.getAttribute('class') || '') + '|' + (e.getAttribute('data-phase') || '') +
             '|' + b.width.toFixed(1) + '|' + b.right.toFixed(1) + '|' + w.toFixed(1) + '|' + e.textContent);
  });
});
var pre = document.createElement('pre'); pre.id = 'measured'; pre.textContent = out.join('\n');
document.body.appendChild(pre);
</script>
JS
	chrome --dump-dom "file://$1.m.html" | sed -n '/<pre id="measured">/,/<\/pre>/p' | sed 's/<[^>]*>//g'
}
jq -n '{schema: "startpath/bench/v1", phases: [
	{name: "total", samples_ns: [range(0; 12) | 160955000 + . * 5000]},
	{name: "tiny", samples_ns: [range(0; 12) | 50000 + . * 100]},
	{name: "big", samples_ns: [range(0; 12) | 50000000 + . * 10000]}]}' >"$TMP/c.json"
jq '.phases |= map(.samples_ns |= map(. * 1.336))' "$TMP/c.json" >"$TMP/d.json"
"$SP" export --format html "$TMP/c.json" >"$TMP/wide.html" || fail "bench html failed"
measure "$TMP/wide.html" >"$TMP/wide.m"
[ -s "$TMP/wide.m" ] || fail "Chromium measured nothing on the bench page"
for ph in tiny big; do
	w=$(awk -F'|' -v p="$ph" '$1 == "rect" && $2 == "box" && $3 == p { print $4 }' "$TMP/wide.m")
	awk -v w="${w:-0}" 'BEGIN { exit !(w >= 2) }' || fail "bench page: the $ph phase's box is $w px wide"
	grep -q "^text|value|$ph|.*|median [0-9.]* ms, p90 [0-9.]*" "$TMP/wide.m" ||
		fail "bench page: no median and p90 beside the $ph phase"
done
ok "bench page: a 0.05 ms and a 50 ms phase both show as boxes, median and p90 beside each"
"$SP" diff --no-drift --format html "$TMP/c.json" "$TMP/d.json" >"$TMP/wdiff.html"
for page in wide wdiff; do
	[ "$page" = wdiff ] && measure "$TMP/wdiff.html" >"$TMP/wdiff.m"
	cut=$(awk -F'|' '$1 == "text" && $5 > $6 + 0.5 { print $7 }' "$TMP/$page.m")
	[ -z "$cut" ] || fail "$page page: labels run past the picture: $cut"
done
lab=$(grep -a "^text|tick||" "$TMP/wdiff.m" | grep -o '160\.9[0-9]* → 215\.[0-9]* ms.*')
[ -n "$lab" ] || fail "diff page: the total's label is not whole: $(grep -a '160\.9' "$TMP/wdiff.m")"
ok "no label past the edge of either picture; the diff's total label whole ($lab)"
