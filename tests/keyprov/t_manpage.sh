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

# The reference pages say what the program does, so they cannot drift:
# every command of "atrestfs --help", with each verb its own --help lists
# (keyslot list, add, disable ...; swap on, off, status), has a line in
# the SYNOPSIS of atrestfs(8), and every SYNOPSIS line names one that
# exists.
MAN8=$TOP/man/atrestfs.8
/usr/bin/python3 - "$ATR" "$MAN8" "$WORK/commands" <<'PY' || fail "SYNOPSIS of atrestfs(8) and the commands differ"
import re, subprocess, sys
atr, man, out = sys.argv[1], open(sys.argv[2]).read().splitlines(), sys.argv[3]
top = subprocess.run([atr, "--help"], capture_output=True, text=True).stdout
cmds = re.findall(r"^  ([a-z]+) ", top.split("Commands:", 1)[1].split("\n\n", 1)[0], re.M)
want = set()
for c in cmds:
    h = subprocess.run([atr, c, "--help"], capture_output=True, text=True).stdout
    for cmd, verbs in re.findall(r"^(?:Usage:)? +atrestfs ([a-z]+)(?: ([a-z]+(?:\|[a-z]+)*))?(?= |$)", h, re.M):
        want |= {(cmd, v) for v in verbs.split("|")} if verbs else {(cmd, "")}
have, syn = set(), False
for i, l in enumerate(man):
    if l.startswith(".SH"):
        syn = l.startswith(".SH SYNOPSIS")
    m = syn and re.match(r"\.B atrestfs ([a-z]+)(?: ([a-z]+))?$", l)
    if not m:
        continue
    nxt = man[i + 1] if i + 1 < len(man) else ""
    if not m.group(2) and re.match(r"\.BR [a-z]+( \| [a-z]+)+$", nxt):
        have |= {(m.group(1), v) for v in nxt[4:].split(" | ")}
    else:
        have.add((m.group(1), m.group(2) or ""))
if len(want) < 15:
    sys.exit("too few commands found in --help: %s" % sorted(want))
open(out, "w").write("".join("%s %s\n" % p for p in sorted(want)))
if want != have:
    sys.exit("in --help, not in the SYNOPSIS: %s; in the SYNOPSIS, not in --help: %s"
             % (sorted(want - have), sorted(have - want)))
PY
# Each SYNOPSIS line carries the options its command takes (init's were
# missing): every option of "atrestfs CMD --help", by its long or short
# name, is on one of CMD's lines.  keyslot's help covers its verbs,
# passwd and config at once, so those are checked as one.
/usr/bin/python3 - "$ATR" "$MAN8" "$WORK/commands" <<'PY' || fail "SYNOPSIS lines lack options"
import re, subprocess, sys
atr, man = sys.argv[1], open(sys.argv[2]).read()
cmds = sorted({l.split()[0] for l in open(sys.argv[3]) if l.strip()} - {"passwd", "config"})
syn = man.split(".SH SYNOPSIS", 1)[1].split("\n.SH ", 1)[0].replace("\\-", "-")
lines, cur = {}, None
for l in syn.splitlines():
    m = re.match(r"\.B atrestfs (\w+)", l)
    if m:
        cur = m.group(1)
    if cur:
        lines[cur] = lines.get(cur, "") + " " + l
groups = {"keyslot": ["keyslot", "passwd", "config"]}
bad = []
for cmd in cmds:
    text = " ".join(lines.get(c, "") for c in groups.get(cmd, [cmd]))
    shorts = "".join(re.findall(r"(?<![\w-])-([a-zA-Z]+)\b", text))
    out = subprocess.run([atr, cmd, "--help"], capture_output=True, text=True).stdout
    alias = {}
    for short, long_ in re.findall(r"(?:-([a-zA-Z]), )?--([a-z][a-z-]*)", out):
        alias[long_] = alias.get(long_) or short
    for long_, short in alias.items():
        if long_ == "help" or "--" + long_ in text or (short and short in shorts):
            continue
        bad.append("atrestfs %s: --%s" % (cmd, long_))
if bad:
    sys.exit("not in the SYNOPSIS of atrestfs(8): " + ", ".join(bad))
PY
ok "atrestfs(8) SYNOPSIS lists every command of --help, with its options"

# Every built-in key provider (keyprov/keyprov.c) has its subsection under
# KEY PROVIDERS in atrestfs(8) and is named in atrestfs.conf(5).
builtins=$(sed -n 's/^\t{ "\([a-z0-9]*\)", keyprov_[a-z0-9]*_entry },$/\1/p' "$TOP/keyprov/keyprov.c")
[ "$(wc -w <<<"$builtins")" -ge 4 ] || fail "built-in providers not found in keyprov.c"
for p in $builtins; do
	awk '/^\.SH KEY PROVIDERS/ {s=1; next} s && /^\.SH/ {exit} s' "$MAN8" | grep -qx "\.SS $p" ||
		fail "atrestfs(8) KEY PROVIDERS has no section for built-in provider $p"
	grep -q "(dq$p\\\\(dq" "$TOP/man/atrestfs.conf.5" ||
		fail "atrestfs.conf(5) does not name built-in provider $p"
done
ok "every built-in provider has its KEY PROVIDERS section and is named in atrestfs.conf(5)"

# Every -o option atrestfs takes itself (parse_o in cmd_mount.c) is
# described under MOUNT OPTIONS of atrestfs(8) and in mount.atrestfs(8).
opts=$(awk '/^static int parse_o\(/ {s=1} s && /^}/ {exit} s' "$TOP/mount-helper/cmd_mount.c" |
	grep -o 'str[n]*cmp(o, "[a-z_.]*=\?"' | sed 's/.*"\(.*\)"/\1/' | sort -u)
[ "$(wc -w <<<"$opts")" -ge 10 ] || fail "mount options not found in parse_o: $opts"
for o in $opts; do
	awk '/^\.SH MOUNT OPTIONS/ {s=1; next} s && /^\.SH/ {exit} s' "$MAN8" | sed 's/\\-/-/g' |
		grep '^\.B' | tr -d '" ' | grep -qF "$o" || fail "-o $o is not described under MOUNT OPTIONS in atrestfs(8)"
done
ok "every -o option of atrestfs is described in atrestfs(8)"

# No example hands a secret made on the spot to a command line (the
# plugin example put its root key in argv: -O root_hex=$(openssl rand ...)).
hits=$(sed 's/\\-/-/g' "$TOP"/man/*.[1-8] "$TOP/README.md" | grep -n -- '-[-a-zA-Z]*[ =][a-z_]*=\$(' || true)
[ -z "$hits" ] || fail "an example puts a generated secret in argv: $hits"
ok "no example puts a generated secret in argv"
