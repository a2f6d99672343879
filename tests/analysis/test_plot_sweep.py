"""Tests for analysis/plot_sweep.py."""

import math
import os
import re
import unittest

import helpers
import synthetic


class PlotSweepTest(helpers.TempDirTest):

    def setUp(self):
        super().setUp()
        self.csv = synthetic.write_sweep(os.path.join(self.tmp, "sweep.csv"),
                                         seeds=5)

    def test_categorical_x_with_ci(self):
        out = os.path.join(self.tmp, "pieces.png")
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--group", "none",
                               "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(out)
        # The printed mean and CI match a computation from the CSV itself.
        import csv
        with open(self.csv) as f:
            vals = [float(row["mean_completion_s"]) for row in csv.DictReader(f)
                    if row["protocol.piece_selection"] == "random"]
        mean = sum(vals) / len(vals)
        sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
        ci = 2.145 * sd / math.sqrt(len(vals))          # t(0.975, 14)
        line = next(l for l in r.stdout.splitlines() if l.startswith("random"))
        n, got_mean, got_ci = line.split()[-3:]
        self.assertEqual(int(n), 15)
        self.assertAlmostEqual(float(got_mean), mean, places=2)
        self.assertAlmostEqual(float(got_ci), ci, places=2)

    def test_numeric_x_splits_series_by_other_parameter(self):
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.unchoke_slots", "--y", "makespan_s",
                               "--err", "std")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(os.path.join(
            self.tmp, "sweep_makespan_s_vs_protocol.unchoke_slots.png"))
        series = {l.split()[1] for l in r.stdout.splitlines()[1:]
                  if re.match(r"^\d", l)}
        self.assertEqual(series, {"protocol.piece_selection=rarest_first",
                                  "protocol.piece_selection=random",
                                  "protocol.piece_selection=sequential"})

    def test_a_single_run_has_no_error_bar(self):
        csv1 = synthetic.write_sweep(os.path.join(self.tmp, "one.csv"), seeds=1)
        r = helpers.run_script("plot_sweep.py", csv1, "--x",
                               "protocol.unchoke_slots", "--y", "makespan_s")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [l for l in r.stdout.splitlines() if re.match(r"^\d", l)]
        self.assertTrue(rows)
        for row in rows:
            self.assertTrue(row.endswith("n/a (n=1)"), row)

    def test_unknown_column_exits_2_and_lists_parameters(self):
        r = helpers.run_script("plot_sweep.py", self.csv, "--x", "protocol.nope",
                               "--y", "makespan_s")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--x protocol.nope: no such column", r.stderr)
        self.assertIn("protocol.piece_selection", r.stderr)

    def test_empty_metric_values_are_skipped(self):
        with open(self.csv) as f:
            lines = f.read().splitlines()
        head = lines[0].split(",")
        col = head.index("mean_completion_s")
        fields = lines[1].split(",")
        fields[col] = ""                        # a run where nobody finished
        lines[1] = ",".join(fields)
        with open(self.csv, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--group", "none")
        self.assertEqual(r.returncode, 0, r.stderr)
        line = next(l for l in r.stdout.splitlines()
                    if l.startswith("rarest_first"))
        self.assertEqual(line.split()[-3], "14")
        # The reader is told that the means leave a run out.
        self.assertIn("note: 1 of 45 run(s) have no mean_completion_s", r.stdout)

    def test_title_and_figure_say_when_runs_are_left_out(self):
        # A run without a value (nobody finished) is left out of its
        # point's mean: the title used to say "over 5 seed(s)" for every
        # point all the same, and only stdout said a run was missing.
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        _, rows = plot_sweep.read_sweep(self.csv)
        args = argparse.Namespace(x="protocol.piece_selection",
                                  y="mean_completion_s", err="ci95",
                                  sweep_csv=self.csv)

        def texts(fig):
            ax = fig.axes[0]
            return " ".join([ax.get_title()] + [t.get_text() for t in ax.texts])

        fig, _ = plot_sweep.figure(rows, args, [])
        # "random seeds": "5 seeds" reads as five BitTorrent seeds.
        self.assertIn("over 5 random seeds", texts(fig))
        self.assertNotIn("left out", texts(fig))
        plt.close(fig)
        rows[0]["mean_completion_s"] = ""
        fig, _ = plot_sweep.figure(rows, args, [])
        self.assertNotIn("over 5 random seeds", texts(fig))
        self.assertIn("over 14–15 runs per point", texts(fig))
        self.assertIn("1 of 45 run(s) have no mean_completion_s", texts(fig))
        plt.close(fig)

    def test_figure_says_when_download_times_count_only_finished_leechers(self):
        # A run stopped by max_time still has a mean over the leechers that
        # finished (and no makespan): mixed with complete runs, its point
        # read as fast as theirs without a word.
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        _, rows = plot_sweep.read_sweep(self.csv)
        args = argparse.Namespace(x="protocol.piece_selection",
                                  y="mean_completion_s", err="ci95",
                                  sweep_csv=self.csv)
        texts = lambda fig: " ".join(t.get_text() for t in fig.axes[0].texts)
        fig, _ = plot_sweep.figure(rows, args, [])
        self.assertNotIn("before every leecher finished", texts(fig))
        plt.close(fig)
        rows[0]["makespan_s"] = ""
        rows[1]["makespan_s"] = ""
        fig, _ = plot_sweep.figure(rows, args, [])
        self.assertIn("2 of 45 run(s) ended before every leecher finished: "
                      "their mean_completion_s is over those that did", texts(fig))
        plt.close(fig)
        args.y = "makespan_s"   # an empty makespan is said as a left-out run
        fig, _ = plot_sweep.figure(rows, args, [])
        self.assertNotIn("before every leecher finished", texts(fig))
        plt.close(fig)

    def test_stdout_says_when_download_times_count_only_finished_leechers(self):
        # The note was only on the figure in the unpaired path: the table
        # printed a mean over survivors without a word (researcher's review,
        # 2026-11-27). Now on stdout in both paths.
        with open(self.csv) as f:
            lines = f.read().splitlines()
        col = lines[0].split(",").index("makespan_s")
        for i in (1, 2):
            fields = lines[i].split(",")
            fields[col] = ""                # stopped at max_time
            lines[i] = ",".join(fields)
        with open(self.csv, "w") as f:
            f.write("\n".join(lines) + "\n")
        note = ("note: 2 of 45 run(s) ended before every leecher finished: "
                "their mean_completion_s is over those that did")
        for extra in ((), ("--paired-to", "rarest_first")):
            r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                                   "protocol.piece_selection", "--y",
                                   "mean_completion_s", "--group", "none",
                                   *extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(note, r.stdout.splitlines(), extra)
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--group", "none")
        self.assertLess(r.stdout.index(note), r.stdout.index("plot: "))

    def test_a_measure_window_column_is_a_metric_with_its_own_survivors(self):
        # sim sweep of a scenario with a `measure` window adds the columns
        # *_in_window; their leechers are those that joined in the window.
        import plot_sweep
        _, rows = plot_sweep.read_sweep(self.csv)
        for r in rows:
            r["leechers_in_window"], r["completed_in_window"] = "10", "10"
            r["mean_completion_s_in_window"] = r["mean_completion_s"]
        rows[0]["completed_in_window"] = "7"
        y = "mean_completion_s_in_window"
        self.assertEqual(plot_sweep.partial_runs(rows, y), 1)
        self.assertEqual(plot_sweep.class_of(y), None)
        self.assertEqual(plot_sweep.metric_title(y),
                         "mean download time, joins in the window")
        # A time, with its unit on the axis, as the run-wide one.
        _, label = plot_sweep.y_scale(y, {"": [("4", 100.0, 5.0, [])]})
        self.assertEqual(label, "mean download time, joins in the window (s)")

    def test_whole_numbers_get_whole_ticks(self):
        # --vary peers.1.count=40,60 had ticks at 42.5, 47.5, ... peers.
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        _, rows = plot_sweep.read_sweep(self.csv)
        rows = [r for r in rows if r["protocol.unchoke_slots"] in ("2", "4")]
        for r in rows:
            r["protocol.unchoke_slots"] = {"2": "40", "4": "60"}[
                r["protocol.unchoke_slots"]]
        args = argparse.Namespace(x="protocol.unchoke_slots",
                                  y="mean_completion_s", err="ci95",
                                  sweep_csv=self.csv)
        fig, _ = plot_sweep.figure(rows, args, [])
        fig.canvas.draw()
        ax = fig.axes[0]
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        self.assertGreaterEqual(len(ticks), 2)
        for t in ticks:
            self.assertTrue(float(t).is_integer(), ticks)
        plt.close(fig)

    def test_quantities_of_one_kind_get_a_numeric_axis(self):
        # --vary peers.1.upload=512KiB/s,1Mbit/s,2Mbit/s used to be three
        # categories in the order given, evenly spaced and not joined.
        import plot_sweep
        series = {"": [("1Mbit/s", 60.0, 1.0, [60.0]),
                       ("512KiB/s", 70.0, 1.0, [70.0]),
                       ("2Mbit/s", 40.0, 1.0, [40.0])]}
        pos, categories = plot_sweep.x_positions(series)
        self.assertIsNone(categories)
        self.assertEqual(pos, {"1Mbit/s": 125000.0, "512KiB/s": 524288.0,
                               "2Mbit/s": 250000.0})
        self.assertEqual(plot_sweep.quantity_ticks(pos),
                         ([125000.0, 250000.0, 524288.0],
                          ["1Mbit/s", "2Mbit/s", "512KiB/s"]))
        # Durations too; but different kinds, or an unknown unit, stay
        # categories.
        pos, categories = plot_sweep.x_positions(
            {"": [("30s", 1, 0, [1]), ("2min", 2, 0, [2])]})
        self.assertEqual((pos, categories), ({"30s": 30.0, "2min": 120.0}, None))
        for xs in (["30s", "1MiB"], ["2Mbit/s", "3furlongs"], ["1min", "60s"]):
            pos, categories = plot_sweep.x_positions(
                {"": [(x, 1, 0, [1]) for x in xs]})
            self.assertEqual(categories, xs)
        self.assertIsNone(plot_sweep.quantity_ticks({"2": 2.0, "4": 4.0}))

    def test_table_columns_fit_long_series_labels(self):
        import contextlib
        import io
        import types
        import plot_sweep
        label = "protocol.choker=tit_for_tat, protocol.piece_selection=rarest_first"
        series = {label: [("4", 60.0, 1.5, [59.0, 61.0])],
                  "short": [("16", 50.0, 0.0, [50.0])]}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            plot_sweep.print_table(series, types.SimpleNamespace(
                x="protocol.unchoke_slots", err="ci95"))
        lines = out.getvalue().splitlines()
        self.assertEqual(len({len(l) for l in lines}), 1, lines)
        self.assertEqual(lines[1].split()[-3:], ["2", "60.000", "1.500"])

    def test_single_numeric_x_is_one_category(self):
        # One --vary value (2 slots): a numeric axis around one point had
        # ticks 2.000, 2.002, ... and the run's dot far off to the side.
        import plot_sweep
        series = {"": [("2", 56.2, 0.0, [56.2])]}
        pos, categories = plot_sweep.x_positions(series)
        self.assertEqual(categories, ["2"])
        self.assertEqual(pos, {"2": 0})
        with open(self.csv) as f:
            rows = [l for l in f.read().splitlines()
                    if ",4," not in l and ",8," not in l]
        one = os.path.join(self.tmp, "one.csv")
        with open(one, "w") as f:
            f.write("\n".join(rows) + "\n")
        out = os.path.join(self.tmp, "one.png")
        r = helpers.run_script("plot_sweep.py", one, "--x",
                               "protocol.unchoke_slots", "--y", "makespan_s",
                               "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(out, min_colour_fraction=0.001)  # 3 points

    def runs(self):
        import csv
        with open(self.csv) as f:
            return [row["run"] for row in csv.DictReader(f)]

    def figure_title(self, csv_path, x="protocol.piece_selection"):
        """The subtitle under the plot's title, drawn in-process."""
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        _, rows = plot_sweep.read_sweep(csv_path)
        args = argparse.Namespace(x=x, y="mean_completion_s", err="ci95",
                                  sweep_csv=csv_path)
        settings = plot_sweep.settings_line(
            plot_sweep.read_manifest(csv_path, rows))
        fig, _ = plot_sweep.figure(rows, args, [], settings)
        title = fig.axes[0].get_title()
        plt.close(fig)
        return title

    def test_fixed_sets_are_shown(self):
        sets = ["peers.1.count=100",
                "peers.1.arrival={poisson: {rate: 0.1/s, start: 0s}}"]
        synthetic.write_manifest(self.tmp, self.runs(), sets)
        want = ("scenarios/x.yaml with --set peers.1.count=100, "
                "peers.1.arrival={poisson: {rate: 0.1/s, start: 0s}}")
        self.assertEqual(self.figure_title(self.csv), want)
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"sweep: {want}\n", r.stdout)

    def test_sweep_without_fixed_sets_says_so(self):
        synthetic.write_manifest(self.tmp, self.runs(), [])
        self.assertEqual(self.figure_title(self.csv),
                         "scenarios/x.yaml, no fixed --set")

    def test_unknown_fixed_sets_are_reported(self):
        # No sweep.yaml beside the table (e.g. merged with --out), or one
        # of another sweep: nothing on the figure, a note on stdout.
        self.assertIn("mean download time", self.figure_title(self.csv))
        synthetic.write_manifest(self.tmp, self.runs()[:3], ["a=1"])
        self.assertIn("mean download time", self.figure_title(self.csv))
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s")
        self.assertIn("note: no sweep.sweep.yaml or sweep.yaml of this table "
                      "beside it", r.stdout)

    def test_a_merged_manifests_scenario_is_relative_to_its_folder(self):
        # `sim merge` writes every relative path of TABLE.sweep.yaml
        # relative to its folder (first line says so); the figure names the
        # scenario from where the script runs, not from the table's folder.
        import plot_sweep
        table = synthetic.write_run_sweep(self.tmp)
        manifest = os.path.join(os.path.dirname(table), "t.sweep.yaml")
        with open(manifest) as f:
            text = f.read()
        with open(manifest, "w") as f:
            f.write("# Written by `sim merge` for the table beside it. ...\n" +
                    text.replace("scenario: scenarios/x.yaml",
                                 "scenario: ../scenarios/x.yaml"))
        want = os.path.relpath(os.path.join(self.tmp, "scenarios", "x.yaml"))
        self.assertEqual(self.figure_title(table, "peers.1.window"),
                         want + " with --set peers.1.count=46")
        # Without that line (an older manifest), shown as written.
        with open(manifest, "w") as f:
            f.write(text)
        self.assertEqual(self.figure_title(table, "peers.1.window"),
                         "scenarios/x.yaml with --set peers.1.count=46")

    def test_a_merged_tables_own_manifest_comes_first(self):
        # `sim merge A B --out t.csv` writes t.sweep.yaml beside the table;
        # it was not read, so the figure could not name the fixed --set
        # values. It wins over a sweep.yaml of the same folder.
        import plot_sweep
        table = synthetic.write_run_sweep(self.tmp)
        _, rows = plot_sweep.read_sweep(table)
        synthetic.write_manifest(os.path.dirname(table),
                                 [r["run"] for r in rows], ["other=1"])
        self.assertEqual(self.figure_title(table, "peers.1.window"),
                         "scenarios/x.yaml with --set peers.1.count=46")
        m = plot_sweep.read_manifest(table, rows)
        self.assertEqual(m.path, os.path.join(os.path.dirname(table),
                                              "t.sweep.yaml"))
        self.assertTrue(all(os.path.isfile(os.path.join(f, "summary.json"))
                            for f in m.folders.values()))
        # One that does not list every run of the table is not its own.
        with open(m.path) as f:
            text = f.read()
        with open(m.path, "w") as f:
            f.write(text[:text.index("  - run:")])
        self.assertEqual(self.figure_title(table, "peers.1.window"),
                         "scenarios/x.yaml with --set other=1")

    def steady(self, y, **kw):
        table = synthetic.write_run_sweep(self.tmp, **kw)
        r = helpers.run_script("plot_sweep.py", table, "--x",
                               "peers.1.window", "--y", y)
        return table, r

    def figure_lines(self, table, y):
        """The labels and data of the figure's lines, drawn in-process the
        way main() does."""
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        _, rows = plot_sweep.read_sweep(table)
        flash = plot_sweep.flash_crowds(
            rows, plot_sweep.read_manifest(table, rows))
        args = argparse.Namespace(x="peers.1.window", y=y, err="ci95",
                                  sweep_csv=table)
        fig, series = plot_sweep.figure(
            rows, args, [], None,
            frozenset(k for k, v in flash.items() if not v))
        lines = {l.get_label(): l.get_xydata()
                 for l in fig.axes[0].get_lines()}
        plt.close(fig)
        return flash, lines, series

    def test_no_bound_for_runs_that_are_not_flash_crowds(self):
        # A steady state (arrivals over most of the run) used to get the
        # Kumar–Ross bound drawn beside makespans it does not describe.
        table, r = self.steady("makespan_s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("note: 2 of 4 run(s) are not flash crowds", r.stdout)
        self.assertIn("so it is not drawn for them", r.stdout)
        flash, lines, _ = self.figure_lines(table, "makespan_s")
        self.assertEqual(flash, {"peers.1.window=10__seed=1": True,
                                 "peers.1.window=10__seed=2": True,
                                 "peers.1.window=4000__seed=1": False,
                                 "peers.1.window=4000__seed=2": False})
        bound = [v for k, v in lines.items() if "Kumar" in k]
        self.assertEqual(len(bound), 1)
        self.assertEqual(sorted(set(bound[0][:, 0])), [10.0])  # only there
        # All of them steady: no bound line at all.
        import shutil
        shutil.rmtree(self.tmp)
        os.makedirs(self.tmp)
        table, r = self.steady("makespan_s", windows=(3000.0, 4000.0))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("note: 4 of 4 run(s) are not flash crowds", r.stdout)
        _, lines, _ = self.figure_lines(table, "makespan_s")
        self.assertFalse([k for k in lines if "Kumar" in k], lines.keys())

    def test_no_efficiency_for_runs_that_are_not_flash_crowds(self):
        table, r = self.steady("efficiency")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("their efficiency is left out of the means", r.stdout)
        _, _, series = self.figure_lines(table, "efficiency")
        self.assertEqual([p[0] for p in series[""]], ["10"])
        # Not one flash crowd: nothing to plot, and it says why.
        import shutil
        shutil.rmtree(self.tmp)
        os.makedirs(self.tmp)
        _, r = self.steady("efficiency", windows=(4000.0,))
        self.assertEqual(r.returncode, 2)
        self.assertIn("no run of this sweep is a flash crowd", r.stderr)

    def test_flash_crowds_of_a_sweep_folder_keep_their_bound(self):
        table, r = self.steady("makespan_s", windows=(10.0, 20.0),
                               merged=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("flash crowd", r.stdout)
        self.assertIn("sweep: scenarios/x.yaml with --set peers.1.count=46",
                      r.stdout)
        _, lines, _ = self.figure_lines(table, "makespan_s")
        bound = [v for k, v in lines.items() if "Kumar" in k]
        self.assertEqual(sorted(set(bound[0][:, 0])), [10.0, 20.0])

    def test_unknown_runs_are_said_to_be_unchecked(self):
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "makespan_s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("note: 45 of 45 run folder(s) could not be read",
                      r.stdout)

    def test_categories_are_not_joined_by_a_line(self):
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        import numpy as np
        _, rows = plot_sweep.read_sweep(self.csv)
        for x, style in (("protocol.piece_selection", "None"),
                         ("protocol.unchoke_slots", "-")):
            args = argparse.Namespace(x=x, y="mean_completion_s",
                                      err="ci95", sweep_csv=self.csv)
            fig, _ = plot_sweep.figure(rows, args, [])
            means = fig.axes[0].get_lines()[0]
            self.assertEqual(means.get_linestyle(), style, x)
            plt.close(fig)
            args.y = "makespan_s"    # and the Kumar–Ross bound
            fig, _ = plot_sweep.figure(rows, args, [])
            ax = fig.axes[0]
            bound = [a for a in ax.get_lines() if "Kumar" in a.get_label()]
            self.assertEqual(len(bound), 1)
            gaps = int(np.isnan(bound[0].get_ydata()).sum())
            if style == "-":     # numeric: one dashed line through them all
                self.assertEqual((bound[0].get_linestyle(), gaps), ("--", 0))
            else:                # categories: a short bar at each, apart
                self.assertEqual(gaps, 3)
            plt.close(fig)

    # --paired-to: differences (or ratios) to a reference value, seed by seed.

    def paired(self, *extra, csv_path=None):
        out = os.path.join(self.tmp, "paired.png")
        r = helpers.run_script("plot_sweep.py", csv_path or self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--paired-to",
                               "rarest_first", "--out", out, *extra)
        return r, out

    def column(self, policy, slots):
        """{seed: mean_completion_s} of the synthetic sweep's runs."""
        import csv
        with open(self.csv) as f:
            return {int(row["seed"]): float(row["mean_completion_s"])
                    for row in csv.DictReader(f)
                    if row["protocol.piece_selection"] == policy
                    and row["protocol.unchoke_slots"] == slots}

    def test_paired_differences_seed_by_seed(self):
        r, out = self.paired()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(out)
        # Each series (unchoke slots) pairs its own runs: random with
        # 4 slots minus rarest-first with 4 slots, seed by seed.
        ref, other = self.column("rarest_first", "4"), self.column("random", "4")
        d = [other[s] - ref[s] for s in sorted(ref)]
        mean = sum(d) / len(d)
        sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (len(d) - 1))
        half = 2.776445 * sd / math.sqrt(len(d))        # t(0.975, 4)
        line = next(l for l in r.stdout.splitlines()
                    if l.startswith("random") and "slots=4" in l)
        n, got_mean, low, high, below, above = line.split()[-6:]
        self.assertEqual(int(n), 5)
        self.assertAlmostEqual(float(got_mean), mean, places=3)
        self.assertAlmostEqual(float(low), mean - half, places=3)
        self.assertAlmostEqual(float(high), mean + half, places=3)
        self.assertEqual((int(below), int(above)),
                         (sum(v < 0 for v in d), sum(v > 0 for v in d)))
        self.assertRegex(r.stdout, r"(?m)^rarest_first .* 5 +\(reference\)$")
        # Every pair, in a CSV beside the figure.
        import csv
        pairs_csv = os.path.join(self.tmp, "paired.csv")
        self.assertIn(f"pairs: {pairs_csv}", r.stdout)
        with open(pairs_csv) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 2 * 3 * 5)    # 2 policies, 3 slots, 5 seeds
        mine = [row for row in rows if row["protocol.piece_selection"] == "random"
                and row["protocol.unchoke_slots"] == "4"]
        self.assertEqual([float(row["difference"]) for row in mine],
                         [round(v, 6) for v in d])
        self.assertEqual([float(row["mean_completion_s@rarest_first"])
                          for row in mine], [ref[s] for s in sorted(ref)])

    def test_paired_pools_pairs_but_never_pairs_across_parameters(self):
        # --group none pools the series, but a run is still paired with the
        # reference run of its own unchoke slots: 15 pairs, not 5 x 15.
        r, _ = self.paired("--group", "none")
        self.assertEqual(r.returncode, 0, r.stderr)
        want = []
        for slots in ("2", "4", "8"):
            ref, other = self.column("rarest_first", slots), \
                self.column("sequential", slots)
            want += [other[s] - ref[s] for s in sorted(ref)]
        line = next(l for l in r.stdout.splitlines()
                    if l.startswith("sequential"))
        self.assertEqual(int(line.split()[-6]), 15)
        self.assertAlmostEqual(float(line.split()[-5]), sum(want) / 15, places=3)

    def test_paired_ratio_is_a_geometric_mean(self):
        r, out = self.paired("--ratio")
        self.assertEqual(r.returncode, 0, r.stderr)
        ref, other = self.column("rarest_first", "2"), self.column("random", "2")
        logs = [math.log(other[s] / ref[s]) for s in sorted(ref)]
        m = sum(logs) / len(logs)
        sd = math.sqrt(sum((v - m) ** 2 for v in logs) / (len(logs) - 1))
        half = 2.776445 * sd / math.sqrt(len(logs))
        line = next(l for l in r.stdout.splitlines()
                    if l.startswith("random") and "slots=2" in l)
        got = [float(v) for v in line.split()[-5:-2]]
        for g, w in zip(got, (math.exp(m), math.exp(m - half),
                              math.exp(m + half))):
            self.assertAlmostEqual(g, w, places=4)
        self.assertIn("paired ratio of mean_completion_s", r.stdout)

    def test_paired_ci_sees_what_unpaired_intervals_hide(self):
        # The seed moves both policies alike (same arrivals); b is 10 s
        # slower in every seed. Unpaired intervals overlap; the paired one
        # excludes zero.
        import csv
        path = os.path.join(self.tmp, "seeded.csv")
        effect = [0, 80, -60, 30, -90, 50]
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["run", "seed", "protocol.piece_selection",
                        "mean_completion_s"])
            for policy, extra in (("rarest_first", 0.0), ("random", 10.0)):
                for s, e in enumerate(effect, start=1):
                    w.writerow([f"{policy}{s}", s, policy,
                                f"{500 + e + extra + (s % 3):.6f}"])
        r = helpers.run_script("plot_sweep.py", path, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s")
        rows = {l.split()[0]: [float(v) for v in l.split()[-2:]]
                for l in r.stdout.splitlines() if l.startswith("ra")}
        (m1, c1), (m2, c2) = rows["rarest_first"], rows["random"]
        self.assertGreater(m1 + c1, m2 - c2)             # they overlap
        r, _ = self.paired(csv_path=path)
        self.assertEqual(r.returncode, 0, r.stderr)
        line = next(l for l in r.stdout.splitlines() if l.startswith("random"))
        n, mean, low, high, below, above = line.split()[-6:]
        self.assertAlmostEqual(float(mean), 10.0, places=3)
        self.assertGreater(float(low), 0.0)
        self.assertEqual((below, above), ("0", "6"))

    def test_paired_leaves_out_runs_without_a_reference_value(self):
        import csv
        with open(self.csv) as f:
            rows = list(csv.DictReader(f))
        header = list(rows[0])
        rows[0]["mean_completion_s"] = ""    # rarest_first, 2 slots, seed 1
        with open(self.csv, "w", newline="") as f:
            w = csv.DictWriter(f, header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        r, _ = self.paired()
        self.assertEqual(r.returncode, 0, r.stderr)
        line = next(l for l in r.stdout.splitlines()
                    if l.startswith("random") and "slots=2" in l)
        self.assertEqual(line.split()[-6], "4")
        self.assertIn("note: 2 of 45 run(s) left out: no mean_completion_s",
                      r.stdout)   # random and sequential of that seed

    # --diff-to: unpaired differences of means with Welch's interval.

    def test_diff_to_prints_the_welch_interval_of_the_means(self):
        out = os.path.join(self.tmp, "welch.png")
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--diff-to",
                               "rarest_first", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(out)
        # By hand, for random with 4 slots against rarest-first with 4
        # slots: no seed pairing, each sample's own variance.
        a = list(self.column("random", "4").values())
        b = list(self.column("rarest_first", "4").values())
        ma, mb = sum(a) / len(a), sum(b) / len(b)
        va = sum((v - ma) ** 2 for v in a) / (len(a) - 1) / len(a)
        vb = sum((v - mb) ** 2 for v in b) / (len(b) - 1) / len(b)
        df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
        import sweep_pairs
        half = sweep_pairs.t975(df) * math.sqrt(va + vb)
        line = next(l for l in r.stdout.splitlines()
                    if l.startswith("random") and "slots=4" in l)
        n, n_ref, diff, low, high, got_df = line.split()[-6:]
        self.assertEqual((int(n), int(n_ref)), (5, 5))
        self.assertAlmostEqual(float(diff), ma - mb, places=3)
        self.assertAlmostEqual(float(low), ma - mb - half, places=3)
        self.assertAlmostEqual(float(high), ma - mb + half, places=3)
        self.assertAlmostEqual(float(got_df), df, places=1)
        self.assertIn("Welch 95% CI", r.stdout)
        self.assertNotIn("\nrarest_first", r.stdout)   # no row for itself

    def test_diff_to_default_name_and_bad_combinations(self):
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.unchoke_slots", "--y", "makespan_s",
                               "--diff-to", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("sweep_makespan_s_vs_protocol.unchoke_slots_welch_"
                      "difference_to_4.png", r.stdout)
        for extra, says in ((["--paired-to", "4"], "give one"),
                            (["--err", "std"], "--err std")):
            r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                                   "protocol.unchoke_slots", "--y",
                                   "makespan_s", "--diff-to", "4", *extra)
            self.assertEqual(r.returncode, 2)
            self.assertIn(says, r.stderr)
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.unchoke_slots", "--y", "makespan_s",
                               "--diff-to", "3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--diff-to 3: not a value of protocol.unchoke_slots",
                      r.stderr)

    # The piece-granular value is a bound only where no leecher downloads
    # faster than it uploads (summary.json's piece_granular_is_bound).

    def test_piece_granular_name_follows_the_flag(self):
        import plot_sweep
        def rows(*flags):
            return [{"piece_granular_s": "80", "piece_granular_is_bound": f}
                    for f in flags] + [{"piece_granular_s": "",
                                        "piece_granular_is_bound": ""}]
        self.assertEqual(plot_sweep.piece_granular_name(rows("1", "1")),
                         "piece-granular bound")
        self.assertTrue(plot_sweep.piece_granular_name(rows("0")).startswith(
            "piece-granular reference"))
        self.assertTrue(plot_sweep.piece_granular_name(rows("0", "1"))
                        .startswith("piece-granular value"))
        self.assertTrue(plot_sweep.piece_granular_name(
            [{"piece_granular_s": "80"}]).startswith("piece-granular value"))

    def test_a_table_older_than_a_column_says_so(self):
        # The synthetic table has the columns of before 2026-11-27.
        for y in ("leechers_time_avg", "leecher_share_ratio"):
            r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                                   "protocol.piece_selection", "--y", y)
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"--y {y}: no such column; this table was written "
                          "before that column existed", r.stderr)
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y", "nope")
        self.assertIn("--y nope: no such column; parameters:", r.stderr)

    def test_new_summary_columns_have_titles(self):
        import plot_sweep
        self.assertEqual(plot_sweep.metric_title("makespan_s"),
                         "makespan (first arrival to last finish)")
        self.assertEqual(plot_sweep.metric_title("contributor_share_ratio"),
                         "share ratio (uploaded / downloaded) of class "
                         "contributor")
        self.assertEqual(plot_sweep.metric_title("leechers_time_avg"),
                         "leechers present (time average)")

    def test_paired_to_a_value_that_is_not_there_exits_2(self):
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--paired-to", "rarest")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--paired-to rarest: not a value of "
                      "protocol.piece_selection in this table (its values: "
                      "rarest_first, random, sequential)", r.stderr)
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--ratio")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ratio needs --paired-to", r.stderr)

    def test_paired_default_name_and_figure(self):
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.unchoke_slots", "--y", "makespan_s",
                               "--paired-to", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("sweep_makespan_s_vs_protocol.unchoke_slots_difference_to_4",
                      r.stdout)
        self.assertNotIn("flash crowd", r.stdout)   # no bound: no check
        _, rows = plot_sweep.read_sweep(self.csv)
        args = argparse.Namespace(x="protocol.unchoke_slots", y="makespan_s",
                                  err="ci95", sweep_csv=self.csv,
                                  paired_to="4", ratio=False)
        fig, pairing = plot_sweep.paired_figure(rows, args, [])
        ax = fig.axes[0]
        self.assertIn("paired difference to protocol.unchoke_slots=4",
                      ax.get_title())
        lines = [l for l in ax.get_lines() if l.get_linestyle() == "-"]
        self.assertEqual(len(lines), 1)          # one series, pooled
        xs, ys = lines[0].get_data()
        self.assertEqual(list(xs), [2.0, 4.0, 8.0])
        self.assertEqual(ys[1], 0.0)             # the reference itself
        self.assertFalse([l for l in ax.get_lines() if "Kumar" in l.get_label()])
        plt.close(fig)

    # --logx: a log x axis for sweeps over doubling values.

    def logx_figure(self, x="protocol.unchoke_slots", **kw):
        import argparse
        import plot_sweep
        _, rows = plot_sweep.read_sweep(self.csv)
        args = argparse.Namespace(x=x, y="mean_completion_s", err="ci95",
                                  sweep_csv=self.csv, logx=True, **kw)
        if "paired_to" in kw:
            return plot_sweep.paired_figure(rows, args, [])[0]
        groups = plot_sweep.drop_constant_groups(
            rows, plot_sweep.series_columns(list(rows[0]), x, None))
        return plot_sweep.figure(rows, args, groups)[0]

    def test_logx_draws_a_log_axis_with_a_tick_per_value(self):
        import matplotlib.pyplot as plt
        import numpy as np
        fig = self.logx_figure()
        ax = fig.axes[0]
        self.assertEqual(ax.get_xscale(), "log")
        self.assertEqual(list(ax.get_xticks()), [2.0, 4.0, 8.0])
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()],
                         ["2", "4", "8"])
        self.assertEqual(len(ax.xaxis.get_minorticklocs()), 0)
        # Three series side by side: moved by a factor (the same at every
        # x), not by a fixed amount, which on a log axis would crowd 8
        # and spread 2.
        means = [np.asarray(l.get_xdata(), dtype=float) for l in ax.get_lines()
                 if l.get_linestyle() == "-"]
        self.assertEqual(len(means), 3)
        np.testing.assert_allclose(means[1], [2.0, 4.0, 8.0])
        ratios = np.array(means[0]) / np.array(means[1])
        np.testing.assert_allclose(ratios, ratios[0])
        self.assertLess(ratios[0], 1.0)
        plt.close(fig)
        fig = self.logx_figure(paired_to="2", ratio=False)   # paired too
        self.assertEqual(fig.axes[0].get_xscale(), "log")
        plt.close(fig)

    def test_logx_cli_and_what_it_refuses(self):
        out = os.path.join(self.tmp, "log.png")
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.unchoke_slots", "--y",
                               "mean_completion_s", "--logx", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(out)
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.piece_selection", "--y",
                               "mean_completion_s", "--logx")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--logx: the values of protocol.piece_selection "
                      "(rarest_first, random, sequential) are categories",
                      r.stderr)
        with open(self.csv) as f:
            text = f.read()
        zero = os.path.join(self.tmp, "zero.csv")
        with open(zero, "w") as f:
            f.write(text.replace(",2,100,", ",0,100,"))
        r = helpers.run_script("plot_sweep.py", zero, "--x",
                               "protocol.unchoke_slots", "--y",
                               "mean_completion_s", "--logx")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--logx: protocol.unchoke_slots=0 is not above 0",
                      r.stderr)

    def test_logx_labels_quantities_as_written(self):
        import matplotlib.pyplot as plt
        with open(self.csv) as f:
            text = f.read()
        for a, b in ((",2,100,", ",512KiB/s,100,"), (",4,100,", ",1Mbit/s,100,"),
                     (",8,100,", ",2Mbit/s,100,")):
            text = text.replace(a, b)
        with open(self.csv, "w") as f:
            f.write(text)
        fig = self.logx_figure()
        ax = fig.axes[0]
        self.assertEqual(ax.get_xscale(), "log")
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()],
                         ["1Mbit/s", "2Mbit/s", "512KiB/s"])
        plt.close(fig)

    def test_piece_granular_bound_is_drawn_where_it_applies(self):
        # sweep.csv's piece_granular_s (empty where the bound does not
        # apply) is drawn on makespan plots beside the Kumar–Ross bound.
        import argparse
        import plot_sweep
        import matplotlib.pyplot as plt
        _, rows = plot_sweep.read_sweep(self.csv)
        for r in rows:
            r["piece_granular_s"] = ("" if r["protocol.unchoke_slots"] == "8"
                                     else "901.5")
        for x, joined in (("protocol.unchoke_slots", True),
                          ("protocol.piece_selection", False)):
            args = argparse.Namespace(x=x, y="makespan_s", err="ci95",
                                      sweep_csv=self.csv)
            fig, _ = plot_sweep.figure(rows, args, [])
            lines = [l for l in fig.axes[0].get_lines()
                     if "piece-granular" in l.get_label()]
            self.assertEqual(len(lines), 1)
            self.assertEqual(lines[0].get_linestyle(), ":")
            xs, ys = lines[0].get_data()
            if joined:     # not at 8 slots, where it does not apply
                self.assertEqual(list(xs), [2.0, 4.0])
                self.assertIn("(s)", fig.axes[0].get_ylabel())
                self.assertEqual(list(ys), [901.5] * 2)
            plt.close(fig)
        args.y = "mean_completion_s"     # a bound on the last finish only
        fig, _ = plot_sweep.figure(rows, args, [])
        self.assertFalse([l for l in fig.axes[0].get_lines()
                          if "bound" in l.get_label()])
        plt.close(fig)
        for r in rows:
            r["piece_granular_s"] = ""
        args.y = "makespan_s"
        fig, _ = plot_sweep.figure(rows, args, [])
        self.assertFalse([l for l in fig.axes[0].get_lines()
                          if "piece-granular" in l.get_label()])
        plt.close(fig)

    # Per-class columns and fields varied together (sim sweep
    # --vary-together).

    def test_a_class_column_is_a_metric_not_a_parameter(self):
        r = helpers.run_script("plot_sweep.py", self.csv, "--x",
                               "protocol.unchoke_slots", "--y",
                               "free.rider_mean_completion_s")
        self.assertEqual(r.returncode, 0, r.stderr)
        series = {l.split()[1] for l in r.stdout.splitlines()[1:]
                  if re.match(r"^\d", l)}
        self.assertEqual(series, {"protocol.piece_selection=rarest_first",
                                  "protocol.piece_selection=random",
                                  "protocol.piece_selection=sequential"})
        r = helpers.run_script("plot_sweep.py", self.csv, "--x", "nope",
                               "--y", "mean_completion_s")
        self.assertEqual(r.returncode, 2)
        self.assertIn("parameters: protocol.piece_selection, "
                      "protocol.unchoke_slots; columns:", r.stderr)

    def test_a_class_time_says_when_not_every_leecher_of_it_finished(self):
        import argparse
        import plot_sweep
        _, rows = plot_sweep.read_sweep(self.csv)
        rows[0]["free.rider_completed"] = "19"
        self.assertEqual(plot_sweep.partial_runs(
            rows, "free.rider_mean_completion_s"), 1)
        self.assertEqual(plot_sweep.partial_runs(
            rows, "leecher_mean_completion_s"), 0)
        self.assertEqual(plot_sweep.metric_title("free.rider_completed"),
                         "peers completed of class free.rider")
        args = argparse.Namespace(x="protocol.unchoke_slots",
                                  y="free.rider_mean_completion_s",
                                  err="ci95", sweep_csv=self.csv, logx=False)
        fig, _ = plot_sweep.figure(rows, args, ["protocol.piece_selection"])
        text = " ".join(t.get_text() for t in fig.axes[0].texts)
        self.assertIn("1 of 45 run(s) ended before every leecher finished",
                      text)
        import matplotlib.pyplot as plt
        plt.close(fig)

    def write_together(self):
        """upload and download varied together (1 with 8, 2 with 16),
        crossed with two policies, 3 seeds."""
        import csv
        path = os.path.join(self.tmp, "together.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["run", "seed", "protocol.piece_selection",
                        "peers.1.upload", "peers.1.download", "completed",
                        "mean_completion_s", "leecher_mean_completion_s"])
            for policy, base in (("rarest_first", 100.0), ("random", 110.0)):
                for up, down in (("1Mbit/s", "8Mbit/s"),
                                 ("2Mbit/s", "16Mbit/s")):
                    for seed in (1, 2, 3):
                        m = base / (1 if up == "1Mbit/s" else 2) + seed
                        w.writerow([f"{policy}{up}{seed}", seed, policy, up,
                                    down, 5, f"{m:.6f}", f"{m:.6f}"])
        return path

    def test_fields_varied_together_split_no_series_and_pair(self):
        path = self.write_together()
        r = helpers.run_script("plot_sweep.py", path, "--x", "peers.1.upload",
                               "--y", "leecher_mean_completion_s")
        self.assertEqual(r.returncode, 0, r.stderr)
        series = {l.split()[1] for l in r.stdout.splitlines()
                  if re.match(r"^\dMbit", l)}
        self.assertEqual(series, {"protocol.piece_selection=rarest_first",
                                  "protocol.piece_selection=random"})
        import plot_sweep
        _, rows = plot_sweep.read_sweep(path)
        self.assertEqual(plot_sweep.x_label(rows, "peers.1.upload"),
                         "peers.1.upload (with peers.1.download)")
        self.assertEqual(plot_sweep.pair_columns(rows, "peers.1.upload"),
                         ["protocol.piece_selection"])
        r = helpers.run_script("plot_sweep.py", path, "--x", "peers.1.upload",
                               "--y", "mean_completion_s", "--paired-to",
                               "1Mbit/s")
        self.assertEqual(r.returncode, 0, r.stderr)
        paired = [l.split() for l in r.stdout.splitlines()
                  if l.startswith("2Mbit/s")]
        self.assertEqual(len(paired), 2)
        # rarest_first: 50 + seed - (100 + seed) = -50 in each of 3 seeds
        self.assertEqual(paired[0][2:4], ["3", "-50.0000"])

    def test_not_a_sweep_exits_2(self):
        path = os.path.join(self.tmp, "empty.csv")
        open(path, "w").close()
        r = helpers.run_script("plot_sweep.py", path, "--x", "a", "--y", "b")
        self.assertEqual(r.returncode, 2)
        self.assertIn("empty file", r.stderr)


if __name__ == "__main__":
    unittest.main()
