"""Drawing functions shared by plot_run.py and compare.py.

Each `draw_*` function draws one kind of panel onto a matplotlib Axes for one
or several loaded results (resultdir.Result), so a single run and an overlay
of runs look the same. With one run, series are told apart by colour; with
several, each run has a colour and series are told apart by line style.

REQUIRES: resultdir.require_matplotlib() was called (Agg backend).
"""

import math
import os
import re
import textwrap

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import resultdir
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import LogFormatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation

MIB = 2 ** 20


class CountLogFormatter(LogFormatter):
    """LogFormatter for an axis of peer counts: no label below 1 (on an
    axis from 0.8 to 2, a run with one leecher, the minor tick at 0.9 read
    "9e-01")."""

    def __call__(self, x, pos=None):
        return super().__call__(x, pos) if x >= 1 else ""

# Colours from the Okabe–Ito palette (safe for colour-blind viewers), each
# with one meaning in every figure: blue leechers, bluish green seeds,
# vermillion bounds, orange upload (draw_utilization, the "uploaded" bars),
# black the rarest piece, reddish purple the mean copies. Runs and peer
# classes take RUN_COLORS, which leave out orange and vermillion: orange was
# class "open" in one panel of class_ratio.png and "uploaded" in the next.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9",
             "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00",
             "reddish_purple": "#CC79A7", "black": "#000000"}
LEECHER_COLOR = OKABE_ITO["blue"]
SEED_COLOR = OKABE_ITO["bluish_green"]
DONE_COLOR = "0.1"
BOUND_COLOR = OKABE_ITO["vermillion"]
UPLOAD_COLOR = "tab:orange"     # draw_utilization's, and "uploaded"
DOWNLOAD_COLOR = OKABE_ITO["sky_blue"]
RAREST_COLOR = OKABE_ITO["black"]
MEAN_COPIES_COLOR = OKABE_ITO["reddish_purple"]
ENTROPY_COLOR = OKABE_ITO["sky_blue"]
# A fourth run drawn in red was indistinguishable from the Kumar–Ross line:
# no run colour is close to BOUND_COLOR or UPLOAD_COLOR.
RUN_COLORS = (OKABE_ITO["blue"], OKABE_ITO["reddish_purple"],
              OKABE_ITO["bluish_green"], OKABE_ITO["black"],
              OKABE_ITO["sky_blue"], "#8C564B", OKABE_ITO["yellow"], "0.55",
              "#BCBD22")

# Titles and legends carry text from the user (scenario names, folder
# names, --set values), which may hold "$": matplotlib would read it as
# mathematical notation and fail on an unbalanced one. No figure uses it
# (the log axis of draw_growth is given plain tick labels).
plt.rcParams.update({
    "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10,
    "axes.titlesize": 11.5, "axes.titleweight": "bold", "axes.grid": True,
    "grid.alpha": 0.3, "legend.fontsize": 9, "legend.framealpha": 0.9,
    "text.parse_math": False,
})


def time_unit(max_s):
    """(divisor, unit) that keeps a time axis in a readable range."""
    if (not max_s or not math.isfinite(max_s)
            or max_s <= resultdir.TIME_IN_SECONDS_UP_TO):
        return 1.0, "s"
    if max_s <= 5 * 3600:
        return 60.0, "min"
    return 3600.0, "h"


def fmt_duration(s):
    """'830.6 s', '13.8 min' or '2.50 h'."""
    if s is None or not math.isfinite(s):
        return "n/a"
    div, unit = time_unit(s)
    if unit == "s":
        return f"{s:.1f} s"
    return f"{s / div:.{1 if unit == 'min' else 2}f} {unit}"


def fmt_in(s, div):
    """Seconds shown in the unit of an axis scaled by div, e.g. '8.2 min
    (489 s)'; plain seconds when the axis is in seconds."""
    unit = {1.0: "s", 60.0: "min", 3600.0: "h"}[div]
    if unit == "s":
        return f"{s:.1f} s"
    return f"{s / div:.{1 if unit == 'min' else 2}f} {unit} ({s:.0f} s)"


def _break_cost(word, width):
    """What ending a line after `word` costs wrap_evenly(), in its unit
    (squared characters): nothing after a "; ", a little after a ", ", more
    at any other space, so that a line ends at a phrase's end unless that
    makes the lines clearly less even."""
    if word.endswith(";"):
        return 0.0
    if word.endswith(","):
        return width * width / 200
    return width * width / 50


