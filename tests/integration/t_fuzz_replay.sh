#!/usr/bin/env bash
# The fuzz targets (ring reader, JSON readers; ASan+UBSan) replay the
# recorded fixtures, small real rings, and every crash input kept in
# tests/data/fuzz/: none may crash.
. "$(dirname "$0")/lib.sh"
need_cmd clang clang
make -C "$TOP" --no-print-directory build/fuzz/fuzz_ring build/fuzz/fuzz_json >/dev/null 2>&1 ||
	skip "cannot build the libFuzzer targets (clang's libFuzzer runtime missing?)"
mkdir -p "$TMP/rings"
STARTPATH_RING=64 STARTPATH_DIR="$TMP/rings" LD_PRELOAD="$LIB" "$PROGS/errno_check" >/dev/null
STARTPATH_RING=64 STARTPATH_DIR="$TMP/rings" LD_PRELOAD="$LIB" "$PROGS/forkexec" chain 2
rings=$(ls "$TMP"/rings/*.ring "$TOP"/tests/data/fuzz/fuzz_ring/* 2>/dev/null | grep -v README)
jsons=$(ls "$TOP"/tests/data/*/*.json "$TOP"/tests/data/fuzz/fuzz_json/* 2>/dev/null | grep -v README)
"$TOP/build/fuzz/fuzz_ring" $rings >"$TMP/r.log" 2>&1 || fail "fuzz_ring crashed: $(tail -20 "$TMP/r.log")"
"$TOP/build/fuzz/fuzz_json" $jsons >"$TMP/j.log" 2>&1 || fail "fuzz_json crashed: $(tail -20 "$TMP/j.log")"
ok "$(echo "$rings" | wc -w) ring inputs and $(echo "$jsons" | wc -w) JSON inputs replayed"
