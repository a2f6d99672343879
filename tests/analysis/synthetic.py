"""Writes small synthetic result folders and sweep files for the analysis tests.

The numbers are plausible, not simulated: a flash crowd of `leechers`
contributors (1 Mbit/s up) plus `free_riders` (0 up) join within 10 s, one seed
at 10 Mbit/s holds a 100 MiB file, completion times spread above the
Kumar-Ross bound, finished peers seed for `seeding_s` and leave. The files
follow the result folder format exactly, which is what the tests need.
"""

import csv
import json
import math
import os

import numpy as np

MIB = 2 ** 20
FILE_BYTES = 100 * MIB
PIECES = 400


def kumar_ross_s(n_up, u_seed_bps, u_peer_bps, d_min_bps):
    f_bits = FILE_BYTES * 8
    total_up = u_seed_bps + n_up * u_peer_bps
    return max(f_bits / u_seed_bps, f_bits / d_min_bps,
               (n_up + 0) * f_bits / total_up)


def write_result(path, leechers=40, free_riders=6, seed=1, seeding_s=120.0,
                 spread=0.35, scenario="flash_crowd", interval_s=10.0,
                 join_window_s=10.0):
    """Writes peers.csv, timeline.csv, summary.json, scenario.yaml to path."""
    os.makedirs(path, exist_ok=True)
    rng = np.random.RandomState(seed)
    n = leechers + free_riders
    bound = kumar_ross_s(n, 10e6, 1e6, 8e6) * leechers / n + \
        kumar_ross_s(n, 10e6, 1e6, 8e6) * free_riders / n
    join = np.sort(rng.uniform(0.0, join_window_s, n))
    frac = np.sort(rng.beta(5.0, 1.5, n))
    dl = bound * (1.0 - spread + spread * 1.2 * frac) + 5.0
    klass = ["leecher"] * n
    free_idx = rng.choice(n, free_riders, replace=False)
    for i in free_idx:
        klass[i] = "free_rider"
        dl[i] *= 1.25
    completion = join + dl
    first_piece = join + rng.uniform(2.0, 30.0, n)
    leave = completion + seeding_s
    down = np.full(n, float(FILE_BYTES))
    up = np.floor([0.0 if k == "free_rider" else FILE_BYTES *
                   rng.uniform(0.45, 1.2) for k in klass])
    seed_up = float(down.sum() - up.sum())
    rows = [("0", "seed", 0.0, None, None, None, seed_up, 0.0)]
    for i in range(n):
        rows.append((str(i + 1), klass[i], join[i], first_piece[i],
                     completion[i], leave[i], up[i], down[i]))
    _write_peers(os.path.join(path, "peers.csv"), rows)
    end = float(leave.max())
    _write_timeline(os.path.join(path, "timeline.csv"), join, first_piece,
                    completion, leave, interval_s, end)
    _write_summary(os.path.join(path, "summary.json"), scenario, seed, n,
                   dl, completion, bound, klass, up, down, seed_up)
    _write_scenario(os.path.join(path, "scenario.yaml"), scenario, seed,
                    leechers, free_riders)
    return path


def _write_scenario(path, name, seed, leechers, free_riders):
    """Shaped like the resolved scenario `sim run` writes (yaml-cpp style)."""
    classes = [("seed", 1, "10Mbit/s", "complete", "false"),
               ("leecher", leechers, "1Mbit/s", "empty", "false")]
    if free_riders:
        classes.append(("free_rider", free_riders, "0bit/s", "empty", "true"))
    with open(path, "w") as f:
        f.write(f'name: {name}\ndescription: "synthetic flash crowd for the '
                f'analysis tests\\n"\nseed: {seed}\n'
                "stop: {all_complete: true, max_time: 4h}\n"
                "file: {name: file, size: 100MiB, piece_size: 256KiB}\n"
                "protocol:\n  piece_selection: rarest_first\npeers:\n")
        for c, count, up, start, free in classes:
            f.write(f"  - class: {c}\n    count: {count}\n    upload: {up}\n"
                    f"    download: 8Mbit/s\n    start: {start}\n"
                    "    arrival: {uniform: [0s, 10s]}\n    leave: never\n"
                    f"    free_rider: {free}\n")
        f.write("sample_interval: 10s\n")


