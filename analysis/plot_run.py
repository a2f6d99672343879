#!/usr/bin/python3
"""Plots one swarmlab result folder: writes PNGs into that folder.

Usage: plot_run.py RESULT_DIR [--out DIR] [--quiet]

Writes overview.png (the four key panels on one page) and, one figure each,
completion_cdf.png, population.png, upload_utilization.png, availability.png,
class_ratio.png and growth.png (first pieces and completions, log scale).
Exit codes: 0 ok, 2 not a result folder, 3 matplotlib or numpy missing.
"""

import argparse
import os
import re
import sys
import textwrap

import resultdir

resultdir.require_matplotlib()
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is set)
import figures  # noqa: E402

OUTPUTS = ("overview.png", "completion_cdf.png", "population.png",
           "upload_utilization.png", "availability.png", "class_ratio.png",
           "growth.png")


# summary.json's "stopped", as said after "only K of N finished".
STOP_REASONS = {
    "max_time": "stopped at max_time",
    "max_wall": "cut short by --max-wall",
    "pieces_lost": "stopped: some pieces had no holder left",
    "nothing_left": "nothing left to happen",
}


def crashed_unfinished(run):
    """Leechers that failed (peers.csv `failed`) before completing; 0 when
    the folder predates that column."""
    import numpy as np
    p = run.peers
    if p.failed is None:
        return 0
    return int(np.sum(p.failed & p.leecher & np.isnan(p.completion_s)))


def headline(run):
    """One line saying what ran and how close it came to the bound."""
    s = run.summary
    n = (s.get("peers") or {}).get("leechers")
    parts = [run.name]
    if n is not None:
        parts.append(f"{n} leecher" + ("" if n == 1 else "s"))
    if s.get("seed") is not None:
        # "random seed": students read "seed 1" as a BitTorrent seed.
        parts.append(f"random seed {s['seed']}")
    if s.get("mode") == "real":
        parts.append("real sockets")
    text = ", ".join(parts)
    done = (s.get("peers") or {}).get("completed")
    if isinstance(done, int) and isinstance(n, int) and done < n:
        text += f" — only {done} of {n} finished"
        # A run stopped before every leecher arrived: say so, or the count
        # reads as failures and disagrees with the CDF's ("of 601").
        absent = n - int(run.peers.leecher.sum())
        if 0 < absent < n:
            text += f", {absent} had not joined yet"
        crashed = crashed_unfinished(run)
        if crashed:
            text += f", {crashed} crashed first"
        why = STOP_REASONS.get(s.get("stopped"))
        if why:
            text += f" ({why})"
    makespan, bound = s.get("makespan_s"), run.kumar_ross_s
    if not resultdir.is_flash_crowd(run):
        # The flash-crowd bounds assume everyone joins at once; with
        # arrivals spread wider than a quarter of the bound (a steady
        # state, churn) the makespan and the efficiency would measure
        # the arrivals.
        text += (f" — {resultdir.not_flash_crowd_reason(run)}: not a "
                 "flash crowd, no efficiency")
    elif isinstance(makespan, (int, float)):
        # The makespan, first leecher arrival to last finish (summary.json's
        # makespan_s): not the time of the last finish, which a late start
        # pushes back.
        text += f" — makespan {figures.fmt_duration(makespan)}"
        if bound:
            eff = s.get("efficiency")
            eff = eff if isinstance(eff, (int, float)) else bound / makespan
            div, _ = figures.time_unit(makespan)
            text += f", Kumar–Ross bound {figures.fmt_in(bound, div)}"
            if run.piece_granular_s is not None:
                text += (f", {figures.piece_granular_name(run)} "
                         f"{figures.fmt_in(run.piece_granular_s, div)}")
            text += f" (efficiency {eff:.0%})"
    fluid = (run.fluid_model or {}).get("download_time_s")
    mean = (s.get("completion_time_s") or {}).get("mean")
    if isinstance(fluid, (int, float)) and isinstance(mean, (int, float)):
        # One unit for both, so that they compare at a glance (was
        # "10.7 min, Qiu–Srikant 533.9 s").
        div, unit = figures.time_unit(max(mean, fluid))
        digits = 2 if unit == "h" else 1
        text += (f" — mean download {mean / div:.{digits}f} {unit}, "
                 f"Qiu–Srikant {fluid / div:.{digits}f} {unit}")
    return text


def description_lines(text, width=150, max_lines=3):
    """The scenario's description wrapped to fit under the title: in even
    lines (figures.wrap_evenly()) when it fits in max_lines, else cut at
    the end of the last one."""
    lines = figures.wrap_evenly(text, width)
    if len(lines) > max_lines:
        lines = textwrap.wrap(" ".join(text.split()), width)
        lines = lines[:max_lines]
        # "worlds.…" read as a typo: the cut drops a sentence's full stop.
        lines[-1] = lines[-1][:width - 1].rstrip().rstrip(".") + "…"
    return lines


def _spaced(value):
    """'10Mbit/s' -> '10 Mbit/s', '256KiB' -> '256 KiB'."""
    return re.sub(r"^([\d.]+)\s*(?=[A-Za-z])", r"\1 ", value)


