#!/usr/bin/python3
"""Compares several swarmlab result folders: overlaid figures and a table.

Usage: compare.py DIR DIR... [--labels a,b,c] [--out OUTDIR]

Writes into OUTDIR (default ./comparison): compare_overview.png (the four
panels below on one page), compare_completion_cdf.png, compare_population.png,
compare_entropy.png, compare_min_availability.png (on the overview only the
CDF's legend names the runs: one colour per run throughout), and the key
metrics per run as compare.md (Markdown table) and compare.csv; the table is
also printed.
Typical use: rarest-first vs random vs sequential, tit-for-tat vs round-robin.
Exit codes: 0 ok, 2 bad arguments or a folder that is not a result, 3
matplotlib or numpy missing.
"""

import argparse
import csv
import os
import sys
import textwrap

import resultdir

resultdir.require_matplotlib()
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is set)
import figures  # noqa: E402

# (metric key, column title, kind) in table order.
COLUMNS = (
    ("label", "run", "text"),
    ("scenario", "scenario", "text"),
    ("seed", "seed", "text"),
    ("completed", "done", "count"),
    ("leechers", "leechers", "count"),
    ("mean_completion_s", "mean dl (s)", "num"),
    ("median_completion_s", "median dl (s)", "num"),
    ("p90_completion_s", "p90 dl (s)", "num"),
    ("makespan_s", "makespan (s)", "num"),
    ("kumar_ross_s", "K-R bound (s)", "num"),
    ("efficiency", "efficiency", "frac"),
    ("mean_upload_utilization", "upload util", "frac"),
    ("mean_availability_entropy", "entropy", "ratio"),
    ("mean_availability_min", "min copies", "num"),
)


def default_labels(paths):
    """Folder names; the full given path where two folder names collide.
    Parts of sweep run names (KEY=VALUE__KEY=VALUE__seed=N) that every
    folder shares are left out: `seed=1` of four seed-1 runs says nothing."""
    names = [os.path.basename(os.path.normpath(p)) for p in paths]
    labels = [n if names.count(n) == 1 else os.path.normpath(p)
              for n, p in zip(names, paths)]
    parts = [l.split("__") for l in labels]
    shared = set.intersection(*(set(p) for p in parts)) if parts else set()
    short = ["__".join(x for x in p if x not in shared) for p in parts]
    if len(paths) > 1 and all(short) and len(set(short)) == len(short):
        return short
    return labels



def parse_labels(text, paths):
    if text is None:
        return default_labels(paths)
    labels = [l.strip() for l in text.split(",")]
    if len(labels) != len(paths) or not all(labels):
        raise resultdir.ResultError(
            f"--labels: got {len(labels)} label(s) for {len(paths)} folder(s); "
            "give one non-empty label per folder, separated by commas")
    return labels


def cell(value, kind):
    if value is None:
        return "n/a"
    if kind == "num":
        return f"{value:.1f}"
    if kind == "frac":
        return f"{value:.0%}"
    if kind == "ratio":
        return f"{value:.3f}"
    return str(value)


def table_rows(runs, labels):
    rows = []
    for run, label in zip(runs, labels):
        m = resultdir.key_metrics(run)
        m["label"] = label
        rows.append(m)
    return rows


def text_table(rows):
    """Fixed-width text table (what is printed on stdout)."""
    grid = [[title for _, title, _ in COLUMNS]]
    grid += [[cell(r[k], kind) for k, _, kind in COLUMNS] for r in rows]
    widths = [max(len(g[i]) for g in grid) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(g, widths)))
             for g in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def active_span_s(run):
    """Time of the last timeline sample with a leecher present (the stretch
    the time averages of key_metrics() cover)."""
    active = resultdir.time_during_run(run)
    t = run.timeline["time_s"]
    return float(t[active].max()) if active.any() else 0.0


