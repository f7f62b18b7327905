#!/usr/bin/env python3
"""compare.py EXPECTED.csv GOT.csv - compare two record CSVs as row sets keyed
by call_id; print every differing cell as `call_id column: expected -> got`."""
import csv
import sys


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def main():
    (hdr_e, exp), (hdr_g, got) = load(sys.argv[1]), load(sys.argv[2])
    if hdr_e != hdr_g:
        print("header differs:\n  expected %s\n  got      %s" % (hdr_e, hdr_g))
        return 1
    bad = 0
    ekeys = sorted(exp)
    gkeys = sorted(got)
    if len(ekeys) != len(gkeys):
        print("row count: expected %d, got %d" % (len(ekeys), len(gkeys)))
        bad += 1
    by_id = {}
    for r in gkeys:
        by_id.setdefault(r[0], []).append(r)
    for e in ekeys:
        cands = by_id.get(e[0], [])
        if not cands:
            print("%s: missing" % e[0])
            bad += 1
            continue
        g = cands.pop(0)
        for col, a, b in zip(hdr_e, e, g):
            if a != b:
                print("%s %s: %r -> %r" % (e[0], col, a, b))
                bad += 1
    for rest in by_id.values():
        for g in rest:
            print("%s: unexpected row" % g[0])
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
