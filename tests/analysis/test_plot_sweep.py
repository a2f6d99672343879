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
        self.assertIn("over 5 seed(s)", texts(fig))
        self.assertNotIn("left out", texts(fig))
        plt.close(fig)
        rows[0]["mean_completion_s"] = ""
        fig, _ = plot_sweep.figure(rows, args, [])
        self.assertNotIn("over 5 seed(s)", texts(fig))
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

    def test_not_a_sweep_exits_2(self):
        path = os.path.join(self.tmp, "empty.csv")
        open(path, "w").close()
        r = helpers.run_script("plot_sweep.py", path, "--x", "a", "--y", "b")
        self.assertEqual(r.returncode, 2)
        self.assertIn("empty file", r.stderr)


if __name__ == "__main__":
    unittest.main()