def wrap_evenly(text, width):
    """`text` in lines of at most `width` characters: as few lines as a
    wrap at spaces needs, and of lengths as even as that number allows
    (least sum of squared line lengths, plus _break_cost() for each break),
    so that no line is left with a word or two; textwrap fills every line
    but the last, whatever is left over goes there ("(efficiency" / "50%)").
    Breaks only at spaces; a word longer than `width` is cut."""
    words = []
    for w in text.split():
        words += [w[i:i + width] for i in range(0, len(w), width)]
    if not words:
        return []
    count = 1                          # greedy: the fewest lines possible
    used = len(words[0])
    for w in words[1:]:
        if used + 1 + len(w) <= width:
            used += 1 + len(w)
        else:
            count, used = count + 1, len(w)
    n = len(words)
    # cost[k][i]: the least cost of words[:i] in k lines; back[k][i] where
    # the last of those lines starts.
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for k in range(1, count + 1):
        for i in range(1, n + 1):
            length = -1
            for j in range(i - 1, -1, -1):      # the line is words[j:i]
                length += len(words[j]) + 1
                if length > width:
                    break
                if cost[k - 1][j] == inf:
                    continue
                c = cost[k - 1][j] + length * length
                if i < n:
                    c += _break_cost(words[i - 1], width)
                if c < cost[k][i]:
                    cost[k][i], back[k][i] = c, j
    lines, i = [], n
    for k in range(count, 0, -1):
        j = back[k][i]
        lines.append(" ".join(words[j:i]))
        i = j
    return lines[::-1]


def place_heading(fig, title, subtitle=(), title_size=14):
    """Writes `title` (bold; lines split by newlines) at the top of `fig`
    and the `subtitle` lines (italic, smaller) right under it, then lays
    the axes out below them: replaces fig.tight_layout() for a figure with
    a heading. Where the text ends is measured, not reckoned per line, and
    the title is kept out of tight_layout's own accounting (which made
    room for it a second time: an empty band of ~0.07 of the figure's
    height under a two-line title), so the panels start a tight_layout pad
    below the text however many lines it has."""
    renderer = fig.canvas.get_renderer()
    to_fig = fig.transFigure.inverted()
    gap = 4 / 72 / fig.get_figheight()    # 4 points, as a figure fraction
    head = fig.suptitle(title, fontsize=title_size, fontweight="bold",
                        y=0.995, va="top")
    bottom = to_fig.transform_bbox(head.get_window_extent(renderer)).y0
    if subtitle:
        sub = fig.text(0.5, bottom - gap, "\n".join(subtitle), ha="center",
                       va="top", fontsize=10, style="italic", color="0.25")
        bottom = to_fig.transform_bbox(sub.get_window_extent(renderer)).y0
    # Out of the layout only while tight_layout runs: savefig's
    # bbox_inches="tight" leaves out what is not in the layout.
    head.set_in_layout(False)
    fig.tight_layout(rect=(0, 0, 1, bottom - gap))
    head.set_in_layout(True)


def legend_label(text, width=30):
    """A run's label for a legend, wrapped so that the legend stays narrower
    than its panel. Sweep run names have no spaces: they break after a
    space or '__' (between KEY=VALUE parts), a part longer than the width
    also after its '=', and only what is still too long is cut inside."""
    parts = []
    for part in re.split(r"(?<=__)|(?<= )", text):
        parts += re.split(r"(?<==)", part) if len(part) > width else [part]
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part.rstrip()) > width:
            lines.append("")
        lines[-1] += part
    out = []
    for line in lines:
        out += textwrap.wrap(line, width, break_on_hyphens=False) or [""]
    return "\n".join(out)


# Output options of plot_run.py, compare.py and plot_sweep.py (--style,
# --format): set by set_output(), used by save().
OUTPUT = {"style": "default", "format": "png"}
# --style talk: every text this much larger, saved at TALK_DPI; on a page
# of more than two panels (the overviews) only TALK_PAGE_FONT_SCALE, or the
# panels' labels run into each other.
TALK_FONT_SCALE, TALK_PAGE_FONT_SCALE, TALK_DPI = 1.5, 1.25, 150


def add_output_options(parser):
    """--style and --format on an argparse parser."""
    parser.add_argument("--style", choices=("default", "talk"),
                        default="default",
                        help="talk: text 1.5x larger (1.25x on the "
                        "four-panel overviews) and 150 dpi, for a projector")
    parser.add_argument("--format", choices=("png", "svg"), default="png",
                        help="file format of the figures (default png; svg "
                        "scales without blur)")


def set_output(args):
    OUTPUT.update(style=args.style, format=args.format)


def out_name(name):
    """A figure's file name in the chosen --format (overview.png ->
    overview.svg); names of other kinds unchanged."""
    base, ext = os.path.splitext(name)
    return f"{base}.{OUTPUT['format']}" if ext == ".png" else name


