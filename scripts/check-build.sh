#!/bin/sh
# check-build.sh BUILD [VAR=VALUE...]: proves, in seconds, that the Makefile
# serves packagers. BUILD is an already built tree (make check passes
# build/asan SAN=1 DEVELOPER=1; the VARs are those it was built with).
#
#   (a) a dry run (make -n -B all test-build bench-build) shows CPPFLAGS and
#       CFLAGS on every compile line and LDFLAGS on every link line, each
#       after our own flags; -Werror only with DEVELOPER=1;
#   (b) make install PREFIX=/usr DESTDIR=... puts the configuration in
#       /etc/casehost, the installed casehost --version names
#       /etc/casehost/casehost.cfg, and make uninstall removes what install
#       put outside /etc;
#   (c) the installed example is safe: every spool_dir under
#       /var/lib/casehost/spool (created 0700), no command that does not
#       exist, no literal secret and no secret file or var/ under /etc.
# Never writes to BUILD: (b) builds on a copy. Exits non-zero naming the
# first line or file that is wrong.
set -eu

build=${1:?usage: check-build.sh BUILD [VAR=VALUE...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
make=${MAKE:-make}
cd "$root"
build=$(cd "$build" && pwd)
# A sub-make must not inherit make check's job server or variables.
unset MAKEFLAGS MFLAGS MAKELEVEL CASEHOST_CONFIG

tmp=$(mktemp -d /tmp/casehost-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
fail() {
    echo "check-build: $*" >&2
    exit 1
}

# ------------------------------------------- (a) the packager's flags ---
# CC is a marker so compiler lines are told apart from every other command.
marker=casehost-check-cc
"$make" --no-print-directory -n -B V=1 CC=$marker CPPFLAGS=-DCASEHOST_PACKAGER_CPPFLAGS \
    CFLAGS=-fstack-protector-strong LDFLAGS=-Wl,-z,relro BUILD="$tmp/a" "$@" all test-build bench-build \
    >"$tmp/dry.txt" 2>"$tmp/dry.err" || { cat "$tmp/dry.err" >&2; fail "make -n all test-build bench-build failed"; }
# One command per line (recipes continue lines with a backslash), then every
# compiler line: a compile line names a .c file, a link line has no -c (the
# test plugins and bench programs are both). Our own flags are the words
# before the packager's: the packager's must come after the last of ours.
awk -v cc=$marker '
    function complain(m) { if (++bad <= 10) print m }
    /\\$/ { sub(/\\$/, ""); held = held $0 " "; next }
    { line = held $0; held = "" }
    { n = split(line, w, /[ \t]+/); first = (w[1] == "" ? 2 : 1) }
    w[first] != cc { next }
    {
        compile = 0; link = 1; ours_c = 0; ours_l = 0; cf = 0; cpp = 0; ld = 0
        for (i = first + 1; i <= n; i++) {
            if (w[i] ~ /\.c$/) compile = 1
            if (w[i] == "-c") link = 0
            if (w[i] ~ /^-(std=|Wall$|Wextra$|Wpedantic$|Werror$|O|I|D_POSIX|DCASEHOST_VERSION|fPIC$)/)
                ours_c = i
            if (w[i] ~ /^-(shared|rdynamic|fsanitize=)/)
                ours_l = i
            if (w[i] == "-fstack-protector-strong") cf = i
            if (w[i] == "-DCASEHOST_PACKAGER_CPPFLAGS") cpp = i
            if (w[i] == "-Wl,-z,relro") ld = i
        }
        short = substr(line, 1, 160) (length(line) > 160 ? " ..." : "")
        if (compile) {
            compiles++
            if (!cf) complain("compile line without CFLAGS (-fstack-protector-strong): " short)
            else if (!cpp) complain("compile line without CPPFLAGS: " short)
            else if (cf < ours_c || cpp < ours_c) complain("compile line with CFLAGS or CPPFLAGS before our flags: " short)
        }
        if (link) {
            links++
            if (!ld) complain("link line without LDFLAGS (-Wl,-z,relro): " short)
            else if (ld < ours_l) complain("link line with LDFLAGS before our flags: " short)
        }
    }
    END {
        if (compiles == 0 || links == 0) complain("no compile or no link line in make -n")
        if (bad > 10) printf "... and %d more\n", bad - 10
        if (bad == 0)
            printf "build: (a) all %d compile lines carry CFLAGS and CPPFLAGS, all %d link lines LDFLAGS, after ours\n",
                   compiles, links
        exit (bad > 0 ? 1 : 0)
    }' "$tmp/dry.txt" >"$tmp/flags.txt" || { cat "$tmp/flags.txt" >&2; fail "(a) flags missing (above)"; }
cat "$tmp/flags.txt"

# -Werror is the developers' (DEVELOPER=1, which make check passes), never a packager's.
werror() {
    "$make" --no-print-directory -n -B V=1 BUILD="$tmp/w" "$@" all 2>/dev/null | grep -c -e '-Werror' || true
}
[ "$(werror)" = 0 ] || fail "(a) make all without DEVELOPER=1 passes -Werror"
[ "$(werror DEVELOPER=1)" != 0 ] || fail "(a) make all DEVELOPER=1 does not pass -Werror"
echo "build: (a) -Werror only with DEVELOPER=1"

# ------------------------------------- (b) install PREFIX=/usr DESTDIR ---
# A copy of what `all` needs, times kept, so only hostcfg.c is rebuilt (its
# SYSCONFDIR changes to /etc) and BUILD itself stays as make check built it.
b="$tmp/build"
mkdir -p "$b/obj"
for f in obj/core pobj plugins casehost libcore.a sysconfdir; do
    [ ! -e "$build/$f" ] || cp -pR "$build/$f" "$b/$(dirname "$f")/"
done
dest="$tmp/x"
"$make" --no-print-directory BUILD="$b" "$@" install PREFIX=/usr DESTDIR="$dest" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "(b) make install PREFIX=/usr DESTDIR=$dest failed"; }
for f in etc/casehost/casehost.cfg usr/bin/casehost usr/lib/casehost/plugins usr/share/casehost/sql \
    usr/include/casehost/plugin.h usr/lib/pkgconfig/casehost-plugin.pc; do
    [ -e "$dest/$f" ] || { (cd "$dest" && find . | sort) >&2; fail "(b) no /$f after make install PREFIX=/usr"; }
done
cfg="$dest/etc/casehost/casehost.cfg"
if ! grep -q '^[[:space:]]*plugin_dir[[:space:]]*=[[:space:]]*"/usr/lib/casehost/plugins";' "$cfg" ||
    ! grep -q '^[[:space:]]*sql_dir[[:space:]]*=[[:space:]]*"/usr/share/casehost/sql";' "$cfg"; then
    fail "(b) /etc/casehost/casehost.cfg does not point at /usr/lib/casehost/plugins and /usr/share/casehost/sql"
fi
version=$(ASAN_OPTIONS=detect_leaks=0 "$dest/usr/bin/casehost" --version) ||
    fail "(b) $dest/usr/bin/casehost --version failed"
echo "$version" | grep -qx 'config: /etc/casehost/casehost.cfg' ||
    fail "(b) the installed casehost --version says '$version', not config: /etc/casehost/casehost.cfg"
echo "build: (b) make install PREFIX=/usr DESTDIR=\$tmp: /etc/casehost/casehost.cfg; usr/bin/casehost --version:"
echo "$version" | sed 's/^/  /'

# ------------------------------- (c) the installed example is safe ---
# Spool files under /var/lib/casehost/spool (never under /etc, which a
# relative path from /etc/casehost/trafficking/ would be), no destination
# naming a program that is not there, no secret in /etc.
dcfg="$dest/etc/casehost/trafficking/destinations.cfg"
[ -f "$dcfg" ] || fail "(c) no /etc/casehost/trafficking/destinations.cfg after make install"
# name<TAB>value of every spool_dir, secret_file, secret and command outside comments.
sed -e 's/#.*//' "$dcfg" | tr ';' '\n' |
    sed -n 's/.*\<\(spool_dir\|secret_file\|secret\|command\)[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1\t\2/p' \
    >"$tmp/paths.txt"
grep -q '^spool_dir' "$tmp/paths.txt" || fail "(c) no spool_dir found in $dcfg"
while IFS=$(printf '\t') read -r name value; do
    case "$name:$value" in
    spool_dir:/var/lib/casehost/spool/*) ;;
    spool_dir:*) fail "(c) installed destinations.cfg spools to '$value', not under /var/lib/casehost/spool" ;;
    secret_file:/etc/*) fail "(c) installed destinations.cfg keeps a secret file under /etc: '$value'" ;;
    secret_file:/*) [ ! -e "$dest$value" ] || fail "(c) make install installed the secret file $value" ;;
    secret_file:*) fail "(c) installed destinations.cfg names a relative secret_file '$value' (under /etc)" ;;
    secret:*) fail "(c) installed destinations.cfg holds a literal secret" ;;
    command:*)
        prog=${value%% *}
        [ -x "$prog" ] || [ -x "$dest$prog" ] ||
            fail "(c) installed destinations.cfg runs '$prog', which does not exist" ;;
    esac
done <"$tmp/paths.txt"
secrets=$(cd "$dest/etc" && find . \( -path '*/var/*' -o -iname '*secret*' -o -name '*.key' \) | sort)
[ -z "$secrets" ] || fail "(c) make install put state or secrets under /etc: $secrets"
spool="$dest/var/lib/casehost/spool"
[ -d "$spool" ] || fail "(c) make install did not create /var/lib/casehost/spool"
[ "$(stat -c %a "$spool")" = 700 ] || fail "(c) /var/lib/casehost/spool has mode $(stat -c %a "$spool"), not 700"
echo "build: (c) installed example: $(grep -c '^spool_dir' "$tmp/paths.txt") spool dirs under /var/lib/casehost/spool (0700), no missing command, no secret under /etc"

"$make" --no-print-directory BUILD="$b" "$@" uninstall PREFIX=/usr DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1 ||
    { cat "$tmp/uninstall.log" >&2; fail "(b) make uninstall PREFIX=/usr failed"; }
left=$(cd "$dest" && find . -type f ! -path './etc/*' | sort)
[ -z "$left" ] || fail "(b) make uninstall left: $left"
echo "build: (b) make uninstall removes everything outside /etc (the configuration stays)"
