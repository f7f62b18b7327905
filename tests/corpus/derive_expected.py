#!/usr/bin/env python3
"""derive_expected.py - the call and SMS records sipcdr must produce for the
shared corpus, derived independently with tshark by the rules in
docs/records.md.

    python3 tests/corpus/derive_expected.py ../shared/corpus/pcap/udp-calls ../shared/corpus/pcap/failed-calls \
        ../shared/corpus/pcap/hep

For every capture in the given folders it runs (tshark 4.0):

    tshark -n -r FILE -Y 'sip && udp' -T fields -E separator=/t -E occurrence=f \
      -e frame.time_epoch -e ip.src -e ipv6.src -e sip.Method -e sip.Status-Code \
      -e sip.Call-ID -e sip.from.tag -e sip.to.tag -e sip.CSeq.seq -e sip.CSeq.method \
      -e sip.r-uri.user -e sip.from.user -e sip.User-Agent -e sip.Diversion \
      -e sip.contact.user -e sip.Content-Type -e sip.r-uri

and applies the rules below, writing expected/<capture>.calls.csv and
expected/<capture>.sms.csv (sorted by time, then call_id). Times are
tshark's epoch seconds truncated to microseconds.
"""
import csv
import os
import subprocess
import sys

FIELDS = ["time", "ip", "ip6", "method", "status", "callid", "ftag", "ttag", "cseq", "cseqm",
          "ruser", "fuser", "ua", "diversion", "cuser", "ctype", "ruri"]
CALL_COLS = ["call_id", "caller", "callee", "redirects", "caller_ip", "user_agent", "invite_time",
             "ring_time", "answer_time", "end_time", "duration_ms", "status", "disposition",
             "hangup_by", "end_reason"]
SMS_COLS = ["call_id", "sender", "destination", "time", "status", "kind"]


HEP_LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "peers", "hep3.lua")


