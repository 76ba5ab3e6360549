# layers.awk: the include rules of one source tree (core, or one plugin), for
# scripts/check-layers.sh. Portable awk (mawk, gawk, busybox); no python.
#
# A module is a .c/.h pair named by its path under root without the extension;
# module A depends on B when A.c or A.h includes "B.h" (quoted includes only,
# resolved like the compiler: the including file's folder, then incdirs).
# Files under a pure folder may include neither libpq nor the host's API
# (<casehost/...>) nor any file of the tree outside the pure folders.
#
# Variables: root     the tree, e.g. plugins/trafficking
#            incdirs  its -I folders in order, space-separated
#            pure     its pure folders (cfg rules ...), may be empty
#            mode     "check" (default): report every cycle and every pure
#                     folder include, exit 1 if any; "edges": print "A B"
#                     for each dependency, in file order
# Operands: every .c and .h under root, sorted.

function normalize(p,    n, i, parts, out, k, o) {
    n = split(p, parts, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".")
            continue
        if (parts[i] == ".." && k > 0 && out[k] != "..") {
            k--
            continue
        }
        out[++k] = parts[i]
    }
    o = ""
    for (i = 1; i <= k; i++)
        o = o (i > 1 ? "/" : "") out[i]
    return o
}

function dir_of(p) {
    return match(p, /\/[^\/]*$/) ? substr(p, 1, RSTART - 1) : "."
}

function module_of(f) {
    f = substr(f, length(root) + 2)
    sub(/\.[ch]$/, "", f)
    return f
}

# The file of the tree a quoted include names, or "" (a system header).
function resolve(from, name,    c, i) {
    c = normalize(dir_of(from) "/" name)
    if (c in known)
        return c
    for (i = 1; i <= n_inc; i++) {
        c = normalize(inc[i] "/" name)
        if (c in known)
            return c
    }
    return ""
}

# The pure folder f lies in, or "".
function pure_dir_of(f,    rel, top) {
    rel = substr(f, length(root) + 2)
    if (index(rel, "/") == 0)
        return ""
    top = substr(rel, 1, index(rel, "/") - 1)
    return (top in is_pure) ? top : ""
}

function check_pure(pd, name, quoted, target, where,    why, shown) {
    why = ""
    if (name ~ /^(libpq-fe\.h|libpq-events\.h|libpq\/|postgres|pg_config)/)
        why = "libpq: the database is for db/ and the layers above"
    else if (name ~ /^casehost\//)
        why = "the host's API: only the entry file and the I/O folders see it"
    else if (quoted && target != "" && pure_dir_of(target) == "")
        why = substr(target, length(root) + 2) " is outside the pure folders"
    if (why == "")
        return
    shown = quoted ? "\"" name "\"" : "<" name ">"
    printf "%s: %s/ is a pure folder (no I/O) but includes %s (%s)\n", where, pd, shown, why
    bad++
}

function dfs(u,    i, v, k, a, path, evidence) {
    state[u] = 1
    stack[++sp] = u
    for (i = 1; i <= n_adj[u]; i++) {
        v = adj[u, i]
        if (state[v] == 1) {
            for (k = sp; stack[k] != v; k--)
                ;
            path = ""
            evidence = ""
            for (; k <= sp; k++) {
                a = stack[k]
                path = path a " -> "
                evidence = evidence "\n  " via[a, (k < sp ? stack[k + 1] : v)]
            }
            printf "include cycle: %s%s%s\n", path, v, evidence
            bad++
        } else if (state[v] == 0) {
            dfs(v)
        }
    }
    state[u] = 2
    sp--
}

BEGIN {
    n_inc = split(incdirs, inc, " ")
    n = split(pure, tmp, " ")
    for (i = 1; i <= n; i++)
        is_pure[tmp[i]] = 1
    for (i = 1; i < ARGC; i++)
        known[normalize(ARGV[i])] = 1
    if (mode == "")
        mode = "check"
    bad = 0
}

FNR == 1 {
    file = normalize(FILENAME)
    mod = module_of(file)
    pd = pure_dir_of(file)
    if (!(mod in seen)) {
        seen[mod] = 1
        nodes[++n_nodes] = mod
    }
}

/^[ \t]*#[ \t]*include/ {
    if (match($0, /"[^"]+"/)) {
        name = substr($0, RSTART + 1, RLENGTH - 2)
        quoted = 1
    } else if (match($0, /<[^>]+>/)) {
        name = substr($0, RSTART + 1, RLENGTH - 2)
        quoted = 0
    } else {
        next
    }
    target = quoted ? resolve(file, name) : ""
    if (pd != "")
        check_pure(pd, name, quoted, target, file ":" FNR)
    if (target !~ /\.h$/)
        next
    to = module_of(target)
    if (to == mod || ((mod, to) in via))
        next
    via[mod, to] = file ":" FNR " includes \"" name "\""
    adj[mod, ++n_adj[mod]] = to
    edges[++n_edges] = mod " " to
}

END {
    if (mode == "edges") {
        for (i = 1; i <= n_edges; i++)
            print edges[i]
        exit 0
    }
    sp = 0
    for (i = 1; i <= n_nodes; i++)
        if (state[nodes[i]] == 0)
            dfs(nodes[i])
    if (bad == 0)
        printf "%s: %d modules, %d dependencies, no include cycle%s\n", root, n_nodes, n_edges,
               (pure == "" ? "" : "; pure folders " pure " include no I/O")
    exit (bad > 0 ? 1 : 0)
}
