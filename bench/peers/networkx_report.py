#!/usr/bin/env python3
"""Effective-access report computed the way a Python user would: networkx.

    networkx_report.py FILES... -o OUT.csv

Reads BalkanID entitlements CSVs with the csv module, builds a DiGraph of
entities and active grants, and walks it breadth-first from every identity,
passing through connections only. It is the plain script a user would write,
used by the benchmark harness as a peer of `whocan report access` and as an
independent check of its results.
"""

import argparse
import csv
import os
import sys
from collections import deque

import networkx as nx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contract import (  # noqa: E402
    BLANKS,
    FALSE_WORDS,
    REPORT_HEADER,
    TRUE_WORDS,
    InputError,
    column_positions,
    csv_cell,
    die,
    neutralise,
    source_of,
)


def parse_value(cell):
    """Permission Value as a bool; None if it is not a boolean word."""
    word = cell.strip(BLANKS).lower()
    if word == "" or word in TRUE_WORDS:
        return True  # reference: empty Permission Value defaults to true.
    if word in FALSE_WORDS:
        return False
    return None


def load(paths):
    """Return the graph and how many rows were skipped as rejected.

    Nodes are (source, Entity Source ID) with `name` and `type` from the first
    row that names them. A DiGraph holds one edge per (from, to), so the
    permissions of that pair live in the edge's `perms` set; only active
    permissions (some row says true) are added at all.
    """
    graph = nx.DiGraph()
    active = {}  # (from, to, permission) -> any row true
    rejected = 0
    for path in paths:
        source = source_of(path)
        try:
            positions, _ = column_positions(path)
        except (InputError, OSError, UnicodeDecodeError) as e:
            die(str(e))
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            next(reader)  # header, already mapped by column_positions
            for row in reader:

                def cell(key):
                    pos = positions[key]
                    return row[pos] if pos is not None and pos < len(row) else ""

                subject_id = cell("subject_id")
                value = parse_value(cell("value"))
                # Rows the importer rejects name no entity and grant nothing.
                if subject_id == "" or value is None:
                    rejected += 1
                    continue
                subject = (source, subject_id)
                if subject not in graph:
                    graph.add_node(
                        subject,
                        name=cell("subject_name"),
                        type=cell("subject_type").strip(BLANKS).lower(),
                    )
                target_id = cell("target_id")
                if target_id == "":
                    continue  # entities-only row: no edge
                target = (source, target_id)
                target_type = cell("target_type").strip(BLANKS).lower()
                if target not in graph:
                    graph.add_node(target, name=cell("target_name"), type=target_type)
                # reference: empty Permission Name is member into a
                # connection and access into anything else.
                permission = cell("permission") or (
                    "member" if target_type == "connection" else "access"
                )
                key = (subject, target, permission)
                active[key] = active.get(key, False) or value
    for (subject, target, permission), is_active in active.items():
        if is_active:
            if not graph.has_edge(subject, target):
                graph.add_edge(subject, target, perms=set())
            graph[subject][target]["perms"].add(permission)
    return graph, rejected


def expand(graph):
    """Yield (identity, target, permission, provider or None) once each.

    From each identity, a BFS over connection nodes: every node taken off the
    queue grants its out-edges' permissions, with itself as provider (none
    when it is the identity: a direct grant). `seen` stops cycles, and as each
    node is dequeued once per identity, each (target, permission, provider)
    comes out once.
    """
    types = graph.nodes(data="type")
    for identity in sorted(n for n, t in types if t == "identity"):
        queue = deque([identity])
        seen = set()
        while queue:
            node = queue.popleft()
            provider = None if node == identity else node
            for target, data in graph.adj[node].items():
                for permission in data["perms"]:
                    yield identity, target, permission, provider
                if types[target] == "connection" and target not in seen:
                    seen.add(target)
                    queue.append(target)


def write(graph, grants, out):
    names = graph.nodes(data="name")
    types = graph.nodes(data="type")
    rows = []
    for identity, target, permission, provider in grants:
        source, identity_id = identity
        rows.append(
            (
                source,
                identity_id,
                names[identity],
                target[1],
                names[target],
                types[target],
                permission,
                provider[1] if provider else "",
                names[provider] if provider else "",
            )
        )
    # Contract order: identity_id, target_id, permission, provider_id, then the
    # rest. Python compares str by code point, which is UTF-8 byte order.
    rows.sort(key=lambda r: (r[1], r[3], r[6], r[7], r[0], r[2], r[4], r[5], r[8]))
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(REPORT_HEADER + "\n")
        for row in rows:
            f.write(",".join(csv_cell(neutralise(c)) for c in row) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.csv")
    args = parser.parse_args()

    graph, rejected = load(args.files)
    if rejected:
        print(f"networkx_report: skipped {rejected} rejected row(s)", file=sys.stderr)
    write(graph, expand(graph), args.output)


if __name__ == "__main__":
    main()
