#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh - run the unit tests (Check) and the integration tests, then print
# one closing line: "N passed, N failed, N skipped".
#   tests/run.sh [--unit|--integration] [NAME...]
# An integration test is tests/integration/t_*.sh: exit 0 pass, 77 skip.
set -u
cd "$(dirname "$0")/.."
mode=all
[ "${1:-}" = --unit ] && { mode=unit; shift; }
[ "${1:-}" = --integration ] && { mode=integration; shift; }
only=("$@")
pass=0 fail=0 skip=0 failed=()
logdir=build/test-logs
mkdir -p "$logdir"

want() {
	[ ${#only[@]} -eq 0 ] && return 0
	for o in "${only[@]}"; do [[ "$1" == *"$o"* ]] && return 0; done
	return 1
}

if [ "$mode" != integration ]; then
	for t in build/tests/check_*; do
		[ -x "$t" ] || continue
		want "$t" || continue
		name=$(basename "$t")
		if SP_TESTDATA=tests/data "$t" >"$logdir/$name.log" 2>&1; then
			pass=$((pass + 1)); printf 'PASS  %-28s %s\n' "$name" "$(grep -E '^[0-9]+%' "$logdir/$name.log")"
		else
			fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %s\n' "$name"; sed 's/^/      /' "$logdir/$name.log"
		fi
	done
fi
if [ "$mode" != unit ]; then
	for t in tests/integration/t_*.sh; do
		want "$t" || continue
		name=$(basename "$t" .sh)
		start=$(date +%s.%N)
		bash "$t" >"$logdir/$name.log" 2>&1
		rc=$?
		secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
		case $rc in
		0) pass=$((pass + 1)); printf 'PASS  %-28s %5ss\n' "$name" "$secs" ;;
		77) skip=$((skip + 1)); printf 'SKIP  %-28s %s\n' "$name" "$(grep -m1 '^SKIP' "$logdir/$name.log")" ;;
		*) fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %-28s (exit %d, %ss)\n' "$name" "$rc" "$secs"
		   tail -n 40 "$logdir/$name.log" | sed 's/^/      /' ;;
		esac
	done
fi
echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]} (logs in $logdir/)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