def tshark_rows(path, hep=False):
    """hep: the capture holds HEP mirrors; read the original packet's address
    and time from the HEP chunks with ../shared/peers/hep3.lua (tshark 4.0 has
    no HEP dissector):
      tshark -X lua_script:hep3.lua -n -r FILE -Y sip -T fields -e hep3.ts_sec -e hep3.src_ip ..."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "sip" if hep else "sip && udp", "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=f"]
    if hep:
        cmd = cmd[:1] + ["-X", "lua_script:" + HEP_LUA] + cmd[1:]
    for f in ["hep3.ts_sec" if hep else "frame.time_epoch", "hep3.src_ip" if hep else "ip.src",
              "hep3.ts_usec" if hep else "ipv6.src", "sip.Method", "sip.Status-Code", "sip.Call-ID",
              "sip.from.tag", "sip.to.tag", "sip.CSeq.seq", "sip.CSeq.method", "sip.r-uri.user",
              "sip.from.user", "sip.User-Agent", "sip.Diversion", "sip.contact.user",
              "sip.Content-Type", "sip.r-uri"]:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split("\t")
        parts += [""] * (len(FIELDS) - len(parts))
        r = dict(zip(FIELDS, parts))
        if hep:
            r["us"] = int(r["time"]) * 1000000 + int(r["ip6"])
            r["ip6"] = ""
        else:
            sec, _, frac = r["time"].partition(".")
            r["us"] = int(sec) * 1000000 + int((frac + "000000")[:6])
        yield r


def iso(us):
    if us is None:
        return ""
    import datetime
    t = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000)


def user_of(ruri_user, ruri):
    """tshark gives no user for tel: URIs: take the number up to ';'."""
    if ruri_user:
        return ruri_user
    if ruri.lower().startswith("tel:"):
        return ruri[4:].split(";")[0]
    return ""


def div_users(value):
    users = []
    for entry in value.split(","):
        e = entry.strip()
        if "sip:" in e or "sips:" in e:
            u = e.split(":", 1)[1]
            if "@" in u:
                users.append(u.split("@")[0])
        elif "tel:" in e:
            users.append(e.split("tel:", 1)[1].split(";")[0].split(">")[0])
    return users


def derive(path, hep=False):
    calls, order, sms = {}, [], {}
    for r in tshark_rows(path, hep):
        is_req = r["method"] != ""
        tm = r["method"] if is_req else r["cseqm"]
        if tm == "MESSAGE":
            key = (r["callid"], r["ftag"], r["cseq"])
            if is_req:
                if key not in sms:
                    sms[key] = {"call_id": r["callid"], "sender": r["fuser"],
                                "destination": user_of(r["ruser"], r["ruri"]), "time": r["us"],
                                "status": "", "kind": "3gpp" if r["ctype"].split(";")[0].strip().lower()
                                == "application/vnd.3gpp.sms" else "text"}
            elif key in sms and sms[key]["status"] == "" and int(r["status"]) >= 200:
                sms[key]["status"] = r["status"]
            continue
        if tm in ("REGISTER", "OPTIONS", "SUBSCRIBE", "NOTIFY", "PUBLISH"):
            continue
        c = None
        for k in ((r["callid"], r["ftag"]), (r["callid"], r["ttag"])):
            if k in calls:
                c = calls[k]
                break
        if c is None:
            if is_req and r["method"] == "INVITE" and r["ttag"] == "":
                c = {"key": (r["callid"], r["ftag"]), "call_id": r["callid"], "caller": r["fuser"],
                     "callee": user_of(r["ruser"], r["ruri"]), "caller_ip": r["ip"] or r["ip6"],
                     "ua": r["ua"], "invite": r["us"], "ring": None, "answer": None, "answer_code": 0,
                     "to_tag": None, "final": 0, "final_cseq": 0, "final_us": None, "cancel": None,
                     "bye": None, "hangup": "", "redirects": [], "invite_cseq": int(r["cseq"])}
                calls[c["key"]] = c
                order.append(c)
                c["redirects"] += [u for u in div_users(r["diversion"]) if u not in c["redirects"]]
            continue
        if is_req:
            m = r["method"]
            if m == "INVITE" and c["answer"] is None and r["ttag"] == "":
                c["redirects"] += [u for u in div_users(r["diversion"]) if u not in c["redirects"]]
            elif m == "CANCEL" and c["answer"] is None and c["cancel"] is None:
                c["cancel"] = r["us"]
            elif m == "BYE" and c["answer"] is not None and c["bye"] is None:
                c["bye"] = r["us"]
                if r["ftag"] == c["key"][1]:
                    c["hangup"] = "caller"
                elif r["ftag"] == c["to_tag"]:
                    c["hangup"] = "callee"
                else:
                    c["hangup"] = "unknown"
            continue
        if r["cseqm"] != "INVITE" or c["answer"] is not None:
            continue
        code, cseq = int(r["status"]), int(r["cseq"])
        if 101 <= code <= 199:
            if c["ring"] is None:
                c["ring"] = r["us"]
        elif 200 <= code <= 299:
            c["answer"], c["answer_code"], c["to_tag"] = r["us"], code, r["ttag"]
        elif code >= 300 and cseq >= c["final_cseq"]:
            if cseq > c["final_cseq"] or code != c["final"]:
                c["final"], c["final_cseq"], c["final_us"] = code, cseq, r["us"]
            if code < 400 and r["cuser"]:
                for u in r["cuser"].split(","):
                    if u not in c["redirects"]:
                        c["redirects"].append(u)
    rows = []
    for c in order:
        end, dur, status, reason = None, "", c["final"], "end_of_input"
        if c["answer"] is not None:
            status = c["answer_code"]
            if c["bye"] is not None:
                end, dur, reason = c["bye"], str((c["bye"] - c["answer"]) // 1000), "bye"
            disp = "answered"
        else:
            if c["cancel"] is not None:
                end, reason = c["cancel"], "cancel"
            elif c["final"] >= 300:
                end, reason = c["final_us"], "final_response"
            s = c["final"]
            if s == 0:
                disp = "cancelled" if c["cancel"] is not None else ""
            elif s in (486, 600):
                disp = "busy"
            elif s == 487 and c["cancel"] is not None:
                disp = "cancelled"
            elif s in (408, 480):
                disp = "no_answer"
            elif s in (403, 603):
                disp = "rejected"
            elif 300 <= s < 400:
                disp = "redirected"
            else:
                disp = "failed"
        rows.append([c["call_id"], c["caller"], c["callee"], ";".join(c["redirects"]), c["caller_ip"],
                     c["ua"], iso(c["invite"]), iso(c["ring"]), iso(c["answer"]), iso(end), dur,
                     str(status) if status else "", disp, c["hangup"] if c["bye"] is not None else "",
                     reason])
    rows.sort(key=lambda x: (x[6], x[0]))
    srows = [[s["call_id"], s["sender"], s["destination"], iso(s["time"]), s["status"], s["kind"]]
             for s in sms.values()]
    srows.sort(key=lambda x: (x[3], x[0]))
    return rows, srows


def write(path, cols, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in sys.argv[1:]:
        for name in sorted(os.listdir(folder)):
            rows, srows = derive(os.path.join(folder, name), os.path.basename(folder.rstrip("/")) == "hep")
            sub = os.path.join(here, "expected", os.path.basename(folder.rstrip("/")))
            os.makedirs(sub, exist_ok=True)
            write(os.path.join(sub, name + ".calls.csv"), CALL_COLS, rows)
            write(os.path.join(sub, name + ".sms.csv"), SMS_COLS, srows)
            print("%s/%s: %d calls, %d sms" % (os.path.basename(folder), name, len(rows), len(srows)))


if __name__ == "__main__":
    main()
