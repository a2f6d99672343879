#!/usr/bin/python3
"""Compares several swarmlab result folders: overlaid figures and a table.

Usage: compare.py DIR DIR... [--labels a,b,c] [--out OUTDIR]

Writes into OUTDIR (default results/comparison, beside sim's own result
folders): compare_overview.png (the four
panels below on one page), compare_completion_cdf.png, compare_population.png,
compare_entropy.png, compare_min_availability.png (on the overview only the
CDF's legend names the runs: one colour per run throughout), and the key
metrics per run as compare.md (Markdown table) and compare.csv; the table is
also printed. Its time averages (upload util, entropy, min copies) cover the
same window in every run: from 0 to the end of the shortest run (its last
timeline sample with a leecher present), so that a run's long tail does not
weigh on its mean alone (a dotted line marks the window's end on the
evenness panels); compare.csv also gives each run's whole-run averages.
Upload util is the mean of timeline.csv's interval utilisation
(upload_utilization_mean); for result folders written before that column
existed, of the instantaneous samples (upload_utilization), which compare.md
then says.
When a run has more than one leecher class (contributors and free-riders,
fast and slow peers) a second table gives each class's download times, one
row block per class with a row per run; compare_classes.csv has it for every
run, one leecher class or several.
Typical use: rarest-first vs random vs sequential, tit-for-tat vs round-robin.
Exit codes: 0 ok, 2 bad arguments or a folder that is not a result, 3
matplotlib or numpy missing.
"""

import argparse
import csv
import os
import sys

import resultdir

resultdir.require_matplotlib()
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is set)
import figures  # noqa: E402

# (metric key, column title, kind) in table order.
COLUMNS = (
    ("label", "run", "text"),
    ("scenario", "scenario", "text"),
    ("seed", "random seed", "text"),
    ("completed", "done", "count"),
    ("leechers", "leechers", "count"),
    ("mean_completion_s", "mean dl (s)", "num"),
    ("median_completion_s", "median dl (s)", "num"),
    ("p90_completion_s", "p90 dl (s)", "num"),
    ("makespan_s", "makespan (s)", "num"),
    ("kumar_ross_s", "K-R bound (s)", "num"),
    ("efficiency", "efficiency", "ratio"),  # 0.433, as sim and summary.json
    ("window_mean_upload_utilization", "upload util", "frac"),
    ("window_mean_availability_entropy", "entropy", "ratio"),
    ("window_mean_availability_min", "min copies", "num"),
)
# Time-averaged columns: their titles in the tables name the window.
WINDOWED = {k for k, _, _ in COLUMNS if k.startswith("window_")}
# Only in compare.csv, after COLUMNS: the window's end, each run's
# averages over its own span (what the table showed before 2026-11-27) and
# the timeline column its upload util comes from
# (resultdir.utilization_source()).
CSV_EXTRA = ("window_end_s", "whole_run_mean_upload_utilization",
             "whole_run_mean_availability_entropy",
             "whole_run_mean_availability_min", "upload_utilization_from")


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


def common_window_s(runs):
    """End of the window the table's time averages cover: the earliest of
    the runs' last samples with a leecher present, i.e. while every run
    still had leechers (runs that never had one are left out); None when
    no run had any."""
    ends = [resultdir.active_end_s(r) for r in runs
            if resultdir.time_during_run(r).any()]
    return min(ends) if ends else None


def table_rows(runs, labels):
    window = common_window_s(runs)
    rows = []
    for run, label in zip(runs, labels):
        m = resultdir.key_metrics(run)
        m["label"] = label
        for c, v in resultdir.time_averages(run, window).items():
            m["window_mean_" + c] = v
            m["whole_run_mean_" + c] = m.pop("mean_" + c)
        m["window_end_s"] = window
        rows.append(m)
    return rows


def titles(rows):
    """Column titles; the time-averaged ones say over which window."""
    window = rows[0]["window_end_s"] if rows else None
    span = "" if window is None else f" 0–{window:.0f} s"
    return [t + span if k in WINDOWED else t for k, t, _ in COLUMNS]


def text_table(rows):
    """Fixed-width text table (what is printed on stdout)."""
    return fixed_width(COLUMNS, rows, titles(rows))


