#!/usr/bin/env bash
# The library exports the hooked functions and nothing else.
. "$(dirname "$0")/lib.sh"
need_cmd nm binutils
got=$(nm -D --defined-only "$LIB" | awk '{print $3}' | sort)
want=$(sed -n '/global:/,/local:/p' "$TOP/src/lib/libstartpath.map" | grep -v -e global: -e local: |
	tr ';' '\n' | tr -d ' \t' | grep -v '^$' | sort)
[ -n "$got" ] || fail "nm listed nothing"
extra=$(comm -23 <(echo "$got") <(echo "$want"))
missing=$(comm -13 <(echo "$got") <(echo "$want"))
[ -z "$extra" ] || fail "exported but not hooks: $extra"
[ -z "$missing" ] || fail "hooks not exported: $missing"
# Every export must be a real libc function name the program could call.
for s in $got; do
	nm -D --defined-only /lib/x86_64-linux-gnu/libc.so.6 | grep -qw "$s" || fail "$s is not in libc"
done
ok "$(echo "$got" | wc -l) symbols, all hooks"