def run_facts(run):
    """What the run was, from its own resolved scenario.yaml (so true of it,
    whatever --set changed): the file, then each peer class with its count
    and rates. Falls back to peers.csv's class counts without the YAML's
    peer list; "" when nothing is known."""
    parts = []
    size, piece = run.file_spec.get("size"), run.file_spec.get("piece_size")
    if size:
        parts.append(f"{_spaced(size)} file" +
                     (f" in {_spaced(piece)} pieces" if piece else ""))
    classes = run.peer_classes or [
        {"class": c, "count": str(n)}
        for c, n in run.peers.class_counts().items()]
    for c in classes:
        if "class" not in c:
            continue
        text = c["class"]
        if "count" in c:
            text += f": {c['count']} peer" + ("" if c["count"] == "1" else "s")
        rates = [f"{_spaced(c[k])} {word}" for k, word in
                 (("upload", "up"), ("download", "down")) if k in c]
        if c.get("start") == "complete":
            rates.append("complete at start")
        if c.get("free_rider") == "true":
            rates.append("free-riding (uploads nothing)")
        if c.get("connectable") == "false":
            rates.append("not connectable")
        parts.append(", ".join([text] + rates))
    return "; ".join(parts)


def subtitle_lines(run):
    """The lines under the overview's title. For a run as its scenario file
    describes it, the file's description. For one with overrides (`sim run
    --set`; a `sim sweep` run's --vary and --set values, which it records
    the same way) the description is still the file's and may be false for
    the run (1000 leechers and a 100 MiB file of flash_crowd.yaml, for a run
    with 50 and 10 MiB), so it is left out: the run's own facts
    (run_facts()) and the --set values take its place."""
    if not run.overrides:
        return description_lines(run.description)
    facts = run_facts(run)
    lines = description_lines("This run: " + facts, max_lines=2) if facts \
        else []
    note = " (the scenario file's description is left out: it need not " \
        "hold for this run)" if run.description else ""
    lines += description_lines("run with --set " + ", ".join(run.overrides) +
                               note, max_lines=2)
    return lines


def save(fig, out_dir, name):
    figures.save(fig, os.path.join(out_dir, figures.out_name(name)))
    plt.close(fig)


def title_lines(text, width=105):
    """The headline in lines of at most `width` characters, so that the
    figure keeps its own width: broken at its " — " first, and a part
    still too long (two bounds in the figure's unit and in seconds, a long
    scenario name) into even lines (figures.wrap_evenly(): after a comma
    where it can, else at spaces or, failing that, inside a word), so that
    no line holds only its last word or two ("(efficiency" / "50%)")."""
    lines = []
    for part in text.split(" — "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " — " + part
        else:
            lines += figures.wrap_evenly(part, width) or [""]
    return "\n".join(lines)


def plot_overview(run, out_dir):
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.2))
    figures.draw_population(axes[0][0], [run])
    figures.draw_completion_cdf(axes[0][1], [run])
    figures.draw_utilization(axes[1][0], [run])
    figures.draw_availability(axes[1][1], run, twin=True)
    figures.place_heading(fig, title_lines(headline(run)), subtitle_lines(run))
    save(fig, out_dir, "overview.png")


def plot_single(draw, out_dir, name, size=(8.5, 5.2)):
    fig, ax = plt.subplots(figsize=size)
    draw(ax)
    fig.tight_layout()
    save(fig, out_dir, name)


def plot_availability(run, out_dir):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.5, 7.5), sharex=True)
    figures.draw_availability(top, run, twin=False)
    top.set_xlabel("")
    figures.draw_entropy(bottom, [run])
    bottom.set_title("Evenness of piece copies (Shannon entropy / log M)")
    fig.tight_layout()
    save(fig, out_dir, "availability.png")


def plot_classes(run, out_dir):
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.2),
                                      gridspec_kw={"width_ratios": [3, 2]})
    figures.draw_class_ratio(left, run)
    figures.draw_class_volume(right, run)
    fig.tight_layout()
    save(fig, out_dir, "class_ratio.png")


def plot_growth(run, out_dir):
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2))
    figures.draw_growth(left, run, "first_piece")
    figures.draw_growth(right, run, "completion")
    figures.place_heading(fig, "Growth on a log scale: a straight rise "
                          "means exponential growth (each new holder becomes "
                          "an uploader)", title_size=12)
    save(fig, out_dir, "growth.png")


def plot_all(run, out_dir):
    plot_overview(run, out_dir)
    plot_single(lambda ax: figures.draw_completion_cdf(ax, [run]), out_dir,
                "completion_cdf.png")
    plot_single(lambda ax: figures.draw_population(ax, [run]), out_dir,
                "population.png")
    plot_single(lambda ax: figures.draw_utilization(ax, [run]), out_dir,
                "upload_utilization.png")
    plot_availability(run, out_dir)
    plot_classes(run, out_dir)
    plot_growth(run, out_dir)


def main():
    parser = argparse.ArgumentParser(
        description="Plot a swarmlab result folder (PNGs written into it).")
    parser.add_argument("result_dir")
    parser.add_argument("--out", help="write the PNGs here instead "
                        "(default: into RESULT_DIR)")
    parser.add_argument("--quiet", action="store_true",
                        help="do not list the files written")
    figures.add_output_options(parser)
    args = parser.parse_args()
    figures.set_output(args)
    run = resultdir.load(args.result_dir)
    out = args.out or args.result_dir
    os.makedirs(out, exist_ok=True)
    plot_all(run, out)
    if not args.quiet:
        paths = (os.path.join(out, figures.out_name(o)) for o in OUTPUTS)
        print(f"plots: {', '.join(paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(resultdir.run_cli(main))
