#!/usr/bin/env python3
"""derive_expected.py - the call and SMS records sipcdr must write for the
shared corpus, derived independently of sipcdr from tshark's dissection.

Usage (from the repository root; the corpus lives beside the checkout):

    python3 tests/corpus/derive_expected.py ../shared/corpus/pcap
    python3 tests/corpus/derive_expected.py ../shared/corpus/pcap/udp-calls [FOLDER...]

A path holding the corpus folders processes udp-calls, failed-calls and hep (hep
only when ../shared/peers/hep3.lua is there); any other path is taken as one
corpus folder. For every capture CAPTURE of a folder FOLDER it writes

    tests/corpus/expected/FOLDER/CAPTURE.calls.csv
    tests/corpus/expected/FOLDER/CAPTURE.sms.csv

Python 3 standard library only; tshark 4.0 is needed to regenerate, not to test.
Review the diff of expected/ by hand after every regeneration.

THE TSHARK COMMAND (one run per capture; JSON so that values are escaped
unambiguously and every occurrence of a field comes as its own array item):

    tshark -n -r CAPTURE -Y 'sip && udp && !icmp && !icmpv6' -T json \
      -e frame.number -e frame.time_epoch -e frame.protocols -e ip.src -e ipv6.src \
      -e sip.Method -e sip.Status-Code -e sip.Call-ID -e sip.from.tag -e sip.to.tag \
      -e sip.CSeq.seq -e sip.CSeq.method -e sip.r-uri -e sip.r-uri.user \
      -e sip.from.addr -e sip.from.user -e sip.User-Agent -e sip.Diversion \
      -e sip.contact.uri -e sip.Content-Type

  * `!icmp && !icmpv6`: a SIP datagram quoted inside an ICMP error is not a
    sighting of a message (tshark 4.0 does not dissect those as SIP anyway).
  * HEP folder: tshark 4.0 has no HEP dissector; the capture is read with
    `-X lua_script:../shared/peers/hep3.lua`, filter `sip`, and the packet's
    time and source address are taken from the HEP chunks instead
    (`-e hep3.ts_sec -e hep3.ts_usec -e hep3.src_ip -e hep3.src_ip6`).
  * Time: frame.time_epoch as printed (nanoseconds), truncated to microseconds
    by string, never through a float.
  * caller_ip: ip.src / ipv6.src of the innermost IP header (the one listed
    last in frame.protocols), printed through libc inet_ntop.
  * User parts are cut from the URI strings tshark prints (sip.r-uri,
    sip.from.addr, sip.contact.uri, Diversion entries): sip:/sips: the text
    before '@' without a ":password"; tel: the number up to the first ';'.
    tshark's own sip.r-uri.user / sip.from.user are only cross-checked: tshark
    4.0 gives no user for tel: URIs and drops one-character users
    (`sip:s@host` -> ""), which the script reports as a note.
  * User-Agent: tshark's value with line folding (CRLF + spaces/tabs) turned
    into one space.
  * The script stops with an error when a frame carries more than one SIP
    message (MANIFEST: none of these captures has one).

THE RULES (SIP over UDP only; messages taken in capture order):

Calls. A call is keyed by (Call-ID, From-tag of its first INVITE); a missing
From-tag counts as the empty tag. A message belongs to the call when its
Call-ID is equal and its From-tag equals the call's tag (missing == missing),
or its To-tag is present and equals the call's tag (requests from the callee
carry the callee's tag in From and the caller's in To). A call is created by
the first INVITE request without To-tag whose key has no call yet; INVITEs
with a To-tag (re-INVITEs) never create calls. Retransmissions, auth retries
(same tag, higher CSeq) and the second leg through a proxy fold into the call.
  - invite_time, caller (From user), callee (Request-URI user), caller_ip,
    user_agent: from the first INVITE of the call; empty when absent.
  - Outcome responses: CSeq method INVITE, seen before the answer (once
    answered, later INVITE responses - re-INVITEs - change nothing).
  - ring_time: first 101-199. answer_time: first 2xx. status: code of the
    first 2xx, else code of the last >= 300 response.
  - end_time: answered -> first BYE request after the answer (capture order);
    unanswered -> first CANCEL request if any, else the time the final status
    code was first seen with the CSeq number of the last >= 300 response (the
    last INVITE transaction; retransmissions and the other proxy leg do not
    move it).
  - duration_ms: (end_time - answer_time) in ms truncated toward zero, only
    when answered and end_time is known.
  - disposition: 2xx answered; 486/600 busy; 487 with a CANCEL seen
    cancelled; 408/480 no_answer; 403/603 rejected; 300-399 redirected; any
    other 400-699 (incl. 487 without CANCEL) failed; no final response: CANCEL
    seen -> cancelled, else empty. (>= 700 is not SIP: empty.)
  - hangup_by: only when a BYE ended an answered call: BYE From-tag == call tag
    -> caller; == To-tag of the first 2xx -> callee; else unknown.
  - end_reason: bye (answered, BYE seen); cancel (unanswered, CANCEL seen);
    final_response (unanswered, ended by >= 300); end_of_input otherwise.
  - redirects: user parts of every Diversion entry of the call's initial
    INVITEs (no To-tag), then user parts of the Contact URIs of its 3xx INVITE
    responses seen before the answer; first appearance order, de-duplicated,
    empty user parts left out, joined with ';'.
SMS. Every MESSAGE request keyed by (Call-ID, From-tag, CSeq number) is one
row: time = first sighting; sender = From user; destination = Request-URI user;
status = first final (>= 200) response with CSeq method MESSAGE and the same
Call-ID, From-tag and CSeq number seen after it, empty if none; kind = 3gpp when
the Content-Type media type is application/vnd.3gpp.sms, else text.

Output: calls.csv / sms.csv as sipcdr writes them (header below, RFC 4180
quoting only where needed, '\n' line ends, times ISO 8601 UTC with 6
fractional digits and Z), rows sorted by invite_time / time, then call_id.
"""
import datetime
import json
import os
import re
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "expected")
HEP_LUA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "peers", "hep3.lua"))
FOLDERS = ["udp-calls", "failed-calls", "hep"]