def save(fig, path):
    """fig.savefig(path, bbox_inches="tight"), with --style talk's larger
    text and dpi (the default output is what it always was)."""
    if OUTPUT["style"] != "talk":
        fig.savefig(path, bbox_inches="tight")
        return
    panels = sum(1 for ax in fig.axes if ax.get_title())
    _scale_text(fig, TALK_FONT_SCALE if panels <= 2 else TALK_PAGE_FONT_SCALE)
    fig.savefig(path, bbox_inches="tight", dpi=TALK_DPI)


def _scale_text(fig, factor):
    """Every text of fig `factor` times larger: titles, labels, legends,
    notes and the tick labels (set per axis: matplotlib makes new ticks
    from the axis' settings when it draws)."""
    ticks = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            major = axis.get_major_ticks()
            size = (major[0].label1.get_fontsize() if major
                    else plt.rcParams["xtick.labelsize"])
            if not isinstance(size, (int, float)):
                size = matplotlib.font_manager.FontProperties(
                    size=size).get_size_in_points()
            ticks.append((axis, size))
    for text in fig.findobj(matplotlib.text.Text):
        text.set_fontsize(text.get_fontsize() * factor)
    for axis, size in ticks:
        axis.set_tick_params(labelsize=size * factor)
    if fig.get_layout_engine() is None:
        try:
            fig.tight_layout(rect=_suptitle_rect(fig))
        except (ValueError, RuntimeError):
            pass


def _suptitle_rect(fig):
    """Room at the top for the figure's suptitle and texts above the axes
    (the overview's subtitle): the rect of tight_layout()."""
    top = 1.0
    renderer = fig.canvas.get_renderer()
    axes_top = max((ax.get_position().y1 for ax in fig.axes), default=1.0)
    for text in fig.texts:
        if not text.get_text():
            continue
        box = text.get_window_extent(renderer).transformed(
            fig.transFigure.inverted())
        if box.y0 >= axes_top - 0.02:
            top = min(top, box.y0 - 0.01)
    if fig._suptitle is not None and fig._suptitle.get_text():
        box = fig._suptitle.get_window_extent(renderer).transformed(
            fig.transFigure.inverted())
        top = min(top, box.y0 - 0.01)
    return (0, 0, 1, max(top, 0.5))


def run_color(i):
    return RUN_COLORS[i % len(RUN_COLORS)]


def time_label(runs):
    """Axis name for time: simulated, wall-clock (swarm run-scenario) or both."""
    modes = {r.summary.get("mode", "sim") for r in runs}
    if modes == {"real"}:
        return "wall-clock time since start"
    return "simulated time" if modes <= {"sim"} else "time since start"


def _timeline_unit(runs):
    return time_unit(max(float(r.timeline["time_s"].max()) for r in runs))


def _download_times(run):
    """Sorted download times of leechers that completed, and #leechers."""
    dt = run.peers.download_time_s[run.peers.leecher]
    return np.sort(dt[np.isfinite(dt)]), int(run.peers.leecher.sum())


def draw_completion_cdf(ax, runs, labels=None):
    """CDF of download time (completion - join) with the Kumar-Ross bound."""
    data = [_download_times(r) for r in runs]
    flash = [resultdir.is_flash_crowd(r) for r in runs]
    fluid_t = _fluid_download_time(runs[0]) if len(runs) == 1 else None
    longest = max([d[-1] for d, _ in data if d.size] +
                  [r.kumar_ross_s or 0 for r, f in zip(runs, flash) if f] +
                  [r.piece_granular_s or 0 for r, f in zip(runs, flash) if f] +
                  [fluid_t or 0, 1.0])
    div, unit = time_unit(longest)
    by_class = len(runs) == 1 and len(_leecher_classes(runs[0])) > 1
    for i, (run, (done, n)) in enumerate(zip(runs, data)):
        color = LEECHER_COLOR if len(runs) == 1 else run_color(i)
        label = (f"all leechers ({done.size} of {n} finished)"
                 if len(runs) == 1
                 else legend_label(f"{labels[i]} ({done.size}/{n})"))
        # With one curve per class the whole-swarm curve is dashed: a fourth
        # class gets run_color(3), black, and was drawn as the same solid
        # near-black line (heterogeneous.yaml's dsl, v5_bittyrant's fast).
        _step_cdf(ax, done, n, div, color="0.15" if by_class else color,
                  ls="--" if by_class else "-", lw=2.2, label=label)
    if by_class:
        _draw_class_cdfs(ax, runs[0], div)
    _draw_bounds(ax, [r if f else None for r, f in zip(runs, flash)], div,
                 labels)
    if len(runs) == 1 and not flash[0] and runs[0].kumar_ross_s:
        # Say why the bound is missing (students look for it).
        ax.text(0.98, 0.03, "no Kumar–Ross line: "
                f"{resultdir.not_flash_crowd_reason(runs[0])}\n"
                "(it assumes everyone joins at once)",
                transform=ax.transAxes, ha="right", va="bottom",
                fontsize=8.5, color="0.3",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))
    if fluid_t is not None:
        ax.axvline(fluid_t / div, color=BOUND_COLOR, ls="--", lw=1.6,
                   label=f"Qiu–Srikant steady state: mean download\n"
                         f"time {fmt_in(fluid_t, div)} (fluid model)")
    ax.set_xlim(left=0, right=longest / div * 1.05)
    ax.set_ylim(0, 1.04)
    ax.set_xlabel(f"download time: completion − join ({unit})")
    ax.set_ylabel("fraction of leechers finished")
    ax.set_title("How long did peers take to download the file?")
    if len(runs) == 1 and not by_class:
        ax.legend(loc="best")
    else:   # many (long) labels: below the axes, never over the curves
        # (one curve per class left "best" no free corner: nat.yaml's
        # legend hid the top of the connectable class's curve)
        _legend_below(ax)
    if not any(d.size for d, _ in data):
        ax.text(0.5, 0.5, "no leecher completed", transform=ax.transAxes,
                ha="center", va="center", fontsize=12, color="0.3")


