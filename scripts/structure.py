#!/usr/bin/env python3
"""The shape of edgelab's production code, for reviews and the architecture
notes (docs/architecture.md): which files depend on which (through the
symbols their objects define and use, read with nm from a build), the cycles
between files and between modules, and the longest functions.

    scripts/structure.py BUILD_DIR [--top N] [--edges]

BUILD_DIR is a configured and built tree (e.g. build-test after
scripts/test.sh). Only the modules' own sources count, not tests/ or cli/main.c.
--edges also prints every dependency between files, one "A -> B" a line.
Exit status: 0, or 2 on bad usage."""
import os
import re
import subprocess
import sys

MODULES = ("core", "stun", "relay", "media", "canary", "sipfront", "control", "probe", "assess", "lab", "pki", "cli")


def objects(build, root):
    """{source path: object path} for the modules' .c files in build (objects
    of sources no longer in the tree, left by an older build, are skipped)."""
    found = {}
    for mod in MODULES:
        d = os.path.join(build, mod)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".o"):
                continue
            # automake names library objects MODULE_libMODULE_a-FILE.o
            src = re.sub(r"^.*_a-", "", name)[:-2] + ".c"
            if os.path.exists(os.path.join(root, mod, src)):
                found[f"{mod}/{src}"] = os.path.join(d, name)
    return found


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True, text=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True).stdout
    used = {line.split()[-1] for line in out.splitlines() if line.split()}
    return defined, used


def graph(objs):
    defs, uses = {}, {}
    for src, obj in objs.items():
        d, u = symbols(obj)
        uses[src] = u
        for sym in d:
            defs[sym] = src
    return {src: sorted({defs[s] for s in u if s in defs and defs[s] != src}) for src, u in uses.items()}


def sccs(g):
    """Tarjan's strongly connected components with more than one node."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def functions(root):
    """(lines, file:line, name) of every function body: a line '{' at column 0
    up to the next '}' at column 0 (the tree's clang-format style)."""
    found = []
    for mod in MODULES:
        d = os.path.join(root, mod)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".c"):
                continue
            path = os.path.join(mod, name)
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                lines = f.read().split("\n")
            start = None
            for i, line in enumerate(lines):
                if line == "{":
                    start = i
                elif line.startswith("}") and start is not None and not line.startswith("};"):
                    j = start - 1
                    while j > 0 and not re.match(r"^[A-Za-z_]", lines[j]):
                        j -= 1
                    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", lines[j])
                    found.append((i - start + 1, f"{path}:{j + 1}", m.group(1) if m else "?"))
                    start = None
    return sorted(found, reverse=True)


def main():
    args = sys.argv[1:]
    top = 10
    edges = "--edges" in args
    if edges:
        args.remove("--edges")
    if "--top" in args:
        k = args.index("--top")
        top = int(args[k + 1])
        del args[k : k + 2]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    g = graph(objects(args[0], root))
    cycles = sccs(g)
    print(f"files: {len(g)}; file cycles (strongly connected sets): {len(cycles)}")
    for c in cycles:
        print(f"  {len(c)} files: {' '.join(c)}")
    mg = {}
    for src, deps in g.items():
        m = src.split("/")[0]
        mg.setdefault(m, set()).update(d.split("/")[0] for d in deps if d.split("/")[0] != m)
    mcycles = sccs({m: sorted(d) for m, d in mg.items()})
    print(f"module cycles: {len(mcycles)}")
    for c in mcycles:
        print(f"  {' '.join(c)}")
    print("modules use:")
    for m in sorted(mg):
        print(f"  {m}: {' '.join(sorted(mg[m])) or '-'}")
    print(f"longest functions (lines of body):")
    for n, where, name in functions(root)[:top]:
        print(f"  {n:4d}  {name}  {where}")
    if edges:
        for src in sorted(g):
            for dep in g[src]:
                print(f"{src} -> {dep}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
