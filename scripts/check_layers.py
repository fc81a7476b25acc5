#!/usr/bin/env python3
"""Folder layering of src/server: reports include cycles between folders.

Each folder under src/server is one layer (docs/ARCHITECTURE.md) and may
include headers only of the folders below it, so the graph "folder A
includes a header of folder B" must have no cycle. Files directly in
src/server form the folder "core". Only `#include "server/..."` lines
count: headers outside src/server (engine, protocol, ...) are layers of
their own, below the whole server.

Usage: scripts/check_layers.py [-v] [SRC_SERVER_DIR]
Exit status 0 when there is no cycle, 1 (with the includes that close each
cycle) otherwise. -v also prints the graph.
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"server/([^"]+)"')


def folder_of(relpath):
    d = os.path.dirname(relpath)
    return d.replace(os.sep, "/") if d else "core"


def scan(root):
    """{folder: {included folder: [(file, line number, header)]}}"""
    edges = {}
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            src = folder_of(rel)
            edges.setdefault(src, {})
            with open(path, encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    dst = folder_of(m.group(1))
                    if dst != src:
                        edges[src].setdefault(dst, []).append(
                            (rel, no, m.group(1)))
    return edges


def cycles(edges):
    """Strongly connected components with more than one folder (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    root = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src", "server")
    edges = scan(root)
    if verbose:
        for src in sorted(edges):
            print("%s -> %s" % (src, ", ".join(sorted(edges[src])) or "-"))
    bad = cycles(edges)
    for comp in bad:
        print("include cycle between folders of src/server: %s" %
              " <-> ".join(comp), file=sys.stderr)
        for src in comp:
            for dst in sorted(edges[src]):
                if dst in comp:
                    for rel, no, hdr in edges[src][dst]:
                        print("  %s:%d includes server/%s" % (rel, no, hdr),
                              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
