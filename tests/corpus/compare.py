#!/usr/bin/env python3
"""compare.py EXPECTED_DIR CAPTURE OUT_DIR - sipcdr's records for CAPTURE equal
the ones derive_expected.py derived from tshark.

EXPECTED_DIR holds CAPTURE_NAME.calls.csv and CAPTURE_NAME.sms.csv (or is the
expected/ root, with them under expected/FOLDER/, FOLDER being the capture's
folder). OUT_DIR is what `sipcdr read --csv OUT_DIR CAPTURE` wrote: calls.csv
and sms.csv.

Each file is compared as a set of rows (row order is not part of the
contract). On a mismatch every differing cell is printed as

    FILE  CALL_ID  COLUMN: expected 'X', got 'Y'

and rows without a counterpart as `missing row` / `unexpected row`. The CSV
itself is checked against the output contract too: exact header, RFC 4180
(a field is quoted only when it holds a comma, a double quote, CR or LF; inner
quotes doubled), the same number of fields on every row. Line ends may be LF
or CRLF. Exit 0 when both files match, 1 otherwise, 2 on a usage error.
Python 3 standard library only.
"""
import os
import sys

NEEDS_QUOTES = ',"\r\n'


def parse_csv(text):
    """RFC 4180 parser that also reports quoting faults.
    Returns (records, problems); a record is a list of field values."""
    records, problems = [], []
    n, pos, line = len(text), 0, 1
    while pos < n:
        record = []
        while True:
            if pos < n and text[pos] == '"':
                pos += 1
                buf = []
                while True:
                    if pos >= n:
                        problems.append("line %d: unterminated quoted field" % line)
                        break
                    c = text[pos]
                    if c == '"':
                        if pos + 1 < n and text[pos + 1] == '"':
                            buf.append('"')
                            pos += 2
                            continue
                        pos += 1
                        break
                    if c == "\n":
                        line += 1
                    buf.append(c)
                    pos += 1
                value = "".join(buf)
                if not any(ch in value for ch in NEEDS_QUOTES):
                    problems.append("line %d: field %d %r is quoted but needs no quotes"
                                    % (line, len(record) + 1, value))
                if pos < n and text[pos] not in ",\r\n":
                    problems.append("line %d: text after a closing quote" % line)
                    while pos < n and text[pos] not in ",\r\n":
                        pos += 1
            else:
                start = pos
                while pos < n and text[pos] not in ",\r\n":
                    pos += 1
                value = text[start:pos]
                if '"' in value:
                    problems.append("line %d: field %d %r holds a quote but is not quoted"
                                    % (line, len(record) + 1, value))
            record.append(value)
            if pos < n and text[pos] == ",":
                pos += 1
                continue
            if pos < n and text[pos] == "\r":
                if pos + 1 < n and text[pos + 1] == "\n":
                    pos += 1
                else:
                    problems.append("line %d: bare CR outside quotes" % line)
            if pos < n:      # the newline
                pos += 1
            line += 1
            break
        records.append(record)
    return records, problems


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, ["not UTF-8: %s" % e]
    return parse_csv(text)


def diff_count(a, b):
    return sum(1 for x, y in zip(a, b) if x != y)


def compare(kind, exp_path, got_path):
    """Print the differences of one file pair; return the number of faults."""
    label = os.path.basename(got_path)
    if not os.path.isfile(got_path):
        print("%s: sipcdr wrote no %s" % (label, got_path))
        return 1
    exp, eprob = load(exp_path)
    if eprob:
        print("%s: the expected file %s is broken: %s" % (label, exp_path, "; ".join(eprob)))
        return 1
    got, gprob = load(got_path)
    faults = 0
    for p in gprob:
        print("%s: format: %s" % (label, p))
        faults += 1
    if got is None:
        return faults
    header = exp[0]
    if not got or got[0] != header:
        print("%s: header differs\n  expected %s\n  got      %s"
              % (label, ",".join(header), ",".join(got[0]) if got else "(empty file)"))
        return faults + 1
    erows, grows = exp[1:], []
    for i, r in enumerate(got[1:], 2):
        if len(r) != len(header):
            print("%s: format: line %d has %d fields, the header %d"
                  % (label, i, len(r), len(header)))
            faults += 1
        grows.append((r + [""] * len(header))[:len(header)])
    if sorted(erows) == sorted(grows):
        return faults

    # Pair rows by call_id; among rows sharing one, closest first.
    by_id = {}
    for r in grows:
        by_id.setdefault(r[0], []).append(r)
    unmatched = []
    for e in sorted(erows):
        cands = by_id.get(e[0], [])
        if e in cands:
            cands.remove(e)
        else:
            unmatched.append(e)
    for e in unmatched:
        cands = by_id.get(e[0], [])
        if not cands:
            print("%s  %s  missing row: %s" % (label, e[0], ",".join(e)))
            faults += 1
            continue
        g = min(cands, key=lambda r: diff_count(e, r))
        cands.remove(g)
        for col, a, b in zip(header, e, g):
            if a != b:
                print("%s  %s  %s: expected %r, got %r" % (label, e[0], col, a, b))
                faults += 1
    for rest in by_id.values():
        for g in rest:
            print("%s  %s  unexpected row: %s" % (label, g[0], ",".join(g)))
            faults += 1
    return faults


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    exp_dir, capture, out_dir = argv[1:]
    name = os.path.basename(capture)
    folder = os.path.basename(os.path.dirname(os.path.abspath(capture)))
    base = None
    for d in (exp_dir, os.path.join(exp_dir, folder)):
        if os.path.isfile(os.path.join(d, name + ".calls.csv")):
            base = os.path.join(d, name)
            break
    if base is None:
        print("%s: no expected records in %s" % (name, exp_dir), file=sys.stderr)
        return 2
    faults = 0
    for kind in ("calls", "sms"):
        faults += compare(kind, "%s.%s.csv" % (base, kind), os.path.join(out_dir, kind + ".csv"))
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
