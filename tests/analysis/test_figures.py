"""Tests for analysis/figures.py: the panels show the numbers in the files."""

import os
import unittest

import helpers
import resultdir

resultdir.require_matplotlib()
import figures  # noqa: E402
import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.cbook import STEP_LOOKUP_MAP  # noqa: E402
import numpy as np  # noqa: E402
import synthetic  # noqa: E402

STEADY = os.path.join(helpers.HERE, "data", "sim_steady_100")
REAL = os.path.join(helpers.HERE, "data", "sim_flash_20")
NAT = os.path.join(helpers.HERE, "data", "sim_nat_200")


def class_ratio_figure(run):
    """The two panels of class_ratio.png, laid out and drawn: (fig, (ratio,
    volume))."""
    fig, (ratio, volume) = plt.subplots(
        1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [3, 2]})
    figures.draw_class_ratio(ratio, run)
    figures.draw_class_volume(volume, run)
    fig.tight_layout()
    fig.canvas.draw()
    return fig, (ratio, volume)


def drawn_points(line, per_segment=10):
    """Points along `line` as it is drawn, in display coordinates: a step
    line's rises and falls too, which its data points alone leave out."""
    xs, ys = STEP_LOOKUP_MAP[line.get_drawstyle()](
        np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    points = [(a + f * (b - a), c + f * (d - c))
              for a, b, c, d in zip(xs, xs[1:], ys, ys[1:])
              for f in np.linspace(0, 1, per_segment)]
    return line.get_transform().transform(points) if points else []


class TimeUnitTest(unittest.TestCase):

    def test_units(self):
        self.assertEqual(figures.time_unit(120), (1.0, "s"))
        # Seconds up to an hour, as the docs quote them (flash_crowd.yaml's
        # 938 s was drawn as 15.6 min).
        self.assertEqual(figures.time_unit(938), (1.0, "s"))
        self.assertEqual(figures.time_unit(3600), (1.0, "s"))
        self.assertEqual(figures.time_unit(3601), (60.0, "min"))
        self.assertEqual(figures.time_unit(8 * 3600), (3600.0, "h"))
        self.assertEqual(figures.fmt_duration(830.6), "830.6 s")
        self.assertEqual(figures.fmt_duration(4000), "66.7 min")
        self.assertEqual(figures.fmt_duration(42.25), "42.2 s")
        self.assertEqual(figures.fmt_duration(None), "n/a")


class WrapEvenlyTest(unittest.TestCase):
    """figures.wrap_evenly(): the headline and subtitle rule."""

    def test_as_many_lines_as_textwrap_and_none_left_with_a_word(self):
        # textwrap fills each line and leaves the remainder to the last:
        # "(efficiency" / "50%)", "... 8 Mbit/s" / "down".
        import random
        import textwrap
        rng = random.Random(7)
        words = ["a", "bb", "seed", "leechers,", "(efficiency", "50%)",
                 "Kumar–Ross", "piece-granular", "Mbit/s;", "down"]
        for _ in range(300):
            text = " ".join(rng.choice(words)
                            for _ in range(rng.randint(1, 60)))
            width = rng.randint(20, 150)
            lines = figures.wrap_evenly(text, width)
            with self.subTest(text=text, width=width):
                self.assertEqual(" ".join(lines), text)
                # (at spaces only: "piece-" / "granular" reads badly)
                self.assertEqual(len(lines), len(textwrap.wrap(
                    text, width, break_on_hyphens=False)))
                self.assertLessEqual(max(map(len, lines)), width)
                # Even: no line shorter than the longest by more than a
                # word and the slack that breaking after a comma may take.
                self.assertLessEqual(
                    max(map(len, lines)) - min(map(len, lines)),
                    len("piece-granular") + 1 + width // 7)

    def test_breaks_after_a_comma_when_that_is_as_even(self):
        self.assertEqual(
            figures.wrap_evenly("last finish 14.1 min, Kumar–Ross bound 7.0 "
                                "min (419 s), piece-granular bound 7.2 min "
                                "(432 s) (efficiency 50%)", 105),
            ["last finish 14.1 min, Kumar–Ross bound 7.0 min (419 s),",
             "piece-granular bound 7.2 min (432 s) (efficiency 50%)"])

    def test_fits_on_one_line_unchanged_and_long_words_are_cut(self):
        self.assertEqual(figures.wrap_evenly("  a  b c ", 10), ["a b c"])
        self.assertEqual(figures.wrap_evenly("", 10), [])
        self.assertEqual(figures.wrap_evenly("x" * 25, 10),
                         ["x" * 10, "x" * 10, "x" * 5])


class PanelTest(helpers.TempDirTest):

    def setUp(self):
        super().setUp()
        self.run = resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, "run"), leechers=20, free_riders=4))
        self.fig, self.ax = plt.subplots()

    def tearDown(self):
        plt.close(self.fig)
        super().tearDown()

    def test_cdf_reaches_completed_fraction_and_marks_bound(self):
        figures.draw_completion_cdf(self.ax, [self.run])
        cdf = self.ax.get_lines()[0]
        self.assertAlmostEqual(cdf.get_ydata()[-1], 1.0)   # all 24 finished
        self.assertEqual(len(cdf.get_ydata()), 24 + 1)
        div, _ = figures.time_unit(max(self.run.peers.download_time_s[1:]))
        bound = next(l for l in self.ax.get_lines()
                     if "Kumar" in l.get_label())
        self.assertAlmostEqual(bound.get_xdata()[0],
                               self.run.kumar_ross_s / div)
        self.assertIn("Kumar–Ross", bound.get_label())

    def test_piece_granular_bound_when_known(self):
        self.run.summary["bounds"]["piece_granular_s"] = 900.0
        figures.draw_completion_cdf(self.ax, [self.run])
        line = next(l for l in self.ax.get_lines()
                    if "piece-granular" in l.get_label())
        div, _ = figures.time_unit(900.0)
        self.assertAlmostEqual(line.get_xdata()[0], 900.0 / div)

    def test_piece_granular_line_says_bound_or_reference(self):
        # A bound only where no leecher downloads faster than it uploads
        # (summary.json's piece_granular_is_bound; docs/theory.md, 2).
        self.run.summary["bounds"]["piece_granular_s"] = 900.0
        for flag, word in ((True, "piece-granular bound "),
                           (False, "piece-granular reference "),
                           (None, "piece-granular value ")):
            with self.subTest(flag=flag):
                self.run.summary["bounds"]["piece_granular_is_bound"] = flag
                self.ax.clear()
                figures.draw_completion_cdf(self.ax, [self.run])
                line = next(l for l in self.ax.get_lines()
                            if "piece-granular" in l.get_label())
                self.assertTrue(line.get_label().startswith(word),
                                line.get_label())

    def test_cdf_counts_unfinished_peers_in_denominator(self):
        self.run.peers.completion_s[1:5] = np.nan       # 4 never finished
        figures.draw_completion_cdf(self.ax, [self.run])
        self.assertAlmostEqual(self.ax.get_lines()[0].get_ydata()[-1],
                               20 / 24)

    def test_cdf_has_one_line_per_leecher_class(self):
        figures.draw_completion_cdf(self.ax, [self.run])
        labels = [l.get_label() for l in self.ax.get_lines()]
        self.assertIn("class leecher (20 of 20)", labels)
        self.assertIn("class free_rider (4 of 4)", labels)
        self.assertFalse(any("class seed" in l for l in labels))

    def test_class_curves_stand_apart_from_the_whole_swarm_curve(self):
        # heterogeneous.yaml's fourth class (dsl) is drawn in run_color(3),
        # black, and the whole-swarm curve was a solid near-black line too:
        # the two could be told apart only by their width.
        names = ["fiber", "cable", "dsl"]
        self.run.peers.klass = ["seed"] + [
            names[i % 3] for i in range(len(self.run.peers.klass) - 1)]
        figures.draw_completion_cdf(self.ax, [self.run])
        lines = self.ax.get_lines()
        whole = [l for l in lines if l.get_label().startswith("all leechers")]
        classes = [l for l in lines if l.get_label().startswith("class ")]
        self.assertEqual(len(whole), 1)
        self.assertEqual(len(classes), 3)
        rgb = lambda l: np.array(matplotlib.colors.to_rgb(l.get_color()))
        for line in classes:
            apart = (np.linalg.norm(rgb(line) - rgb(whole[0])) >= 0.35
                     or line.get_linestyle() != whole[0].get_linestyle())
            self.assertTrue(apart, line.get_label())

    def test_growth_counts_first_pieces(self):
        figures.draw_growth(self.ax, self.run, "first_piece")
        first = self.ax.get_lines()[0]
        self.assertEqual(first.get_ydata()[-1], 24)
        last = np.nanmax(self.run.peers.first_piece_s)
        div, _ = figures.time_unit(last)
        self.assertAlmostEqual(first.get_xdata()[-1], last / div)
        self.assertEqual(self.ax.get_yscale(), "log")

    def test_growth_without_completions_spans_the_run(self):
        # The panel's axis ran from 0 to 1 s when nobody finished.
        self.run.peers.completion_s[:] = np.nan
        figures.draw_growth(self.ax, self.run, "completion")
        end = float(self.run.timeline["time_s"].max())
        div, unit = figures.time_unit(end)
        self.assertAlmostEqual(self.ax.get_xlim()[1], end / div)
        self.assertIn(f"({unit})", self.ax.get_xlabel())
        self.assertIn("no leecher finished in this run",
                      " ".join(t.get_text() for t in self.ax.texts))

    def test_growth_runs_on_the_same_clock_as_the_other_panels(self):
        # growth.png counted from the first leecher's join ("time since the
        # first leecher joined") while population.png and timeline.csv use
        # the run's clock: with leechers arriving from 300 s on, a first
        # piece at 310 s was drawn at 10 s. One clock, one axis name.
        p = self.run.peers
        p.join_s[p.leecher] += 300.0
        p.first_piece_s[p.leecher] += 300.0
        figures.draw_growth(self.ax, self.run, "first_piece")
        line = self.ax.get_lines()[0]
        div, unit = figures.time_unit(np.nanmax(p.first_piece_s))
        self.assertAlmostEqual(line.get_xdata()[1] * div,
                               np.nanmin(p.first_piece_s[p.leecher]))
        self.assertAlmostEqual(line.get_xdata()[-1] * div,
                               np.nanmax(p.first_piece_s[p.leecher]))
        fig, ax = plt.subplots()
        figures.draw_population(ax, [self.run])
        self.assertEqual(self.ax.get_xlabel().rsplit(" (", 1)[0],
                         ax.get_xlabel().rsplit(" (", 1)[0])
        self.assertEqual(self.ax.get_xlabel(), f"simulated time ({unit})")
        plt.close(fig)

    def test_growth_of_a_real_run_says_wall_clock(self):
        self.run.summary["mode"] = "real"
        figures.draw_growth(self.ax, self.run, "completion")
        self.assertTrue(self.ax.get_xlabel().startswith(
            "wall-clock time since start ("), self.ax.get_xlabel())

    def test_growth_of_one_leecher_labels_no_count_below_one(self):
        # The axis runs from 0.8 to 2: the minor tick at 0.9 read "9e-01".
        one = resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, "one"), leechers=1, free_riders=0))
        fig, ax = plt.subplots()
        figures.draw_growth(ax, one, "completion")
        fig.canvas.draw()
        lo, hi = ax.get_ylim()
        shown = [t.get_text() for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels()
                 if lo <= t.get_position()[1] <= hi and t.get_text()]
        self.assertIn("1", shown)
        self.assertFalse([t for t in shown if "e" in t], shown)
        plt.close(fig)

    def test_growth_ticks_are_plain_numbers(self):
        # Math text is off (figures.py), and the log axis' default
        # formatter writes its ticks as math: they came out as the raw
        # "$\\mathdefault{10^{2}}$".
        fig, ax = plt.subplots()
        figures.draw_growth(ax, resultdir.load(STEADY), "completion")
        fig.canvas.draw()
        lo, hi = ax.get_ylim()
        shown = [t.get_text() for t in ax.get_yticklabels()
                 if lo <= t.get_position()[1] <= hi and t.get_text()]
        self.assertIn("10", shown)
        self.assertIn("100", shown)
        self.assertFalse([t for t in shown if "$" in t or "mathdefault" in t], shown)
        plt.close(fig)

    def test_growth_legend_hides_no_part_of_the_curve(self):
        # In a flash crowd completions come late: the count-1 step ran
        # along the bottom right, under the legend there.
        early = resultdir.load(REAL)    # every first piece in the first 2 s
        early.peers.first_piece_s[2:] = early.peers.join_s[2:] + 0.5
        for run in (self.run, resultdir.load(REAL), early):
            for which in ("first_piece", "completion"):
                fig, ax = plt.subplots(figsize=(6.4, 5.2))   # growth.png's panels
                figures.draw_growth(ax, run, which)
                fig.canvas.draw()
                box = ax.get_legend().get_window_extent()
                line = ax.get_lines()[0]
                xs, ys = line.get_xdata(), line.get_ydata()
                # where="post": each value holds until the next x.
                points = [(x, y) for a, b, y in zip(xs, xs[1:], ys)
                          for x in np.linspace(a, b, 40)]
                shown = ax.transData.transform(points)
                inside = [p for p in shown if box.contains(*p)]
                self.assertEqual(inside, [], (run.path, which))
                plt.close(fig)

    def test_class_cdf_legend_hides_no_part_of_a_curve(self):
        # nat.yaml (and heterogeneous.yaml): one class finishes early and
        # steeply, the other spreads over the whole panel; "best" found no
        # free corner and the legend hid the top of the early class's curve.
        for path in (NAT, REAL):
            r = resultdir.load(path)
            fig, axes = plt.subplots(2, 2, figsize=(14, 9.2))  # the overview
            ax = axes[0][1]
            figures.draw_completion_cdf(ax, [r])
            fig.tight_layout()
            fig.canvas.draw()
            box = ax.get_legend().get_window_extent()
            for line in ax.get_lines():
                xs, ys = line.get_xdata(), line.get_ydata()
                if len(xs) < 3:          # a bound: a vertical line
                    continue
                points = [(x, y) for a, b, y in zip(xs, xs[1:], ys)
                          for x in np.linspace(a, b, 10)]
                shown = ax.transData.transform(points)
                inside = [q for q in shown if box.contains(*q)]
                self.assertEqual(inside, [], (path, line.get_label()))
            plt.close(fig)

    def test_equal_bounds_are_drawn_once(self):
        other = resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, "other"), leechers=20, free_riders=4,
            seed=5))
        small = resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, "small"), leechers=5, free_riders=0))
        figures.draw_completion_cdf(self.ax, [self.run, other, small],
                                    ["a", "b", "c"])
        bounds = [l.get_label() for l in self.ax.get_lines()
                  if "Kumar" in l.get_label()]
        self.assertEqual(len(bounds), 2)
        self.assertTrue(bounds[0].endswith("(a, b)"), bounds)
        self.assertTrue(bounds[1].endswith("(c)"), bounds)

    def test_population_steps_at_every_join_completion_and_leave(self):
        figures.draw_population(self.ax, [self.run])
        leechers, seeds, done = self.ax.get_lines()[:3]
        t, want_l, want_s, want_c = resultdir.population(self.run)
        np.testing.assert_array_equal(leechers.get_xdata(), t)
        np.testing.assert_array_equal(leechers.get_ydata(), want_l)
        np.testing.assert_array_equal(seeds.get_ydata(), want_s)
        np.testing.assert_array_equal(done.get_ydata(), want_c)
        p = self.run.peers
        for times in (p.join_s, p.completion_s[p.leecher], p.leave_s[p.leecher]):
            self.assertTrue(np.isin(times, t).all())

    def test_population_of_a_run_stopped_after_two_samples(self):
        # A run the pieces_lost stop ended between two samples: its timeline
        # has rows at 0 and at the end only, and the plot used to draw a
        # straight line between them.
        tl = self.run.timeline
        end = 60.0
        for k in tl:
            tl[k] = tl[k][[0, 1]]
        tl["time_s"][1] = end
        figures.draw_population(self.ax, [self.run])
        leechers = self.ax.get_lines()[0]
        joins = np.sort(self.run.peers.join_s[self.run.peers.leecher])
        t, y = leechers.get_xdata(), leechers.get_ydata()
        self.assertEqual(t[-1], end)
        # All 24 leechers join within 10 s, one step each.
        np.testing.assert_array_equal(y[np.searchsorted(t, joins)], np.arange(1, 25))

    def test_population_legend_hides_no_part_of_a_curve(self):
        # nat.yaml and heterogeneous.yaml: "best" judged a step line by its
        # data points alone and put the legend at the centre left, over the
        # leechers' rise (all join within seconds: one vertical step).
        runs = [resultdir.load(p) for p in (NAT, REAL, STEADY)] + [self.run]
        panels = [([r], None) for r in runs] + [
            (runs[:3], ["nat", "flash", "steady"])]
        for panel_runs, labels in panels:
            for overview in (True, False):   # overview.png, population.png
                fig, axes = (plt.subplots(2, 2, figsize=(14, 9.2)) if overview
                             else plt.subplots(figsize=(8.5, 5.2)))
                ax = axes[0][0] if overview else axes
                figures.draw_population(ax, panel_runs, labels)
                fig.tight_layout()
                fig.canvas.draw()
                # The axes and the completions' right-hand axis, if any.
                panel = [a for a in fig.axes
                         if a.get_position().bounds == ax.get_position().bounds]
                legends = [a.get_legend() for a in panel if a.get_legend()]
                self.assertEqual(len(legends), 1)
                box = legends[0].get_window_extent()
                where = ([r.path for r in panel_runs], overview)
                # No wider than the panel (the steady state's, in one line
                # per entry, pushed the overview's panels apart).
                frame = ax.get_window_extent()
                self.assertGreaterEqual(box.x0, frame.x0, where)
                self.assertLessEqual(box.x1, frame.x1, where)
                for line in [l for a in panel for l in a.get_lines()]:
                    inside = [q for q in drawn_points(line) if box.contains(*q)]
                    self.assertEqual(inside, [], (where, line.get_label()))
                plt.close(fig)

    def test_completions_share_the_axis_in_a_flash_crowd(self):
        # Up to 3x the peers present (churn: 290 completions, at most ~150
        # present) they share the axis, which must reach their top (it was
        # cut off at the populations' top).
        figures.draw_population(self.ax, [self.run])
        done = self.ax.get_lines()[2]
        self.assertIn("completed so far", done.get_label())
        self.assertEqual(done.get_ydata().max(), 24)
        self.assertGreaterEqual(self.ax.get_ylim()[1], 24)
        self.assertEqual(self.ax.get_ylim()[0], 0)

    def test_many_completions_go_on_a_right_axis(self):
        # Arrivals over a long run: completions climb far above the few
        # peers present, which on one axis would be squashed flat. 200
        # leechers over 20,000 s, each gone 120 s after it finishes.
        run = resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, "long"), leechers=200, free_riders=0,
            join_window_s=20000.0))
        _, leechers, seeds, completed = resultdir.population(run)
        present = float(np.max(leechers + seeds))
        self.assertGreater(completed.max(), 3 * present)
        figures.draw_population(self.ax, [run])
        self.assertEqual(len(self.ax.get_lines()), 2)
        self.assertLess(self.ax.get_ylim()[1], 2 * present)
        twin = [a for a in self.fig.axes if a is not self.ax]
        self.assertEqual(len(twin), 1)
        done = twin[0].get_lines()[0]
        self.assertIn("right axis", done.get_label())
        self.assertGreaterEqual(twin[0].get_ylim()[1], 200)
        legend = [t.get_text() for t in twin[0].get_legend().texts]
        self.assertEqual(len(legend), 3)

    def test_no_fluid_model_lines_for_a_flash_crowd(self):
        figures.draw_population(self.ax, [self.run])
        self.assertFalse(any("steady state" in l.get_label()
                             for l in self.ax.get_lines()))

    def test_fluid_model_steady_state_while_arrivals_last(self):
        # A real steady-state run: summary.json has fluid_model.
        run = resultdir.load(STEADY)
        f = run.fluid_model
        self.assertEqual((f["class"], f["permanent_seeds"]), ("leecher", 1))
        figures.draw_population(self.ax, [run])
        lines = {l.get_label(): l for l in self.ax.get_lines()}
        leechers = lines["Qiu–Srikant steady state:\n2.1 leechers"]
        seeds = lines["Qiu–Srikant steady state:\n16.0 seeds "
                      "(15.0 + 1 permanent)"]
        np.testing.assert_allclose(leechers.get_ydata(), [f["leechers"]] * 2)
        np.testing.assert_allclose(seeds.get_ydata(), [f["seeds"] + 1] * 2)
        joins = run.peers.join_s[np.array(run.peers.klass) == "leecher"]
        div, _ = figures.time_unit(run.timeline["time_s"].max())
        np.testing.assert_allclose(leechers.get_xdata(),
                                   [joins.min() / div, joins.max() / div])
        legend = [t.get_text() for t in self.fig.axes[-1].get_legend().texts]
        self.assertIn(seeds.get_label(), legend)

    def test_steady_state_cdf_shows_the_fluid_model_not_flash_bounds(self):
        # Kumar–Ross bounds a flash crowd's last finish; with arrivals over
        # the whole run it says nothing about download times.
        run = resultdir.load(STEADY)
        self.assertFalse(resultdir.is_flash_crowd(run))
        figures.draw_completion_cdf(self.ax, [run])
        labels = [l.get_label() for l in self.ax.get_lines()]
        self.assertFalse(any("bound" in l for l in labels), labels)
        fluid = next(l for l in self.ax.get_lines()
                     if "Qiu–Srikant" in l.get_label())
        self.assertAlmostEqual(fluid.get_xdata()[0],
                               run.fluid_model["download_time_s"])

    def test_flash_crowd_means_joins_within_a_quarter_of_the_bound(self):
        # The rule compares the arrivals with the bound, not with the run's
        # length: churn.yaml with its seeds leaving ran to its 1 h
        # max_time, so 25 min of joins were "less than half of the run" and
        # its CDF showed a Kumar–Ross line 163.4 s left of 22 % of the
        # download times.
        run = self.run
        bound = resultdir.flash_crowd_bound_s(run)
        self.assertEqual(bound, run.kumar_ross_s)
        leechers = run.peers.leecher.nonzero()[0]
        first = run.peers.join_s[leechers].min()

        def spread_joins(spread):
            run.peers.join_s[leechers] = np.linspace(first, first + spread,
                                                     leechers.size)
        run.summary["makespan_s"] = None    # not all finished
        spread_joins(0.3 * bound)
        end = run.timeline["time_s"].max()
        self.assertLess(0.3 * bound, 0.5 * (end - first))   # the old rule
        self.assertFalse(resultdir.is_flash_crowd(run))
        self.assertEqual(resultdir.not_flash_crowd_reason(run),
                         f"joins over {0.3 * bound:.1f} s, more than ¼ of "
                         f"the {bound:.1f} s bound")
        figures.draw_completion_cdf(self.ax, [run])
        self.assertFalse(any("Kumar" in l.get_label()
                             for l in self.ax.get_lines()))
        self.assertIn("no Kumar–Ross line: joins over",
                      " ".join(t.get_text() for t in self.ax.texts))
        spread_joins(0.25 * bound)
        self.assertTrue(resultdir.is_flash_crowd(run))
        self.assertIsNone(resultdir.not_flash_crowd_reason(run))
        # The piece-granular bound, when larger, is the one: one piece of
        # 1 MiB at 1 Mbit/s, Kumar–Ross 8.4 s, piece-granular 83.9 s, joins
        # over 10 s (experiment 1's variant) is a flash crowd.
        spread_joins(10.0)
        run.summary["bounds"] = {"kumar_ross_s": 8.4,
                                 "piece_granular_s": 83.9}
        self.assertTrue(resultdir.is_flash_crowd(run))
        run.summary["bounds"] = {"kumar_ross_s": 8.4,
                                 "piece_granular_s": None}
        self.assertFalse(resultdir.is_flash_crowd(run))

    def test_flash_crowd_test_without_makespan(self):
        self.assertTrue(resultdir.is_flash_crowd(self.run))
        self.run.summary["makespan_s"] = None    # not all finished
        self.assertTrue(resultdir.is_flash_crowd(self.run))
        self.run.peers.join_s[1] = self.run.timeline["time_s"].max() * 0.8
        self.assertFalse(resultdir.is_flash_crowd(self.run))

    def test_class_ratio_legend_hides_no_peer(self):
        # The legend sat in the upper right, over the dots of the
        # contributors with the highest ratios.
        # One generous peer (ratio 8) stretches the axis, as in the 600-peer
        # steady state: the seed's note then crossed the ratio-1 line.
        p = self.run.peers
        p.bytes_uploaded[2] = 8 * p.bytes_downloaded[2]
        flat = resultdir.load(REAL)     # every ratio <= 1: note below
        flat.peers.bytes_uploaded = np.minimum(flat.peers.bytes_uploaded,
                                               flat.peers.bytes_downloaded)
        flat.peers.bytes_uploaded[0] = 10 * 2 ** 20        # the seed
        for run in (resultdir.load(STEADY), self.run, flat):
            fig, (ax, _) = class_ratio_figure(run)
            box = ax.get_legend().get_window_extent()
            dots = np.concatenate([c.get_offset_transform().transform(
                c.get_offsets()) for c in ax.collections])
            self.assertGreaterEqual(len(dots), 20)
            inside = [d for d in dots if box.contains(*d)]
            self.assertEqual(inside, [], run.path)
            # The seed's note is not crossed by the ratio-1 line.
            note = next(t for t in ax.texts
                        if "downloaded nothing" in t.get_text())
            extent = note.get_window_extent()
            one = ax.transData.transform((0, 1.0))[1]
            self.assertFalse(extent.y0 <= one <= extent.y1, run.path)
            # ... and clear of the legend, with a visible gap (it came
            # within 2 px of it when every ratio was at most 1).
            self.assertTrue(extent.y1 + 4 < box.y0 or extent.y0 > box.y1 + 4,
                            run.path)
            plt.close(fig)

    def test_class_volume_legend_hides_no_bar_or_number(self):
        # One seed and one leecher: the seed's upload and the leecher's
        # download are the two tallest bars, at either end, and the legend
        # hid the leecher's "20" above its bar.
        level = resultdir.load(REAL)
        p = level.peers
        p.bytes_uploaded[0] = p.bytes_downloaded[p.leecher].mean()
        for run in (resultdir.load(STEADY), self.run, level):
            fig, (_, ax) = class_ratio_figure(run)
            box = ax.get_legend().get_window_extent()
            for artist in list(ax.texts) + list(ax.patches):
                self.assertFalse(box.overlaps(artist.get_window_extent()),
                                 (run.path, artist))
            plt.close(fig)

    def test_class_ratio_note_says_a_class_total(self):
        # pollution.yaml: '(uploaded 282 MiB)' for ten polluters, next to a
        # per-peer panel showing 28 MiB.
        self.run.peers.klass[0] = "seed"
        klass = np.array(self.run.peers.klass)
        self.run.peers.bytes_downloaded[klass == "free_rider"] = 0
        self.run.peers.bytes_uploaded[klass == "free_rider"] = 10 * 2 ** 20
        figures.draw_class_ratio(self.ax, self.run)
        seed_mib = self.run.peers.bytes_uploaded[0] / 2 ** 20
        notes = sorted(t.get_text() for t in self.ax.texts)
        self.assertEqual(notes, [
            "downloaded nothing\n(uploaded\n40 MiB in all)",
            f"downloaded nothing\n(uploaded\n{seed_mib:,.0f} MiB)"])

    def test_utilization_in_percent(self):
        # The main curve is the mean over each interval, a step over the
        # interval before each row; the samples are drawn faintly behind.
        figures.draw_utilization(self.ax, [self.run])
        samples, main = self.ax.get_lines()
        tl = self.run.timeline
        np.testing.assert_allclose(main.get_ydata(),
                                   100 * tl["upload_utilization_mean"])
        self.assertEqual(main.get_drawstyle(), "steps-pre")
        np.testing.assert_allclose(samples.get_ydata(),
                                   100 * tl["upload_utilization"])
        self.assertLess(samples.get_linewidth(), main.get_linewidth())
        self.assertLess(samples.get_alpha(), 1)

    def test_utilization_of_an_older_folder_draws_the_samples(self):
        # Written before upload_utilization_mean existed.
        run = resultdir.load(REAL)
        self.assertNotIn("upload_utilization_mean", run.timeline)
        figures.draw_utilization(self.ax, [run])
        (line,) = self.ax.get_lines()
        np.testing.assert_allclose(line.get_ydata(),
                                   100 * run.timeline["upload_utilization"])
        self.assertIn("sampled", line.get_label())

    def test_utilization_draws_equal_columns_once(self):
        # swarm run-scenario writes its interval figure into both columns.
        tl = self.run.timeline
        tl["upload_utilization_mean"] = tl["upload_utilization"].copy()
        figures.draw_utilization(self.ax, [self.run])
        (line,) = self.ax.get_lines()
        self.assertEqual(line.get_drawstyle(), "steps-pre")
        self.assertIn("mean", line.get_label())

    def test_utilization_overlay_draws_each_runs_mean(self):
        old = resultdir.load(REAL)
        figures.draw_utilization(self.ax, [self.run, old], labels=["a", "b"])
        new_line, old_line = self.ax.get_lines()
        np.testing.assert_allclose(
            new_line.get_ydata(), 100 * self.run.timeline["upload_utilization_mean"])
        np.testing.assert_allclose(old_line.get_ydata(),
                                   100 * old.timeline["upload_utilization"])

    def test_utilization_legend_hides_no_part_of_the_curve(self):
        # The legend sat at the bottom centre, over the curve wherever it
        # dipped there (a steady state's utilisation swings 0..100%).
        for path in (STEADY, REAL, NAT):
            fig, axes = plt.subplots(2, 2, figsize=(14, 9.2))  # the overview
            ax = axes[1][0]
            figures.draw_utilization(ax, [resultdir.load(path)])
            fig.tight_layout()
            fig.canvas.draw()
            box = ax.get_legend().get_window_extent()
            line = ax.get_lines()[0]
            xs, ys = line.get_xdata(), line.get_ydata()
            points = [(a + f * (b - a), y0 + f * (y1 - y0))
                      for a, b, y0, y1 in zip(xs, xs[1:], ys, ys[1:])
                      for f in np.linspace(0, 1, 10)]
            shown = ax.transData.transform(points)
            self.assertEqual([q for q in shown if box.contains(*q)], [], path)
            self.assertEqual(ax.get_yticks()[-1], 100)   # no "120 %" tick
            plt.close(fig)

    def test_real_runs_are_labelled_wall_clock(self):
        self.run.summary["mode"] = "real"
        figures.draw_population(self.ax, [self.run])
        self.assertTrue(self.ax.get_xlabel().startswith("wall-clock time"))

    def test_class_table_sums_bytes(self):
        rows = {r[0]: r for r in figures.class_table(self.run)}
        self.assertEqual(rows["free_rider"][1], 4)
        self.assertEqual(rows["free_rider"][2], 0.0)           # uploaded
        self.assertEqual(rows["seed"][3], 0.0)                 # downloaded
        self.assertEqual(rows["seed"][4].size, 0)              # no ratio
        total_up = sum(r[2] for r in rows.values())
        total_down = sum(r[3] for r in rows.values())
        self.assertEqual(total_up, total_down)   # bytes are conserved

    def test_long_labels_wrap_between_their_parts(self):
        # textwrap cut sweep run names anywhere: 'rando' / 'm__seed=1'.
        self.assertEqual(figures.legend_label(
            "protocol.piece_selection=random__seed=1 (200/200)"),
            "protocol.piece_selection=\nrandom__seed=1 (200/200)")
        self.assertEqual(figures.legend_label("rarest_first (20/20)"),
                         "rarest_first (20/20)")
        long = "peers.1.arrival=" + "x" * 40 + "__seed=3"
        lines = figures.legend_label(long).split("\n")
        self.assertTrue(all(len(l) <= 30 for l in lines), lines)
        self.assertEqual("".join(lines), long)

    def test_overlay_cdf_legend_leaves_the_axis_label_visible(self):
        # In compare_overview.png (short panels) the legend below the CDF
        # used to cover its x-axis label.
        runs = [resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, f"r{i}"), leechers=10, seed=i + 1))
            for i in range(6)]
        labels = [f"protocol.piece_selection=random__seed={i}"
                  for i in range(6)]
        fig, axes = plt.subplots(2, 2, figsize=(14, 9.2))
        figures.draw_completion_cdf(axes[0][0], runs, labels)
        figures.draw_population(axes[0][1], runs, labels, run_legend=False)
        figures.draw_entropy(axes[1][0], runs, labels, run_legend=False)
        figures.draw_min_availability(axes[1][1], runs, labels,
                                      run_legend=False)
        fig.tight_layout(rect=(0, 0, 1, 0.9))
        fig.canvas.draw()
        ax = axes[0][0]
        label = ax.xaxis.label.get_window_extent()
        legend = ax.get_legend().get_window_extent()
        self.assertLess(legend.y1, label.y0)
        plt.close(fig)

    def test_no_run_is_drawn_in_the_bounds_colour(self):
        from matplotlib.colors import to_rgb
        bound = to_rgb(figures.BOUND_COLOR)
        colours = [to_rgb(figures.run_color(i)) for i in range(12)]
        self.assertNotIn(bound, colours)
        # Nor in the upload colour: in class_ratio.png orange was class
        # "open" in one panel and "uploaded" in the next.
        self.assertNotIn(to_rgb(figures.UPLOAD_COLOR), colours)
        self.assertEqual(len(set(colours[:9])), 9)   # still 9 distinct

    def test_rarest_piece_copies_0_1_2_are_apart(self):
        # On a linear 0–1000 axis, 0, 1 and 2 copies of the rarest piece
        # all sat on the x axis (flash_crowd.yaml; experiment 4's dying
        # swarm). Symlog, linear below 10: a copy is ≥ 4 % of the height.
        self.run.timeline["availability_mean"][:] = 1000.0
        for draw in (lambda ax: figures.draw_availability(ax, self.run),
                     lambda ax: figures.draw_min_availability(
                         ax, [self.run], ["a"])):
            fig, ax = plt.subplots()
            self.run.timeline["availability_min"][:] = 1000.0
            draw(ax)
            self.assertEqual(ax.get_yscale(), "symlog")
            to_axes = ax.transData + ax.transAxes.inverted()
            y = [to_axes.transform((0, c))[1] for c in (0, 1, 2)]
            self.assertAlmostEqual(y[0], 0.0)
            self.assertGreater(y[1] - y[0], 0.04)
            self.assertGreater(y[2] - y[1], 0.04)
            self.assertEqual(ax.get_yticks()[:4].tolist(), [0, 1, 2, 5])
            # The legend's headroom reaches 100000 copies; the ticks stop
            # at the data's (1000 copies here).
            self.assertEqual(ax.get_yticks()[-1], 1000)
            plt.close(fig)

    def test_completed_so_far_is_drawn_over_the_seeds(self):
        # In a flash crowd the completed count equals the seeds present;
        # drawn under their line its legend entry had no visible curve.
        figures.draw_population(self.ax, [self.run])
        lines = {l.get_label(): l for l in self.ax.get_lines()}
        done = next(l for k, l in lines.items() if "completed so far" in k)
        seeds = lines["seeds (have the whole file)"]
        # (A thin grey dotted line, on top, still did not show.)
        from matplotlib.colors import to_rgb
        self.assertGreater(done.get_zorder(), seeds.get_zorder())
        self.assertGreater(done.get_linewidth(), seeds.get_linewidth())
        self.assertLess(max(to_rgb(done.get_color())), 0.3)     # dark

    def test_overlay_one_colour_per_run(self):
        other = resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, "other"), leechers=20, seed=9))
        figures.draw_entropy(self.ax, [self.run, other], ["a", "b"])
        colours = {l.get_color() for l in self.ax.get_lines()}
        self.assertEqual(len(colours), 2)
        self.assertEqual([t.get_text() for t in self.ax.get_legend().texts],
                         ["a", "b"])


if __name__ == "__main__":
    unittest.main()