def _legend_below(ax, handles=None):
    """The legend of `ax` below it, in two columns, where it covers no
    curve. Anchored a fixed 40 points below the axes, under the tick labels
    and the axis label (a fraction of the axes height overlapped the axis
    label when the panel was short)."""
    below = ax.transAxes + ScaledTranslation(0, -40 / 72,
                                             ax.figure.dpi_scale_trans)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0),
              bbox_transform=below, ncol=2, fontsize=8.5)


def _fluid_download_time(run):
    """The fluid model's steady-state download time, when summary.json has
    it (a steady-state swarm) and it is finite; else None."""
    t = (run.fluid_model or {}).get("download_time_s")
    return float(t) if isinstance(t, (int, float)) and t > 0 else None


def _step_cdf(ax, done, n, div, **style):
    x = np.concatenate([[0.0], done]) / div
    y = np.arange(done.size + 1) / max(n, 1)
    ax.step(x, y, where="post", **style)


def _leecher_classes(run):
    klass = np.array(run.peers.klass)
    return [c for c in run.peers.classes()
            if (run.peers.leecher & (klass == c)).any()]


def _draw_class_cdfs(ax, run, div):
    """One thinner CDF per leecher class, coloured as in class_ratio.png."""
    klass = np.array(run.peers.klass)
    classes = run.peers.classes()
    for c in _leecher_classes(run):
        m = run.peers.leecher & (klass == c)
        dt = run.peers.download_time_s[m]
        done = np.sort(dt[np.isfinite(dt)])
        _step_cdf(ax, done, int(m.sum()), div,
                  color=run_color(classes.index(c)), lw=1.4,
                  label=f"class {c} ({done.size} of {int(m.sum())})")


GROWTH = {
    "first_piece": ("first_piece_s", OKABE_ITO["reddish_purple"],
                    "leechers holding ≥ 1 piece",
                    "Spreading: peers that can upload something",
                    "got a piece"),
    "completion": ("completion_s", SEED_COLOR, "leechers complete",
                   "Finishing: peers that have the whole file", "finished"),
}


def draw_growth(ax, run, which="first_piece"):
    """Cumulative count of leechers reaching a milestone (first piece or
    completion) over time, on a log scale: a straight line is exponential
    growth. The time axis is the run's own clock (simulated time, or
    wall-clock time since the start of a real run), as in every other
    panel, so a moment reads the same here as in population.png or
    timeline.csv. (Until 2026-11-28 it counted from the first leecher's
    join, and said so; in a swarm whose leechers come later than t = 0
    the two plots disagreed.)"""
    column, color, label, title, reached = GROWTH[which]
    p = run.peers
    times = getattr(p, column)
    t = np.sort(times[p.leecher & np.isfinite(times)])
    # Nobody reached it: the axis spans the run (it spanned 0..1 s).
    end = float(run.timeline["time_s"].max()) if len(
        run.timeline["time_s"]) else 1.0
    div, unit = time_unit(float(t[-1]) if t.size else end)
    if t.size:
        ax.step(np.concatenate([[0.0], t]) / div,
                np.concatenate([[0.8], np.arange(1, t.size + 1)]),
                where="post", color=color, lw=2, label=label)
        # Not a fixed corner: late milestones (a flash crowd's completions)
        # start in the bottom right, early ones (first pieces, all within
        # seconds) fill the top left. "best" avoids the curve.
        ax.legend(loc="best")
    else:
        ax.text(0.5, 0.5, f"no leecher {reached} in this run",
                transform=ax.transAxes, ha="center", color="0.3")
    ax.set_yscale("log")
    # The log axis' own formatters write ticks as math text ("10^2"), which
    # is off (see rcParams above): these are their plain-text parents.
    ax.yaxis.set_major_formatter(LogFormatter())
    ax.yaxis.set_minor_formatter(CountLogFormatter(labelOnlyBase=False))
    ax.set_ylim(0.8, max(2.0, int(p.leecher.sum()) * 1.5))
    if t.size or end <= 0:
        ax.set_xlim(left=0)
    else:
        ax.set_xlim(0, end / div)
    ax.set_xlabel(f"{time_label([run])} ({unit})")
    ax.set_ylabel("number of leechers (log scale)")
    ax.set_title(title)