def caveats(runs, labels, rows):
    """Warnings about numbers in the table that do not compare like with
    like; one line each, empty when there is nothing to say."""
    notes = []
    names = sorted({r["scenario"] for r in rows})
    if len(names) > 1:
        notes.append("the runs are of different scenarios "
                     f"({', '.join(names)}): compare their numbers with care")
    spans = [resultdir.active_end_s(r) for r in runs]
    if min(spans) > 0 and max(spans) > 1.1 * min(spans):
        short = labels[spans.index(min(spans))]
        long = labels[spans.index(max(spans))]
        notes.append(
            f"leechers were present for {min(spans):.0f} s ({short}) to "
            f"{max(spans):.0f} s ({long}): upload util, entropy and min copies "
            f"cover only the first {min(spans):.0f} s of every run; averages "
            "over each run's own span are in compare.csv (whole_run_*), "
            "but they do not compare like with like")
    spread = [l for run, l in zip(runs, labels)
              if not resultdir.is_flash_crowd(run)]
    if spread:
        notes.append(f"leechers of {', '.join(spread)} kept arriving, not a "
                     f"flash crowd ({resultdir.NOT_FLASH_CROWD_RULE}): "
                     "efficiency n/a, the makespan measures the arrivals")
    partial = [f"{r['label']} {r['completed']} of {r['leechers']}"
               for r in rows if isinstance(r["completed"], int)
               and isinstance(r["leechers"], int)
               and r["completed"] < r["leechers"]]
    if partial:
        notes.append("not every leecher finished (" + ", ".join(partial) +
                     "): dl times are over those that did")
    old = sampled_labels(rows)
    if old and len(old) < len(rows):
        notes.append(f"upload util of {', '.join(old)} averages instantaneous "
                     "samples (folder written before timeline.csv had "
                     "upload_utilization_mean), the others' the interval "
                     "means: the two can differ by several points")
    return notes


def sampled_labels(rows):
    """Labels of the runs whose upload util is a mean of instantaneous
    samples (their folders predate upload_utilization_mean)."""
    return [r["label"] for r in rows
            if r["upload_utilization_from"] == "upload_utilization"]


def utilization_text(rows):
    """Where the upload util column comes from, for the table's notes."""
    old = sampled_labels(rows)
    interval = ("the share of the peers' upload capacity used over each "
                "timeline interval (timeline.csv's upload_utilization_mean: "
                "bytes moved / capacity × interval length), averaged with "
                "the intervals' lengths as weights")
    sampled = ("the mean of timeline.csv's instantaneous upload_utilization "
               "samples (the share in use at each sample instant)")
    if not old:
        return f"upload util is {interval}"
    if len(old) == len(rows):
        return (f"upload util is {sampled}: these result folders were "
                "written before timeline.csv had upload_utilization_mean")
    return (f"upload util is {interval}; for {', '.join(old)} (written "
            f"before that column existed) it is {sampled}")


# The per-class table: (key, title, kind), one row per (class, run).
CLASS_COLUMNS = (
    ("class", "class", "text"),
    ("label", "run", "text"),
    ("completed", "done", "count"),
    ("leechers", "leechers", "count"),
    ("mean_completion_s", "mean dl (s)", "num"),
    ("median_completion_s", "median dl (s)", "num"),
)


def class_rows(runs, labels):
    """resultdir.class_metrics() of every run, grouped by class (classes in
    order of first appearance over the runs, runs in the given order), so
    that the runs' numbers for one class sit together."""
    per_run = [resultdir.class_metrics(r) for r in runs]
    order = []
    for ms in per_run:
        order += [m["class"] for m in ms if m["class"] not in order]
    rows = []
    for c in order:
        for ms, label in zip(per_run, labels):
            rows += [dict(m, label=label) for m in ms if m["class"] == c]
    return rows


def show_classes(rows):
    """The per-class table is shown only when some run has more than one
    leecher class: with one, it would repeat the main table."""
    per_label = {}
    for r in rows:
        per_label[r["label"]] = per_label.get(r["label"], 0) + 1
    return any(n > 1 for n in per_label.values())


def fixed_width(columns, rows, head=None):
    """Rows as a fixed-width text table, text columns left-aligned."""
    grid = [head or [t for _, t, _ in columns]]
    grid += [[cell(r[k], kind) for k, _, kind in columns] for r in rows]
    widths = [max(len(g[i]) for g in grid) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) if kind == "text" else c.rjust(w)
                       for c, w, (_, _, kind) in zip(g, widths, columns))
             for g in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def markdown_grid(columns, rows, head=None):
    head = head or [t for _, t, _ in columns]
    out = "| " + " | ".join(head) + " |\n"
    out += "|" + "|".join("---" if kind == "text" else "--:"
                          for _, _, kind in columns) + "|\n"
    out += "".join("| " + " | ".join(cell(r[k], kind)
                                     for k, _, kind in columns) + " |\n"
                   for r in rows)
    return out


def class_tables(rows):
    """(Markdown, text) of the per-class table, or ("", "") when every run
    has one leecher class."""
    if not show_classes(rows):
        return "", ""
    what = ("Per leecher class (dl over the class's leechers that "
            "finished; leechers = those that joined):")
    return (f"\n**{what}**\n\n" + markdown_grid(CLASS_COLUMNS, rows),
            f"\n{what}\n" + fixed_width(CLASS_COLUMNS, rows))


