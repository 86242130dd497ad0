#!/usr/bin/env bash
# The library exports the hooked functions and nothing else, and needs no
# shared object but glibc's: each one more is loaded at every traced exec.
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
need_cmd readelf binutils
needed=$(readelf -d "$LIB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for n in $needed; do
	case $n in
	libc.so.6 | ld-linux-x86-64.so.2 | libdl.so.2 | libpthread.so.0) ;;
	*) fail "the library needs $n (only glibc's objects are expected): $needed" ;;
	esac
done
ok "$(echo "$got" | wc -l) symbols, all hooks; needs only $needed"
