#!/usr/bin/env bash
# A hooked call from another library's constructor, before ours may have
# run: it works as without the library and is recorded.
. "$(dirname "$0")/lib.sh"
plain=$("$PROGS/ctor_main")
traced=$(STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$PROGS/ctor_main")
[ "$plain" = "$traced" ] || fail "ctor result differs: '$plain' vs '$traced'"
check "$TMP/out" '[.processes[] | .spans[] | select(.call=="umount2" and .args.target=="/startpath-ctor-test/does-not-exist" and .errno==2)] | length == 1' \
	"the constructor's umount2 recorded"
check "$TMP/out" '[.processes[] | select(.comm=="ctor_main")] | length == 1' "one process file"