def write_class_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        keys = ["label"] + [k for k, _, _ in CLASS_COLUMNS if k != "label"]
        w.writerow(keys)
        for r in rows:
            w.writerow(["" if r[k] is None else r[k] for k in keys])


def window_text(rows):
    """What the time-averaged columns cover, for the table's notes."""
    window = rows[0]["window_end_s"] if rows else None
    if window is None:
        return ("upload util, entropy and min copies are n/a: no timeline "
                "sample had a leecher present")
    return (f"upload util, entropy and min copies are time averages over "
            f"0–{window:.0f} s, while every run still had leechers (to the "
            "last sample of the shortest run with one present), over the "
            "samples with at least one leecher")


def markdown_table(rows):
    notes = ("\ndl = download time (completion − join) of leechers; "
             f"efficiency = Kumar–Ross bound / makespan; {window_text(rows)}; "
             f"{utilization_text(rows)}.\n")
    return markdown_grid(COLUMNS, rows, titles(rows)) + notes


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        keys = [k for k, _, _ in COLUMNS] + list(CSV_EXTRA)
        w.writerow(keys)
        for r in rows:
            w.writerow(["" if r[k] is None else r[k] for k in keys])


def save(fig, out, name):
    figures.save(fig, os.path.join(out, figures.out_name(name)))
    plt.close(fig)


def mark_window(ax, runs):
    """A dotted line where the table's time averages end, on the evenness
    panels, when some run goes on after it (else it marks nothing)."""
    window = common_window_s(runs)
    if window is None or max(resultdir.active_end_s(r) for r in runs) <= \
            1.02 * window:
        return
    div, _ = figures._timeline_unit(runs)
    line = ax.axvline(window / div, color="0.35", ls=":", lw=1.4, zorder=1,
                      label=f"table: 0–{window:.0f} s (its averages' span)")
    # Named in the legend, which "best" keeps off the curves: a label
    # beside the line, near the bottom, overlapped the curves of
    # piece_selection.yaml's runs.
    ax.legend(handles=None if ax.get_legend() else [line], loc="best")


def plot_all(runs, labels, out):
    title = "Comparison: " + " vs ".join(labels)
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.2))
    # The CDF's legend names the runs; the other panels use the same
    # colours, so repeating it would only cover their curves.
    figures.draw_completion_cdf(axes[0][0], runs, labels)
    figures.draw_population(axes[0][1], runs, labels, run_legend=False)
    figures.draw_entropy(axes[1][0], runs, labels, run_legend=False)
    figures.draw_min_availability(axes[1][1], runs, labels, run_legend=False)
    mark_window(axes[1][0], runs)
    mark_window(axes[1][1], runs)
    figures.place_heading(fig, "\n".join(figures.wrap_evenly(title, 110)))
    save(fig, out, "compare_overview.png")
    for name, draw in (
            ("compare_completion_cdf.png", figures.draw_completion_cdf),
            ("compare_population.png", figures.draw_population),
            ("compare_entropy.png", figures.draw_entropy),
            ("compare_min_availability.png", figures.draw_min_availability)):
        fig, ax = plt.subplots(figsize=(8.5, 5.2))
        draw(ax, runs, labels)
        if draw in (figures.draw_entropy, figures.draw_min_availability):
            mark_window(ax, runs)
        fig.tight_layout()
        save(fig, out, name)


def main():
    parser = argparse.ArgumentParser(
        description="Overlay the key figures of several swarmlab result "
                    "folders and tabulate their metrics.")
    parser.add_argument("dirs", nargs="+", metavar="DIR")
    parser.add_argument("--labels", help="comma-separated, one per DIR "
                        "(default: folder names)")
    parser.add_argument("--out", default=os.path.join("results", "comparison"),
                        help="output folder (default: results/comparison)")
    figures.add_output_options(parser)
    args = parser.parse_args()
    figures.set_output(args)
    labels = parse_labels(args.labels, args.dirs)
    runs = [resultdir.load(d) for d in args.dirs]
    os.makedirs(args.out, exist_ok=True)
    rows = table_rows(runs, labels)
    classes = class_rows(runs, labels)
    class_md, class_text = class_tables(classes)
    notes = caveats(runs, labels, rows)
    with open(os.path.join(args.out, "compare.md"), "w") as f:
        f.write(markdown_table(rows))
        f.write("".join(f"\n**Note:** {n}.\n" for n in notes))
        f.write(class_md)
    write_csv(rows, os.path.join(args.out, "compare.csv"))
    write_class_csv(classes, os.path.join(args.out, "compare_classes.csv"))
    plot_all(runs, labels, args.out)
    sys.stdout.write(text_table(rows))
    for n in notes:
        print(f"note: {n}")
    sys.stdout.write(class_text)
    print(f"figures and table written to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(resultdir.run_cli(main))
