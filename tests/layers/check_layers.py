#!/usr/bin/env python3
"""The layers of lib/ (DESIGN.md, "Layers"), checked against what the build declares.

  check_layers.py LIB_DIR MANIFEST   fail (status 1) on any include the manifest does not allow
  check_layers.py --map LIB_DIR      print the include graph between parts

Each directory of lib/ is a part. MANIFEST, written by lib/CMakeLists.txt at configure time, has
one line per part: "part layer=n public=a,b private=c third=x,y". A part links only parts of a lower
layer (DESIGN.md, "Layers"). A file of a part may include its own part and the parts it links, and a third-party header only when its part links that library (all
third-party libraries link PRIVATE, so a part's headers may include none). A part's internal.hpp is
what its sources share among themselves, which no other part includes: it counts as a source (it
may include the part's third-party library and the parts it links PRIVATE). Also refused: a link the
sources do not use, a PUBLIC link no header needs or a PRIVATE one a header needs (a dependent's
headers would then not compile), and a cycle.
"""
import os
import re
import sys

# The first path component of a third-party include, and the name the manifest gives its library.
THIRD_PARTY = {"cryptopp": "cryptopp", "pcap": "pcap", "pcap.h": "pcap", "nlohmann": "nlohmann",
               "CLI": "cli11", "asio": "asio", "asio.hpp": "asio"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def scan(lib):
    """{part: {file: [(kind, target)]}}: kind "part" (a quoted include of another part of lib/) or
    "third" (an angled include of a third-party library)."""
    parts = {}
    for part in sorted(os.listdir(lib)):
        pdir = os.path.join(lib, part)
        if not os.path.isdir(pdir):
            continue
        files = parts.setdefault(part, {})
        for root, _, names in os.walk(pdir):
            for name in sorted(names):
                if not name.endswith((".hpp", ".cpp", ".h")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                deps = []
                for delim, inc in INCLUDE.findall(text):
                    head = inc.split("/")[0]
                    if delim == '"' and "/" in inc and os.path.isdir(os.path.join(lib, head)):
                        deps.append(("part", head))
                    elif delim == "<" and head in THIRD_PARTY:
                        deps.append(("third", THIRD_PARTY[head]))
                files[os.path.relpath(path, lib)] = deps
    return parts


def foreign_internals(lib):
    """(file, include) for each include of another part's internal.hpp."""
    out = []
    for root, _, names in os.walk(lib):
        for name in sorted(names):
            if name.endswith((".hpp", ".cpp", ".h")):
                path = os.path.join(root, name)
                part = os.path.relpath(path, lib).split(os.sep)[0]
                with open(path, encoding="utf-8") as f:
                    out += [(os.path.relpath(path, lib), inc) for delim, inc in INCLUDE.findall(f.read())
                            if delim == '"' and os.path.basename(inc) == "internal.hpp" and inc.split("/")[0] != part]
    return sorted(out)


def graph(parts):
    """{part: {dep: [files]}} over parts and third-party libraries (these as "<name>")."""
    g = {}
    for part, files in parts.items():
        edges = g.setdefault(part, {})
        for path, deps in files.items():
            for kind, dep in deps:
                if kind == "part" and dep == part:
                    continue
                key = dep if kind == "part" else "<" + dep + ">"
                edges.setdefault(key, []).append(path)
    return g


def cycles(edges):
    """The cycles of a {node: set(nodes)} graph, each as a list of nodes (one per strong component)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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


def print_map(lib):
    g = graph(scan(lib))
    for part in sorted(g):
        deps = sorted(g[part], key=lambda d: (d.startswith("<"), d))
        print(f"{part:8} -> " + (", ".join(f"{d}({len(set(g[part][d]))})" for d in deps) or "-"))
    cyc = cycles({p: {d for d in g[p] if not d.startswith("<")} for p in g})
    print("cycles: " + ("; ".join(" <-> ".join(c) for c in cyc) if cyc else "none"))


def read_manifest(path):
    m = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            entry = {"public": set(), "private": set(), "third": set(), "layer": 0}
            for w in words[1:]:
                key, _, value = w.partition("=")
                entry[key] = int(value) if key == "layer" else {v for v in value.split(",") if v}
            m[words[0]] = entry
    return m


def check(lib, manifest):
    parts = scan(lib)
    m = read_manifest(manifest)
    problems = []
    for part in sorted(set(parts) - set(m)):
        problems.append(f"lib/{part}/ is no part of the build (lib/CMakeLists.txt has no kd_part({part}))")
    for part, files in sorted(parts.items()):
        if part not in m:
            continue
        links = m[part]["public"] | m[part]["private"]
        for dep in sorted(links):
            if dep in m and m[dep]["layer"] >= m[part]["layer"]:
                problems.append(f"kd_{part} (layer {m[part]['layer']}) links kd_{dep} (layer {m[dep]['layer']}): "
                                "a link goes down only")
        used, used_by_headers, third_used = set(), set(), set()
        for path, deps in sorted(files.items()):
            header = path.endswith((".hpp", ".h")) and os.path.basename(path) != "internal.hpp"
            for kind, dep in deps:
                if kind == "part":
                    if dep == part:
                        continue
                    used.add(dep)
                    if header:
                        used_by_headers.add(dep)
                    if dep not in links:
                        problems.append(f"lib/{path} includes {dep}/ but kd_{part} does not link kd_{dep}")
                else:
                    third_used.add(dep)
                    if dep not in m[part]["third"]:
                        problems.append(f"lib/{path} includes a {dep} header but kd_{part} does not own {dep}")
                    elif header:
                        problems.append(f"lib/{path} includes a {dep} header in a header: {dep} stays private to kd_{part}")
        for dep in sorted(links - used):
            problems.append(f"kd_{part} links kd_{dep} but includes nothing of it")
        for dep in sorted(m[part]["public"] - used_by_headers - (links - used)):
            problems.append(f"kd_{part} links kd_{dep} PUBLIC but no header of lib/{part}/ includes it (make it PRIVATE)")
        for dep in sorted(used_by_headers & m[part]["private"]):
            problems.append(f"a header of lib/{part}/ includes {dep}/ but kd_{part} links kd_{dep} PRIVATE (make it PUBLIC)")
        for dep in sorted(m[part]["third"] - third_used):
            problems.append(f"kd_{part} links {dep} but includes nothing of it")
    for path, inc in foreign_internals(lib):
        problems.append(f"lib/{path} includes {inc}, which is internal to its part")
    cyc = cycles({p: e["public"] | e["private"] for p, e in m.items()})
    for c in cyc:
        problems.append("the links form a cycle: " + " <-> ".join("kd_" + p for p in c))
    for p in problems:
        print("layers: " + p, file=sys.stderr)
    if not problems:
        print(f"layers: {len(parts)} parts, every include along a declared link, no cycle")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--map":
        print_map(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(check(sys.argv[1], sys.argv[2]))
