#!/usr/bin/env python3
"""Runs one validation check (V1..V6 of VALIDATION.md, V7 sim vs real, V8
pipelining over latency) and judges it.

    validate.py CHECK --runner build/bin/validation_run \
        --scenarios scenarios/validation --work DIR [--jobs 2] [--swarm build/bin/swarm]

V7 runs scenarios/validation/sim_vs_real.yaml both in the simulator and on
real gRPC sockets (`swarm run-scenario`, hence --swarm) and compares the
pooled download times.

Each check runs its scenarios from scenarios/validation/ over several seeds
with validation_run (which writes a result folder plus checks.json), computes
the measured values from those folders, compares them with the expected ones
and prints a table of measured vs expected. Every run must also respect the
hard bounds (byte conservation, rate caps against both the network model's
link capacities and the scenario's class capacities, upload utilisation
<= 1, causality, no idle connection, Kumar-Ross per-rank and per-peer
bounds). The verdicts go to DIR/results/CHECK.json, from which
report.py writes docs/validation.md. Exit status 1 if anything failed.

Nothing here is tuned to make a check pass: the expected values and sources
are those of VALIDATION.md, and the tolerances are stated next to each row.
"""

import argparse
import bisect
import concurrent.futures
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

MIB = 1 << 20


# --------------------------------------------------------------------------
# Running scenarios.

class Runner:
    def __init__(self, args):
        self.runner = args.runner
        self.scenarios = args.scenarios
        self.work = os.path.join(args.work, "runs")
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
        self.runs = 0
        self.wall = 0.0
        self.reuse = args.reuse

    def submit(self, scenario, seed, sets=(), tag="", seed_cost=False):
        name = os.path.splitext(scenario)[0]
        out = os.path.join(self.work, f"{name}{tag}-seed{seed}")
        if self.reuse and os.path.exists(os.path.join(out, "checks.json")):
            done = concurrent.futures.Future()
            done.set_result(self._count(Run(out)))
            return done
        cmd = [self.runner, os.path.join(self.scenarios, scenario), "--seed", str(seed),
               "--out", out]
        for s in sets:
            cmd += ["--set", s]
        if seed_cost:
            cmd.append("--seed-cost")
        return self.pool.submit(self._run, cmd, out)

    def _run(self, cmd, out):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr}")
        return self._count(Run(out))

    def _count(self, run):
        # The engine's own wall time of the run (the --seed-cost pass not
        # included), so that re-judging with --reuse reports the same cost.
        self.runs += 1
        self.wall += run.summary.get("wall_time_s") or 0.0
        return run


class Run:
    """One result folder: peers.csv, timeline.csv, summary.json, checks.json."""

    def __init__(self, folder):
        self.folder = folder
        with open(os.path.join(folder, "summary.json")) as f:
            self.summary = json.load(f)
        with open(os.path.join(folder, "checks.json")) as f:
            self.checks = json.load(f)
        self.peers = []
        with open(os.path.join(folder, "peers.csv")) as f:
            for r in csv.DictReader(f):
                self.peers.append({k: _num(v) for k, v in r.items()})
        self.timeline = []
        with open(os.path.join(folder, "timeline.csv")) as f:
            for r in csv.DictReader(f):
                self.timeline.append({k: float(v) for k, v in r.items()})

    def leechers(self, cls=None):
        return [p for p in self.peers if p["join_s"] is not None and
                (cls is None or p["class"] == cls) and not self.started_complete(p)]

    def started_complete(self, p):
        return p["class"] in self.checks["seed_classes"]

    def download_times(self, cls=None):
        return [p["completion_s"] - p["join_s"] for p in self.leechers(cls)
                if p["completion_s"] is not None]

    def completions(self):
        return sorted(p["completion_s"] for p in self.leechers()
                      if p["completion_s"] is not None)

    def window_mean(self, column, t0, t1):
        v = [r[column] for r in self.timeline if t0 <= r["time_s"] <= t1]
        return sum(v) / len(v) if v else float("nan")

    def utilization(self, t0, t1):
        """Upload utilisation over [t0, t1]: the timeline's
        upload_utilization_mean (bytes moved / capacity offered over the
        interval since the previous row) over the intervals that lie within
        [t0, t1], each weighted by its length. A folder written before that
        column existed: the mean of the instantaneous samples in [t0, t1]."""
        if not self.timeline or "upload_utilization_mean" not in self.timeline[0]:
            return self.window_mean("upload_utilization", t0, t1)
        num = den = 0.0
        for prev, row in zip(self.timeline, self.timeline[1:]):
            if t0 <= prev["time_s"] and row["time_s"] <= t1:
                dt = row["time_s"] - prev["time_s"]
                num += dt * row["upload_utilization_mean"]
                den += dt
        return num / den if den > 0 else float("nan")


def _num(v):
    if v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return v


# --------------------------------------------------------------------------
# Judging.

