#!/usr/bin/env bash
# Never break the traced program, proven on a suite nobody here wrote: Go's
# own standard-library tests (`go test -short`, Debian's Go) of the packages
# that exercise what the library touches (raw syscalls, signals,
# clone/vfork/exec, cgo, profiling, debuggers...) give the same results
# with the library preloaded as without.  A test whose outcome differs is
# run again, alone, both ways: only a difference that repeats fails.
# STARTPATH_GOSTD_PKGS overrides the package list.
. "$(dirname "$0")/lib.sh"
need_cmd go golang-go
need_cmd gcc gcc
need_cmd python3 python3
PKGS=${STARTPATH_GOSTD_PKGS:-"syscall os os/exec os/signal net os/user sync time context io bufio
	encoding/json net/http crypto/tls path/filepath runtime/pprof runtime/debug internal/poll runtime"}
export GOCACHE="$TOP/build/gocache-std" GOFLAGS= GO111MODULE=auto
mkdir -p "$GOCACHE"
mkdir -m 0700 "$TMP/out"
cd "$TMP"
# shellcheck disable=SC2086
go test -short -count=1 -json $PKGS >"$TMP/plain.json" 2>"$TMP/plain.err"
# shellcheck disable=SC2086
STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" go test -short -count=1 -json $PKGS \
	>"$TMP/traced.json" 2>"$TMP/traced.err"
# The traced run was traced: the test binaries (dynamic, cgo) recorded, their
# syscall sites rewritten.
check "$TMP/out" '[.processes[] | select((.exe // "") | endswith(".test")) | select((.notes // "") | test("rewrote [1-9][0-9]* of"))] | length >= 1' \
	"the test binaries ran under the library, their syscall sites rewritten"
n=$(grep -c '"Action":"pass"' "$TMP/plain.json")
[ "$n" -gt "$([ -n "${STARTPATH_GOSTD_PKGS:-}" ] && echo 0 || echo 1000)" ] || fail "only $n passing tests without the library: $(tail -5 "$TMP/plain.err")"
python3 "$TOP/tests/integration/gotest_diff.py" "$TMP/plain.json" "$TMP/traced.json" >"$TMP/diff" ||
	fail "cannot compare the runs"
ok "$n tests and packages passed without the library; $(wc -l <"$TMP/diff") outcome(s) differ at first"
# Differences: again, alone, three times each way; a flaky test differs by chance.
bad=0
while read -r pkg test plain traced; do
	[ "$test" = - ] && continue # a package's result follows its tests'
	for i in 1 2 3; do
		go test -short -count=1 -json -run "^$test\$" "$pkg" >>"$TMP/r-plain.json" 2>/dev/null
		STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" go test -short -count=1 -json -run "^$test\$" "$pkg" \
			>>"$TMP/r-traced.json" 2>/dev/null
	done
	p=$(grep -c "\"Package\":\"$pkg\",\"Test\":\"$test\",.*\"Action\":\"fail\"\|\"Action\":\"fail\",\"Package\":\"$pkg\",\"Test\":\"$test\"," "$TMP/r-plain.json")
	t=$(grep -c "\"Package\":\"$pkg\",\"Test\":\"$test\",.*\"Action\":\"fail\"\|\"Action\":\"fail\",\"Package\":\"$pkg\",\"Test\":\"$test\"," "$TMP/r-traced.json")
	echo "$pkg $test: first run $plain/$traced; alone, failures $p/3 untraced, $t/3 traced"
	if [ "$t" -gt "$p" ] && [ "$t" -ge 2 ]; then
		bad=$((bad + 1))
		echo "FAIL: $pkg $test fails under the library ($t of 3) and not without ($p of 3)"
		grep -F "\"Test\":\"$test\"" "$TMP/traced.json" | grep '"Action":"output"' | tail -20 |
			python3 -c 'import json,sys; [print("      " + json.loads(l)["Output"].rstrip()) for l in sys.stdin]'
	fi
done <"$TMP/diff"
[ "$bad" -eq 0 ] || fail "$bad test(s) of Go's standard library fail only under the library"
ok "Go's standard-library tests ($(echo $PKGS | wc -w) packages): the same tests pass with the library as without"
