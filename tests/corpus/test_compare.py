#!/usr/bin/env python3
"""test_compare.py - compare.py on hand-made CSVs (no corpus, no sipcdr needed):
it must accept what matches the contract whatever the row order and line ends,
and report every differing cell, missing or extra row and quoting fault."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CALLS_H = ("call_id,caller,callee,redirects,caller_ip,user_agent,invite_time,ring_time,"
           "answer_time,end_time,duration_ms,status,disposition,hangup_by,end_reason")
SMS_H = "call_id,sender,destination,time,status,kind"
A = ("a@h,alice,bob,,10.0.0.1,\"UA, with comma\",2016-12-02T10:41:21.070298Z,,"
     "2016-12-02T10:41:22.000000Z,2016-12-02T10:41:25.500000Z,3500,200,answered,caller,bye")
B = "b@h,,,,::1,\"say \"\"hi\"\"\",2016-12-02T10:41:23.000000Z,,,,,486,busy,,final_response"
# Same Call-ID twice (two From-tags): pairing must pick the closest row.
C1 = "c@h,carol,dave,,10.0.0.2,,2016-12-02T10:41:24.000000Z,,,,,,,,end_of_input"
C2 = "c@h,erin,dave,,10.0.0.3,,2016-12-02T10:41:26.000000Z,,,,,,,,end_of_input"
S1 = "m@h,+4911,+4922,2016-12-02T10:41:21.000001Z,202,3gpp"


def lines(*rows, end="\n"):
    return end.join(rows) + end


def run(exp_calls, got_calls, exp_sms=lines(SMS_H), got_sms=lines(SMS_H), got_sms_missing=False):
    with tempfile.TemporaryDirectory() as d:
        exp, out = os.path.join(d, "expected", "folder"), os.path.join(d, "out")
        os.makedirs(exp)
        os.makedirs(out)
        cap = os.path.join(d, "folder", "x.pcap")   # need not exist
        for path, text in ((os.path.join(exp, "x.pcap.calls.csv"), exp_calls),
                           (os.path.join(exp, "x.pcap.sms.csv"), exp_sms),
                           (os.path.join(out, "calls.csv"), got_calls),
                           (None if got_sms_missing else os.path.join(out, "sms.csv"), got_sms)):
            if path:
                with open(path, "w", newline="") as f:
                    f.write(text)
        # expected/ root given: compare.py finds expected/folder/ itself.
        r = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"),
                            os.path.join(d, "expected"), cap, out], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


EXP = lines(CALLS_H, A, B, C1, C2)


@case
def same_rows_other_order_crlf():
    rc, out = run(EXP, lines(CALLS_H, C2, B, C1, A, end="\r\n"),
                  lines(SMS_H, S1), lines(SMS_H, S1, end="\r\n"))
    assert rc == 0, out
    assert out == "", out


@case
def one_cell_differs():
    got = lines(CALLS_H, A.replace(",3500,", ",3499,"), B, C1, C2)
    rc, out = run(EXP, got)
    assert rc == 1
    assert "calls.csv  a@h  duration_ms: expected '3500', got '3499'" in out, out
    assert out.count("\n") == 1, out


@case
def duplicate_call_id_paired_by_closeness():
    got = lines(CALLS_H, A, B, C1, C2.replace("10.0.0.3", "10.0.0.9"))
    rc, out = run(EXP, got)
    assert rc == 1
    assert "c@h  caller_ip: expected '10.0.0.3', got '10.0.0.9'" in out, out
    assert "caller:" not in out, out


@case
def missing_and_unexpected_rows():
    got = lines(CALLS_H, A, C1, C2, B.replace("b@h", "z@h"))
    rc, out = run(EXP, got)
    assert rc == 1
    assert "b@h  missing row" in out and "z@h  unexpected row" in out, out


@case
def needless_quotes_are_a_fault():
    got = lines(CALLS_H, A.replace(",alice,", ',"alice",'), B, C1, C2)
    rc, out = run(EXP, got)
    assert rc == 1 and "quoted but needs no quotes" in out, out


@case
def bare_quote_is_a_fault():
    got = lines(CALLS_H, A, B.replace('"say ""hi"""', 'say "hi"'), C1, C2)
    rc, out = run(EXP, got)
    assert rc == 1 and "holds a quote but is not quoted" in out, out


@case
def header_differs():
    rc, out = run(EXP, lines(CALLS_H.replace("hangup_by", "hangup"), A, B, C1, C2))
    assert rc == 1 and "header differs" in out, out


@case
def short_row():
    rc, out = run(EXP, lines(CALLS_H, A, B, C1, C2.rsplit(",", 1)[0]))
    assert rc == 1 and "has 14 fields" in out, out


@case
def sms_mismatch_and_missing_file():
    rc, out = run(EXP, EXP, lines(SMS_H, S1), lines(SMS_H, S1.replace(",3gpp", ",text")))
    assert rc == 1 and "sms.csv  m@h  kind: expected '3gpp', got 'text'" in out, out
    rc, out = run(EXP, EXP, got_sms_missing=True)
    assert rc == 1 and "wrote no" in out, out


@case
def embedded_newline_quoted():
    row = A.replace('"UA, with comma"', '"two\nlines"')
    rc, out = run(lines(CALLS_H, row), lines(CALLS_H, row))
    assert rc == 0, out


def main():
    passed = failed = 0
    for fn in CASES:
        try:
            fn()
            passed += 1
        except AssertionError as e:
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