CALL_COLS = ["call_id", "caller", "callee", "redirects", "caller_ip", "user_agent", "invite_time",
             "ring_time", "answer_time", "end_time", "duration_ms", "status", "disposition",
             "hangup_by", "end_reason"]
SMS_COLS = ["call_id", "sender", "destination", "time", "status", "kind"]

SIP_FIELDS = ["sip.Method", "sip.Status-Code", "sip.Call-ID", "sip.from.tag", "sip.to.tag",
              "sip.CSeq.seq", "sip.CSeq.method", "sip.r-uri", "sip.r-uri.user", "sip.from.addr",
              "sip.from.user", "sip.User-Agent", "sip.Diversion", "sip.contact.uri",
              "sip.Content-Type"]
# Fields a single SIP message has at most once: more means several messages in
# one frame, which this script does not handle.
SINGLE = ["sip.Method", "sip.Status-Code", "sip.Call-ID", "sip.from.tag", "sip.to.tag",
          "sip.CSeq.seq", "sip.CSeq.method", "sip.r-uri", "sip.from.addr"]


def tshark_cmd(path, hep):
    if hep:
        cmd = ["tshark", "-X", "lua_script:" + HEP_LUA, "-n", "-r", path, "-Y", "sip", "-T", "json",
               "-e", "frame.number", "-e", "hep3.ts_sec", "-e", "hep3.ts_usec",
               "-e", "hep3.src_ip", "-e", "hep3.src_ip6"]
    else:
        cmd = ["tshark", "-n", "-r", path, "-Y", "sip && udp && !icmp && !icmpv6", "-T", "json",
               "-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.protocols",
               "-e", "ip.src", "-e", "ipv6.src"]
    for f in SIP_FIELDS:
        cmd += ["-e", f]
    return cmd


class Msg:
    pass


def epoch_to_us(s):
    sec, _, frac = s.partition(".")
    return int(sec) * 1000000 + int((frac + "000000")[:6])


