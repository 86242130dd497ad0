#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fuzz.sh [SECONDS] - run each libFuzzer target for SECONDS, seeded with the
# recorded fixtures; a crash input is copied to tests/data/fuzz/TARGET/,
# where the tests replay it (tests/integration/t_fuzz_replay.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
rc=0
for t in fuzz_ring fuzz_json; do
	corpus="$top/build/fuzz/corpus-$t"
	mkdir -p "$corpus" "$top/tests/data/fuzz/$t"
	if [ "$t" = fuzz_json ]; then
		cp "$top"/tests/data/*/*.json "$corpus/" 2>/dev/null
	elif [ -x "$top/build/progs/errno_check" ]; then
		# seeds: small real rings (64 records)
		STARTPATH_RING=64 STARTPATH_DIR="$corpus" LD_PRELOAD="$top/build/lib/libstartpath.so" \
			"$top/build/progs/errno_check" >/dev/null 2>&1
		STARTPATH_RING=64 STARTPATH_DIR="$corpus" LD_PRELOAD="$top/build/lib/libstartpath.so" \
			"$top/build/progs/forkexec" chain 2 >/dev/null 2>&1
		rm -f "$corpus"/*.json
	fi
	cp "$top"/tests/data/fuzz/$t/* "$corpus/" 2>/dev/null
	echo "== $t, $secs s"
	(cd "$top/build/fuzz" && ./"$t" -max_total_time="$secs" -max_len=300000 \
		-artifact_prefix="$top/tests/data/fuzz/$t/" "$corpus" 2>&1 | tail -4; exit "${PIPESTATUS[0]}") || rc=1
done
exit $rc
