#!/usr/bin/python3
"""Simulator vs real sockets (issue 6, point 4; docs/validation.md).

Usage: sim_vs_real_test.py SIM SWARM SCENARIO ANALYSIS_DIR OUT_DIR
           [--seeds 1,2,3,4] [--tolerance 0.15] [--attempts 2]

Runs SCENARIO with `sim run` and with `swarm run-scenario` (real gRPC peers on
loopback, wall-clock time) for every seed, pools the leechers' download times
(completion - join) of each side, and checks that the median and the 90th
percentile agree within the tolerance (relative to the simulator). Prints
per-run and pooled numbers. A real run that fails or leaves a leecher
unfinished (a loaded machine) is repeated, up to --attempts times per seed.
Writes every result folder and analysis/compare.py's figures into OUT_DIR:
compare_completion_cdf.png has the CDFs of all runs together, and
seedN/compare_completion_cdf.png the "simulated" and "real" CDFs of one seed.
Run it with a Python that has matplotlib and numpy (Debian's /usr/bin/python3).
Exit 0 pass, 1 fail.
"""

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time


def percentile(sorted_values, q):
    """Nearest rank, as sim/results.cc computes summary.json's p90."""
    rank = math.ceil(q * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


def download_times(folder):
    """Download times of the leechers in peers.csv; None if one never finished."""
    times = []
    with open(os.path.join(folder, "peers.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["class"] == "seed":
                continue
            if not row["completion_s"]:
                return None
            times.append(float(row["completion_s"]) - float(row["join_s"]))
    return times


def run_sim(args, seed, out):
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([args.sim, "run", args.scenario, "--seed", str(seed), "--out", out],
                   check=True, stdout=subprocess.DEVNULL)
    return download_times(out)


def run_real(args, seed, out):
    """One real run per attempt until every leecher finished; None if none did."""
    for attempt in range(1, args.attempts + 1):
        shutil.rmtree(out, ignore_errors=True)
        start = time.monotonic()
        p = subprocess.run([args.swarm, "run-scenario", args.scenario, "--seed", str(seed),
                            "--out", out], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - start
        times = download_times(out) if p.returncode == 0 else None
        if times is not None:
            return times, wall
        print(f"  real seed {seed} attempt {attempt}: exit {p.returncode}, "
              f"incomplete; {p.stderr.strip()[-300:]}")
    return None, 0.0


def describe(times):
    s = sorted(times)
    return percentile(s, 0.5), percentile(s, 0.9), sum(s) / len(s), s[-1]


def main():
    ap = argparse.ArgumentParser()
    for name in ("sim", "swarm", "scenario", "analysis", "out"):
        ap.add_argument(name)
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--tolerance", type=float, default=0.15)
    ap.add_argument("--attempts", type=int, default=2)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.out, exist_ok=True)  # only its own subfolders are replaced

    pooled = {"sim": [], "real": []}
    folders, labels = [], []
    print(f"{'run':<16}{'median s':>10}{'p90 s':>10}{'mean s':>10}{'max s':>10}")
    for mode in ("sim", "real"):
        for seed in seeds:
            out = os.path.join(args.out, f"{mode}-seed{seed}")
            extra = ""
            if mode == "sim":
                times = run_sim(args, seed, out)
            else:
                times, wall = run_real(args, seed, out)
                extra = f"   ({wall:.1f} s wall)"
            if times is None:
                print(f"FAIL: {mode} seed {seed}: a leecher never finished")
                return 1
            pooled[mode] += times
            folders.append(out)
            labels.append(f"{'simulated' if mode == 'sim' else 'real'} seed {seed}")
            med, p90, mean, mx = describe(times)
            print(f"{mode + ' seed ' + str(seed):<16}{med:>10.2f}{p90:>10.2f}"
                  f"{mean:>10.2f}{mx:>10.2f}{extra}")

    sim_med, sim_p90, _, _ = describe(pooled["sim"])
    real_med, real_p90, _, _ = describe(pooled["real"])
    ok = True
    print(f"pooled over seeds {args.seeds} ({len(pooled['sim'])} vs "
          f"{len(pooled['real'])} leechers), tolerance {args.tolerance:.0%}:")
    for what, s, r in (("median", sim_med, real_med), ("p90", sim_p90, real_p90)):
        diff = abs(r - s) / s
        verdict = "ok" if diff <= args.tolerance else "FAIL"
        ok &= diff <= args.tolerance
        print(f"  {what:<7} simulated {s:6.2f} s   real {r:6.2f} s   "
              f"difference {diff:6.1%}   {verdict}")

    # The CDFs of every run on one figure, then each seed's pair as
    # "simulated" vs "real" (analysis/compare.py draws both).
    plots = [(folders, labels, args.out)]
    for i, seed in enumerate(seeds):
        plots.append(([folders[i], folders[len(seeds) + i]], ["simulated", "real"],
                      os.path.join(args.out, f"seed{seed}")))
    for dirs, names, out in plots:
        plot = subprocess.run([sys.executable, os.path.join(args.analysis, "compare.py"),
                               *dirs, "--labels", ",".join(names), "--out", out],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if plot.returncode != 0:
            print(f"FAIL: compare.py exited {plot.returncode}: {plot.stderr.strip()}")
            return 1
    print(f"CDFs: {os.path.join(args.out, 'compare_completion_cdf.png')} and "
          f"{os.path.join(args.out, 'seed*', 'compare_completion_cdf.png')}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
