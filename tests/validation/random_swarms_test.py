#!/usr/bin/env python3
"""Random small swarms, run with the invariant checks.

    random_swarms_test.py VALIDATION_RUN [--count N] [--first I] [--keep DIR]

The shipped scenarios exercise the protocol options one or two at a time;
users combine them. This draws N small swarms (up to 78 peers, files of
64 KiB to 8 MiB) from a fixed stream of random choices (swarm I is always
the same swarm), each combining piece sizes, block sizes, the four latency
models, every choker (also per class), piece selection, end game,
super-seeding, pipeline depths, the optional timeouts, connection limits,
arrival processes, leave policies, free-riders, peers behind a NAT and
random failures, and runs each with `validation_run` (the simulator with
its invariant checks on). Every run must:

  - exit 0 (a scenario the generator writes is valid);
  - hold every hard bound of checks.json: no causality, rate-cap, volume,
    utilisation or idle-connection violation, no completion before its
    Kumar-Ross rank or per-peer bound, and bytes sent = delivered + dropped
    + in flight;
  - not stall: a run that reaches `max_time` (3 h) with leechers left must
    still have been uploading in its last 30 minutes, unless its options
    allow a stall.

A slow swarm (1 KiB blocks, one request in flight, 80 ms) may not finish
in 3 h and is no fault; a swarm where nothing moves for half an hour while
leechers wait is. Options that allow a stall, and so are not checked for
one: a seed leaving (pieces may be lost), and super-seeding beside
free-riders or peers behind a NAT (BEP 16 waits for good on a neighbour
that never passes its piece on; docs/scenarios.md). Runs take about a
tenth of a second each (200 in 20-30 s). Such runs found three core bugs,
each a stall: the last leecher between two super-seeds stranded (fix
45466c4; swarm 193 fails with the core before it), peers at
max_connections dialing each other at the same instant losing both
connections (fix 6a92a2b; swarm 442), and strict tit-for-tat groups at 2
connections holding each other's uploads (swarms 977 and 1998 among 9 of
0-7999; they were excused until that fix). A failing
swarm's scenario is kept (--keep, default a temporary folder that is then
not removed) and printed, so that `sim run FILE` reproduces it.
"""
import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HARD = ["causality_violations", "cap_violations", "host_rate_violations",
        "volume_violations", "utilization_violations", "idle_violations",
        "rank_bound_violations", "peer_bound_violations"]
STALL_S = 1800  # a run's last half hour
CHOKERS = ["tit_for_tat", "strict_tit_for_tat", "round_robin", "unchoke_all",
           "propshare", "bittyrant", "mainline_tit_for_tat"]


def rate(r, lo, hi):
    """A rate in Mbit/s: one of the ends or a value between."""
    return f"{r.choice([lo, r.uniform(lo, hi), hi]):.3f}Mbit/s"


