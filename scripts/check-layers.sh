#!/bin/sh
# check-layers.sh: the layer rules of STYLE.md (8) on the real tree, then
# proof that they bite, in a second or two. Run by make check; plain sh + awk.
#
#   1. no include cycle among the modules of core and of each plugin, and no
#      file under a plugin's pure folders includes libpq, <casehost/...>, the
#      entry header or an I/O folder (scripts/layers.awk);
#   2. on a temp copy of each plugin: a rules/-style probe including
#      <libpq-fe.h> does not compile with exactly the pure folders' flags
#      (make print-pure-cflags), and the checks of 1 report the probe and an
#      injected include cycle.
# Never writes to the tree. Exits non-zero naming what is wrong.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
awk_prog="$root/scripts/layers.awk"
make=${MAKE:-make}
cc=${CC:-cc}
cd "$root"
# A sub-make must not inherit make check's job server or variables.
unset MAKEFLAGS MFLAGS MAKELEVEL

tmp=$(mktemp -d /tmp/casehost-layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM
failed=0
fail() {
    echo "check-layers: $*" >&2
    failed=1
}

# tree_files DIR: every .c and .h under DIR, sorted.
tree_files() {
    find "$1" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort
}

# layers ROOT INCDIRS PURE [MODE]: runs layers.awk on ROOT (from the cwd).
layers() {
    # shellcheck disable=SC2046 # file names are ours: no spaces
    awk -v root="$1" -v incdirs="$2" -v pure="$3" -v mode="${4:-check}" -f "$awk_prog" \
        $(tree_files "$1")
}

pure_dirs_of() {
    printf '%s\n' "$plugin_lines" | awk -v p="$1" '$1 == p { $1 = ""; sub(/^ /, ""); print }'
}

plugin_lines=$("$make" -s --no-print-directory print-pure-dirs)
[ -n "$plugin_lines" ] || { echo "check-layers: make print-pure-dirs named no plugin" >&2; exit 1; }

# ------------------------------------------------------------ the tree ---
layers core "core/include core" "" || fail "core breaks the layer rules (above)"
for p in $(printf '%s\n' "$plugin_lines" | awk '{ print $1 }'); do
    layers "plugins/$p" "plugins/$p" "$(pure_dirs_of "$p")" ||
        fail "plugin '$p' breaks the layer rules (above)"
done
[ "$failed" = 0 ] || exit 1

# ------------------------------------------- the checks bite: a copy ---
for p in $(printf '%s\n' "$plugin_lines" | awk '{ print $1 }'); do
    pure=$(pure_dirs_of "$p")
    [ -n "$pure" ] || continue
    # The probe goes into rules/ when the plugin has it, else its first pure folder.
    probe_folder=${pure%% *}
    case " $pure " in *" rules "*) probe_folder=rules ;; esac
    copy="$tmp/$p"
    mkdir -p "$copy/plugins"
    cp -R "plugins/$p" "$copy/plugins/"
    flags=$("$make" -s --no-print-directory print-pure-cflags P="$p")

    # (a) A pure file that includes libpq does not compile with the pure
    # flags. A probe without it must compile, or the failure proves nothing.
    probe_dir="plugins/$p/$probe_folder"
    printf '#include <stdio.h>\n#include <libconfig.h>\nint layer_probe_ok(void);\nint layer_probe_ok(void) { return 0; }\n' \
        >"$copy/$probe_dir/layer_probe_ok.c"
    printf '#include <libpq-fe.h>\nint layer_probe(void);\nint layer_probe(void) { return PQlibVersion(); }\n' \
        >"$copy/$probe_dir/layer_probe.c"
    # shellcheck disable=SC2086 # cc and flags are lists of words
    if ! (cd "$copy" && $cc $flags -c "$probe_dir/layer_probe_ok.c" -o "$tmp/ok.o") >"$tmp/ok.log" 2>&1; then
        cat "$tmp/ok.log" >&2
        fail "$p: a plain probe in $probe_folder/ does not compile with the pure flags: $flags"
    elif (cd "$copy" && $cc $flags -c "$probe_dir/layer_probe.c" -o "$tmp/bad.o") >"$tmp/bad.log" 2>&1; then
        fail "$p: $probe_folder/layer_probe.c includes <libpq-fe.h> and still compiles with the pure flags: $flags"
    elif ! grep -q 'libpq-fe.h' "$tmp/bad.log"; then
        cat "$tmp/bad.log" >&2
        fail "$p: the libpq probe failed to compile, but not for want of <libpq-fe.h>"
    else
        echo "layers: $p: $probe_folder/ + <libpq-fe.h> does not compile with the pure flags, as it must:"
        grep -m1 'libpq-fe.h' "$tmp/bad.log" | sed "s|$copy/||; s|^|  |"
    fi
    rm -f "$copy/$probe_dir/layer_probe_ok.c"

    # (b) The source check reports every forbidden include of a pure file:
    # libpq, the host's API, the entry header, an I/O folder's header.
    entry_h=$(cd "$copy/plugins/$p" && find . -maxdepth 1 -name '*.h' | sed 's|^\./||' | LC_ALL=C sort | head -n 1)
    io_h=$(cd "$copy/plugins/$p" && find . -mindepth 2 -name '*.h' | sed 's|^\./||' | LC_ALL=C sort |
        awk -v pure=" $pure " '{ split($0, a, "/"); if (index(pure, " " a[1] " ") == 0) { print; exit } }')
    {
        echo '#include <casehost/plugin.h>'
        [ -z "$entry_h" ] || echo "#include \"$entry_h\""
        [ -z "$io_h" ] || echo "#include \"$io_h\""
    } >>"$copy/$probe_dir/layer_probe.c"
    want=$((2 + $( [ -n "$entry_h" ] && echo 1 || echo 0) + $( [ -n "$io_h" ] && echo 1 || echo 0)))
    if (cd "$copy" && layers "plugins/$p" "plugins/$p" "$pure") >"$tmp/pure.log" 2>&1; then
        fail "$p: the layer check passed a pure file including libpq, the host's API and I/O headers"
    else
        got=$(grep -c 'layer_probe.c:.*is a pure folder' "$tmp/pure.log" || true)
        if [ "$got" != "$want" ]; then
            cat "$tmp/pure.log" >&2
            fail "$p: the layer check reported $got of the $want forbidden includes of the probe"
        else
            echo "layers: $p: the source check refuses each forbidden include of a pure file, as it must:"
            sed 's|^|  |' "$tmp/pure.log"
        fi
    fi
    rm -f "$copy/$probe_dir/layer_probe.c"

    # (c) An injected cycle is found: the first dependency A -> B between two
    # headers gets B.h including A.h.
    edge=$(cd "$copy" && layers "plugins/$p" "plugins/$p" "$pure" edges |
        while read -r a b; do
            if [ -f "plugins/$p/$a.h" ] && [ -f "plugins/$p/$b.h" ]; then
                echo "$a $b"
                break
            fi
        done)
    if [ -z "$edge" ]; then
        fail "$p: no dependency between two headers to build a cycle from"
        continue
    fi
    a=${edge%% *}
    b=${edge#* }
    printf '#include "%s.h"\n' "$a" >>"$copy/plugins/$p/$b.h"
    if (cd "$copy" && layers "plugins/$p" "plugins/$p" "$pure") >"$tmp/cycle.log" 2>&1; then
        fail "$p: the layer check missed an injected cycle $a -> $b -> $a"
    elif ! grep -q "^include cycle: .*$a -> $b -> $a\$\|^include cycle: .*$b -> $a -> $b\$" "$tmp/cycle.log"; then
        cat "$tmp/cycle.log" >&2
        fail "$p: the layer check did not name the injected cycle $a -> $b -> $a"
    else
        echo "layers: $p: an injected cycle ($b.h includes $a.h) is reported, as it must be:"
        sed 's|^|  |' "$tmp/cycle.log"
    fi
done
[ "$failed" = 0 ] || exit 1
echo "layers: ok"
