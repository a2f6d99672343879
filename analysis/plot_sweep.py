#!/usr/bin/python3
"""Plots one metric of a sweep against one parameter, with error bars over seeds.

Usage: plot_sweep.py SWEEP_CSV --x PARAM --y METRIC [--err ci95|std]
                     [--group PARAM|none] [--paired-to VALUE [--ratio]]
                     [--diff-to VALUE]
                     [--logx] [--out PNG]

SWEEP_CSV is what `sim sweep` writes: `run,seed,<parameter columns>,completed,
mean_completion_s,...`, parameter columns named by their dotted scenario path
(e.g. protocol.piece_selection), then per-class columns for every class that
downloads (CLASS_completed, CLASS_leechers, CLASS_mean_completion_s,
CLASS_median_completion_s), which --y takes too. Columns it does not know are
ignored. Parameters varied together with --x (`sim sweep --vary-together`:
each x value goes with one value of theirs) are named on the x axis and split
no series. Rows
with the same x (and the same values of the other varied parameters) are
aggregated: mean with a 95% confidence interval (Student t) or ± one standard
deviation. Numeric x values get a numeric axis, and so do quantities of one
kind (1Mbit/s, 2Mbit/s, 512KiB/s: placed by value, labelled as written);
others are categories, in the order they first appear (the order given to --vary). --logx
puts numbers and quantities on a log axis (doubling sweeps). When other dotted
parameters vary too, each combination becomes its own series (or pool them
with --group none). Exit codes: 0 ok, 2 bad file or column, 3 matplotlib or
numpy missing.

The figure names the scenario file and the sweep's fixed --set values, read
from the manifest beside the table when it lists every run of the table:
TABLE.sweep.yaml (written by `sim merge DIR... --out TABLE.csv`) or else
sweep.yaml (a sweep folder's own, written by `sim sweep`). A merged table's
manifest gives its paths relative to its own folder; its scenario is shown
relative to the current folder.

The Kumar-Ross bound and efficiency (bound / makespan) assume a flash crowd.
For makespan and efficiency plots the runs' folders (found through that
manifest) are checked with the rule plot_run.py and compare.py use
(resultdir.is_flash_crowd: leechers joined within a quarter of the bound); runs that are not flash crowds get no bound line and no
efficiency, and a note says why.

With --paired-to VALUE the figure shows, instead of the means, every other
x value's difference (--ratio: ratio) to the run of VALUE with the same seed
and other parameters, with a paired t interval (sweep_pairs.py); the table
of it is printed and every pair is written to a CSV beside the PNG.

With --diff-to VALUE it shows every other x value's difference of means to
VALUE's, with Welch's 95% interval (sweep_pairs.welch: unequal variances,
no pairing), for runs that share no seeds or whose seeds do not pair (two
tables merged, another --seed-base, a different number of runs): whether
two conditions differ is read from the interval of their difference, not
from whether their own intervals overlap. The table of it is printed.
"""

import argparse
import collections
import csv
import math
import os
import sys
import textwrap

import resultdir
import sweep_pairs
from resultdir import ResultError

resultdir.require_matplotlib()
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is set)
import numpy as np  # noqa: E402
import figures  # noqa: E402
from matplotlib.ticker import MaxNLocator, NullLocator  # noqa: E402

DOWNLOAD_TIME_METRICS = ("mean_completion_s", "median_completion_s",
                         "p90_completion_s")
TIME_METRICS = ("mean_completion_s", "median_completion_s", "p90_completion_s",
                "makespan_s", "kumar_ross_s", "piece_granular_s",
                "fluid_download_time_s")
METRIC_TITLES = {
    "completed": "peers completed",
    "mean_completion_s": "mean download time",
    "median_completion_s": "median download time",
    "p90_completion_s": "90th percentile download time",
    "makespan_s": "makespan (first arrival to last finish)",
    "efficiency": "efficiency (Kumar–Ross bound / makespan)",
    "kumar_ross_s": "Kumar–Ross bound",
    "piece_granular_s": "piece-granular value (bound or reference)",
    "piece_granular_is_bound": "piece-granular value is a bound (1) or a "
                               "reference (0)",
    # summary.json's over_time (docs/scenarios.md): the swarm over the
    # measure window, or the whole run.
    "leechers_time_avg": "leechers present (time average)",
    "seeds_time_avg": "seeds present (time average)",
    "seeds_from_leechers_time_avg": "seeds that were leechers (time average)",
    "upload_utilization_time_avg": "upload utilisation (time average)",
    "availability_min_time_avg": "copies of the rarest piece (time average)",
    "availability_min_lowest": "copies of the rarest piece (lowest sample)",
    "availability_entropy_time_avg": "availability entropy (time average)",
    "fluid_x": "fluid model: leechers x",
    "fluid_y": "fluid model: seeds y",
    "fluid_download_time_s": "fluid model: download time T",
    # A scenario's `measure` window (docs/sweeps.md): over the leechers that
    # joined in it.
    "leechers_in_window": "leechers joined in the measure window",
    "completed_in_window": "peers completed of those joined in the window",
    "mean_completion_s_in_window": "mean download time, joins in the window",
    "median_completion_s_in_window": "median download time, joins in the window",
    "p90_completion_s_in_window": "90th percentile download time, joins in the window",
}
WINDOW_TIME_METRICS = ("mean_completion_s_in_window",
                       "median_completion_s_in_window",
                       "p90_completion_s_in_window")

def read_sweep(path):
    """Returns (header, rows as dicts). Raises ResultError."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ResultError(f"{path}: cannot read sweep file: {e}") from None
    if not header:
        raise ResultError(f"{path}: empty file, expected a sweep.csv header")
    for lineno, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise ResultError(f"{path}: line {lineno}: number of fields does "
                              "not match the header")
    if not rows:
        raise ResultError(f"{path}: no data rows")
    return header, rows


def _flow_items(text):
    """The items of a one-line YAML flow sequence of scalars, as yaml-cpp
    writes them ('[a=1, "b=x, y", \'c\']'), or None if it is not one."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    items, i, body = [], 0, text[1:-1]
    while i < len(body):
        while i < len(body) and body[i] == " ":
            i += 1
        if i == len(body):
            break
        if body[i] == '"':
            j, item = i + 1, ""
            while j < len(body) and body[j] != '"':
                if body[j] == "\\" and j + 1 < len(body):
                    j += 1
                item += body[j]
                j += 1
            i = j + 1
        elif body[i] == "'":
            j, item = i + 1, ""
            while j < len(body):
                if body[j] == "'" and body[j + 1:j + 2] == "'":
                    item, j = item + "'", j + 2
                elif body[j] == "'":
                    break
                else:
                    item, j = item + body[j], j + 1
            i = j + 1
        else:
            j = body.find(",", i)
            j = len(body) if j < 0 else j
            item, i = body[i:j].strip(), j
        items.append(item)
        while i < len(body) and body[i] == " ":
            i += 1
        if i < len(body) and body[i] != ",":
            return None
        i += 1
    return items