def mean_sd(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    if not xs:
        return float("nan"), float("nan")
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def fmt(x, unit="", digits=3):
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 100:
        s = f"{x:.1f}"
    else:
        s = f"{x:.{digits}g}"
    return s + unit


class Check:
    def __init__(self, check_id, title, source):
        self.id = check_id
        self.title = title
        self.source = source
        self.rows = []
        self.notes = []
        self.hard = {"runs": 0, "violations": []}

    def row(self, what, expected, values, ok, unit="", hard=False, gate=True, why=None,
            regression=False):
        """values: list of per-seed measurements (or one number). A row with
        gate=False is reported (verdict "not reproduced" when not met) but
        does not fail the check: used only where the published figure rests
        on an idealisation the protocol does not share. Such a row must say
        why in `why`: a short reason and, in parentheses, the heading of the
        section of explanations.md that explains it, which report.py
        prints next to the verdict (and refuses if the heading is missing).
        regression=True: a gate that a known bug fails but that does not
        test the published result itself (its label says why); report.py
        says "holds (regression gate)" rather than "reproduced"."""
        if not gate and not why:
            raise ValueError(f"row {what!r}: a row that does not gate needs a why")
        if isinstance(values, str):
            m, sd, measured, values = float("nan"), float("nan"), values, [values]
        else:
            if not isinstance(values, (list, tuple)):
                values = [values]
            m, sd = mean_sd(values)
            measured = fmt(m, unit)
            if len(values) > 1:
                measured += f" ± {fmt(sd, unit)} (n={len(values)})"
        self.rows.append({"what": what, "expected": expected, "measured": measured,
                          "mean": m, "sd": sd, "n": len(values), "ok": bool(ok) or not gate,
                          "met": bool(ok), "hard": hard, "gate": gate, "why": why,
                          "regression": regression})
        verdict = "PASS" if ok else ("FAIL" if gate else f"NOT REPRODUCED (not gating): {why}")
        if ok and regression:
            verdict = "PASS (regression gate)"
        if str(expected).startswith("report"):
            verdict = "REPORT"
        print(f"  [{verdict}] {what}\n         expected {expected}\n         measured {measured}",
              flush=True)

    def note(self, text):
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def hard_bounds(self, run, little=False):
        """The bounds every run must respect (VALIDATION.md, 'hard')."""
        c = run.checks
        name = os.path.basename(run.folder)
        bad = []
        if c["causality_violations"]:
            bad.append(f"{c['causality_violations']} uploads of unverified pieces")
        if c["cap_violations"]:
            bad.append(f"{c['cap_violations']} link-capacity violations")
        # Rate caps against the scenario's capacities (sim/cap_check.h), which
        # a network model given wrong capacities cannot hide. A checks.json
        # without them (an older validation_run, --reuse) fails rather than
        # passing unchecked.
        for key, what in (
                ("host_rate_violations",
                 "times a host's summed rate exceeded its class's capacity"),
                ("volume_violations",
                 "peer-directions moved more bytes than capacity x stay"),
                ("utilization_violations",
                 "timeline samples with upload utilisation above 1")):
            if key not in c:
                bad.append(f"checks.json has no {key} (made by an older validation_run)")
            elif c[key]:
                bad.append(f"{c[key]} {what}")
        if c["idle_violations"]:
            bad.append(f"{c['idle_violations']} inputs left a connection idle with blocks to ask for")
        if c["bytes_sent"] != c["bytes_delivered"] + c["bytes_dropped"] + c["bytes_in_flight"]:
            bad.append("bytes sent != delivered + dropped (receiver gone) + in flight")
        if c["peers_uploaded"] != c["bytes_sent"] or c["peers_downloaded"] != c["bytes_delivered"]:
            bad.append("per-peer byte counts disagree with the network's")
        if c["rank_bound_violations"]:
            bad.append(f"{c['rank_bound_violations']} finishers beat their Kumar-Ross rank bound")
        if c["peer_bound_violations"]:
            bad.append(f"{c['peer_bound_violations']} peers beat F/d_i")
        if run.summary["makespan_s"] is not None and not c["hit_max_time"]:
            if run.summary["makespan_s"] < c["kumar_ross_s"] - 1e-5:
                bad.append("makespan below Kumar-Ross T_min")
        self.hard["runs"] += 1
        for b in bad:
            self.hard["violations"].append(f"{name}: {b}")
            print(f"  [FAIL] hard bound, {name}: {b}", flush=True)

    def finish(self, work, runner):
        ok = all(r["ok"] for r in self.rows) and not self.hard["violations"]
        hard_ok = not self.hard["violations"]
        self.rows.append({
            "what": "hard bounds on every run (conservation, rate caps against the "
                    "links and the scenario, utilisation <= 1, causality, "
                    "no idle connection, Kumar-Ross per-rank and per-peer)",
            "expected": "0 violations",
            "measured": f"{len(self.hard['violations'])} violations in {self.hard['runs']} runs",
            "ok": hard_ok, "hard": True, "n": self.hard["runs"]})
        print(f"  [{'PASS' if hard_ok else 'FAIL'}] hard bounds: "
              f"{len(self.hard['violations'])} violations in {self.hard['runs']} runs")
        out = {"check": self.id, "title": self.title, "source": self.source,
               "rows": self.rows, "notes": self.notes, "ok": ok,
               "hard_violations": self.hard["violations"],
               "runs": runner.runs, "sim_wall_s": round(runner.wall, 1)}
        os.makedirs(os.path.join(work, "results"), exist_ok=True)
        with open(os.path.join(work, "results", f"{self.id}.json"), "w") as f:
            json.dump(out, f, indent=1)
        print(f"{self.id}: {'PASS' if ok else 'FAIL'} ({runner.runs} runs, "
              f"{runner.wall:.0f} s of simulation)")
        return ok


def results(futures):
    return [f.result() for f in futures]


# --------------------------------------------------------------------------
# V1 - homogeneous flash crowd.

def check_v1(r, c):
    seeds = [1, 2, 3]
    runs = results([r.submit("v1_flash_crowd.yaml", s) for s in seeds])
    t_min = 830.6
    spans, effs, utils = [], [], []
    for run in runs:
        c.hard_bounds(run)
        done = run.completions()
        n = len(done)
        spans.append(run.summary["makespan_s"] if n == 1000 else float("nan"))
        effs.append(run.summary["efficiency"])
        t5, t95 = done[int(0.05 * n)], done[int(math.ceil(0.95 * n)) - 1]
        utils.append(run.utilization(t5, t95))
    kr = runs[0].checks["kumar_ross_s"]
    c.row("Kumar-Ross T_min computed by the simulator", "830.6 s", kr, abs(kr - t_min) < 0.1, " s")
    c.row("all 1000 leechers complete", "1000", [len(x.completions()) for x in runs],
          all(len(x.completions()) == 1000 for x in runs))
    c.row("makespan >= T_min (hard)", ">= 830.6 s", spans,
          all(s >= t_min for s in spans), " s", hard=True)
    # VALIDATION.md starts from makespan <= 1.25 T_min and utilisation >= 0.8;
    # our runs give about 1.13 T_min and 0.99 (docs/validation.md; 1.17-1.18
    # and 0.92-0.93 when the check was tightened), so
    # the check is tightened to 1.20 T_min and 0.90.
    c.row("makespan <= 1.20 T_min (VALIDATION.md: 1.25; tightened)", "<= 996.7 s", spans,
          all(s <= 1.20 * t_min for s in spans), " s")
    c.row("efficiency T_min / makespan", ">= 0.833 (= 1/1.20)", effs,
          all(e >= 1 / 1.20 for e in effs))
    c.row("upload utilisation between 5% and 95% of completions "
          "(VALIDATION.md: >= 0.8; tightened)", ">= 0.90", utils,
          all(u >= 0.90 for u in utils))


# --------------------------------------------------------------------------
# V2 - Qiu-Srikant steady state.

def steady(run, warm, end, mean_seeding, permanent=1):
    """Steady-state measurements over [warm, end]."""
    seeds = run.window_mean("seeds", warm, end) - permanent
    leech = run.window_mean("leechers", warm, end)
    # Download time of the peers that joined in the window early enough to
    # have finished by its end (a peer still downloading at the end would
    # bias T down if left out, so the cut-off keeps a wide margin).
    joined = [p for p in run.leechers() if warm <= p["join_s"] <= end - 3000]
    unfinished = [p for p in joined if p["completion_s"] is None]
    t = [p["completion_s"] - p["join_s"] for p in joined if p["completion_s"] is not None]
    arrivals = [p for p in run.leechers() if warm <= p["join_s"] <= end]
    lam = len(arrivals) / (end - warm)
    # Little's law for seeds: completion rate x mean seeding time. Seeding
    # times of peers that completed near the end are cut off by the end of
    # the run, so the rate and mean are taken over completions at least five
    # mean seeding times before the end (e^-5 of them still censored).
    cut = end - 5 * mean_seeding
    comp = [p for p in run.leechers() if p["completion_s"] is not None
            and warm <= p["completion_s"] <= cut]
    seeding = [(p["leave_s"] if p["leave_s"] is not None else end) - p["completion_s"]
               for p in comp]
    little = len(comp) / (cut - warm) * statistics.fmean(seeding) if seeding else float("nan")
    # Relative standard error of that estimate (mean seeding time and the
    # Poisson count of completions), to judge it statistically.
    little_se = math.sqrt(statistics.variance(seeding) / len(seeding) /
                          statistics.fmean(seeding) ** 2 + 1 / len(seeding))
    # The exact accounting identity behind it: the time-average of seeds
    # equals the seeding time inside the window summed over peers / window.
    overlap = sum(max(0.0, min(end, p["leave_s"] if p["leave_s"] is not None else end) -
                      max(warm, p["completion_s"]))
                  for p in run.leechers() if p["completion_s"] is not None)
    accounted = overlap / (end - warm)
    return {"seeds": seeds, "leechers": leech, "T": statistics.fmean(t) if t else float("nan"),
            "unfinished": len(unfinished), "lambda": lam, "little_seeds": little,
            "little_se": little_se, "accounted_seeds": accounted,
            "T_little": leech / lam if lam else float("nan")}


def _relative(a, b):
    """|a - b| / b; infinite when b is 0 and a is not (a timeline with no
    seeds in the window fails these rows instead of crashing the check)."""
    if b == 0:
        return 0.0 if a == 0 else math.inf
    return abs(a - b) / b


def little_rows(c, label, ms):
    acc = [_relative(m["accounted_seeds"], m["seeds"]) for m in ms]
    c.row(f"{label}: time-average seeds vs per-peer seeding intervals (exact identity; "
          "5 s sampling)", "<= 0.1%", acc, all(x <= 0.001 for x in acc), hard=True)
    z = [_relative(m["little_seeds"], m["seeds"]) / m["little_se"] for m in ms]
    c.row(f"{label}: Little's law for seeds, |avg seeds - completion rate x mean seeding "
          "time| in standard errors of the estimate",
          "<= 3 (relative gap " + ", ".join(
              f"{_relative(m['little_seeds'], m['seeds']):.1%}" for m in ms) + ")",
          z, all(x <= 3 for x in z))


def check_v2(r, c):
    f300 = [r.submit("v2_steady_state.yaml", s) for s in (1, 2)]
    lam_cfg = {0.05: (1100, 5000, 20000), 1.0: (6600, 2000, 6000)}  # count, warm-up, end
    lam = {rate: r.submit("v2_steady_state.yaml", 1,
                          [f"peers.1.arrival.poisson.rate={rate}/s", f"peers.1.count={count}",
                           f"stop.max_time={end}s"], tag=f"-rate{rate}")
           for rate, (count, warm, end) in lam_cfg.items()}
    f1800 = [r.submit("v2_download_constrained.yaml", s) for s in (1,)]
    main = [steady(x, 5000, 20000, 300) for x in results(f300)]
    for x in results(f300):
        c.hard_bounds(x)
    ys = [m["seeds"] for m in main]
    ts = [m["T"] for m in main]
    c.row("lambda=0.2/s, seeding 300 s: time-average seeds (model 60)", "60 ± 10% [54, 66]",
          ys, all(54 <= y <= 66 for y in ys))
    c.row("lambda=0.2/s, seeding 300 s: mean download time (model 533.9-538.9 s)",
          "[507, 674] s", ts, all(507 <= t <= 674 for t in ts), " s")
    little_rows(c, "seeding 300 s", main)
    litx = [abs(m["T_little"] - m["T"]) / m["T"] for m in main]
    c.row("Little's law for leechers: |avg leechers / lambda - mean T| / T",
          "<= 5% (edge effects only)", litx, all(x <= 0.05 for x in litx), hard=True)
    c.row("peers joined in the window that never completed", "0",
          [m["unfinished"] for m in main], all(m["unfinished"] == 0 for m in main))

    lam_t = {0.2: statistics.fmean(ts)}
    for rate, fut in lam.items():
        x = fut.result()
        c.hard_bounds(x)
        _, warm, end = lam_cfg[rate]
        lam_t[rate] = steady(x, warm, end, 300)["T"]
    ref = lam_t[0.2]
    for rate in (0.05, 1.0):
        c.row(f"T independent of lambda: T(lambda={rate}/s) / T(0.2/s)", "1 ± 10%",
              lam_t[rate] / ref, abs(lam_t[rate] / ref - 1) <= 0.10)

    runs1800 = results(f1800)
    for x in runs1800:
        c.hard_bounds(x)
    d = [steady(x, 10000, 25000, 1800) for x in runs1800]
    little_rows(c, "seeding 1800 s", d)
    litx = [abs(m["T_little"] - m["T"]) / m["T"] for m in d]
    c.row("seeding 1800 s: Little's law for leechers (relative gap)", "<= 5%", litx,
          all(x <= 0.05 for x in litx), hard=True)
    c.row("seeding 1800 s (download-constrained): time-average seeds (model 360)",
          "360 ± 10% [324, 396]", [m["seeds"] for m in d],
          all(324 <= m["seeds"] <= 396 for m in d))
    c.row("seeding 1800 s: mean download time (model F/d = 209.7 s)",
          ">= 209.7 s (hard), <= 1.10 x 209.7 = 230.7 s", [m["T"] for m in d],
          all(209.7 - 1e-3 <= m["T"] <= 230.7 for m in d), " s")


# --------------------------------------------------------------------------
# V3 - Yang-de Veciana exponential growth.

def random_matching(n_total, rounds):
    """Yang-de Veciana's doubling with random instead of perfect matching:
    each of h holders picks one of the m = N - h + 1 non-holders at random,
    so m (1 - (1 - 1/m)^h) of them are served per round. Completed leechers
    after each round (our explanation of the gap, docs/validation.md)."""
    h, out = 1.0, []
    for _ in range(rounds):
        m = n_total + 1 - h
        h += m * (1 - (1 - 1 / m) ** h) if m >= 1 else 0
        out.append(h - 1)
    return out


V3_WHY = "V3: Yang–de Veciana's doubling assumes a perfect matching"


def check_v3(r, c):
    one = results([r.submit("v3_one_piece.yaml", s) for s in (1, 2, 3)])
    slow = results([r.submit("v3_one_piece.yaml", 1, ["protocol.rechoke_interval=10s"],
                             tag="-rechoke10s")])
    many = results([r.submit("v3_many_pieces.yaml", s) for s in (1, 2)])
    round_s = 8.0
    ideal = [2 ** k - 1 for k in range(1, 11)]
    rnd = random_matching(1000, 10)
    above, exact3, growth, at80, last, per_k = [], [], [], [], [], []
    for run in one:
        c.hard_bounds(run)
        done = run.completions()
        counts = [sum(1 for x in done if x <= round_s * k) for k in range(1, 12)]
        # Nobody can beat doubling: completed(8k s) <= 2^k - 1 (hard).
        above.append(sum(1 for k, n in enumerate(counts, 1) if n > 2 ** k - 1))
        # Allow 2% of a round for protocol messages when counting rounds.
        late = [sum(1 for x in done if x <= round_s * k * 1.02) for k in range(1, 11)]
        per_k.append(late)
        exact3.append(late[:3] == [1, 3, 7])
        # Holders (seed included) per round: ideally 2^k, a factor 2.
        growth.append(((late[7] + 1) / (late[0] + 1)) ** (1 / 7))  # rounds 1..8
        at80.append(late[9])
        last.append(done[-1] if len(done) == 1000 else float("nan"))
    c.row("M=1: completed at t = 8k s above 2^k - 1 for some k (hard: doubling is the "
          "fastest possible)", "0", above, all(a == 0 for a in above), hard=True)
    c.row("M=1: completed after rounds 1-3 equals 1, 3, 7", "3/3 seeds",
          sum(exact3), all(exact3))
    mean_k = [statistics.fmean(v[k] for v in per_k) for k in range(10)]
    c.row("M=1: completed after rounds 1..10 (mean over seeds)",
          "report; ideal " + ", ".join(str(x) for x in ideal) + "; random matching " +
          ", ".join(str(round(x)) for x in rnd),
          ", ".join(str(round(x)) for x in mean_k), True)
    c.row("M=1: growth factor of holders per round over rounds 1-8",
          ">= 1.7 (exponential; ideal 2, random matching 1.98)", growth, all(g >= 1.7 for g in growth))
    c.row("M=1: completed by 80 s", "1000 (ideal matching)", at80,
          all(x == 1000 for x in at80), gate=False,
          why="a new holder picks one of its <= 50 neighbours at random, not a perfect "
              f"matching; random matching alone predicts {round(rnd[9])} (explanations: {V3_WHY})")
    c.row("M=1: last of 1000 completes", "80 s (ideal matching)", last,
          all(x <= 80 * 1.02 for x in last), " s", gate=False,
          why=f"as the row above: random choices among neighbours waste rounds (explanations: {V3_WHY})")
    c.row("M=1: last of 1000 completes (hard: Yang-de Veciana / piece-granular bound)",
          ">= 80 s", last, all(x >= 80 - 1e-3 for x in last), " s", hard=True)
    for run in slow:
        c.hard_bounds(run)
        done = run.completions()
        c.row("M=1 with the default 10 s rechoke: completed after rounds 1..10, last finish",
              "report", ", ".join(str(sum(1 for x in done if x <= round_s * k * 1.02))
                                  for k in range(1, 11)) + f"; last {done[-1]:.1f} s",
              True)

    r2s, raw_r2s, dbl = [], [], []
    for run in many:
        c.hard_bounds(run)
        holders = sorted(p["first_piece_s"] for p in run.leechers()
                         if p["first_piece_s"] is not None)
        n = len(run.leechers())
        # Ramp-up: from 4 holders to half the swarm.
        pts = [(t, math.log2(i + 1)) for i, t in enumerate(holders) if 4 <= i + 1 <= n // 2]
        xs, ys = zip(*pts)
        fit = linfit(xs, ys)
        raw_r2s.append(fit[2])
        dbl.append(1 / fit[0])
        r2s.append(smoothed_log_growth_r2(holders, n // 2, ROUND_S))
    c.row("M=400: log2(peers holding >= 1 piece) linear in t during ramp-up (R^2 of "
          "log2(holders) averaged over one 10 s rechoke round, 4 to 500 holders; a linear "
          "ramp gives 0.93)", ">= 0.98", r2s, all(x >= 0.98 for x in r2s))
    c.row("M=400: the same fitted to the raw holder counts (a staircase: a perfect x4 per "
          "round gives 0.87)", "report", raw_r2s, True)
    c.row("M=400: doubling time of holders during ramp-up", "report (one piece at full "
          "rate: 2.1 s)", dbl, True, " s")


# The rechoke interval of v3_many_pieces.yaml: holders grow in steps, one per
# round, since every peer joins at t = 0 and rechokes in phase.
ROUND_S = 10.0


def smoothed_log_growth_r2(first_piece_times, top, window, dt=0.1):
    """R^2 of a line through log2(holders(t)) averaged over the `window`
    seconds before t, for t from the 4th holder's time plus `window` to the
    time the `top`-th holder appears. Holders grow in synchronous steps (one
    per rechoke round), and a straight line fits a staircase badly however
    exponential it is (a perfect x4 per round scores 0.87 unsmoothed); the
    average over one round removes the steps but not the trend: an
    exponential staircase scores 1, a linear ramp from 4 to 500 holders
    0.93."""
    times = sorted(first_piece_times)
    if len(times) < max(top, 4):
        return float("nan")
    lo, hi = times[3], times[top - 1]
    steps = int(round(window / dt))

    def log_holders(t):
        return math.log2(bisect.bisect_right(times, t))

    xs, ys = [], []
    t = lo + window
    while t <= hi:
        xs.append(t)
        ys.append(sum(log_holders(t - i * dt) for i in range(steps)) / steps)
        t += dt
    if len(xs) < 3:
        return float("nan")
    return linfit(xs, ys)[2]


def linfit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    r2 = sxy * sxy / (sxx * syy) if syy > 0 else 1.0
    return slope, my - slope * mx, r2


# --------------------------------------------------------------------------
# V4 - piece selection.

def sign_test(a, b):
    """Paired sign test of "a > b" with ties dropped: (wins, losses, ties,
    one-sided p), p = P(X >= wins) for X ~ Binomial(wins + losses, 1/2);
    1.0 when every pair is tied (nothing shows a difference)."""
    wins = sum(1 for x, y in zip(a, b) if x > y)
    losses = sum(1 for x, y in zip(a, b) if x < y)
    ties = len(a) - wins - losses
    n = wins + losses
    p = sum(math.comb(n, k) for k in range(wins, n + 1)) / 2 ** n if n else 1.0
    return wins, losses, ties, p


# The significance level of V4's sign tests: 24 wins of 30 pairs, the
# entropy row's threshold since it has thirty pairs, has p = 0.0007.
SIGN_TEST_ALPHA = 0.001


def time_average(run, column, t_end):
    """Mean of the timeline's samples in (0, t_end]: with a constant sample
    interval, the time average over [0, t_end], each sample standing for
    the interval that ends at it."""
    v = [x[column] for x in run.timeline if 0 < x["time_s"] <= t_end]
    return sum(v) / len(v) if v else float("nan")


def ramp_up_min_copies(a_runs, b_runs, column="availability_min"):
    """Time-average copies of the rarest piece (or another timeline column)
    in each pair of swarms over [0, the earlier of the two swarms' first
    completion]: both are still ramping up (nobody has the file), so the
    comparison is not decided by which swarm finishes first (a finished
    peer holds every piece)."""
    a, b = [], []
    for x, y in zip(a_runs, b_runs):
        end = min(x.completions()[0], y.completions()[0])
        a.append(time_average(x, column, end))
        b.append(time_average(y, column, end))
    return a, b


def min_copies_row(c, label, names, a, b, quantity="minimum copy count", unit=" copies",
                   regression=False):
    """Gate: a's ramp-up minimum copy count (or `quantity`) above b's by a
    sign test with ties dropped (p <= SIGN_TEST_ALPHA) and a positive mean
    paired gap."""
    w, l, t, p = sign_test(a, b)
    gap = statistics.fmean(x - y for x, y in zip(a, b))
    c.row(f"{label}: {quantity}, {names[0]} > {names[1]} (time average from 0 to "
          "the earlier first completion of each pair; paired sign test, ties dropped)",
          f"one-sided p <= {SIGN_TEST_ALPHA} and mean gap > 0",
          f"{w} higher, {l} lower, {t} tied of {len(a)}; p = {p:.2g}; mean gap {gap:+.3g}{unit}",
          p <= SIGN_TEST_ALPHA and gap > 0, regression=regression)


def check_v4(r, c):
    # Thirty paired seeds: the entropy gap between rarest-first and random is
    # small next to its seed-to-seed spread (mean 0.005, sd 0.004 over 40
    # seeds), and ten pairs were too few to see it reliably: seeds 1-10 gave
    # 7/10 wins after the core fixes of 2026-11-26 (second), 1-30 give 27/30.
    seeds = list(range(1, 31))
    pol = ("rarest_first", "random", "sequential")
    futs = {p: [r.submit("v4_piece_selection.yaml", s, [f"protocol.piece_selection={p}"],
                         tag=f"-{p}") for s in seeds] for p in pol}
    # The same swarm with a seed eight times as fast as a peer: every piece
    # can leave it within F/u_s = 52 s, after which the leechers trade among
    # themselves until the first of them completes (Legout et al.'s steady
    # state, where they report rarest-first's higher minimum copy count; in
    # the seed-limited swarm the rarest piece has the seed's copy only until
    # about the first completion, docs/validation.md, V4).
    fast_seeds = list(range(1, 21))
    fast_pol = ("rarest_first", "random")
    fast_futs = {p: [r.submit("v4_piece_selection.yaml", s,
                              [f"protocol.piece_selection={p}", "peers.0.upload=8Mbit/s"],
                              tag=f"-{p}-fastseed") for s in fast_seeds] for p in fast_pol}
    runs = {p: results(f) for p, f in futs.items()}
    fast = {p: results(f) for p, f in fast_futs.items()}
    # Entropy window: from 0 until the first of the three paired swarms
    # finishes, so that all three are compared while every one of them is
    # still active.
    ent, mn, dl = {p: [] for p in pol}, {p: [] for p in pol}, {p: [] for p in pol}
    for i in range(len(seeds)):
        end = min(runs[p][i].summary["makespan_s"] for p in pol)
        for p in pol:
            run = runs[p][i]
            c.hard_bounds(run)
            ent[p].append(run.window_mean("availability_entropy", 0, end))
            mn[p].append(run.window_mean("availability_min", 0, end))
            dl[p].append(statistics.fmean(run.download_times()))
    for v in fast.values():
        for x in v:
            c.hard_bounds(x)
    def paired(a, b, better):
        return sum(1 for x, y in zip(a, b) if better(x, y))
    n = len(seeds)
    for p in pol:
        c.row(f"{p}: time-average normalised entropy until the first paired swarm is done", "report", ent[p], True)
    # A sign test: with 30 pairs, 24 or more wins has p < 0.001 under "no
    # difference" (a tie counts against). Demanding every pair would make
    # one noisy seed decide the check.
    need = math.ceil(0.8 * n)
    ew = paired(ent["rarest_first"], ent["random"], lambda x, y: x > y)
    c.row("entropy: rarest-first > random (paired seeds, sign test)", f">= {need}/{n} seeds",
          f"{ew}/{n} (one-sided p = {sign_test(ent['rarest_first'], ent['random'])[3]:.2g})",
          ew >= need and statistics.fmean(ent["rarest_first"]) > statistics.fmean(ent["random"]))
    c.row("entropy: random > sequential (paired seeds)", f"{n}/{n} seeds",
          paired(ent["random"], ent["sequential"], lambda x, y: x > y),
          paired(ent["random"], ent["sequential"], lambda x, y: x > y) == n)
    # The minimum copy count until the first paired swarm is done, reported
    # only: the window's end lies in the finishing phase of the faster
    # swarm, whose finished peers hold every piece, so it measured which
    # swarm finishes first (and counted ties as wins until 2026-11-28).
    for p in pol:
        c.row(f"{p}: time-average minimum copy count until the first paired swarm is done "
              "(measures who finishes first; not a test of piece spreading)", "report", mn[p], True)
    for p in pol:
        c.row(f"{p}: time-average minimum copy count from 0 to its own first completion",
              "report", [time_average(x, "availability_min", x.completions()[0])
                         for x in runs[p]], True)
    # In the seed-limited swarm the rarest piece has only the seed's copy
    # until about the first completion under every policy, so these two
    # are decided by the last samples: which swarm got the seed's last
    # piece out sooner (docs/validation.md, V4).
    label = "seed-limited (decided by the last samples before the first completion)"
    a, b = ramp_up_min_copies(runs["rarest_first"], runs["random"])
    min_copies_row(c, label, ("rarest-first", "random"), a, b, regression=True)
    a, b = ramp_up_min_copies(runs["random"], runs["sequential"])
    min_copies_row(c, label, ("random", "sequential"), a, b, regression=True)
    a, b = ramp_up_min_copies(fast["rarest_first"], fast["random"])
    for p, v in (("rarest_first", a), ("random", b)):
        c.row(f"seed 8x a peer: {p}: time-average minimum copy count from 0 to the earlier "
              "first completion of its pair", "report", v, True)
    min_copies_row(c, "seed 8x a peer", ("rarest-first", "random"), a, b)
    # The entropy there too: the seed-limited row above passes with 25 of
    # 30 against 24; with pieces out of the seed early the gap is wider.
    a, b = ramp_up_min_copies(fast["rarest_first"], fast["random"], "availability_entropy")
    min_copies_row(c, "seed 8x a peer", ("rarest-first", "random"), a, b,
                   quantity="normalised entropy", unit="")
    for p in pol:
        c.row(f"{p}: mean download time", "report", dl[p], True, " s")
    c.row("mean download time, rarest-first / random (means over paired seeds)",
          "<= 1", statistics.fmean(dl["rarest_first"]) /
          statistics.fmean(dl["random"]),
          statistics.fmean(dl["rarest_first"]) <= statistics.fmean(dl["random"]))
    fdl = {p: statistics.fmean(statistics.fmean(x.download_times()) for x in fast[p])
           for p in fast_pol}
    c.row("seed 8x a peer: mean download time, rarest-first / random", "report",
          fdl["rarest_first"] / fdl["random"], True)


# --------------------------------------------------------------------------
# V5 - incentives.

def ratio(run, cls):
    up = sum(p["bytes_uploaded"] for p in run.leechers(cls))
    down = sum(p["bytes_downloaded"] for p in run.leechers(cls))
    return up / down


def tyrant_gain(pairs):
    """Download time of the tyrant class as tit-for-tat / as BitTyrant."""
    return [statistics.fmean(b.download_times("tyrant")) /
            statistics.fmean(a.download_times("tyrant")) for a, b in pairs]


V5_WHY = "V5: stranded leechers, and a seed-limited swarm hides the incentives"


def check_v5(r, c):
    seeds = (1, 2, 3)
    tseeds = (1, 2, 3, 4, 5, 6)
    classes = ("slow", "medium", "fast")
    # A control with a 2 min announce interval: leechers whose neighbours
    # have all left otherwise wait up to the 30 min interval for new ones
    # (docs/validation.md, "stranded leechers"); the control shows the
    # incentive effects without that.
    ctl = ["tracker.announce_interval=2min"]
    sub = {}
    for name, scen, sets, ss in (
            ("tft", "v5_incentives.yaml", [], seeds),
            ("strict", "v5_incentives.yaml", ["protocol.choker=strict_tit_for_tat"], seeds),
            ("alltyrant", "v5_incentives.yaml", ["protocol.choker=bittyrant"], seeds),
            ("free", "v5_free_riders.yaml", [], seeds),
            ("one", "v5_bittyrant.yaml", [], tseeds),
            ("onebase", "v5_bittyrant.yaml", ["peers.4.protocol.choker=tit_for_tat"], tseeds)):
        sub[name] = [r.submit(scen, s, sets, tag=f"-{name}") for s in ss]
        sub[name + "_ctl"] = [r.submit(scen, s, sets + ctl, tag=f"-{name}-ctl") for s in ss]
    # Round-robin controls: the same swarms with a choker that ignores what
    # a peer gives back. What tit-for-tat adds must show against them.
    rr = ["protocol.choker=round_robin"]
    sub["rr"] = [r.submit("v5_incentives.yaml", s, rr, tag="-rr") for s in seeds]
    # The upload-bottlenecked free-rider swarm, paired seeds under
    # tit-for-tat and under round-robin (ten: one run's free-rider slowdown
    # varies by about 0.1 from seed to seed).
    sseeds = tuple(range(1, 11))
    sub["stag"] = [r.submit("v5_free_riders_staggered.yaml", s, tag="-tft") for s in sseeds]
    sub["stag_rr"] = [r.submit("v5_free_riders_staggered.yaml", s, rr, tag="-rr")
                      for s in sseeds]
    # The same under the choker whose regular slots must be earned (as
    # BitTorrent mainline 4.x; explanations, V5 item 4): reported.
    sub["stag_ml"] = [r.submit("v5_free_riders_staggered.yaml", s,
                               ["protocol.choker=mainline_tit_for_tat"], tag="-mainline")
                      for s in sseeds]
    run = {k: results(v) for k, v in sub.items()}
    for v in run.values():
        for x in v:
            c.hard_bounds(x)

    tft, strict = run["tft"], run["strict"]
    rt = {k: [ratio(x, k) for x in tft] for k in classes}
    for k in classes:
        c.row(f"tit-for-tat: upload/download ratio of class {k}", "report (rises with class)",
              rt[k], True)
    rising = sum(rt["slow"][i] < rt["medium"][i] < rt["fast"][i] for i in range(len(seeds)))
    c.row("tit-for-tat: ratio slow < medium < fast on every seed (round_robin too: see its "
          "control row; not evidence of reciprocation)", f"{len(seeds)}/{len(seeds)}",
          rising, rising == len(seeds), regression=True)
    spread_t = [rt["fast"][i] / rt["slow"][i] for i in range(len(seeds))]
    spread_s = [ratio(x, "fast") / ratio(x, "slow") for x in strict]
    c.row("ratio spread fast/slow, tit-for-tat", "report", spread_t, True)
    c.row("ratio spread fast/slow, strict (block-level) tit-for-tat", "< tit-for-tat's",
          spread_s, statistics.fmean(spread_s) < statistics.fmean(spread_t))
    # Leechers leave on completion, so each downloads about the file and
    # the ratio is mostly upload capacity x time in the swarm: it rises with
    # the class under any choker that keeps uploads busy. The control shows
    # it (the rows above cannot tell tit-for-tat from round-robin).
    rr_rt = {k: [ratio(x, k) for x in run["rr"]] for k in classes}
    rr_rising = sum(rr_rt["slow"][i] < rr_rt["medium"][i] < rr_rt["fast"][i]
                    for i in range(len(seeds)))
    c.row("control (round_robin choker): ratio slow < medium < fast on every seed "
          "(so that row does not show reciprocation)", "report",
          f"{rr_rising}/{len(seeds)}", True)
    c.row("control (round_robin choker): ratio spread fast/slow", "report",
          [rr_rt["fast"][i] / rr_rt["slow"][i] for i in range(len(seeds))], True)
    for k in classes:
        c.row(f"tit-for-tat: mean download time of class {k}", "report",
              [statistics.fmean(x.download_times(k)) for x in tft], True, " s")

    def free_riding(runs):
        """Per run: the share of free-riders that completed, and the
        free-riders' mean download time over the contributors' (of those
        that completed; NaN when either class has none, so that a run where
        no free-rider finishes fails the gates below instead of stopping
        the check: the completion row names it)."""
        done, slow = [], []
        for x in runs:
            fr, co = x.download_times("free_rider"), x.download_times("contributor")
            done.append(len(fr) / len(x.leechers("free_rider")))
            slow.append(statistics.fmean(fr) / statistics.fmean(co) if fr and co
                        else math.nan)
        return done, slow
    fr_done, slow = free_riding(run["free"])
    c.row("free-riders (scarce seeds) that complete", "all (1.0)", fr_done,
          all(f == 1.0 for f in fr_done))
    # Not gating: our simulator disagrees with the expectation, for a reason
    # we can name (docs/validation.md, "Free-riders"): with a scarce seed the
    # whole swarm waits on the seed's last pieces, which tit-for-tat does not
    # ration, so free-riders finish with everyone else.
    c.row("free-rider / contributor mean download time", ">= 1.5 (markedly slower)", slow,
          all(s >= 1.5 for s in slow), gate=False,
          why="the scarce seed, not reciprocation, paces every leecher: the rarest piece "
              f"has the seed's copy only until shortly before the first completion (explanations: {V5_WHY})")
    _, slow_c = free_riding(run["free_ctl"])
    c.row("control (2 min announce): free-rider / contributor mean download time",
          "report", slow_c, True)

    # Upload-bottlenecked: the seed 4x a peer, arrivals over 400 s.
    s_done, s_tft = free_riding(run["stag"])
    s_rr_done, s_rr = free_riding(run["stag_rr"])
    c.row("upload-bottlenecked swarm (v5_free_riders_staggered): free-riders that complete "
          "under tit-for-tat", "all (1.0)", s_done, all(f == 1.0 for f in s_done))
    # The control's slowdown below is a mean over the free-riders that
    # finished, so it only compares like with like if they all did.
    c.row("upload-bottlenecked swarm, round_robin control: free-riders that complete",
          "all (1.0)", s_rr_done, all(f == 1.0 for f in s_rr_done))
    c.row("upload-bottlenecked swarm, tit-for-tat: free-rider / contributor mean download time",
          ">= 1.5 (markedly slower)", s_tft, all(x >= 1.5 for x in s_tft), gate=False,
          why="slower than contributors, and more than under round_robin (the gate below), "
              "but by about a quarter, not a half: spare regular slots go to neighbours that gave nothing, "
              "as in BitTornado, and free-riders are always in the optimistic pool "
              f"(explanations: {V5_WHY})")
    c.row("upload-bottlenecked swarm, round_robin control: free-rider / contributor mean "
          "download time", "report", s_rr, True)
    _, s_ml = free_riding(run["stag_ml"])
    c.row("upload-bottlenecked swarm, mainline_tit_for_tat (regular slots only for peers that "
          "gave): free-rider / contributor mean download time", "report", s_ml, True)
    # The gate: tit-for-tat must slow free-riders down by more than a
    # choker that ignores contributions, on the same seeds. A margin of 0.1
    # (a tenth of the contributors' download time) is more than the
    # control's own seed-to-seed spread (sd 0.08 over ten seeds), and the
    # mean paired gap must also stand 3 standard errors above 0.
    gap = [a - b for a, b in zip(s_tft, s_rr)]
    g_mean = statistics.fmean(gap)
    g_se = statistics.stdev(gap) / math.sqrt(len(gap))
    c.row("upload-bottlenecked swarm: free-rider slowdown, tit-for-tat minus round_robin "
          "(paired seeds; slowdown = free-rider / contributor mean download time)",
          ">= 0.10 and mean - 3 standard errors > 0",
          f"{g_mean:+.3f} (standard error {g_se:.3f}; tit-for-tat higher on "
          f"{sum(1 for g in gap if g > 0)}/{len(gap)} seeds)",
          g_mean >= 0.10 and g_mean - 3 * g_se > 0)

    # One client's download time is noisy (and bimodal when it is stranded),
    # so judge the paired gains by their median and by how many exceed 1.
    gain = tyrant_gain(zip(run["one"], run["onebase"]))
    c.row("one BitTyrant client: its download time as tit-for-tat / as BitTyrant "
          "(paired seeds)", "report", gain, True)
    # Not gating: in our swarms the lone BitTyrant client's gain is
    # indistinguishable from 1 (about 1 +- 0.1 per seed, either side of 1 as
    # event tie-breaking changes), for the reason the free-rider row names:
    # downloads wait on the seed's last pieces, not on reciprocation
    # (docs/validation.md, V5 explanations 1 and 2).
    wins = sum(1 for g in gain if g > 1)
    c.row("one BitTyrant client gains speed: median paired gain > 1 and gain > 1 on "
          "most seeds", "median > 1, > half of seeds",
          f"median {statistics.median(gain):.3g}, {wins}/{len(gain)} seeds",
          statistics.median(gain) > 1 and wins > len(gain) / 2, gate=False,
          why="indistinguishable from 1 (either side of it as event tie-breaking changes): "
              f"downloads wait on the seed's last pieces, not on reciprocation (explanations: {V5_WHY})")
    c.row("control (2 min announce): one BitTyrant client's gain", "report",
          tyrant_gain(zip(run["one_ctl"], run["onebase_ctl"])), True)

    def all_gain(tyr, base):
        return [statistics.fmean(b.download_times()) / statistics.fmean(a.download_times())
                for a, b in zip(tyr, base)]
    g_all = all_gain(run["alltyrant"], tft)
    c.row("all-BitTyrant swarm: mean download time all-TFT / all-BitTyrant (paired seeds)",
          "<= 1.02 (no gain)", g_all, statistics.fmean(g_all) <= 1.02)
    c.row("control (2 min announce): all-TFT / all-BitTyrant", "report",
          all_gain(run["alltyrant_ctl"], run["tft_ctl"]), True)


# --------------------------------------------------------------------------
# V6 - seeding cost.

def check_v6(r, c):
    seeds = (1, 2, 3, 4, 5)
    normal = [r.submit("v6_seeding_cost.yaml", s, seed_cost=True) for s in seeds]
    sup = [r.submit("v6_seeding_cost.yaml", s, ["peers.0.protocol={super_seeding: true}"],
                    tag="-super", seed_cost=True) for s in seeds]
    def cost(x):
        c.hard_bounds(x)
        return x.checks["seed_uploaded_at_first_completion"] / x.checks["file_bytes"]
    n = [cost(x) for x in results(normal)]
    s = [cost(x) for x in results(sup)]
    c.row("normal seed: uploaded / file size before the first leecher completes",
          "1.5-2.0 (BEP 16)", n, all(1.5 <= x <= 2.0 for x in n))
    c.row("super-seeding: uploaded / file size before the first leecher completes",
          "about 1.05 (BEP 16; accepted 1.0-1.15)", s, all(1.0 <= x <= 1.15 for x in s))


# --------------------------------------------------------------------------
# V8 - request pipelining over latency (our own check): a connection with P
# requests in flight is a closed loop, and Little's law on it gives the rate.

V8_SIZES_MIB = (10, 20)
PIECE_HEADER_BYTES = 13  # a Piece message's header on the wire (core/message.cc)


def block_time(block_bytes, rate_bit_s):
    """One block's transmission: the Piece message, header included."""
    return (block_bytes + PIECE_HEADER_BYTES) * 8 / rate_bit_s


def pipeline_rate(latency_s, pipeline, block_bytes, rate_bit_s):
    """Steady download rate (payload bit/s) of one connection that keeps
    `pipeline` requests in flight. Little's law on the loop: P requests in
    flight = rate x the time R one takes round it, R = max(2L + S, P S):
    a request's two latencies and its block's transmission S at the tighter
    of the two capacities, or, when the seed (which sends one block at a
    time) never idles, P transmissions. So min(1/S, P / (2L + S)) blocks per
    second."""
    s = block_time(block_bytes, rate_bit_s)
    return min(1 / s, pipeline / (2 * latency_s + s)) * block_bytes * 8


def pipeline_download_time(latency_s, tracker_s, pipeline, blocks, block_bytes, rate_bit_s):
    """The whole download, message by message as the simulator models it:
    the announce's round trip to the tracker; the connection's set-up round
    trip; the dialer's handshake and the seed's answer (with its bitfield);
    Interested and Unchoke, one latency each; then the first P requests
    leave together. Each is answered by its block after a latency, the
    block's turn at the seed (blocks go out one at a time) and a latency;
    every block's arrival sends the next request. Window-limited, the seed
    idles between rounds of P blocks and the last of blocks/P rounds ends
    P - 1 transmissions after its first block; capacity-limited, the seed
    never idles once the first request arrives."""
    s = block_time(block_bytes, rate_bit_s)
    first_requests = 2 * tracker_s + 6 * latency_s
    rounds = blocks / pipeline
    return first_requests + 2 * latency_s + max((rounds - 1) * (2 * latency_s + s) + pipeline * s,
                                               blocks * s)


def check_v8(r, c):
    tracker_s = 0.025  # set below, so the model cannot drift from the file
    # (one-way latency s, pipeline, seed upload bit/s, leecher download
    # bit/s, block bytes)
    cases = [(lat, p, 100e6, 100e6, 16384) for lat in (0.010, 0.050, 0.100) for p in (1, 5, 20)]
    cases += [(0.010, 2, 100e6, 20e6, 16384),  # the leecher's download is the tighter
              (0.010, 20, 100e6, 100e6, 4096),  # small blocks: the header weighs 4x more
              (0.001, 20, 1e9, 1e9, 16384)]  # a fast, near link
    runs = {}
    for lat, p, up, down, block in cases:
        sets = [f"network.latency.constant={lat * 1000:g}ms", f"protocol.request_pipeline={p}",
                f"tracker.latency={tracker_s * 1000:g}ms", f"file.block_size={block // 1024}KiB",
                f"peers.0.upload={up / 1e6:g}Mbit/s", f"peers.1.upload={up / 1e6:g}Mbit/s",
                f"peers.1.download={down / 1e6:g}Mbit/s"]
        tag = f"-L{lat * 1000:g}ms-P{p}-u{up / 1e6:g}-d{down / 1e6:g}-b{block // 1024}"
        for mib in V8_SIZES_MIB:
            runs[(lat, p, up, down, block, mib)] = r.submit("v8_pipeline_latency.yaml", 1,
                                                 sets + [f"file.size={mib}MiB"],
                                                 tag=f"{tag}-{mib}MiB")
    whole = []  # relative error of every run's download time against the model
    for lat, p, up, down, block in cases:
        rate = min(up, down)
        t = {}
        for mib in V8_SIZES_MIB:
            run = runs[(lat, p, up, down, block, mib)].result()
            c.hard_bounds(run)
            times = run.download_times()
            t[mib] = times[0] if len(times) == 1 else float("nan")
            model = pipeline_download_time(lat, tracker_s, p, mib * MIB // block, block, rate)
            whole.append((t[mib] - model) / model)
        x = pipeline_rate(lat, p, block, rate)
        small, big = V8_SIZES_MIB
        predicted = (big - small) * MIB * 8 / x
        measured = t[big] - t[small]
        s = block_time(block, rate)
        regime = "window-limited" if p * s < 2 * lat + s else "capacity-limited"
        rel = (measured - predicted) / predicted
        c.row(f"L = {lat * 1000:g} ms, P = {p}, {block // 1024} KiB blocks, {rate / 1e6:g} Mbit/s "
              f"({regime}: X = "
              f"{x / 1e6:.3g} Mbit/s): T(20 MiB) - T(10 MiB) = 10 MiB / X",
              f"{predicted:.4f} s ± 0.01%", f"{measured:.4f} s ({rel:+.4%})", abs(rel) <= 1e-4)
    worst = max(whole, key=abs)
    c.row("every run's download time against the message-by-message model (announce, "
          "connect and handshake round trips, Interested, Unchoke, then the loop)",
          "within ± 0.01%", f"worst {worst:+.4%} over {len(whole)} runs",
          all(abs(e) <= 1e-4 for e in whole))
    c.note("a block's transmission is its Piece message, the block and a 13-byte header: "
           "leaving the header out puts the model 0.079% off with 16 KiB blocks, 0.32% with "
           "4 KiB; what is left is the engine's whole-microsecond times")


# --------------------------------------------------------------------------
# V7 - simulator vs real runtime (our own check): one scenario in the
# simulator and on real gRPC sockets (swarm run-scenario), pooled over seeds.

def leecher_times(folder, seed_class="seed"):
    """Download times of the leechers; None if one of them never finished."""
    times = []
    with open(os.path.join(folder, "peers.csv")) as f:
        for r in csv.DictReader(f):
            if r["class"] == seed_class:
                continue
            if not r["completion_s"]:
                return None
            times.append(float(r["completion_s"]) - float(r["join_s"]))
    return times


def nearest_rank(xs, q):
    """As sim/results.cc computes summary.json's p90."""
    xs = sorted(xs)
    return xs[max(math.ceil(q * len(xs)), 1) - 1]


def run_real(args, scenario, seed, out, attempts=2):
    """A real run, repeated once if a leecher did not finish (a loaded
    machine); returns the download times or None."""
    for attempt in range(1, attempts + 1):
        if not (args.reuse and os.path.exists(os.path.join(out, "summary.json"))):
            shutil.rmtree(out, ignore_errors=True)
            p = subprocess.run([args.swarm, "run-scenario", scenario, "--seed", str(seed),
                                "--out", out, "--max-wall", "600"],
                               capture_output=True, text=True)
            if p.returncode != 0:
                print(f"  real seed {seed} attempt {attempt}: exit {p.returncode}: "
                      f"{p.stderr.strip()[-300:]}", flush=True)
                continue
        times = leecher_times(out)
        if times is not None:
            return times
        print(f"  real seed {seed} attempt {attempt}: a leecher did not finish", flush=True)
    return None


def check_v7(r, c, args):
    seeds = (1, 2, 3, 4)
    scen = "sim_vs_real.yaml"
    sim_runs = results([r.submit(scen, s) for s in seeds])
    for x in sim_runs:
        c.hard_bounds(x)
    # Real runs one at a time, after the simulations: they run in wall-clock
    # time and compete for the CPU.
    real = [run_real(args, os.path.join(r.scenarios, scen), s,
                     os.path.join(r.work, f"sim_vs_real-real-seed{s}")) for s in seeds]
    sim_t = [t for x in sim_runs for t in (leecher_times(x.folder) or [])]
    real_t = [t for times in real if times for t in times]
    c.row("real runs: leechers that complete", f"{12 * len(seeds)}", len(real_t),
          len(real_t) == 12 * len(seeds))
    for q, name in ((0.5, "median"), (0.9, "p90")):
        a, b = nearest_rank(sim_t, q), nearest_rank(real_t, q)
        c.row(f"{name} download time, real vs sim (pooled over seeds {seeds})",
              "|real - sim| / sim <= 15%",
              f"sim {a:.2f} s, real {b:.2f} s ({(b - a) / a:+.1%})", abs(b - a) / a <= 0.15)
    png = os.path.normpath(os.path.join(r.work, "..", "v7_sim_vs_real.png"))
    try:
        plot_cdfs(sim_t, real_t, png)
    except ImportError:
        # This interpreter lacks matplotlib; Debian's python3 has it.
        subprocess.run(["/usr/bin/python3", "-c",
                        f"import sys, json; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                        f"import validate; validate.plot_cdfs(*json.loads(sys.argv[1]), {png!r})",
                        json.dumps([sim_t, real_t])], check=False, capture_output=True)
    c.note("CDF plot (docs/validation_sim_vs_real.png): written" if os.path.exists(png)
           else "no CDF plot (matplotlib missing)")


def plot_cdfs(sim_t, real_t, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for xs, label in ((sim_t, "simulator"), (real_t, "real gRPC (LoopbackSwarm)")):
        xs = sorted(xs)
        ax.step(xs, [(i + 1) / len(xs) for i in range(len(xs))], where="post", label=label)
    ax.set_xlabel("download time (s)")
    ax.set_ylabel("fraction of leechers")
    ax.set_title("sim_vs_real: 12 leechers, 24 MiB, runs with seeds 1-4")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


# --------------------------------------------------------------------------

CHECKS = {
    "V1": ("Homogeneous flash crowd", "Kumar & Ross 2006; Bharambe et al. 2006", check_v1),
    "V2": ("Fluid model steady state", "Qiu & Srikant 2004", check_v2),
    "V3": ("Exponential growth of a flash crowd", "Yang & de Veciana 2004", check_v3),
    "V4": ("Piece selection", "Legout et al. 2006; Bharambe et al. 2006", check_v4),
    "V5": ("Incentives", "Bharambe et al. 2006; Qiu & Srikant 2004; Piatek et al. 2007",
           check_v5),
    "V6": ("Seeding cost and super-seeding", "BEP 16 (Hoffman)", check_v6),
    "V8": ("Request pipelining over latency", "Little 1961 (Little's law on the closed "
           "loop of a connection's requests in flight)", check_v8),
    "V7": ("Simulator vs real gRPC runtime", "swarmlab's own check (sim and net::LoopbackSwarm, same scenario)",
           check_v7),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("check", choices=sorted(CHECKS))
    ap.add_argument("--runner", required=True)
    ap.add_argument("--scenarios", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--swarm", help="the real runtime's CLI (V7 only)")
    ap.add_argument("--reuse", action="store_true",
                    help="judge existing result folders instead of re-running (development)")
    args = ap.parse_args()
    title, source, fn = CHECKS[args.check]
    print(f"{args.check} - {title} ({source})", flush=True)
    runner = Runner(args)
    check = Check(args.check, title, source)
    t0 = time.monotonic()
    try:
        if args.check == "V7":
            fn(runner, check, args)
        else:
            fn(runner, check)
    except Exception as e:  # a run that crashes is a failed check
        check.row("all runs completed", "no errors", "error", False)
        check.note(f"error: {e}")
    check.notes.append(f"wall time {time.monotonic() - t0:.0f} s")
    ok = check.finish(args.work, runner)
    runner.pool.shutdown()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