def swarm(index):
    """(scenario YAML, whether the swarm must not stall) of swarm `index`."""
    r = random.Random(index)
    size_k = r.choice([64, 256, 1024, 3000, 4096, 8192])
    piece_k = r.choice([16, 32, 64, 256, 1024])
    block_k = r.choice([k for k in (1, 4, 8, 16) if k <= piece_k])
    must_not_stall = True
    classes = [{"class": "s", "count": r.choice([1, 2, 3]), "upload": rate(r, 0.5, 20),
                "download": "100Mbit/s", "start": "complete", "arrival": "{at: 0s}",
                "leave": "never"}]
    odd_leechers = False
    for k in range(r.choice([1, 2, 3])):
        c = {"class": f"l{k}", "count": r.randint(1, 25), "upload": rate(r, 0.2, 10),
             "download": rate(r, 0.5, 50), "start": "empty",
             "arrival": r.choice(["{at: 0s}", "{uniform: [0s, 30s]}",
                                  "{poisson: {rate: 0.5/s}}", "{decaying: {tau: 20s}}"]),
             "leave": r.choice(["never", "{after_complete: 0s}", "{after_complete: 30s}",
                                "{after_complete: {exponential: 20s}}"])}
        if r.random() < 0.2:
            c["free_rider"], odd_leechers = "true", True
        if r.random() < 0.15:
            c["connectable"], odd_leechers = "false", True
        if r.random() < 0.1:  # leechers only: the seeds stay
            c["failure"] = "{probability: 0.3, after: {exponential: 60s}}"
        if r.random() < 0.2:
            choker = r.choice(["bittyrant", "propshare", "round_robin", "strict_tit_for_tat",
                               "mainline_tit_for_tat"])
            c["protocol"] = "{choker: " + choker + "}"
        classes.append(c)
    if r.random() < 0.1:
        classes[0]["leave"], must_not_stall = "{at: 5min}", False

    protocol = {
        "piece_selection": r.choice(["rarest_first", "random", "sequential"]),
        "choker": r.choice(CHOKERS),
        "endgame": r.choice(["true", "false"]),
        "super_seeding": r.choice(["false", "true"]),
        "unchoke_slots": r.choice([1, 2, 4, 8]),
        "max_connections": r.choice([2, 5, 10, 50]),
        "request_pipeline": r.choice([1, 2, 5, 20]),
    }
    if r.random() < 0.3:
        protocol["request_queue_time"] = r.choice(["1s", "3s"])
    if r.random() < 0.3:
        protocol["unused_unchoke_timeout"] = "5s"
    if r.random() < 0.3:
        protocol["upload_stall_timeout"] = r.choice(["10s", "30s"])
    protocol["uploads_in_flight"] = r.choice([1, 2, 4])
    protocol["rechoke_interval"] = r.choice(["2s", "10s"])
    if r.random() < 0.3:
        protocol["seed_choke"] = r.choice(["fastest_upload", "round_robin"])
    if protocol["super_seeding"] == "true" and odd_leechers:
        must_not_stall = False

    latency = r.choice(["constant", "uniform", "matrix", "topology"])
    if latency == "constant":
        network = f"{{latency: {{constant: {r.choice([0, 1, 25, 200])}ms}}}}"
    elif latency == "uniform":
        network = "{latency: {uniform: [5ms, 150ms]}}"
    elif latency == "matrix":  # each pair of classes once: the delay is symmetric
        names = [c["class"] for c in classes]
        rows = ", ".join(
            f"{a}: {{" + ", ".join(f"{b}: {r.choice([1, 20, 80])}ms" for b in names[i:]) + "}"
            for i, a in enumerate(names))
        network = f"{{latency: {{matrix: {{{rows}}}}}}}"
    else:
        network = ("{latency: {topology: {regions: [a, b], "
                   "links: [{from: a, to: b, delay: 40ms}], access: 3ms}}}")
        for c in classes:
            c["region"] = r.choice(["a", "b"])

    lines = [f"name: random_swarm_{index}",
             f"description: swarm {index} of tests/validation/random_swarms_test.py",
             f"seed: {r.randint(1, 1000)}",
             "stop: {all_complete: true, max_time: 3h}",
             f"file: {{size: {size_k}KiB, piece_size: {piece_k}KiB, block_size: {block_k}KiB}}",
             f"network: {network}",
             "protocol: {" + ", ".join(f"{k}: {v}" for k, v in protocol.items()) + "}",
             f"tracker: {{numwant: {r.choice([5, 20, 50])}, "
             f"announce_interval: {r.choice(['1min', '30min'])}}}",
             "peers:"]
    lines += ["  - {" + ", ".join(f"{k}: {v}" for k, v in c.items()) + "}" for c in classes]
    return "\n".join(lines) + "\n", must_not_stall


def problems(runner, index, work):
    """What is wrong with swarm `index`, run in `work` (empty: nothing)."""
    text, must_not_stall = swarm(index)
    path = os.path.join(work, "scenario.yaml")
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(work, "out")
    try:
        run = subprocess.run([runner, path, "--out", out], capture_output=True, text=True,
                             timeout=600)
    except subprocess.TimeoutExpired:
        return ["validation_run took over 600 s"]
    if run.returncode != 0:
        return [f"validation_run exit {run.returncode}: {run.stderr.strip()[-400:]}"]
    with open(os.path.join(out, "checks.json")) as f:
        c = json.load(f)
    found = [f"{k} = {c[k]}" for k in HARD if c[k]]
    if c["bytes_sent"] != c["bytes_delivered"] + c["bytes_dropped"] + c["bytes_in_flight"]:
        found.append("bytes sent != delivered + dropped + in flight")
    if must_not_stall and c["hit_max_time"]:
        with open(os.path.join(out, "timeline.csv")) as f:
            rows = list(csv.DictReader(f))
        end = float(rows[-1]["time_s"])
        last = [r for r in rows if float(r["time_s"]) >= end - STALL_S]
        if int(rows[-1]["leechers"]) > 0 and all(
                float(r["upload_utilization_mean"]) == 0 for r in last):
            found.append(f"stalled: nothing uploaded in the last {STALL_S // 60} minutes "
                         f"with {rows[-1]['leechers']} leechers left")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runner", help="the validation_run binary")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--keep", help="folder for failing swarms' scenarios")
    args = ap.parse_args()
    keep = args.keep or tempfile.mkdtemp(prefix="random_swarms_")
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.first, args.first + args.count):
            work = os.path.join(scratch, str(index))
            os.makedirs(work)
            found = problems(args.runner, index, work)
            if found:
                failed += 1
                kept = os.path.join(keep, f"random_swarm_{index}.yaml")
                os.makedirs(keep, exist_ok=True)
                shutil.copy(os.path.join(work, "scenario.yaml"), kept)
                print(f"FAIL swarm {index} ({kept}): " + "; ".join(found), flush=True)
            shutil.rmtree(work)
    print(f"{args.count - failed} of {args.count} random swarms held every check")
    if not failed and not args.keep:
        shutil.rmtree(keep, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
