#!/usr/bin/env python3
"""Random small swarms, run with the invariant checks.

    random_swarms_test.py VALIDATION_RUN [--count N] [--first I] [--keep DIR]
                          [--extended] [--scale K]

The shipped scenarios exercise the protocol options one or two at a time;
users combine them. This draws N small swarms (up to 78 peers, files of
64 KiB to 8 MiB) from a fixed stream of random choices (swarm I is always
the same swarm), each combining piece sizes, block sizes, the four latency
models, every choker (also per class), piece selection, end game,
super-seeding, pipeline depths, the optional timeouts, connection limits,
arrival processes, leave policies, free-riders, peers behind a NAT and
random failures, and runs each with `validation_run` (the simulator with
its invariant checks on). `--extended` adds to swarm I, from a second
stream, the options the plain draw leaves at their defaults (extend()):
minimum connections, idle timeout, strict tit-for-tat allowance,
propshare reserve, every timer, dial attempts and back-off, request
limits, tracker latency and peer timeout, delayed arrivals, fixed
failures, a leecher class leaving at a time, and polluters with ban
strikes. `--scale K` multiplies every class's count by K (the same swarm,
K times the peers, for bugs that need a crowd; runs take longer: x8, 330
extended swarms held every check on 2026-11-28). Every run must:

  - exit 0 (a scenario the generator writes is valid);
  - hold every hard bound of checks.json: no causality, rate-cap, volume,
    utilisation or idle-connection violation, no completion before its
    Kumar-Ross rank or per-peer bound, and bytes sent = delivered + dropped
    + in flight;
  - not stop for lost pieces while the seeds stay;
  - not stall: a run that reaches `max_time` (3 h) with leechers left must
    still have been uploading in its last 30 minutes, and must have seen a
    leecher complete in its last 90, unless its options allow a stall.

A slow swarm (1 KiB blocks, one request in flight, 80 ms) may not finish
in 3 h and is no fault, as long as leechers keep completing (the slowest
the generator draws still complete some within 90 minutes); a swarm
where nothing moves for half an hour while leechers wait is a fault, and
so is one that keeps uploading for 90 minutes without a leecher
completing (a livelock: data moves and is thrown away).
Options that allow a stall, and so are not checked for one: a seed
leaving (pieces may be lost), and super-seeding beside free-riders, peers
behind a NAT, polluters or strict tit-for-tat leechers whose
allowance is smaller than a piece (BEP 16 waits for good on a neighbour
that never passes its piece on, and such a leecher passes on no whole
piece to one that has nothing to give it: extended swarm 10101, 16 KiB
of allowance and 32 KiB pieces; docs/scenarios.md). Runs take about a tenth
of a second each (200 in 20-30 s). Such runs found these core bugs:
the last leecher between two super-seeds stranded (fix 45466c4; swarm
193 fails with the core before it), peers at max_connections dialing
each other at the same instant losing both connections (fix 6a92a2b;
swarm 442), strict tit-for-tat groups at 2 connections holding each
other's uploads (swarms 977 and 1998 among 9 of 0-7999; they were
excused until that fix), and, with --extended, super-seeds holding each
other's places (7508fd1), parole pieces passed round at every choke and
never finished (958, 1175, 1329, 654: leechers downloading for 3 h), and
strict tit-for-tat leechers with no allowance that unchoke each other
and send nothing counting as fed (659), free-riders counting
neighbours that want from them as fed, four of them full of each other
at max_connections 2 refusing the seeds for good (5397), and a tracker
with peer_timeout equal to announce_interval forgetting the seeds at
the instant of their own re-announce, so that a leecher behind a NAT
never heard of them again (6489). A failing swarm's scenario is
kept (--keep, default a temporary folder that is then not removed) and
printed, so that `sim run FILE` reproduces it.
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
TRICKLE_S = 5400  # the second half of a 3 h run
ALLOWANCE_KIB = {"0B": 0, "16KiB": 16, "1MiB": 1024}  # strict_tft_allowance draws
CHOKERS = ["tit_for_tat", "strict_tit_for_tat", "round_robin", "unchoke_all",
           "propshare", "bittyrant", "mainline_tit_for_tat"]


def rate(r, lo, hi):
    """A rate in Mbit/s: one of the ends or a value between."""
    return f"{r.choice([lo, r.uniform(lo, hi), hi]):.3f}Mbit/s"


def swarm(index, extended=False, scale=1):
    """(scenario YAML, whether the swarm must not stall, whether its seeds
    stay to the end) of swarm `index`; `extended` adds the rarer options
    (extend()) to the same swarm, `scale` multiplies its class counts."""
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

    seed = r.randint(1, 1000)
    tracker = {"numwant": r.choice([5, 20, 50]),
               "announce_interval": r.choice(["1min", "30min"])}
    if extended:
        must_not_stall = extend(index, protocol, tracker, classes, latency, must_not_stall,
                                piece_k)
    lines = [f"name: random_swarm_{index}",
             f"description: swarm {index} of tests/validation/random_swarms_test.py"
             + (" --extended" if extended else ""),
             f"seed: {seed}",
             "stop: {all_complete: true, max_time: 3h}",
             f"file: {{size: {size_k}KiB, piece_size: {piece_k}KiB, block_size: {block_k}KiB}}",
             f"network: {network}",
             "protocol: " + flow(protocol),
             "tracker: " + flow(tracker),
             "peers:"]
    for c in classes:
        c["count"] *= scale
    lines += ["  - " + flow(c) for c in classes]
    return "\n".join(lines) + "\n", must_not_stall, classes[0]["leave"] == "never"


def flow(fields):
    """A YAML flow mapping of `fields` (values already YAML)."""
    return "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"


def extend(index, protocol, tracker, classes, latency, must_not_stall, piece_k):
    """Adds to a drawn swarm the options the plain draw leaves at their
    defaults: connection minimum, idle timeout, strict tit-for-tat
    allowance, propshare reserve, the timers, dial attempts and back-off,
    request limits, tracker latency and peer timeout, arrivals and failures
    with a start or a fixed delay, a leecher class leaving at a time, and
    polluters (corrupt uploads) with ban strikes. From its own random
    stream, so the plain swarm `index` is unchanged. Returns whether the
    swarm must not stall."""
    r = random.Random(10**9 + index)
    extra = {}
    if r.random() < 0.4:
        extra["min_connections"] = r.randint(1, protocol["max_connections"])
    if r.random() < 0.4:
        extra["idle_timeout"] = r.choice(["0s", "5s", "30s", "2min"])
    if r.random() < 0.3:
        extra["random_first_pieces"] = r.choice([0, 1, 100])
    if r.random() < 0.3:
        extra["strict_tft_allowance"] = r.choice(list(ALLOWANCE_KIB))
    if r.random() < 0.3:
        extra["propshare_reserve"] = r.choice([0, 0.5, 0.9])
    if r.random() < 0.3:
        extra["optimistic_interval"] = r.choice(["2s", "10s", "90s"])
    if r.random() < 0.3:
        extra["request_timeout"] = r.choice(["1s", "5s", "20s"])
    if r.random() < 0.3:
        keepalive = r.choice([1, 5, 30])
        extra["keepalive_interval"] = f"{keepalive}s"
        extra["inactivity_timeout"] = f"{keepalive * r.choice([2, 3])}s"
    if r.random() < 0.3:
        extra["housekeeping_interval"] = r.choice(["1s", "2s", "20s"])
    if r.random() < 0.3:
        extra["min_reannounce_interval"] = r.choice(["5s", "30s"])
    if r.random() < 0.3:
        extra["dial_attempts"] = r.choice([1, 2, 10])
    if r.random() < 0.3:
        extra["redial_backoff"] = r.choice(["0s", "5s", "5min"])
    if r.random() < 0.3:
        extra["ban_strikes"] = r.choice([1, 2, 5])
    if r.random() < 0.2:
        extra["max_queued_requests"] = r.choice([protocol["request_pipeline"], 256])
    protocol.update(extra)
    strict = protocol["choker"] == "strict_tit_for_tat" or any(
        "strict_tit_for_tat" in c.get("protocol", "") for c in classes)
    allowance_k = ALLOWANCE_KIB.get(extra.get("strict_tft_allowance"))
    if protocol["super_seeding"] == "true" and strict and allowance_k is not None \
            and allowance_k < piece_k:
        # A strict leecher passes no whole piece on to a neighbour that has
        # nothing to give it (the default allowance, 256 KiB, is a piece or
        # more for all but the 1 MiB pieces, and the plain swarms never stall).
        must_not_stall = False
    if r.random() < 0.3:
        tracker["latency"] = r.choice(["1ms", "100ms", "2s"])
    if r.random() < 0.2:  # at least announce_interval
        tracker["peer_timeout"] = r.choice(["30min", "2h"]) \
            if tracker["announce_interval"] == "30min" else r.choice(["1min", "35min"])
    for c in classes[1:]:
        if r.random() < 0.15 and c["arrival"].startswith("{poisson"):
            c["arrival"] = "{poisson: {rate: 0.5/s, start: 20s}}"
        if r.random() < 0.15 and c["arrival"].startswith("{decaying"):
            c["arrival"] = "{decaying: {tau: 20s, start: 1min}}"
        if r.random() < 0.1:
            c["failure"] = "{probability: 0.5, after: {fixed: 40s}}"
        if r.random() < 0.1:  # leechers leaving unfinished are not left waiting
            c["leave"] = r.choice(["{at: 2min}", "{at: 20min}"])
    if r.random() < 0.25 and latency != "matrix":  # matrix rows name every class
        polluters = {"class": "bad", "count": r.randint(1, 5), "upload": rate(r, 0.5, 10),
                     "download": "10Mbit/s", "start": "empty", "arrival": "{at: 0s}",
                     "leave": "never", "corrupt_uploads": "true"}
        if latency == "topology":
            polluters["region"] = "a"
        classes.append(polluters)
        if protocol["super_seeding"] == "true":
            must_not_stall = False  # a polluter never passes a good copy on
    return must_not_stall


def problems(runner, index, work, extended=False, scale=1):
    """What is wrong with swarm `index`, run in `work` (empty: nothing)."""
    text, must_not_stall, seeds_stay = swarm(index, extended, scale)
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
    with open(os.path.join(out, "summary.json")) as f:
        stopped = json.load(f)["stopped"]
    if stopped == "pieces_lost" and seeds_stay:
        found.append("stopped: pieces_lost although the seeds never leave")
    if must_not_stall and c["hit_max_time"]:
        with open(os.path.join(out, "timeline.csv")) as f:
            rows = list(csv.DictReader(f))
        end = float(rows[-1]["time_s"])
        last = [r for r in rows if float(r["time_s"]) >= end - STALL_S]
        if int(rows[-1]["leechers"]) > 0 and all(
                float(r["upload_utilization_mean"]) == 0 for r in last):
            found.append(f"stalled: nothing uploaded in the last {STALL_S // 60} minutes "
                         f"with {rows[-1]['leechers']} leechers left")
        elif int(rows[-1]["leechers"]) > 0:
            with open(os.path.join(out, "peers.csv")) as f:
                done = [float(r["completion_s"]) for r in csv.DictReader(f)
                        if r["completion_s"] and r["class"] != "s"]
            if not done or max(done) < end - TRICKLE_S:
                found.append(f"trickling: no leecher completed in the last {TRICKLE_S // 60} "
                             f"minutes with {rows[-1]['leechers']} leechers left")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runner", help="the validation_run binary")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--keep", help="folder for failing swarms' scenarios")
    ap.add_argument("--extended", action="store_true",
                    help="add the rarer options (timers, limits, polluters) to each swarm")
    ap.add_argument("--scale", type=int, default=1,
                    help="multiply every class's count by this (at least 1)")
    args = ap.parse_args()
    if args.scale < 1:
        ap.error("--scale must be at least 1")
    keep = args.keep or tempfile.mkdtemp(prefix="random_swarms_")
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.first, args.first + args.count):
            work = os.path.join(scratch, str(index))
            os.makedirs(work)
            found = problems(args.runner, index, work, args.extended, args.scale)
            if found:
                failed += 1
                suffix = ("_extended" if args.extended else "") + \
                    (f"_x{args.scale}" if args.scale > 1 else "")
                kept = os.path.join(keep, f"random_swarm_{index}{suffix}.yaml")
                os.makedirs(keep, exist_ok=True)
                shutil.copy(os.path.join(work, "scenario.yaml"), kept)
                print(f"FAIL swarm {index} ({kept}): " + "; ".join(found), flush=True)
            shutil.rmtree(work)
    kind = ("extended random swarms" if args.extended else "random swarms") + \
        (f" (x{args.scale})" if args.scale > 1 else "")
    print(f"{args.count - failed} of {args.count} {kind} held every check")
    if not failed and not args.keep:
        shutil.rmtree(keep, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