def piece_granular_name(run):
    """What a run's piece-granular value is (docs/theory.md, section 2):
    "piece-granular bound" where no leecher downloads faster than it
    uploads, "piece-granular reference" where one does (the core gathers a
    piece from several senders and can beat it), "piece-granular value" when
    summary.json does not say (written before the flag)."""
    flag = run.piece_granular_is_bound
    if flag is None:
        return "piece-granular value"
    return "piece-granular bound" if flag else "piece-granular reference"


def _draw_bounds(ax, runs, div, labels):
    """One dashed line per distinct Kumar-Ross bound: red when all runs share
    it, else in the colour of the first run having it, naming its runs.
    A None in `runs` is a run whose bound is not drawn."""
    groups = []   # [bound, [run indices]]
    for i, r in enumerate(runs):
        b = r.kumar_ross_s if r is not None else None   # None: not drawn
        if b is None:
            continue
        for g in groups:
            if abs(g[0] - b) <= 1e-6 * max(abs(b), 1.0):
                g[1].append(i)
                break
        else:
            groups.append([b, [i]])
    if len(groups) == 1 and len(groups[0][1]) == len(runs):
        b = groups[0][0]
        ax.axvline(b / div, color=BOUND_COLOR, ls="--", lw=1.6,
                   label=f"Kumar–Ross bound {fmt_in(b, div)}: the earliest\n"
                         "the last peer can finish if all join at once")
        pg = runs[0].piece_granular_s if len(runs) == 1 else None
        if pg is not None:
            ax.axvline(pg / div, color=BOUND_COLOR, ls=":", lw=1.6,
                       label=f"{piece_granular_name(runs[0])} {fmt_in(pg, div)}: "
                             "the same, forwarding\neach piece whole from one sender")
        return
    for b, members in groups:
        names = ", ".join(labels[i] for i in members)
        ax.axvline(b / div, color=run_color(members[0]), ls="--", lw=1.3,
                   label=legend_label(
                       f"Kumar–Ross bound {fmt_in(b, div)} ({names})", 45))


def draw_population(ax, runs, labels=None, run_legend=True):
    """Leechers and seeds present over time (plus completed, for one run).
    run_legend=False leaves the runs' colours out of an overlay's legend
    (a page where another panel's legend names them). The legend goes below
    the axes: inside, no place was free of curves for every scenario (a
    flash crowd's leechers rise at once along the left edge, nat.yaml's
    fill the top left and fall to the bottom right while its seeds climb
    to the top right), and "best" weighs a step line by its data points
    only, not its rises, so it put the legend over the leechers' rise."""
    div, unit = _timeline_unit(runs)
    for i, run in enumerate(runs):
        # Every join, completion and leave from peers.csv, not the
        # timeline's samples: a run stopped early may have only two.
        t, leechers, seeds, _ = resultdir.population(run)
        t = t / div
        if len(runs) == 1:
            ax.plot(t, leechers, color=LEECHER_COLOR, lw=2,
                    ds="steps-post", label="leechers (downloading)")
            ax.plot(t, seeds, color=SEED_COLOR, lw=2, ds="steps-post",
                    label="seeds (have the whole file)")
        else:
            ax.plot(t, leechers, color=run_color(i), lw=1.8,
                    ds="steps-post")
            ax.plot(t, seeds, color=run_color(i), lw=1.4, ls="--",
                    ds="steps-post")
    if len(runs) > 1:
        _style_legend(ax, labels if run_legend else [],
                      [("-", "leechers"), ("--", "seeds")])
    else:
        _draw_fluid_model(ax, runs[0], div)
        _draw_completed(ax, runs[0], div)
    # After every line is drawn: set_ylim fixes the top too, and a line
    # drawn later would be cut off.
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"{time_label(runs)} ({unit})")
    ax.set_ylabel("peers in the swarm")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Who is in the swarm?")