def _fmt(v):
    return "" if v is None else f"{v:.6f}"


def _write_peers(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["peer", "class", "join_s", "first_piece_s", "completion_s",
                    "leave_s", "bytes_uploaded", "bytes_downloaded"])
        for peer, k, j, fp, c, lv, up, down in rows:
            w.writerow([peer, k, _fmt(j), _fmt(fp), _fmt(c), _fmt(lv),
                        int(up), int(down)])


def _write_timeline(path, join, first_piece, completion, leave, dt, end):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["time_s", "leechers", "seeds", "completed",
                    "upload_utilization", "availability_min",
                    "availability_mean", "availability_entropy",
                    "upload_utilization_mean"])
        for t in np.arange(0.0, end + dt, dt):
            present = (join <= t) & (t < leave)
            leech = present & (t < completion)
            seeds = 1 + int((present & (completion <= t)).sum())
            done = int((completion <= t).sum())
            held = np.clip((t - first_piece) / (completion - first_piece), 0, 1)
            mean = 1.0 + float(held[present].sum())
            ramp = 1.0 - math.exp(-t / 60.0)
            util = 0.92 * ramp if leech.any() else 0.0
            amin = max(1.0, math.floor(mean * (0.55 + 0.35 * ramp)))
            ent = 0.3 + 0.68 * ramp if leech.any() else 1.0
            # Over the interval before the row: the ramp at its middle.
            busy = ((join <= t - dt / 2) & (t - dt / 2 < completion)).any()
            util_mean = 0.92 * (1.0 - math.exp(-(t - dt / 2) / 60.0)) \
                if t > 0 and busy else 0.0
            w.writerow([f"{t:.6f}", int(leech.sum()), seeds, done,
                        f"{util:.6f}", f"{amin:.6f}", f"{mean:.6f}",
                        f"{ent:.6f}", f"{util_mean:.6f}"])


def _write_summary(path, scenario, seed, n, dl, completion, bound, klass, up,
                   down, seed_up):
    per_class = {"seed": {"count": 1, "mean_completion_s": None,
                          "bytes_uploaded": int(seed_up),
                          "bytes_downloaded": 0}}
    for k in ("leecher", "free_rider"):
        m = np.array([c == k for c in klass])
        if m.any():
            per_class[k] = {"count": int(m.sum()),
                            "mean_completion_s": float(dl[m].mean()),
                            "bytes_uploaded": int(up[m].sum()),
                            "bytes_downloaded": int(down[m].sum())}
    makespan = float(completion.max())
    summary = {
        "scenario": scenario, "seed": seed, "version": "0.1.0", "mode": "sim",
        "peers": {"total": n + 1, "leechers": n, "completed": n},
        "completion_time_s": {"mean": float(dl.mean()),
                              "median": float(np.median(dl)),
                              "p90": float(np.percentile(dl, 90)),
                              "min": float(dl.min()), "max": float(dl.max())},
        "makespan_s": makespan,
        "bounds": {"kumar_ross_s": bound, "piece_granular_s": None},
        "efficiency": bound / makespan, "events": 123456, "wall_time_s": 0.5,
        "per_class": per_class,
    }
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)


# The per-class columns of write_sweep's tables: two leecher classes, one
# with a dot in its name (allowed in class names), which must not pass for
# a parameter.
SWEEP_CLASSES = ("leecher", "free.rider")
CLASS_COLUMNS = [f"{c}_{m}" for c in SWEEP_CLASSES
                 for m in ("completed", "leechers", "mean_completion_s",
                           "median_completion_s")]