# What a sweep manifest says about a table: its scenario file, fixed --set
# values, the manifest's path, and {run name: result folder}.
Manifest = collections.namedtuple("Manifest", "scenario sets path folders")


def manifest_paths(csv_path):
    """Where a table's manifest may be, in the order they are tried:
    TABLE.sweep.yaml (`sim merge --out TABLE.csv`), then sweep.yaml (the
    sweep folder's own, for its sweep.csv)."""
    folder = os.path.dirname(csv_path) or "."
    stem = os.path.splitext(os.path.basename(csv_path))[0]
    return [os.path.join(folder, stem + ".sweep.yaml"),
            os.path.join(folder, "sweep.yaml")]


def read_manifest(csv_path, rows):
    """The Manifest of the table: the first of manifest_paths() that can be
    read and lists every run of the table; None when there is none."""
    for path in manifest_paths(csv_path):
        m = _read_one_manifest(path)
        if m is not None and {r.get("run") for r in rows} <= set(m.folders):
            return m
    return None


def _read_one_manifest(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    folder = os.path.dirname(path) or "."
    # `sim merge` now writes every relative path of a table's manifest
    # relative to the manifest's folder, and says so on its first line;
    # in older ones the scenario was relative to where the sweep ran.
    from_here = bool(lines) and lines[0].startswith("# Written by `sim merge`")
    scenario, sets, folders, run = None, None, {}, None
    for line in lines:
        if line.startswith("scenario:"):
            scenario = resultdir._scalar(line[len("scenario:"):].strip())
        elif line.startswith("sets:"):
            sets = _flow_items(line[len("sets:"):])
        elif line.lstrip().startswith("- run:"):
            run = resultdir._scalar(line.split("- run:", 1)[1].strip())
            # A sweep folder's runs are under its runs/; a merged table's
            # manifest names each run's folder (relative to the manifest).
            folders[run] = os.path.join(folder, "runs", run)
        elif line.lstrip().startswith("folder:") and run is not None:
            rel = resultdir._scalar(line.split("folder:", 1)[1].strip())
            folders[run] = os.path.join(folder, rel)
    if sets is None:
        return None
    if from_here and scenario and not os.path.isabs(scenario):
        scenario = os.path.relpath(os.path.join(folder, scenario))
    return Manifest(scenario, sets, path, folders)


def settings_line(manifest):
    """What every point of the sweep shares: its scenario file and fixed
    --set values (sweep.yaml), for the figure and the printed table."""
    if manifest is None:
        return None
    scenario, sets = manifest.scenario, manifest.sets
    text = scenario or "the scenario"
    return text + (" with --set " + ", ".join(sets) if sets
                   else ", no fixed --set")


# Metrics that only mean something for a flash crowd (the bound is drawn on
# makespan plots; efficiency is bound / makespan).
FLASH_CROWD_METRICS = ("makespan_s", "efficiency")


def flash_crowds(rows, manifest):
    """{run name: is it a flash crowd?} for the runs of the table whose
    result folder (found through the manifest) can be loaded, by
    resultdir.is_flash_crowd(), the rule plot_run.py and compare.py use.
    Runs missing here are unknown."""
    out = {}
    if manifest is None:
        return out
    for r in rows:
        folder = manifest.folders.get(r.get("run"))
        try:
            run = resultdir.load(folder) if folder else None
        except ResultError:
            run = None
        if run is not None:
            out[r["run"]] = resultdir.is_flash_crowd(run)
    return out


def param_columns(header):
    """The varied parameters: the columns between `seed` and the first
    metric (`completed`), as `sim sweep` and `sim merge` write them. The
    per-class columns after the metrics (CLASS_completed, ...) may hold a
    dot (a class may be named `free.rider`), so a dot alone does not make a
    parameter; a table without that layout falls back to the dotted
    columns."""
    if header[:2] == ["run", "seed"] and "completed" in header:
        return header[2:header.index("completed")]
    return [h for h in header if "." in h]


def linked_columns(rows, x, params):
    """The parameters varied together with `x` (`--vary-together`): each
    value of x goes with one value of theirs, and each of theirs with one
    of x. They are not series of their own, nor kept equal when pairing:
    they change with x."""
    out = []
    for p in params:
        if p == x:
            continue
        ahead, back = {}, {}
        if all(ahead.setdefault(r[x], r[p]) == r[p]
               and back.setdefault(r[p], r[x]) == r[x] for r in rows) \
                and len(ahead) > 1:
            out.append(p)
    return out


def x_label(rows, x):
    """The x axis's label: x, and the parameters varied together with it."""
    linked = linked_columns(rows, x, param_columns(list(rows[0]))) if rows else []
    return x + (f" (with {', '.join(linked)})" if linked else "")


# The columns `sim sweep` added on 2026-11-27, run-wide and per class: a
# table written before has none of them.
NEWER_COLUMNS = ("piece_granular_is_bound", "leechers_time_avg",
                 "seeds_time_avg", "seeds_from_leechers_time_avg",
                 "upload_utilization_time_avg", "availability_min_time_avg",
                 "availability_min_lowest", "availability_entropy_time_avg",
                 "fluid_x", "fluid_y", "fluid_download_time_s")
NEWER_CLASS_METRICS = ("bytes_uploaded", "bytes_downloaded", "share_ratio")


def require_column(path, header, name, flag):
    if name not in header:
        params = param_columns(header)
        newer = name in NEWER_COLUMNS or any(
            name.endswith("_" + m) and len(name) > len(m) + 1
            for m in NEWER_CLASS_METRICS)
        hint = ("; this table was written before that column existed "
                "(2026-11-27): `sim merge DIR` of its sweep folder rebuilds "
                "it with the column (empty for runs of an older sim)"
                if newer else "")
        raise ResultError(
            f"{path}: {flag} {name}: no such column{hint}; parameters: "
            f"{', '.join(params) or 'none'}; columns: {', '.join(header)}")


# The per-class columns of sweep.csv, after the metrics: CLASS_ and one of
# these, for every class whose peers download (compare_classes.csv's names).
CLASS_METRICS = ("completed", "leechers", "mean_completion_s",
                 "median_completion_s", "bytes_uploaded", "bytes_downloaded",
                 "share_ratio")


def class_of(column):
    """The class of a per-class time column (CLASS_mean_completion_s,
    CLASS_median_completion_s), or None."""
    for m in ("mean_completion_s", "median_completion_s"):
        if column.endswith("_" + m) and len(column) > len(m) + 1:
            return column[:-len(m) - 1]
    return None


def metric_title(y):
    """The words for a metric column, per-class ones included."""
    if y in METRIC_TITLES:
        return METRIC_TITLES[y]
    for m in CLASS_METRICS:
        if y.endswith("_" + m) and len(y) > len(m) + 1:
            what = {"completed": "peers completed", "leechers": "leechers",
                    "bytes_uploaded": "bytes uploaded",
                    "bytes_downloaded": "bytes downloaded",
                    "share_ratio": "share ratio (uploaded / downloaded)"}
            return (f"{what.get(m) or METRIC_TITLES[m]} of class "
                    f"{y[:-len(m) - 1]}")
    return y


def as_float(text):
    try:
        v = float(text)
        return v if math.isfinite(v) else None
    except ValueError:
        return None


def stats(values, err):
    """(mean, half-width of the error bar) over a list of floats."""
    a = np.array(values, dtype=float)
    if a.size < 2:
        return float(a.mean()), 0.0
    sd = float(a.std(ddof=1))
    if err == "std":
        return float(a.mean()), sd
    t = sweep_pairs.t975(a.size - 1)
    return float(a.mean()), t * sd / math.sqrt(a.size)


def series_columns(header, x, group, rows=()):
    """Other varied parameters that split the data into series (not those
    varied together with x, linked_columns())."""
    if group == "none":
        return []
    if group:
        return [group]
    params = param_columns(header)
    linked = linked_columns(rows, x, params)
    return [h for h in params if h != x and h not in linked]


def aggregate(rows, x, y, groups, err, not_flash=frozenset()):
    """{series label: [(x value, mean, err, samples)]} in first-seen order.
    Rows without a value of y (empty cell) are left out, and so is the
    efficiency of runs in `not_flash` (not flash crowds: it means nothing)."""
    buckets = {}
    for r in rows:
        v = as_float(r[y])
        if v is None or (y == "efficiency" and r.get("run") in not_flash):
            continue
        label = ", ".join(f"{g}={r[g]}" for g in groups)
        buckets.setdefault(label, {}).setdefault(r[x], []).append(v)
    out = {}
    for label, by_x in buckets.items():
        out[label] = [(xv, *stats(vals, err), vals) for xv, vals in by_x.items()]
    return out


def drop_constant_groups(rows, groups):
    return [g for g in groups if len({r[g] for r in rows}) > 1]


def y_scale(y, series):
    """(divisor, axis label) for the metric."""
    title = metric_title(y)
    if y in TIME_METRICS or y in WINDOW_TIME_METRICS or y.endswith("_s"):
        top = max((m + e for pts in series.values() for _, m, e, _ in pts),
                  default=1.0)
        div, unit = figures.time_unit(top)
        return div, f"{title} ({unit})"
    if y == "efficiency":
        return 0.01, f"{title} (%)"
    return 1.0, title


# The units of scenario quantities (core/units.cc), in base units of their
# kind: seconds, bytes, bytes per second, events per second.
UNITS = {
    "time": {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "m": 60, "h": 3600,
             "d": 86400},
    "size": {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3,
             "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9},
    "rate": {"bit/s": 1 / 8, "kbit/s": 1e3 / 8, "Kbit/s": 1e3 / 8,
             "Mbit/s": 1e6 / 8, "Gbit/s": 1e9 / 8, "B/s": 1, "KiB/s": 1024,
             "MiB/s": 1024 ** 2, "GiB/s": 1024 ** 3, "kB/s": 1e3,
             "KB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9},
    "frequency": {"/s": 1, "/min": 1 / 60, "/h": 1 / 3600, "/d": 1 / 86400},
}


def as_quantity(text):
    """(kind, value in base units) of a scenario quantity such as 2Mbit/s or
    30min, or None."""
    text = text.strip()
    i = 0
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    number, unit = text[:i], text[i:].strip()
    value = as_float(number) if number else None
    if value is None:
        return None
    for kind, units in UNITS.items():
        if unit in units:
            return kind, value * units[unit]
    return None


def x_positions(series):
    """Numeric positions and tick labels: numbers if every x parses and there
    are at least two of them (a single value is shown as one category: a
    numeric axis around one point has no scale to show). Quantities of one
    kind (2Mbit/s, 512KiB/s; 30s, 2min) are placed by their value too, and
    labelled as written: tick labels are returned for them, with positions
    that are not 0, 1, 2... (so `categories` is not how to tell)."""
    xs = []
    for pts in series.values():
        for xv, *_ in pts:
            if xv not in xs:
                xs.append(xv)
    if len(xs) > 1 and all(as_float(v) is not None for v in xs):
        return {v: as_float(v) for v in xs}, None
    quantities = [as_quantity(v) for v in xs]
    if (len(xs) > 1 and all(quantities)
            and len({kind for kind, _ in quantities}) == 1
            and len({value for _, value in quantities}) == len(xs)):
        return {v: q[1] for v, q in zip(xs, quantities)}, None
    return {v: i for i, v in enumerate(xs)}, xs


def quantity_ticks(pos):
    """Tick positions and labels for an axis of quantities (x_positions
    placed them by value), or None when the x values are plain numbers."""
    if all(as_float(v) is not None for v in pos):
        return None
    ordered = sorted(pos.items(), key=lambda kv: kv[1])
    return [p for _, p in ordered], [v for v, _ in ordered]


def plot(rows, args, groups, settings=None, not_flash=frozenset()):
    """Draws and saves the figure; returns the series."""
    fig, series = figure(rows, args, groups, settings, not_flash)
    figures.save(fig, args.out)
    plt.close(fig)
    return series


def figure(rows, args, groups, settings=None, not_flash=frozenset()):
    """The figure (not saved) and the series behind it. `settings` is
    settings_line()'s text, shown under the title; `not_flash` the runs
    that are not flash crowds (no bound, no efficiency for them)."""
    series = aggregate(rows, args.x, args.y, groups, args.err, not_flash)
    if not series and args.y == "efficiency" and not_flash:
        raise ResultError(
            f"{args.sweep_csv}: --y efficiency: no run of this sweep is a "
            f"flash crowd ({resultdir.NOT_FLASH_CROWD_RULE}), so Kumar–Ross "
            "bound / makespan measures the arrivals, not "
            "the swarm: nothing to plot (try mean_completion_s)")
    if not series:
        raise ResultError(f"{args.sweep_csv}: column {args.y} has no numeric "
                          "values")
    pos, categories = x_positions(series)
    logx = log_x(args, pos, categories)
    div, ylabel = y_scale(args.y, series)
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    n = len(series)
    most = max(len(p[3]) for pts in series.values() for p in pts)
    beside = sideways(pos, categories, n, logx)
    # Categories have no order between them: their means are not joined
    # by a line (which would read as a trend); numeric x values are.
    for i, (label, pts) in enumerate(series.items()):
        k = i - (n - 1) / 2
        color = figures.run_color(i)
        pts = sorted(pts, key=lambda p: pos[p[0]])
        xs = [beside(pos[p[0]], k) for p in pts]
        for p in pts:   # beside the error bar
            vals = p[3]
            ax.scatter([beside(pos[p[0]], k + 0.6)] * len(vals),
                       np.array(vals) / div, s=14, color=color, alpha=0.45,
                       lw=0)
        ax.errorbar(xs, [p[1] / div for p in pts], [p[2] / div for p in pts],
                    color=color, marker="o", ms=6, capsize=5, lw=1.6,
                    ls="-" if not categories else "none",
                    label=label or (f"mean {error_name(args.err)}"
                                    if most > 1 else "single run"))
    draw_bound(ax, rows, args, pos, div, joined=not categories,
               not_flash=not_flash)
    if logx:
        ax.set_xscale("log")
    notes = []
    if not_flash and args.y in FLASH_CROWD_METRICS:
        what = ("no Kumar–Ross bound" if args.y == "makespan_s"
                else "no efficiency")
        notes.append(f"{len(not_flash)} of {len(rows)} run(s) not a flash "
                     f"crowd (joins spread over more than ¼ of the bound): "
                     f"{what} for them")
    empty = sum(1 for r in rows if as_float(r[args.y]) is None)
    if empty:
        # Said on the figure too, not only on stdout: a point may stand for
        # fewer runs than the others, or a whole series may be missing.
        notes.append(f"{empty} of {len(rows)} run(s) have no {args.y} "
                     "(empty cell): left out")
    notes.extend(partial_notes(rows, args.y))
    style_x_axis(ax, pos, categories, logx)
    counts = {len(p[3]) for pts in series.values() for p in pts}
    if most == 1:
        spread = "one run per point: no error bar"
    elif len(counts) > 1:
        # Runs without a value (empty cells) are left out, so the points
        # stand for different numbers of runs: "over 5 seeds" would be false.
        spread = (f"mean {error_name(args.err)} over {min(counts)}–"
                  f"{max(counts)} runs per point")
    else:
        seeds = {r.get("seed") for r in rows if as_float(r[args.y]) is not None}
        # "random seeds", not "seeds": a reader of a BitTorrent figure
        # takes "5 seeds" for five peers with the whole file.
        spread = (f"mean {error_name(args.err)} over {len(seeds)} random "
                  f"seed{'' if len(seeds) == 1 else 's'}")
    title = (f"{metric_title(args.y)} vs {args.x}\n"
             f"{spread}; faint dots = single runs")
    finish_figure(fig, ax, x_label(rows, args.x), ylabel, title, settings,
                  notes)
    return fig, series


def finish_figure(fig, ax, xlabel, ylabel, title, settings, notes):
    """What the plain and the paired figure end alike with: the notes in
    the lower left, the axis labels, the title (bold above the sweep's
    fixed settings when it has any), the legend and the layout."""
    if notes:
        ax.text(0.01, 0.01, "\n".join(notes), transform=ax.transAxes,
                fontsize=8, color="0.3", va="bottom", ha="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if settings:
        fig.suptitle(title, fontsize=11, fontweight="bold")
        ax.set_title("\n".join(textwrap.wrap(settings, 110)[:3]),
                     fontsize=9, style="italic", color="0.25",
                     fontweight="normal")
    else:
        ax.set_title(title, fontsize=11)
    ax.legend(loc="best")
    fig.tight_layout()


def log_x(args, pos, categories):
    """Whether the x axis is logarithmic (--logx); raises ResultError when
    it cannot be: categories, or an x value not above 0."""
    if not getattr(args, "logx", False):
        return False
    if categories and len(categories) == 1:
        raise ResultError(f"{args.sweep_csv}: --logx: {args.x} has one "
                          f"value only ({categories[0]}): no axis to spread")
    if categories:
        raise ResultError(
            f"{args.sweep_csv}: --logx: the values of {args.x} "
            f"({', '.join(categories)}) are categories, not numbers or "
            "quantities of one kind: a log axis needs those")
    low = min(pos, key=pos.get)
    if pos[low] <= 0:
        raise ResultError(f"{args.sweep_csv}: --logx: {args.x}={low} is not "
                          "above 0: a log axis cannot show it")
    return True


def sideways(pos, categories, n, logx):
    """f(x, k): the position x moved k steps to the side, a step being a
    small part of the axis (of its decades on a log axis), so that the
    points of n series and their single runs' dots sit beside each other."""
    if logx:
        decades = math.log10(max(pos.values()) / min(pos.values())) or 1.0
        step = 0.02 * decades / max(1, n) ** 0.5
        return lambda x, k: x * 10 ** (k * step)
    span = (max(pos.values()) - min(pos.values())) or 1.0
    step = (0.12 if categories else 0.02 * span) / max(1, n) ** 0.5
    return lambda x, k: x + k * step


def style_x_axis(ax, pos, categories, logx=False):
    """Ticks of the x axis: categories by name, quantities labelled as
    written, whole numbers without fractional ticks; on a log axis a tick
    at each x value, labelled as written (25, 50, ... 800), and no
    others."""
    if logx:
        ordered = sorted(pos.items(), key=lambda kv: kv[1])
        ax.set_xticks([p for _, p in ordered], [v for v, _ in ordered])
        ax.xaxis.set_minor_locator(NullLocator())
    elif categories:
        ax.set_xticks(range(len(categories)), categories)
        ax.set_xlim(-0.5, len(categories) - 0.5)
    elif (ticks := quantity_ticks(pos)) is not None:
        ax.set_xticks(*ticks)
    elif all(float(p).is_integer() for p in pos.values()):
        # Whole numbers (peer counts, unchoke slots): no tick at 42.5
        # between 40 and 60.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def paired_names(args):
    """(what the statistic is called, the value of no change)."""
    return ("ratio", 1.0) if args.ratio else ("difference", 0.0)


def time_scale(y, top):
    """(divisor, " (unit)") for plotting differences of metric `y` whose
    largest magnitude is `top`, or (1.0, "") when `y` is not a time."""
    if y in TIME_METRICS or y in WINDOW_TIME_METRICS or y.endswith("_s"):
        div, unit = figures.time_unit(top)
        return div, f" ({unit})"
    return 1.0, ""


def difference_axes(args, pos, categories, logx, n, level, reference):
    """The figure of a comparison with a reference value: its axes, the
    dotted line at no change, and where series k of n sits beside x."""
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    beside = sideways(pos, categories, n, logx)
    if logx:
        ax.set_xscale("log")
    ax.axhline(level, color="0.4", lw=0.9, ls=":",
               label=f"no change ({args.x}={reference})")
    return fig, ax, beside


def paired_figure(rows, args, groups, settings=None, not_flash=frozenset()):
    """The figure of --paired-to (not saved) and the Pairing behind it:
    per x value, the paired difference (or ratio) to the reference's run of
    the same seed, its mean (geometric for a ratio) with error bars, and
    the single seeds as faint dots."""
    exclude = not_flash if args.y == "efficiency" else frozenset()
    pairing = sweep_pairs.pair(rows, args.x, args.y, args.paired_to,
                               pair_columns(rows, args.x), groups,
                               args.ratio, args.err, exclude, args.sweep_csv)
    if not pairing.series:
        raise ResultError(
            f"{args.sweep_csv}: --paired-to {args.paired_to}: no run has a "
            f"{args.y} and a reference run of the same seed with one: "
            "nothing to compare")
    series = pairing.series
    what, level = paired_names(args)
    pos, categories = x_positions(series)
    logx = log_x(args, pos, categories)
    title = metric_title(args.y)
    div, unit = 1.0, ""
    if args.ratio:
        ylabel = f"{title}: ratio to {args.paired_to} (same random seed)"
    else:
        top = max(max(abs(p.low), abs(p.high), *(abs(q.stat) for q in p.pairs))
                  for pts in series.values() for p in pts)
        div, unit = time_scale(args.y, top)
        if args.y == "efficiency":
            div, unit = 0.01, " (percentage points)"
        ylabel = f"{title}: difference to {args.paired_to}{unit}"
    n = len(series)
    fig, ax, beside = difference_axes(args, pos, categories, logx, n, level,
                                      args.paired_to)
    scale = 1.0 if args.ratio else div
    for i, (label, pts) in enumerate(series.items()):
        k = i - (n - 1) / 2
        color = figures.run_color(i)
        pts = sorted(pts, key=lambda p: pos[p.x])
        xs = [beside(pos[p.x], k) for p in pts]
        for p in pts:
            if p.x != args.paired_to:
                ax.scatter([beside(pos[p.x], k + 0.6)] * len(p.pairs),
                           np.array([q.stat for q in p.pairs]) / scale,
                           s=14, color=color, alpha=0.45, lw=0)
        centres = np.array([p.centre for p in pts]) / scale
        bars = [centres - np.array([p.low for p in pts]) / scale,
                np.array([p.high for p in pts]) / scale - centres]
        ax.errorbar(xs, centres, bars, color=color, marker="o", ms=6,
                    capsize=5, lw=1.6, ls="-" if not categories else "none",
                    label=label or f"{'geometric ' if args.ratio else ''}"
                                   f"mean {error_name(args.err)}")
    notes = paired_notes(rows, args, pairing, not_flash)
    style_x_axis(ax, pos, categories, logx)
    counts = {len(p.pairs) for pts in series.values() for p in pts
              if p.x != args.paired_to}
    pairs = (f"{min(counts)}–{max(counts)} pairs per point" if len(counts) > 1
             else f"{counts.pop()} pair(s) per point")
    mean = "geometric mean" if args.ratio else "mean"
    head = (f"{title}: paired {what} to {args.x}={args.paired_to}\n"
            f"{mean} {error_name(args.err)} (paired t) over {pairs}; "
            "faint dots = single random seeds")
    finish_figure(fig, ax, x_label(rows, args.x), ylabel, head, settings,
                  notes)
    return fig, pairing


def pair_columns(rows, x):
    """The other varied parameters: a run is paired with the reference run
    that shares its seed and all of them, but those varied together with x
    (linked_columns()), which change with it."""
    params = param_columns(list(rows[0]))
    linked = linked_columns(rows, x, params)
    return [c for c in params if c and c != x and c not in linked]


def paired_notes(rows, args, pairing, not_flash):
    """What the paired figure and table leave out, and why."""
    notes = []
    if pairing.unpaired:
        notes.append(f"{pairing.unpaired} of {len(rows)} run(s) left out: no "
                     f"{args.y} in them or in their reference run, or no "
                     "reference run of the same seed")
    if pairing.not_positive:
        notes.append(f"{pairing.not_positive} run(s) left out: a ratio needs "
                     "values above 0")
    if not_flash and args.y == "efficiency":
        notes.append(f"{len(not_flash)} of {len(rows)} run(s) not a flash "
                     "crowd (joins spread over more than ¼ of the bound): no "
                     "efficiency for them")
    notes.extend(partial_notes(rows, args.y))
    return notes


def print_paired_table(pairing, args, notes=()):
    """The paired table: per x value and series, the pairs' count, mean
    (geometric for a ratio), the interval and how many seeds fell below
    and above no change; then `notes` (paired_notes())."""
    what, level = paired_names(args)
    series = pairing.series
    wx = max([24, len(args.x)] + [len(p.x) for pts in series.values() for p in pts])
    ws = max([30] + [len(label or "-") for label in series])
    lo, hi = ("low", "high") if args.err == "ci95" else ("-1 std", "+1 std")
    print(f"paired {what} of {args.y} to {args.x}={args.paired_to} "
          "(runs of the same random seed and other parameters)")
    print(f"{args.x:<{wx}} {'series':<{ws}} {'n':>3} {'mean':>12} "
          f"{lo:>12} {hi:>12} {'<' + format(level, 'g'):>4} "
          f"{'>' + format(level, 'g'):>4}")
    for label, pts in series.items():
        for p in pts:
            head = f"{p.x:<{wx}} {label or '-':<{ws}} {len(p.pairs):>3}"
            if p.x == args.paired_to:
                print(f"{head} {'(reference)':>12}")
                continue
            below, above = sweep_pairs.side_counts(p, args.ratio)
            if len(p.pairs) > 1:
                spread = f"{p.low:>12.4f} {p.high:>12.4f}"
            else:
                spread = f"{'n/a (n=1)':>12} {'':>12}"
            print(f"{head} {p.centre:>12.4f} {spread} {below:>4} {above:>4}")
    for note in notes:
        print(f"note: {note}")


def write_pairs(path, pairing, args, others):
    """Every pair, one row each: the series, the x value, the seed, the
    other parameters (the columns `others`), both values as the table has
    them and the statistic (a difference to the table's 6 decimals, a
    ratio to 9 digits)."""
    what, _ = paired_names(args)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["series", args.x, "seed", *others, args.y,
                    f"{args.y}@{args.paired_to}", what])
        for label, pts in pairing.series.items():
            for p in pts:
                for q in p.pairs if p.x != args.paired_to else ():
                    stat = f"{q.stat:.9g}" if args.ratio else f"{q.stat:.6f}"
                    w.writerow([label, p.x, q.seed, *(v for _, v in q.others),
                                q.value, q.reference, stat])


def partial_notes(rows, y):
    """[the note on runs that ended before every leecher finished], or []
    when there are none: said on the figure and on stdout, paired or not."""
    partial = partial_runs(rows, y)
    if not partial:
        return []
    return [f"{partial} of {len(rows)} run(s) ended before every leecher "
            f"finished: their {y} is over those that did"]


def partial_runs(rows, y):
    """How many runs have a download-time statistic but no makespan: some
    of their leechers never finished (the run hit stop.max_time), so the
    statistic counts only the ones that did, and reads shorter than the
    swarm's. (makespan_s is empty unless every leecher finished.)"""
    klass = class_of(y)
    if klass is not None:
        # A class's time: over its leechers that finished.
        done, joined = f"{klass}_completed", f"{klass}_leechers"
        return sum(1 for r in rows
                   if as_float(r.get(y, "")) is not None
                   and as_float(r.get(done, "")) is not None
                   and as_float(r.get(joined, "")) is not None
                   and float(r[done]) < float(r[joined]))
    if y in WINDOW_TIME_METRICS:
        # Over the window's leechers that finished before the run ended.
        return sum(1 for r in rows
                   if as_float(r.get(y, "")) is not None
                   and as_float(r.get("completed_in_window", "")) is not None
                   and as_float(r.get("leechers_in_window", "")) is not None
                   and float(r["completed_in_window"])
                   < float(r["leechers_in_window"]))
    if y not in DOWNLOAD_TIME_METRICS:
        return 0
    return sum(1 for r in rows
               if as_float(r.get(y, "")) is not None
               and "makespan_s" in r and as_float(r["makespan_s"]) is None)


# The bounds on the makespan a sweep.csv may hold: column, name, line
# style when joined. The piece-granular value is empty where it does not
# apply (it needs one seed and equal uploads), and a bound only where no
# leecher downloads faster than it uploads (piece_granular_name()).
BOUNDS = (("kumar_ross_s", "Kumar–Ross bound", "--"),
          ("piece_granular_s", "piece-granular bound", ":"))


def piece_granular_name(rows):
    """What to call the piece-granular values of `rows` (docs/theory.md,
    section 2): "bound" when every run with one says it is a bound
    (piece_granular_is_bound 1), "reference" when none does (its leechers
    download faster than they upload, so the core can beat it), and
    "value" when they differ or the table predates that column."""
    flags = {r.get("piece_granular_is_bound", "") for r in rows
             if as_float(r.get("piece_granular_s", "")) is not None}
    if flags == {"1"}:
        return "piece-granular bound"
    if flags == {"0"}:
        return "piece-granular reference (not a bound: downloads > upload)"
    return "piece-granular value (a bound only where downloads <= upload)"


def draw_bound(ax, rows, args, pos, div, joined=True, not_flash=frozenset()):
    """The Kumar-Ross bound and the piece-granular value per x on a
    makespan plot (they are about the makespan, not a mean or median), when
    the sweep has
    them: a short bar at each x, joined by a line when x is numeric. The
    piece-granular bound is drawn at the x values where it applies. Runs in
    `not_flash` are left out: the bounds assume everyone joins at once."""
    if args.y != "makespan_s":
        return
    for column, name, style in BOUNDS:
        if column not in rows[0]:
            continue
        by_x = {}
        for r in rows:
            if r.get("run") in not_flash:
                continue
            v = as_float(r[column])
            if v is not None:
                by_x.setdefault(r[args.x], []).append(v)
        if column == "piece_granular_s":
            name = piece_granular_name(
                [r for r in rows if r.get("run") not in not_flash])
        if by_x:
            draw_one_bound(ax, by_x, pos, div, joined, style, name + (
                " (mean over flash-crowd runs)" if not_flash
                else " (mean over runs)"))


def draw_one_bound(ax, by_x, pos, div, joined, style, label):
    xs = sorted(by_x, key=lambda v: pos[v])
    ys = [np.mean(by_x[v]) / div for v in xs]
    if joined:
        ax.plot([pos[v] for v in xs], ys, color=figures.BOUND_COLOR, ls=style,
                marker="_", ms=18, lw=1.2, label=label)
    else:
        # One short bar per category: one line with NaN gaps between.
        bx = [x for v in xs for x in (pos[v] - 0.3, pos[v] + 0.3, np.nan)]
        by = [y for y in ys for y in (y, y, np.nan)]
        ax.plot(bx, by, color=figures.BOUND_COLOR, lw=1.6,
                ls="-" if style == "--" else style, label=label)


def flash_notes(rows, y, flash, not_flash):
    """Why the bound or efficiency is missing, or why it may mislead."""
    notes = []
    if y not in FLASH_CROWD_METRICS:
        return notes
    if not_flash:
        what = ("it is not drawn for them" if y == "makespan_s"
                else "their efficiency is left out of the means")
        notes.append(
            f"{len(not_flash)} of {len(rows)} run(s) are not flash crowds "
            f"({resultdir.NOT_FLASH_CROWD_RULE}): the "
            f"Kumar–Ross bound assumes everyone joins at once, so {what}; "
            "their makespan measures the arrivals")
    unknown = len(rows) - len(flash)
    if unknown:
        notes.append(
            f"{unknown} of {len(rows)} run folder(s) could not be read (no "
            "manifest beside the table, or the runs are elsewhere): whether "
            "they are flash crowds is not known, and their "
            f"{'Kumar–Ross bound' if y == 'makespan_s' else 'efficiency'} "
            "is shown as if they were")
    return notes


def error_name(err):
    return "± 95% CI" if err == "ci95" else "± 1 std"


def print_table(series, args):
    # Columns as wide as their longest entry (at least 24 and 30), so long
    # series labels (several varied parameters) keep the rows aligned.
    wx = max([24, len(args.x)] + [len(p[0]) for pts in series.values() for p in pts])
    ws = max([30] + [len(label or "-") for label in series])
    print(f"{args.x:<{wx}} {'series':<{ws}} {'n':>3} {'mean':>12} "
          f"{error_name(args.err):>12}")
    for label, pts in series.items():
        for xv, mean, e, vals in pts:
            # One run has no spread to estimate: say so rather than ±0.
            spread = f"{e:>12.3f}" if len(vals) > 1 else f"{'n/a (n=1)':>12}"
            print(f"{xv:<{wx}} {label or '-':<{ws}} {len(vals):>3} {mean:>12.3f} "
                  f"{spread}")


def file_safe(text):
    """`text` with every byte outside [A-Za-z0-9._-] written as %XX, as
    `sim sweep` names its run folders."""
    return "".join(chr(b) if chr(b).isalnum() and b < 128 or chr(b) in "._-"
                   else f"%{b:02X}" for b in text.encode("utf-8"))


def default_out(args):
    """sweep_<y>_vs_<x>.png next to the table; with --paired-to,
    sweep_<y>_vs_<x>_difference_to_<value>.png (or _ratio_to_); with
    --diff-to, sweep_<y>_vs_<x>_welch_difference_to_<value>.png."""
    name = f"sweep_{args.y}_vs_{args.x}"
    if args.paired_to is not None:
        name += f"_{paired_names(args)[0]}_to_{file_safe(args.paired_to)}"
    if getattr(args, "diff_to", None) is not None:
        name += f"_welch_difference_to_{file_safe(args.diff_to)}"
    return os.path.join(os.path.dirname(args.sweep_csv) or ".",
                        figures.out_name(name + ".png"))


def print_settings(settings, csv_path):
    if settings:
        print(f"sweep: {settings}")
    else:
        names = " or ".join(os.path.basename(p)
                            for p in manifest_paths(csv_path))
        print(f"note: no {names} of this table beside it: its scenario and "
              "fixed --set values are unknown and not shown")


def run_paired(rows, args, groups, settings, flash, not_flash):
    """--paired-to: the paired figure, its table on stdout and every pair
    in a CSV beside the figure."""
    fig, pairing = paired_figure(rows, args, groups, settings, not_flash)
    figures.save(fig, args.out)
    plt.close(fig)
    pairs_csv = os.path.splitext(args.out)[0] + ".csv"
    write_pairs(pairs_csv, pairing, args, pair_columns(rows, args.x))
    print_settings(settings, args.sweep_csv)
    if args.y == "efficiency":
        for note in flash_notes(rows, args.y, flash, not_flash):
            print(f"note: {note}")
    print_paired_table(pairing, args, paired_notes(rows, args, pairing,
                                                   not_flash))
    print(f"pairs: {pairs_csv}")
    print(f"plot: {args.out}")
    return 0


def diff_figure(rows, args, groups, settings=None, not_flash=frozenset()):
    """The figure of --diff-to (not saved), the differences behind it and
    the points left out (too few runs): per x value, the difference of its
    mean to the reference's, with Welch's 95% interval, and a line at no
    change."""
    exclude = not_flash if args.y == "efficiency" else frozenset()
    series, short = sweep_pairs.differences(rows, args.x, args.y,
                                            args.diff_to, groups, exclude)
    if not series:
        raise ResultError(
            f"{args.sweep_csv}: --diff-to {args.diff_to}: no x value has two "
            f"runs with a {args.y} beside two of {args.diff_to}'s in the "
            "same series: no interval to compute")
    pos, categories = x_positions({k: [(d.x,) for d in v]
                                   for k, v in series.items()})
    logx = log_x(args, pos, categories)
    title = metric_title(args.y)
    div, unit = time_scale(args.y, max(max(abs(d.low), abs(d.high))
                                       for pts in series.values() for d in pts))
    n = len(series)
    fig, ax, beside = difference_axes(args, pos, categories, logx, n, 0,
                                      args.diff_to)
    for i, (label, pts) in enumerate(series.items()):
        k = i - (n - 1) / 2
        pts = sorted(pts, key=lambda d: pos[d.x])
        centres = np.array([d.diff for d in pts]) / div
        bars = [centres - np.array([d.low for d in pts]) / div,
                np.array([d.high for d in pts]) / div - centres]
        ax.errorbar([beside(pos[d.x], k) for d in pts], centres, bars,
                    color=figures.run_color(i), marker="o", ms=6, capsize=5,
                    lw=1.6, ls="-" if not categories else "none",
                    label=label or "difference of means ± 95% CI (Welch)")
    notes = diff_notes(rows, args, short)
    style_x_axis(ax, pos, categories, logx)
    head = (f"{title}: difference of means to {args.x}={args.diff_to}\n"
            "± Welch 95% CI (unpaired: runs not matched by seed)")
    finish_figure(fig, ax, x_label(rows, args.x),
                  f"{title}: difference to {args.diff_to}{unit}", head,
                  settings, notes)
    return fig, series, short


def diff_notes(rows, args, short):
    """What the --diff-to figure and table leave out, and why."""
    notes = []
    if short:
        notes.append(f"{len(short)} point(s) left out: fewer than two runs "
                     f"with a {args.y} at that x or at {args.diff_to}")
    empty = sum(1 for r in rows if as_float(r[args.y]) is None)
    if empty:
        notes.append(f"{empty} of {len(rows)} run(s) have no {args.y} "
                     "(empty cell): left out")
    notes.extend(partial_notes(rows, args.y))
    return notes


def print_diff_table(series, args, notes=()):
    """The --diff-to table: per x value and series, both sample sizes, the
    difference of means, Welch's interval and its degrees of freedom."""
    wx = max([24, len(args.x)] + [len(d.x) for pts in series.values() for d in pts])
    ws = max([30] + [len(label or "-") for label in series])
    print(f"difference of mean {args.y} to {args.x}={args.diff_to} "
          "(unpaired: Welch 95% CI)")
    print(f"{args.x:<{wx}} {'series':<{ws}} {'n':>3} {'n_ref':>5} "
          f"{'difference':>12} {'low':>12} {'high':>12} {'df':>6}")
    for label, pts in series.items():
        for d in pts:
            print(f"{d.x:<{wx}} {label or '-':<{ws}} {d.n:>3} {d.n_ref:>5} "
                  f"{d.diff:>12.4f} {d.low:>12.4f} {d.high:>12.4f} "
                  f"{d.df:>6.1f}")
    for note in notes:
        print(f"note: {note}")


def run_diff(rows, args, groups, settings, flash, not_flash):
    """--diff-to: the figure of unpaired differences and its table."""
    fig, series, short = diff_figure(rows, args, groups, settings, not_flash)
    figures.save(fig, args.out)
    plt.close(fig)
    print_settings(settings, args.sweep_csv)
    if args.y == "efficiency":
        for note in flash_notes(rows, args.y, flash, not_flash):
            print(f"note: {note}")
    print_diff_table(series, args, diff_notes(rows, args, short))
    print(f"plot: {args.out}")
    return 0


def main():
    parser = argparse.ArgumentParser(
        description="Plot a sweep metric against a parameter with error bars.")
    parser.add_argument("sweep_csv")
    parser.add_argument("--x", required=True, help="parameter column, e.g. "
                        "protocol.piece_selection")
    parser.add_argument("--y", required=True, help="metric column, e.g. "
                        "mean_completion_s, or a class's, e.g. "
                        "free_rider_mean_completion_s")
    parser.add_argument("--err", choices=("ci95", "std"), default="ci95",
                        help="error bar: 95%% confidence interval of the mean "
                        "(default) or one standard deviation")
    parser.add_argument("--group", help="parameter that splits series "
                        "(default: every other varied dotted column; "
                        "'none' pools them)")
    parser.add_argument("--paired-to", metavar="VALUE",
                        help="a value of --x: plot every other value's "
                        "difference to it, run by run with the same seed "
                        "(and other parameters), with a paired t interval; "
                        "every pair is written to a CSV beside the PNG")
    parser.add_argument("--diff-to", metavar="VALUE",
                        help="a value of --x: plot every other value's "
                        "difference of means to it with Welch's 95%% "
                        "interval, for runs that do not pair by seed")
    parser.add_argument("--ratio", action="store_true",
                        help="with --paired-to: the ratio to the reference "
                        "run (geometric mean) instead of the difference")
    parser.add_argument("--logx", action="store_true",
                        help="logarithmic x axis (numeric x values above 0, "
                        "or quantities of one kind), with a tick at each "
                        "value: for sweeps over doubling values")
    parser.add_argument("--out", help="PNG path (default: next to the CSV, "
                        "sweep_<y>_vs_<x>.png, or with --paired-to V "
                        "sweep_<y>_vs_<x>_difference_to_V.png)")
    figures.add_output_options(parser)
    args = parser.parse_args()
    figures.set_output(args)
    if args.ratio and args.paired_to is None:
        parser.error("--ratio needs --paired-to VALUE")
    if args.diff_to is not None and args.paired_to is not None:
        parser.error("--diff-to and --paired-to: give one (--paired-to "
                     "pairs runs by seed, --diff-to does not)")
    if args.diff_to is not None and args.err != "ci95":
        parser.error("--diff-to draws Welch's 95% interval: --err std does "
                     "not apply")
    header, rows = read_sweep(args.sweep_csv)
    require_column(args.sweep_csv, header, args.x, "--x")
    require_column(args.sweep_csv, header, args.y, "--y")
    if args.group and args.group != "none":
        require_column(args.sweep_csv, header, args.group, "--group")
    if args.paired_to is not None:
        sweep_pairs.check_reference(args.sweep_csv, rows, args.x,
                                    args.paired_to)
    if args.diff_to is not None:
        sweep_pairs.check_reference(args.sweep_csv, rows, args.x,
                                    args.diff_to, "--diff-to")
    groups = drop_constant_groups(rows, series_columns(header, args.x,
                                                       args.group, rows))
    if not args.out:
        args.out = default_out(args)
    manifest = read_manifest(args.sweep_csv, rows)
    settings = settings_line(manifest)
    # A paired plot draws no bound: only its efficiency needs the check.
    check = (args.y == "efficiency"
             if args.paired_to is not None or args.diff_to is not None
             else args.y in FLASH_CROWD_METRICS)
    flash = flash_crowds(rows, manifest) if check else {}
    not_flash = frozenset(run for run, f in flash.items() if not f)
    if args.paired_to is not None:
        return run_paired(rows, args, groups, settings, flash, not_flash)
    if args.diff_to is not None:
        return run_diff(rows, args, groups, settings, flash, not_flash)
    series = plot(rows, args, groups, settings, not_flash)
    print_settings(settings, args.sweep_csv)
    for note in flash_notes(rows, args.y, flash, not_flash):
        print(f"note: {note}")
    print_table(series, args)
    empty = sum(1 for r in rows if as_float(r[args.y]) is None)
    if empty:
        # e.g. makespan_s is empty unless every leecher finished: the means
        # above are over the other runs only.
        print(f"note: {empty} of {len(rows)} run(s) have no {args.y} "
              "(empty cell) and are left out of the means")
    # Said on stdout as in the paired table, not only on the figure: a mean
    # over the leechers that finished reads shorter than the swarm's.
    for note in partial_notes(rows, args.y):
        print(f"note: {note}")
    print(f"plot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(resultdir.run_cli(main))
