#!/usr/bin/env python3
"""Layers point one way: no file under port/ includes a header of core/,
and no circle between the objects of core/ (A uses a symbol of B and B,
through any path, one of A). Usage: check-layers.py OBJECT... (the core/
objects of a build). Prints problems; exit 1 if any."""
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
problems = []
core_headers = {p.name for p in (root / "core").glob("*.h")}
for f in sorted((root / "port").rglob("*.[ch]")):
    for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if m and pathlib.PurePath(m.group(1)).name in core_headers:
            problems.append(f"{f.relative_to(root)}:{n}: includes core/{m.group(1)}")

defs, uses = {}, {}
for obj in sys.argv[1:]:
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    name = pathlib.Path(obj).stem
    uses[name] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            uses[name].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRC":
            defs[parts[2]] = name
graph = {a: {defs[s] for s in u if s in defs and defs[s] != a} for a, u in uses.items()}

# Strongly connected components (Tarjan): any with two or more objects is a circle.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in graph[v]:
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
        sccs.append(comp)
sys.setrecursionlimit(10000)
for v in graph:
    if v not in index:
        visit(v)
for comp in sccs:
    if len(comp) > 1:
        problems.append("core/ circle between " + ", ".join(sorted(comp)))
for p in problems:
    print(p)
print(f"layers: {len(uses)} core objects, {sum(len(g) for g in graph.values())} uses between them, "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)