def _draw_fluid_model(ax, run, div):
    """Qiu–Srikant's steady-state leechers and seeds (summary.json's
    fluid_model, present only when the model describes the whole swarm),
    drawn while the modelled class keeps arriving: a steady state needs
    arrivals. The model's seeds count finished leechers only; the timeline's
    also count the permanent seeds, so these are added."""
    f = run.fluid_model
    if not f:
        return
    klass = np.array(run.peers.klass)
    joins = run.peers.join_s[(klass == f.get("class")) &
                             np.isfinite(run.peers.join_s)]
    if joins.size < 2:
        return
    span = np.array([joins.min(), joins.max()]) / div
    x, y = f.get("leechers"), f.get("seeds")
    permanent = int(f.get("permanent_seeds") or 0)
    if isinstance(x, (int, float)):
        ax.plot(span, [x, x], color="navy", ls="--", lw=1.6, zorder=4,
                label=f"Qiu–Srikant steady state:\n{x:.1f} leechers")
    if isinstance(y, (int, float)):
        parts = f"{y:.1f} + {permanent} permanent" if permanent else ""
        ax.plot(span, [y + permanent] * 2, color="darkgreen", ls="--",
                lw=1.6, zorder=4,
                label=f"Qiu–Srikant steady state:\n{y + permanent:.1f} seeds"
                      + (f" ({parts})" if parts else ""))


def _draw_completed(ax, run, div):
    """The cumulative completions of one run, and the legend. When they
    dwarf the peers present (arrivals over a long run: a steady state), they
    go on a right-hand axis, so the populations keep a readable scale."""
    t, leechers, seeds, completed = resultdir.population(run)
    t = t / div
    present = float(np.max(leechers + seeds, initial=0.0))
    done_ax, label = ax, "completed so far (cumulative)"
    twin = float(np.max(completed, initial=0.0)) > 3 * max(present, 1.0)
    if twin:
        done_ax = ax.twinx()
        done_ax.grid(False)
        done_ax.set_ylabel("leechers completed so far")
        done_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        label += ", right axis"
    # Black dots over the lines: in a flash crowd the completed count equals
    # the seeds present, and a grey dotted line under them did not show.
    done_ax.plot(t, completed, color=DONE_COLOR, lw=2.2,
                 ls=(0, (1, 2.2)), ds="steps-post", zorder=5, label=label)
    done_ax.set_ylim(bottom=0)
    handles = ax.get_lines() + (done_ax.get_lines() if twin else [])
    _legend_below(done_ax, handles)


def _style_legend(ax, labels, styles):
    handles = [Line2D([], [], color=run_color(i), lw=2, label=legend_label(l))
               for i, l in enumerate(labels)]
    handles += [Line2D([], [], color="0.2", ls=ls, lw=1.5, label=name)
                for ls, name in styles]
    _legend_below(ax, handles)


def draw_utilization(ax, runs, labels=None):
    """Aggregate upload rate / aggregate upload capacity, in percent: the
    mean over each sample interval (timeline.csv's upload_utilization_mean,
    a step over the interval before each row) as the main curve, and for a
    single run the instantaneous samples faintly behind it when they
    differ. A folder without the mean column (written before 2026-11-27)
    shows its samples as the main curve."""
    div, unit = _timeline_unit(runs)
    for i, run in enumerate(runs):
        t = run.timeline["time_s"] / div
        sample = 100.0 * run.timeline["upload_utilization"]
        mean = run.timeline.get("upload_utilization_mean")
        if mean is None:
            u, ds, what = sample, "default", "sampled at each row"
        else:
            u, ds, what = 100.0 * mean, "steps-pre", "mean over each interval"
        if len(runs) == 1:
            color = "tab:orange"
            if mean is not None and not np.allclose(u, sample, atol=1e-4):
                ax.plot(t, sample, color=color, lw=0.7, alpha=0.45,
                        label="at each sample", zorder=1)
            ax.fill_between(t, u, color=color, alpha=0.25, lw=0,
                            step="pre" if ds == "steps-pre" else None)
            ax.plot(t, u, color=color, lw=1.8, ds=ds, zorder=2, label=what)
        else:
            ax.plot(t, u, color=run_color(i), lw=1.6, ds=ds,
                    label=legend_label(labels[i]))
    ax.set_xlim(left=0)
    # Headroom above 100% for the legend, in one row: at the bottom centre
    # it hid the curve wherever it dipped there (a steady state's swings).
    ax.set_ylim(0, 100 + 12 + 6 * max(0, len(runs) - 1))
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlabel(f"{time_label(runs)} ({unit})")
    ax.set_ylabel("upload used / capacity of present peers (%)")
    ax.set_title("How much of the upload capacity is used?")
    ax.legend(loc="upper center",
              ncol=max(1, min(len(ax.get_legend_handles_labels()[0]), 3)))


