#!/usr/bin/env bash
# A cgo Go program (dynamically linked, so LD_PRELOAD applies) built here
# with Debian's golang-go: under the library its sites are rewritten, a
# recovered nil dereference still recovers, page 0 stays unmapped, os/exec
# works, output and exit status are identical, and its clone and exec are
# recorded.
. "$(dirname "$0")/lib.sh"
need_cmd go golang-go
need_cmd gcc gcc
export GOCACHE="$TMP/gocache" GOPATH="$TMP/gopath" GOFLAGS=-mod=mod GO111MODULE=off CGO_ENABLED=1
(cd "$TOP/tests/go/nilcgo" && go build -o "$TMP/nilcgo" .) || fail "go build failed"
file "$TMP/nilcgo" 2>/dev/null | grep -q dynamically || ldd "$TMP/nilcgo" >/dev/null 2>&1 ||
	fail "the cgo program is not dynamically linked"
plain=$("$TMP/nilcgo"); rc1=$?
for i in 1 2 3 4 5; do
	traced=$(STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$TMP/nilcgo"); rc2=$?
	[ "$rc1" -eq "$rc2" ] || fail "exit $rc2 under the library, $rc1 without"
	[ "$plain" = "$traced" ] || fail "output differs: '$plain' vs '$traced'"
done
[ "$rc1" -eq 3 ] || fail "exit $rc1, expected 3"
echo "$plain" | grep -q "recovered: runtime error: invalid memory address or nil pointer dereference" ||
	fail "no recovered nil dereference: $plain"
echo "$plain" | grep -q "page 0 mapped: false" || fail "page 0 mapped"
echo "$plain" | grep -q "exec: exec ok err=<nil>" || fail "os/exec failed: $plain"
ok "identical output and exit 3 over 5 traced runs: $(echo "$plain" | tr '\n' ';')"
check "$TMP/out" '[.processes[] | select(.comm=="nilcgo") | .notes // "" | select(test("rewrote [1-9]"))] | length >= 1' \
	"its syscall sites were rewritten"
check "$TMP/out" '[.processes[] | select(.comm=="nilcgo") | .spans[] | select(.src=="raw" and .call=="clone" and .exit and .args.child_pid > 0)] | length == 5' \
	"os/exec's clone recorded (raw) in each run"
check "$TMP/out" '[.processes[] | select(.comm=="nilcgo") | .spans[] | select(.src=="raw" and .call=="execve" and .args.path=="/bin/echo")] | length == 5' \
	"the child's execve recorded"
check "$TMP/out" '[.processes[] | select(.comm=="nilcgo" and .exited and .exit_status==3)] | length == 5' \
	"exit_group(3) recorded"
# What os/exec's child (a raw clone and execve, through the rewritten
# sites) gets from the library: exactly LD_PRELOAD, STARTPATH_DIR and its
# own STARTPATH_PROC, well-formed (the empty environment it was given).
for v in $(compgen -e | grep '^STARTPATH_'); do unset "$v"; done
envs=$(STARTPATH_DIR="$TMP/envout" LD_PRELOAD="$LIB" "$TMP/nilcgo" env) || fail "nilcgo env failed: $envs"
child=$(printf '%s\n' "$envs" | sed -n 's/^child=//p')
want=$(printf '%s\n' "LD_PRELOAD=$LIB" "STARTPATH_DIR=$TMP/envout" \
	"STARTPATH_PROC=$child:$child:$(stat -L -c %i /proc/self/ns/pid)" | LC_ALL=C sort)
got=$(printf '%s\n' "$envs" | grep -v '^child=' | LC_ALL=C sort)
[ -n "$child" ] && [ "$got" = "$want" ] ||
	fail "os/exec's child environment is not the library's three settings: $(printf '%s' "$envs" | od -c | head -20)"
ok "os/exec's child gets LD_PRELOAD, STARTPATH_DIR and its own STARTPATH_PROC, well-formed"

# Stripped copies (-s -w: no .symtab), as distributions ship Go programs:
# non-PIE (its .gopclntab section stays), PIE from Go's linker (the table
# in .data.rel.ro.gopclntab) and PIE from the external linker, as cgo
# daemons such as Debian's dockerd are built (no section: the table is
# found by its header inside .data.rel.ro).  Each records what the
# unstripped program records.
want=$(report_json "$TMP/out" | jq -c '[.processes[] | select(.comm=="nilcgo") | .spans[] | select(.src=="raw") | .call] | sort' )
for name in nopie pie pie-ext; do
	case $name in
	nopie) flags=(-ldflags='-s -w') ;;
	pie) flags=(-buildmode=pie -ldflags='-s -w -linkmode=internal') ;;
	pie-ext) flags=(-buildmode=pie -ldflags='-s -w -linkmode=external') ;;
	esac
	(cd "$TOP/tests/go/nilcgo" && go build "${flags[@]}" -o "$TMP/s-$name/nilcgo" .) || fail "go build ${flags[*]} failed"
	readelf -S "$TMP/s-$name/nilcgo" | grep -q '\.symtab' && fail "$name: not stripped"
	[ "$name" = pie-ext ] && readelf -S "$TMP/s-$name/nilcgo" | grep -q 'gopclntab' &&
		fail "$name: still has a pclntab section (the test would not cover its search)"
	for i in 1 2 3 4 5; do
		traced=$(STARTPATH_DIR="$TMP/s-$name/out" LD_PRELOAD="$LIB" "$TMP/s-$name/nilcgo"); rc2=$?
		[ "$rc2" -eq "$rc1" ] && [ "$traced" = "$plain" ] || fail "$name: exit $rc2 or output differs"
	done
	got=$(report_json "$TMP/s-$name/out" | jq -c '[.processes[] | select(.comm=="nilcgo") | .spans[] | select(.src=="raw") | .call] | sort')
	[ "$got" = "$want" ] || fail "$name: raw calls $got, unstripped $want"
	ok "stripped, $name (${flags[*]}): the same raw calls as unstripped ($(echo "$got" | jq -r 'group_by(.) | map("\(.[0]) x\(length)") | join(", ")'))"
done
