#!/usr/bin/env bash
# atrestfs-keyprov(7) carries keyprov/example/example.c verbatim, and that
# file is what the unit tests build and load (build/tests/plugins/example.so).
. "$(dirname "$0")/../integration/lib.sh"

# The first .EX block after .SH EXAMPLE is the source; undo roff escapes.
awk '/^\.SH EXAMPLE/ {s=1} s && /^\.EX/ {p=1; next} p && /^\.EE/ {exit} p' \
	"$TOP/man/atrestfs-keyprov.7" | sed -e 's/^\\&//' -e 's/\\e/\\/g' >"$WORK/ex.c"
diff -u "$TOP/keyprov/example/example.c" "$WORK/ex.c" ||
	fail "man/atrestfs-keyprov.7 EXAMPLE differs from keyprov/example/example.c"
[ -f "$TB/plugins/example.so" ] || fail "example plugin not built"
ok "man page example is keyprov/example/example.c, built as a plugin"
