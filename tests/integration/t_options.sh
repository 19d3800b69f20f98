#!/usr/bin/env bash
# Every option a command accepts (its getopt_long table in
# mount-helper/cmd_*.c) appears in its --help and in its section of
# atrestfs(8), and every option those two name is one the command accepts.
# Every man page renders without a groff warning.
. "$(dirname "$0")/lib.sh"

MAN=$TOP/man/atrestfs.8

# Long options of a source file's getopt_long tables, with those of the
# shared CLI_UNLOCK_OPTIONS, CLI_NEWKEY_OPTIONS, CLI_POLICY_OPTIONS and
# CLI_SHOW_OPTIONS (mount-helper/cli.h) where the file uses them.
table_opts() {
	sed -n 's/.*{ *"\([a-z0-9-]*\)", *\(no\|required\|optional\)_argument.*/--\1/p'
}
src_opts() {
	local m
	{
		table_opts <"$1"
		for m in CLI_UNLOCK_OPTIONS CLI_NEWKEY_OPTIONS CLI_POLICY_OPTIONS \
			 CLI_SHOW_OPTIONS; do
			grep -q "$m" "$1" || continue
			sed -n "/^#define $m/,/[^\\]\$/p" \
				"$TOP/mount-helper/cli.h" | table_opts
		done
	} | sort -u
}

# Options named in the .SS section of atrestfs(8) that starts with CMD.
man_opts() {
	awk -v c="$1" '/^\.S[SH] /{ins = index($0, ".SS \"" c " ") == 1} ins' "$MAN" |
		sed 's/\\-/-/g' | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

help_opts() {
	"$ATR" "$1" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

n=0
for f in "$TOP"/mount-helper/cmd_*.c; do
	src=$(src_opts "$f")
	[ -n "$src" ] || continue
	# The commands this file implements: its "int cmd_NAME(" definitions
	# (cmd_rotate_kek is "rotate-kek").
	cmds=$(sed -n 's/^int cmd_\([a-z_]*\)(int argc.*/\1/p' "$f" | grep -v '^mount_helper$' | tr _ -)
	[ -n "$cmds" ] || fail "$f defines no command"
	hlp= man=
	for cmd in $cmds; do
		grep -q "^\.SS \"$cmd " "$MAN" || fail "atrestfs(8) has no section for '$cmd'"
		h=$(help_opts "$cmd") || fail "atrestfs $cmd --help failed"
		hlp=$(printf '%s\n%s\n' "$hlp" "$h" | sed '/^$/d' | sort -u)
		man=$(printf '%s\n%s\n' "$man" "$(man_opts "$cmd")" | sed '/^$/d' | sort -u)
		n=$((n + 1))
	done
	for o in $src; do
		grep -qx -- "$o" <<<"$hlp" || fail "atrestfs $cmds accepts $o but --help does not say so"
		grep -qx -- "$o" <<<"$man" || fail "atrestfs $cmds accepts $o but atrestfs(8) does not say so"
	done
	for o in $hlp; do
		grep -qx -- "$o" <<<"$src" || fail "atrestfs $cmds --help names $o, which it does not accept"
	done
	for o in $man; do
		grep -qx -- "$o" <<<"$src" || fail "atrestfs(8) names $o for $cmds, which they do not accept"
	done
done
[ $n -ge 6 ] || fail "only $n commands checked"

# Every man page renders without a single groff warning, and man -l reads it.
for page in "$TOP"/man/*.[1-8]; do
	warn=$(groff -man -Tutf8 -ww "$page" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "$(basename "$page"): groff warns: $warn"
	MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "^NAME" ||
		fail "man -l $(basename "$page") does not render"
done
ok "options of $n commands agree between source, --help and atrestfs(8); every man page renders cleanly"