def write_sweep(path, seeds=5):
    """A sweep.csv over protocol.piece_selection x seeds and a numeric
    parameter, with per-class columns (80 leechers, 20 free riders, slower)
    and one extra unknown column to test robustness."""
    rng = np.random.RandomState(7)
    header = ["run", "seed", "protocol.piece_selection", "protocol.unchoke_slots",
              "completed", "mean_completion_s", "median_completion_s",
              "p90_completion_s", "makespan_s", "efficiency", "kumar_ross_s",
              *CLASS_COLUMNS, "host"]
    base = {"rarest_first": 900.0, "random": 960.0, "sequential": 1150.0}
    run = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for policy, mean in base.items():
            for slots in (2, 4, 8):
                for s in range(1, seeds + 1):
                    m = mean * (1 + 0.02 * (4 - slots) / 2) + rng.normal(0, 20)
                    w.writerow([f"run{run:03d}", s, policy, slots, 100,
                                f"{m:.6f}", f"{m * 0.98:.6f}",
                                f"{m * 1.15:.6f}", f"{m * 1.3:.6f}",
                                f"{830.6 / (m * 1.3):.6f}", "830.6",
                                80, 80, f"{m * 0.95:.6f}", f"{m * 0.94:.6f}",
                                20, 20, f"{m * 1.2:.6f}", f"{m * 1.19:.6f}",
                                "node-a"])
                    run += 1
    return path


def write_manifest(sweep_dir, runs, sets, scenario="scenarios/x.yaml"):
    """A sweep.yaml as `sim sweep` writes it (yaml-cpp style: the fixed
    --set values a flow sequence, quoted where they need it)."""
    def flow(v):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' \
            if any(c in v for c in ',"{}[]: ') else v
    path = os.path.join(sweep_dir, "sweep.yaml")
    with open(path, "w") as f:
        f.write(f"scenario: {scenario}\nparams: [protocol.piece_selection]\n"
                f"sets: [{', '.join(flow(v) for v in sets)}]\nruns:\n")
        for run in runs:
            f.write(f"  - run: {run}\n    seed: 1\n    values: [x]\n"
                    f"    command: sim run {scenario} --quiet\n")
    return path


def write_run_sweep(folder, windows=(10.0, 4000.0), seeds=2, merged=True):
    """A small sweep with real (synthetic) result folders behind it: one
    varied parameter, peers.1.window, whose value is the leechers' join
    window in s (10 s: a flash crowd; 4000 s: arrivals over most of the
    run), `seeds` runs each. With `merged`, laid out as `sim merge A
    --out tables/t.csv` leaves it: runs under folder/a/runs/, the table in
    folder/tables/ with t.sweep.yaml naming each run's folder; otherwise as
    `sim sweep` does: folder/sweep.csv, sweep.yaml, runs/. Returns the
    table's path."""
    sweep = os.path.join(folder, "a") if merged else folder
    names, lines = [], []
    for w in windows:
        for s in range(1, seeds + 1):
            name = f"peers.1.window={w:g}__seed={s}"
            run = write_result(os.path.join(sweep, "runs", name), seed=s,
                               join_window_s=w)
            with open(os.path.join(run, "summary.json")) as f:
                sm = json.load(f)
            ct = sm["completion_time_s"]
            cells = [name, s, f"{w:g}", sm["peers"]["completed"], ct["mean"],
                     ct["median"], ct["p90"], sm["makespan_s"],
                     sm["efficiency"], sm["bounds"]["kumar_ross_s"]]
            lines.append(",".join(str(c) for c in cells))
            names.append((name, s, f"{w:g}"))
    table_dir = os.path.join(folder, "tables") if merged else folder
    os.makedirs(table_dir, exist_ok=True)
    table = os.path.join(table_dir, "t.csv" if merged else "sweep.csv")
    with open(table, "w") as f:
        f.write("run,seed,peers.1.window,completed,mean_completion_s,"
                "median_completion_s,p90_completion_s,makespan_s,efficiency,"
                "kumar_ross_s\n" + "\n".join(lines) + "\n")
    manifest = os.path.join(table_dir, "t.sweep.yaml" if merged
                            else "sweep.yaml")
    with open(manifest, "w") as f:
        f.write("scenario: scenarios/x.yaml\nparams: [peers.1.window]\n"
                "sets: [peers.1.count=46]\n")
        if merged:
            f.write("merged: [../a]\n")
        f.write("runs:\n")
        for name, s, w in names:
            f.write(f"  - run: {name}\n")
            if merged:
                f.write(f"    folder: ../a/runs/{name}\n")
            f.write(f"    seed: {s}\n    values: [{w}]\n"
                    f"    command: sim run scenarios/x.yaml --quiet\n")
    return table