# Copies axes are linear up to COPIES_LINEAR and logarithmic above, the
# linear part as tall as COPIES_LINEAR_SCALE decades: 0, 1 and 2 copies of
# the rarest piece (a dying swarm, a piece only the seed holds) sat on the
# x axis of a linear 0–1000 scale.
COPIES_LINEAR, COPIES_LINEAR_SCALE = 10.0, 2.5
COPIES_TICKS = (0, 1, 2, 5, 10, 30, 100, 300, 1000, 3000, 10000, 30000,
                100000)


def copies_axis(ax, top, headroom):
    """A y axis of piece copies up to `top` (at least 1): symlog, linear
    below COPIES_LINEAR, with `headroom` times the top's height above 0
    free for a legend, and plain integer ticks."""
    from matplotlib.scale import SymmetricalLogTransform
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    top = max(float(top), 1.0) if math.isfinite(top) else 1.0
    ax.set_yscale("symlog", linthresh=COPIES_LINEAR,
                  linscale=COPIES_LINEAR_SCALE)
    tr = SymmetricalLogTransform(10, COPIES_LINEAR, COPIES_LINEAR_SCALE)
    high = float(tr.inverted().transform(
        np.array([[tr.transform(np.array([[top]]))[0][0] * headroom]]))[0][0])
    ax.set_ylim(0, high)
    # Ticks stop at the first one at or above the data (within 5 %: a
    # seed and 1000 leechers hold 1001 copies): the headroom is for the
    # legend, and ticks up to 100000 over a swarm of 1000 peers read as
    # if that many copies were possible.
    last = next((v for v in COPIES_TICKS if v >= top / 1.05),
                COPIES_TICKS[-1])
    ax.yaxis.set_major_locator(FixedLocator(
        [v for v in COPIES_TICKS if v <= min(high, last)]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def draw_availability(ax, run, twin=True):
    """Min/mean copies of a piece among present peers; entropy on a twin
    axis (twin=True) or not at all (twin=False, see draw_entropy)."""
    div, unit = _timeline_unit([run])
    t, tl = run.timeline["time_s"] / div, run.timeline
    # The mean wide and pale under the rarest piece: with one piece the two
    # are the same curve, and the mean was hidden.
    h1 = ax.plot(t, tl["availability_mean"], color=MEAN_COPIES_COLOR,
                 lw=4.5, alpha=0.55, zorder=2, label="mean copies per piece")
    h2 = ax.plot(t, tl["availability_min"], color=RAREST_COLOR, lw=1.6,
                 zorder=3, label="copies of the rarest piece (min)")
    ax.set_xlim(left=0)
    top = float(np.nanmax(tl["availability_mean"])) if len(t) else 1.0
    copies_axis(ax, top, 1.45 if twin else 1.2)
    ax.set_xlabel(f"{time_label([run])} ({unit})")
    ax.set_ylabel("copies among present peers")
    ax.set_title("Are all pieces spread evenly?")
    handles = h1 + h2
    if twin:
        ax2 = ax.twinx()
        h3 = ax2.plot(t, tl["availability_entropy"], color=ENTROPY_COLOR,
                      lw=1.6,
                      ls="--", label="evenness: normalised entropy (right axis)")
        ax2.set_ylim(0, 1.45)
        ax2.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax2.set_ylabel("normalised entropy (0 = uneven, 1 = even)")
        ax2.grid(False)
        handles += h3
    ax.legend(handles=handles, loc="upper left", ncol=1 if twin else 2)


def draw_entropy(ax, runs, labels=None, run_legend=True):
    """Normalised availability entropy over time, one line per run;
    run_legend=False: no legend for an overlay (see draw_population)."""
    div, unit = _timeline_unit(runs)
    for i, run in enumerate(runs):
        color = ENTROPY_COLOR if len(runs) == 1 else run_color(i)
        label = ("normalised entropy" if len(runs) == 1
                 else legend_label(labels[i]))
        ax.plot(run.timeline["time_s"] / div,
                run.timeline["availability_entropy"], color=color, lw=1.7,
                label=label)
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"{time_label(runs)} ({unit})")
    ax.set_ylabel("normalised entropy (1 = perfectly even)")
    ax.set_title("Piece availability evenness")
    if run_legend or len(runs) == 1:
        ax.legend(loc="best")


def draw_min_availability(ax, runs, labels, run_legend=True):
    """Copies of the rarest piece over time, one line per run;
    run_legend=False: no legend (see draw_population)."""
    div, unit = _timeline_unit(runs)
    for i, run in enumerate(runs):
        ax.plot(run.timeline["time_s"] / div, run.timeline["availability_min"],
                color=run_color(i), lw=1.7, label=legend_label(labels[i]))
    ax.set_xlim(left=0)
    top = max([float(np.nanmax(r.timeline["availability_min"]))
               for r in runs if len(r.timeline["time_s"])] + [1.0])
    copies_axis(ax, top, 1.2)
    ax.set_xlabel(f"{time_label(runs)} ({unit})")
    ax.set_ylabel("copies of the rarest piece")
    ax.set_title("Rarest piece: how many copies?")
    if run_legend:
        ax.legend(loc="best")


def class_table(run):
    """Per class: (name, count, bytes up, bytes down, per-peer ratios)."""
    p = run.peers
    klass = np.array(p.klass)
    rows = []
    for c in p.classes():
        m = klass == c
        up, down = p.bytes_uploaded[m], p.bytes_downloaded[m]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(down > 0, up / down, np.nan)
        rows.append((c, int(m.sum()), float(up.sum()), float(down.sum()),
                     ratios[np.isfinite(ratios)]))
    return rows


def _peers(count):
    return f"{count} peer" if count == 1 else f"{count} peers"


def draw_class_ratio(ax, run):
    """Bar per class: bytes uploaded / bytes downloaded, peers as dots."""
    rows = class_table(run)
    jitter = np.random.RandomState(0)   # fixed: same picture every time
    top, ticks, notes = 1.0, [], []
    for i, (name, count, up, down, ratios) in enumerate(rows):
        if down <= 0:
            # A class total: say so beside the per-peer panel's numbers.
            notes.append((i, "downloaded nothing\n(uploaded\n"
                          f"{up / MIB:,.0f} MiB"
                          + (" in all)" if count > 1 else ")")))
            ticks.append(f"{name}\n({_peers(count)})\nratio: n/a")
            continue
        ratio = up / down
        ax.bar(i, ratio, width=0.6, color=run_color(i), alpha=0.6)
        if ratios.size > 1:
            x = i + jitter.uniform(-0.2, 0.2, ratios.size)
            ax.scatter(x, ratios, s=8, color="0.15", alpha=0.55, zorder=3,
                       lw=0)
        ticks.append(f"{name}\n({_peers(count)})\nratio: {ratio:.2f}")
        top = max(top, ratio, float(ratios.max()) if ratios.size else 0)
    ax.axhline(1.0, color="0.3", ls=":", lw=1.2,
               label="ratio 1 (gave as much as got)")
    ax.set_xticks(np.arange(len(rows)), ticks)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    # Headroom above the highest dot for the legend, in one row, so that
    # it never hides peers.
    ax.set_ylim(0, top * 1.22)
    # Notes for classes without a ratio go next to the ratio-1 line, on the
    # roomier side of it (the line crossed them when they sat at the bottom).
    above = 1.0 / (top * 1.22) < 0.5
    for i, text in notes:
        ax.annotate(text, (i, 1.0), xytext=(0, 5 if above else -5),
                    textcoords="offset points", ha="center",
                    va="bottom" if above else "top", fontsize=8.5,
                    color="0.25")
    ax.set_ylabel("bytes uploaded / bytes downloaded")
    ax.set_title("Who gave back? Upload/download ratio per class")
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color="0.6", label="whole class (bar)"),
                Line2D([], [], ls="", marker="o", ms=3.5, color="0.15",
                       label="one peer (dot)")]
    ax.legend(handles=handles, loc="upper center", ncol=3, fontsize=8.5)


def draw_class_volume(ax, run):
    """Grouped bars: mean MiB uploaded and downloaded per peer, per class."""
    rows = class_table(run)
    x = np.arange(len(rows))
    up = [r[2] / r[1] / MIB for r in rows]
    down = [r[3] / r[1] / MIB for r in rows]
    bars = ax.bar(x - 0.2, up, 0.4, color=UPLOAD_COLOR, label="uploaded")
    ax.bar_label(bars, fmt="%.0f", fontsize=8.5, padding=2)
    bars = ax.bar(x + 0.2, down, 0.4, color=DOWNLOAD_COLOR,
                  label="downloaded")
    ax.bar_label(bars, fmt="%.0f", fontsize=8.5, padding=2)
    ax.set_xticks(x, [r[0] for r in rows])
    # Headroom for the legend, in one row above the tallest bar and its
    # number ("best" put it over the number when the tallest bars stood at
    # both ends: one seed and one leecher).
    ax.set_ylim(0, max(up + down + [1.0]) * 1.32)
    ax.set_ylabel("MiB per peer (mean)")
    ax.set_title("Traffic per peer, by class")
    ax.legend(loc="upper center", ncol=2)