def ntop(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return socket.inet_ntop(fam, socket.inet_pton(fam, addr))


def inner_ip(layers):
    v4 = layers.get("ip.src", [])
    v6 = layers.get("ipv6.src", [])
    if v4 and v6:
        stack = layers["frame.protocols"][0].split(":")
        last4 = max(i for i, p in enumerate(stack) if p == "ip")
        last6 = max(i for i, p in enumerate(stack) if p == "ipv6")
        return ntop(v6[-1] if last6 > last4 else v4[-1])
    if v4 or v6:
        return ntop((v4 or v6)[-1])
    return ""


def uri_user(uri, tshark_user=None):
    """User part of a URI string as tshark shows it (sip.r-uri, sip.from.addr):
    sip:/sips: the text between the scheme and '@' up to any ':password'; tel:
    the number up to the first ';'; anything else or no '@': empty. tshark's
    own user field (sip.r-uri.user, sip.from.user) is compared, not trusted."""
    u = uri.strip()
    if u.startswith("<"):
        u = u[1:].split(">", 1)[0]
    scheme, colon, rest = u.partition(":")
    scheme = scheme.strip().lower()
    if not colon:
        return ""
    if scheme == "tel":
        return rest.split(";", 1)[0].strip()
    if scheme in ("sip", "sips"):
        mine = rest.split("@", 1)[0].split(":", 1)[0] if "@" in rest else ""
        if tshark_user is not None and tshark_user.split(":", 1)[0] != mine:
            # tshark 4.0 drops one-character user parts: sip:s@host -> "".
            print("  note: user part of %r: tshark says %r, taken as %r"
                  % (uri, tshark_user, mine), file=sys.stderr)
        return mine
    return ""


def split_header_list(value):
    """Split a header value on commas outside quotes and <...>."""
    out, cur, quote, angle, i = [], [], False, False, 0
    while i < len(value):
        c = value[i]
        if quote:
            cur.append(c)
            if c == "\\" and i + 1 < len(value):
                cur.append(value[i + 1])
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
            cur.append(c)
        elif c == "<":
            angle = True
            cur.append(c)
        elif c == ">":
            angle = False
            cur.append(c)
        elif c == "," and not angle:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return [x.strip() for x in out if x.strip()]


def name_addr_uri(entry):
    """URI of a name-addr / addr-spec header entry."""
    if "<" in entry:
        return entry.split("<", 1)[1].split(">", 1)[0]
    return entry.split(";", 1)[0].strip()


def unfold(value):
    return re.sub(r"\r?\n[ \t]+", " ", value).strip()


def tshark_messages(path, hep=False):
    res = subprocess.run(tshark_cmd(path, hep), capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("tshark failed on %s:\n%s" % (path, res.stderr))
    out = res.stdout.strip()
    frames = json.loads(out) if out else []
    for fr in frames:
        L = fr["_source"]["layers"]
        cseqm = L.get("sip.CSeq.method", [])
        if len(cseqm) != 1 or any(len(L.get(f, [])) > 1 for f in SINGLE):
            sys.exit("%s frame %s: not exactly one SIP message (%r)"
                     % (path, L["frame.number"][0], {f: L.get(f) for f in SINGLE}))
        g = lambda f: L[f][0] if f in L else None  # noqa: E731
        m = Msg()
        m.frame = int(L["frame.number"][0])
        if hep:
            m.us = int(L["hep3.ts_sec"][0]) * 1000000 + int(L["hep3.ts_usec"][0])
            src = L.get("hep3.src_ip", []) or L.get("hep3.src_ip6", [])
            m.ip = ntop(src[0]) if src else ""
        else:
            m.us = epoch_to_us(L["frame.time_epoch"][0])
            m.ip = inner_ip(L)
        m.method = g("sip.Method")
        m.code = int(g("sip.Status-Code")) if g("sip.Status-Code") is not None else None
        if (m.method is None) == (m.code is None):
            sys.exit("%s frame %d: neither request nor response" % (path, m.frame))
        m.callid = g("sip.Call-ID") or ""
        m.ftag = g("sip.from.tag")  # None when the From header has no tag
        m.ttag = g("sip.to.tag")
        m.cseq = int(g("sip.CSeq.seq")) if g("sip.CSeq.seq") is not None else None
        m.cseqm = (g("sip.CSeq.method") or "").upper()
        m.ruser = uri_user(g("sip.r-uri"), g("sip.r-uri.user") or "") if g("sip.r-uri") else ""
        m.fuser = uri_user(g("sip.from.addr"), g("sip.from.user") or "") if g("sip.from.addr") else ""
        ua = L.get("sip.User-Agent", [])
        m.ua = unfold(ua[0]) if ua else ""
        m.diversions = [uri_user(name_addr_uri(e)) for v in L.get("sip.Diversion", [])
                        for e in split_header_list(v)]
        m.contacts = [uri_user(u) for u in L.get("sip.contact.uri", [])]
        ct = L.get("sip.Content-Type", [])
        m.ctype = ct[0].split(";", 1)[0].strip().lower() if ct else ""
        yield m


class Call:
    def __init__(self, m):
        self.callid, self.tag = m.callid, m.ftag or ""
        self.invite_us, self.caller, self.callee = m.us, m.fuser, m.ruser
        self.ip, self.ua = m.ip, m.ua
        self.ring = self.answer = self.ans_code = self.ans_ttag = None
        self.last_final = None        # (code, cseq) of the last >= 300 response
        self.first_seen = {}          # (cseq, code) -> first time
        self.cancel = self.bye = self.bye_ftag = None
        self.divs, self.contacts = [], []


def belongs(c, m):
    return (m.ftag or "") == c.tag, m.ttag is not None and m.ttag == c.tag


def find_call(calls_by_id, m):
    cands = calls_by_id.get(m.callid, [])
    for c in cands:                    # From-tag match first (caller's messages)
        if belongs(c, m)[0]:
            return c
    for c in cands:                    # then To-tag (callee's requests)
        if belongs(c, m)[1]:
            return c
    return None


def disposition(code, cancelled):
    if code is None:
        return "cancelled" if cancelled else ""
    if 200 <= code < 300:
        return "answered"
    if code in (486, 600):
        return "busy"
    if code == 487 and cancelled:
        return "cancelled"
    if code in (408, 480):
        return "no_answer"
    if code in (403, 603):
        return "rejected"
    if 300 <= code < 400:
        return "redirected"
    if 400 <= code < 700:
        return "failed"
    return ""


def iso(us):
    if us is None:
        return ""
    t = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000)


def dedup(items):
    seen, out = set(), []
    for x in items:
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out


def derive(msgs):
    calls, by_id, sms, sms_by_key = [], {}, [], {}
    keys = set()
    for m in msgs:
        if m.method == "INVITE" and m.ttag is None and (m.callid, m.ftag or "") not in keys:
            c = Call(m)
            keys.add((m.callid, c.tag))
            calls.append(c)
            by_id.setdefault(m.callid, []).append(c)
        if m.method == "MESSAGE":
            k = (m.callid, m.ftag or "", m.cseq)
            if k not in sms_by_key:
                s = {"key": k, "us": m.us, "sender": m.fuser, "dest": m.ruser, "status": None,
                     "kind": "3gpp" if m.ctype == "application/vnd.3gpp.sms" else "text"}
                sms_by_key[k] = s
                sms.append(s)
        if m.code is not None and m.cseqm == "MESSAGE" and m.code >= 200:
            s = sms_by_key.get((m.callid, m.ftag or "", m.cseq))
            if s is not None and s["status"] is None:
                s["status"] = m.code

        c = find_call(by_id, m)
        if c is None:
            continue
        if m.method is not None:
            if m.method == "INVITE" and m.ttag is None:
                c.divs += m.diversions
            elif m.method == "CANCEL" and c.cancel is None:
                c.cancel = m.us
            elif m.method == "BYE" and c.answer is not None and c.bye is None:
                c.bye, c.bye_ftag = m.us, m.ftag or ""
            continue
        if m.cseqm != "INVITE" or c.answer is not None:
            continue
        if 101 <= m.code <= 199:
            if c.ring is None:
                c.ring = m.us
        elif 200 <= m.code <= 299:
            c.answer, c.ans_code, c.ans_ttag = m.us, m.code, m.ttag
        elif m.code >= 300:
            c.last_final = (m.code, m.cseq)
            c.first_seen.setdefault((m.cseq, m.code), m.us)
            if m.code < 400:
                c.contacts += m.contacts

    rows = []
    for c in calls:
        r = dict.fromkeys(CALL_COLS, "")
        r.update(call_id=c.callid, caller=c.caller, callee=c.callee, caller_ip=c.ip,
                 user_agent=c.ua, invite_time=iso(c.invite_us), ring_time=iso(c.ring),
                 answer_time=iso(c.answer),
                 redirects=";".join(dedup(c.divs + c.contacts)))
        if c.answer is not None:
            r["status"] = str(c.ans_code)
            r["disposition"] = "answered"
            if c.bye is not None:
                r["end_time"] = iso(c.bye)
                d = c.bye - c.answer
                r["duration_ms"] = str(d // 1000 if d >= 0 else -((-d) // 1000))
                r["hangup_by"] = ("caller" if c.bye_ftag == c.tag else
                                  "callee" if c.ans_ttag is not None and c.bye_ftag == c.ans_ttag
                                  else "unknown")
                r["end_reason"] = "bye"
            else:
                r["end_reason"] = "end_of_input"
        else:
            code = c.last_final[0] if c.last_final else None
            r["status"] = "" if code is None else str(code)
            r["disposition"] = disposition(code, c.cancel is not None)
            if c.cancel is not None:
                r["end_time"], r["end_reason"] = iso(c.cancel), "cancel"
            elif code is not None:
                code, cseq = c.last_final
                r["end_time"], r["end_reason"] = iso(c.first_seen[(cseq, code)]), "final_response"
            else:
                r["end_reason"] = "end_of_input"
        rows.append((c.invite_us, c.callid, r))

    srows = []
    for s in sms:
        r = {"call_id": s["key"][0], "sender": s["sender"], "destination": s["dest"],
             "time": iso(s["us"]), "status": "" if s["status"] is None else str(s["status"]),
             "kind": s["kind"]}
        srows.append((s["us"], s["key"][0], r))
    return rows, srows


def csv_field(v):
    if any(ch in v for ch in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def write_csv(path, cols, rows):
    rows = sorted(rows, key=lambda t: (t[0], t[1], [t[2][c] for c in cols]))
    with open(path, "w", newline="") as f:
        f.write(",".join(cols) + "\n")
        for _, _, r in rows:
            f.write(",".join(csv_field(r[c]) for c in cols) + "\n")


def process_folder(folder):
    name = os.path.basename(os.path.normpath(folder))
    hep = name == "hep"
    if hep and not os.path.exists(HEP_LUA):
        print("skip %s: %s is absent" % (folder, HEP_LUA), file=sys.stderr)
        return
    outdir = os.path.join(EXPECTED, name)
    os.makedirs(outdir, exist_ok=True)
    for fn in sorted(os.listdir(folder)):
        path = os.path.join(folder, fn)
        if not os.path.isfile(path):
            continue
        calls, sms = derive(tshark_messages(path, hep))
        write_csv(os.path.join(outdir, fn + ".calls.csv"), CALL_COLS, calls)
        write_csv(os.path.join(outdir, fn + ".sms.csv"), SMS_COLS, sms)
        print("%s/%s: %d calls, %d sms" % (name, fn, len(calls), len(sms)))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__.split("THE TSHARK")[0])
    for p in argv[1:]:
        subs = [os.path.join(p, f) for f in FOLDERS if os.path.isdir(os.path.join(p, f))]
        for folder in subs or [p]:
            process_folder(folder)


if __name__ == "__main__":
    main(sys.argv)
