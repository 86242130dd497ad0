#!/usr/bin/env bash
# scripts/ci-coldstart.sh end to end with a small N: a bench of a private
# containerd under the library (maps read from its directory), then the
# comparison: exit 0 against itself, exit 1 against a baseline that was
# much faster (after a confirmation bench), exit 2 on a bad baseline; and
# the A/B mode with a candidate runc (a copy of the runner's), judged on
# paired differences in one job.
. "$(dirname "$0")/lib.sh"
need_root
for c in containerd ctr runc jq; do need_cmd $c; done
CI="$TOP/scripts/ci-coldstart.sh"
"$CI" -n 6 --save "$TMP/base.json" >"$TMP/o1" 2>&1 || fail "first run failed: $(tail -5 "$TMP/o1")"
jq -e '.schema == "startpath/bench/v1" and .failed == 0 and
	([.samples[] | select(.profile == "containerd")] | length == 6) and
	([.phases[] | select(.name == "snapshot_mount") | .n] == [6])' "$TMP/base.json" >/dev/null ||
	fail "the bench has no 6 containerd maps: $(jq -c '.samples[0]' "$TMP/base.json")"
ok "6 cold starts benched, each with its containerd map"
"$CI" -n 6 --baseline "$TMP/base.json" --save "$TMP/new.json" -- --threshold 1000 >"$TMP/o2" 2>&1 ||
	fail "comparison with a loose threshold failed: $(tail -12 "$TMP/o2")"
grep -q "0 regressions" "$TMP/o2" || fail "no diff table: $(tail -5 "$TMP/o2")"
ok "second run compared with the first: no regression at --threshold 1000"
# A baseline ten times faster in every phase: a regression, exit 1, and the
# gate confirms it with a second bench before failing.
jq '.phases |= map(.samples_ns |= map(. / 10))' "$TMP/base.json" >"$TMP/fast.json"
"$TOP/build/bin/startpath" diff "$TMP/fast.json" "$TMP/new.json" >"$TMP/o3"; rc=$?
[ $rc -eq 1 ] || fail "a 10x slower result was not a regression (exit $rc): $(cat "$TMP/o3")"
"$CI" -n 4 --baseline "$TMP/fast.json" >"$TMP/o5" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "confirming with a second bench" "$TMP/o5" && grep -q "confirmed by a second bench" "$TMP/o5" ||
	fail "the gate against a fast baseline: exit $rc, or no confirmation: $(tail -8 "$TMP/o5")"
ok "a 10x slower result against a fast baseline: exit 1, confirmed by a second bench"
# A/B in one job: the runner's runc against a copy of it.
cp "$(command -v runc)" "$TMP/runc-candidate"
"$CI" -n 4 --candidate-runc "$TMP/runc-candidate" --save "$TMP/ab.json" -- --threshold 1000 >"$TMP/o6" 2>&1 ||
	fail "A/B gate failed: $(tail -12 "$TMP/o6")"
grep -q "paired" "$TMP/o6" && jq -e '.order == "ABBA" and .candidate.failed == 0 and .failed == 0' "$TMP/ab.json" >/dev/null ||
	fail "no A/B bench: $(tail -8 "$TMP/o6")"
ok "A/B gate with --candidate-runc: both sides benched in turns, judged paired"
echo '{' >"$TMP/bad.json"
"$CI" -n 2 --baseline "$TMP/bad.json" >"$TMP/o4" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "bad baseline: exit $rc"
ok "bad baseline: exit 2"
