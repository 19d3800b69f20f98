#!/usr/bin/env bash
# atrestfs-keyprov(7) carries keyprov/example/example.c verbatim, and that
# file is what the unit tests build and load (build/tests/plugins/example.so),
# linked with keyprov/keyprov-plugin.sym: it exports its entry point alone.
. "$(dirname "$0")/../integration/lib.sh"

# The first .EX block after .SH EXAMPLE is the source; undo roff escapes.
awk '/^\.SH EXAMPLE/ {s=1} s && /^\.EX/ {p=1; next} p && /^\.EE/ {exit} p' \
	"$TOP/man/atrestfs-keyprov.7" | sed -e 's/^\\&//' -e 's/\\e/\\/g' >"$WORK/ex.c"
diff -u "$TOP/keyprov/example/example.c" "$WORK/ex.c" ||
	fail "man/atrestfs-keyprov.7 EXAMPLE differs from keyprov/example/example.c"
[ -f "$TB/plugins/example.so" ] || fail "example plugin not built"
ok "man page example is keyprov/example/example.c, built as a plugin"

# Defined dynamic symbols: the version node and the entry point, versioned.
nm -D --defined-only --with-symbol-versions "$TB/plugins/example.so" >"$WORK/nm" ||
	fail "nm example.so"
awk '{print $2, $3}' "$WORK/nm" | sort >"$WORK/syms"
printf '%s\n' "A ATRESTFS_KEYPROV_1" "T atrestfs_keyprov_entry@@ATRESTFS_KEYPROV_1" |
	sort >"$WORK/want"
diff -u "$WORK/want" "$WORK/syms" ||
	fail "example.so exports more than its entry point, or without keyprov-plugin.sym"
grep -q 'keyprov\\-plugin\.sym' "$TOP/man/atrestfs-keyprov.7" ||
	fail "atrestfs-keyprov(7) does not name keyprov-plugin.sym"
ok "example.so exports atrestfs_keyprov_entry@@ATRESTFS_KEYPROV_1 alone"
