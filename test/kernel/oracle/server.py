#!/usr/bin/python3
"""Kernel oracle server: one topology, many rulesets x probes. JSON lines on stdin/stdout.

  usage: /usr/bin/python3 -B server.py --prefix dfo1234t1- --backend nft|legacy
  -> {"op": "setup", "topology": {...}}                      <- {"ok": true, "setupMs": .., "family": ..,
                                                                 "namespaces": {label: netns}}
  -> {"op": "batch", "ruleset": "*filter...", "ruleset6": "...", "probes": [...],
      "waitMs": 20, "quietMs": 5, "keepEmptyPolicies": false}             <- {"ok": true, "results": [...], "stats": {...}}
  -> {"op": "close"}                                         <- {"ok": true}   (then exits)
  Any failure answers {"ok": false, "error": "..."}; a failed batch leaves the topology usable.

Whatever happens (close, stdin EOF, SIGTERM/SIGINT/SIGHUP, the parent dying, an
exception), the namespaces are deleted before the process exits. Needs root.
"""
import argparse
import ctypes
import json
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nsutil  # noqa: E402
from prober import BatchError, Prober  # noqa: E402
from topology import SpecError, Topology  # noqa: E402

PR_SET_PDEATHSIG = 1


class Stop(Exception):
    pass


def on_signal(signum, _frame):
    raise Stop(f"signal {signum}")


def reply(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--backend", choices=["nft", "legacy"], default="nft")
    args = ap.parse_args()
    if not args.prefix.startswith("dfo") or "/" in args.prefix:
        sys.exit("prefix must start with 'dfo'")
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(s, on_signal)
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:
        return  # the parent is already gone
    topo = prober = None
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                msg = json.loads(line)
                op = msg.get("op")
                if op == "setup":
                    if topo is not None:
                        raise BatchError("already set up")
                    topo = Topology(msg.get("topology") or {}, args.prefix)
                    secs = topo.up()
                    t = time.perf_counter()
                    prober = Prober(topo, args.backend)
                    secs += time.perf_counter() - t
                    reply({"ok": True, "setupMs": round(secs * 1000, 1), "family": topo.family,
                           "namespaces": {n.label: n.ns for n in topo.nodes}})
                elif op == "batch":
                    if prober is None:
                        raise BatchError("setup first")
                    t = time.perf_counter()
                    rulesets = {4: msg.get("ruleset"), 6: msg.get("ruleset6")}
                    load_s = prober.load(rulesets)
                    results, stats = prober.batch(msg.get("probes") or [], wait=float(msg.get("waitMs", 20)) / 1000,
                                                  keep_empty_policies=bool(msg.get("keepEmptyPolicies")),
                                                  quiet=float(msg.get("quietMs", 5)) / 1000)
                    stats["loadMs"] = round(load_s * 1000, 2)
                    stats["totalMs"] = round((time.perf_counter() - t) * 1000, 2)
                    reply({"ok": True, "results": results, "stats": stats})
                elif op == "close":
                    break
                else:
                    raise BatchError(f"unknown op {op!r}")
            except (BatchError, SpecError, nsutil.CommandError, ValueError, KeyError, TypeError) as e:
                reply({"ok": False, "error": str(e)})
                if topo is not None and prober is None:
                    break  # setup failed half way: nothing usable is left
            except Exception as e:  # noqa: BLE001 - report it, keep (or tear down) the topology
                reply({"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()})
                if topo is not None and prober is None:
                    break
    except Stop:
        pass
    finally:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # let the cleanup finish
        if prober is not None:
            prober.close()
        if topo is not None:
            topo.down()
        try:
            reply({"ok": True, "closed": True})
        except (OSError, ValueError):
            pass


if __name__ == "__main__":
    main()