def caveats(runs, labels, rows):
    """Warnings about numbers in the table that do not compare like with
    like; one line each, empty when there is nothing to say."""
    notes = []
    names = sorted({r["scenario"] for r in rows})
    if len(names) > 1:
        notes.append("the runs are of different scenarios "
                     f"({', '.join(names)}): compare their numbers with care")
    spans = [active_span_s(r) for r in runs]
    if min(spans) > 0 and max(spans) > 1.1 * min(spans):
        short = labels[spans.index(min(spans))]
        long = labels[spans.index(max(spans))]
        notes.append(
            f"leechers were present for {min(spans):.0f} s ({short}) to "
            f"{max(spans):.0f} s ({long}): upload util, entropy and min copies "
            "average each run over its own span, not over the same period "
            "(compare the curves instead)")
    spread = [l for run, l in zip(runs, labels)
              if not resultdir.is_flash_crowd(run)]
    if spread:
        notes.append(f"leechers of {', '.join(spread)} kept arriving over "
                     "most of the run (not a flash crowd): efficiency n/a, "
                     "the makespan measures the arrivals")
    partial = [f"{r['label']} {r['completed']} of {r['leechers']}"
               for r in rows if isinstance(r["completed"], int)
               and isinstance(r["leechers"], int)
               and r["completed"] < r["leechers"]]
    if partial:
        notes.append("not every leecher finished (" + ", ".join(partial) +
                     "): dl times are over those that did")
    return notes


def markdown_table(rows):
    head = "| " + " | ".join(t for _, t, _ in COLUMNS) + " |\n"
    rule = "|" + "|".join("---" if kind == "text" else "--:"
                          for _, _, kind in COLUMNS) + "|\n"
    body = "".join("| " + " | ".join(cell(r[k], kind) for k, _, kind in COLUMNS)
                   + " |\n" for r in rows)
    notes = ("\ndl = download time (completion − join) of leechers; "
             "efficiency = Kumar–Ross bound / makespan; upload util, entropy "
             "and min copies are time averages while leechers are present.\n")
    return head + rule + body + notes


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([k for k, _, _ in COLUMNS])
        for r in rows:
            w.writerow(["" if r[k] is None else r[k] for k, _, _ in COLUMNS])


def save(fig, out, name):
    fig.savefig(os.path.join(out, name), bbox_inches="tight")
    plt.close(fig)


def plot_all(runs, labels, out):
    title = "Comparison: " + " vs ".join(labels)
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.2))
    # The CDF's legend names the runs; the other panels use the same
    # colours, so repeating it would only cover their curves.
    figures.draw_completion_cdf(axes[0][0], runs, labels)
    figures.draw_population(axes[0][1], runs, labels, run_legend=False)
    figures.draw_entropy(axes[1][0], runs, labels, run_legend=False)
    figures.draw_min_availability(axes[1][1], runs, labels, run_legend=False)
    title = textwrap.wrap(title, 110)
    fig.suptitle("\n".join(title), fontsize=14, fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 0.985 - 0.025 * len(title)))
    save(fig, out, "compare_overview.png")
    for name, draw in (
            ("compare_completion_cdf.png", figures.draw_completion_cdf),
            ("compare_population.png", figures.draw_population),
            ("compare_entropy.png", figures.draw_entropy),
            ("compare_min_availability.png", figures.draw_min_availability)):
        fig, ax = plt.subplots(figsize=(8.5, 5.2))
        draw(ax, runs, labels)
        fig.tight_layout()
        save(fig, out, name)


def main():
    parser = argparse.ArgumentParser(
        description="Overlay the key figures of several swarmlab result "
                    "folders and tabulate their metrics.")
    parser.add_argument("dirs", nargs="+", metavar="DIR")
    parser.add_argument("--labels", help="comma-separated, one per DIR "
                        "(default: folder names)")
    parser.add_argument("--out", default="comparison",
                        help="output folder (default: ./comparison)")
    args = parser.parse_args()
    labels = parse_labels(args.labels, args.dirs)
    runs = [resultdir.load(d) for d in args.dirs]
    os.makedirs(args.out, exist_ok=True)
    rows = table_rows(runs, labels)
    notes = caveats(runs, labels, rows)
    with open(os.path.join(args.out, "compare.md"), "w") as f:
        f.write(markdown_table(rows))
        f.write("".join(f"\n**Note:** {n}.\n" for n in notes))
    write_csv(rows, os.path.join(args.out, "compare.csv"))
    plot_all(runs, labels, args.out)
    sys.stdout.write(text_table(rows))
    for n in notes:
        print(f"note: {n}")
    print(f"figures and table written to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(resultdir.run_cli(main))
