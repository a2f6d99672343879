"""Tests for analysis/compare.py."""

import csv
import json
import os
import unittest

import helpers
import synthetic

PNGS = ("compare_overview.png", "compare_completion_cdf.png",
        "compare_population.png", "compare_entropy.png",
        "compare_min_availability.png")


class CompareTest(helpers.TempDirTest):

    def setUp(self):
        super().setUp()
        self.a = synthetic.write_result(os.path.join(self.tmp, "rarest"),
                                        leechers=20, spread=0.2, seed=2)
        self.b = synthetic.write_result(os.path.join(self.tmp, "random"),
                                        leechers=20, spread=0.5, seed=3)
        self.out = os.path.join(self.tmp, "cmp")

    def test_steady_state_run_has_no_efficiency(self):
        # Arrivals over the whole run: Kumar–Ross / makespan measured the
        # arrivals (the table said 9% for this run).
        steady = os.path.join(helpers.HERE, "data", "sim_steady_100")
        r = helpers.run_script("compare.py", self.a, steady, "--labels",
                               "flash,steady", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "compare.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertNotEqual(rows[0]["efficiency"], "")
        self.assertEqual(rows[1]["efficiency"], "")
        self.assertIn("note: leechers of steady kept arriving, not a flash "
                      "crowd (their joins spread over more than a quarter of "
                      "the Kumar–Ross bound (or of the piece-granular bound, "
                      "when larger)): efficiency n/a", r.stdout)

    def test_default_out_is_under_results_and_efficiency_a_ratio(self):
        # Without --out the figures went to ./comparison (in a checkout:
        # the repository root, not ignored by git); efficiency read "43%"
        # where sim and summary.json say 0.433.
        r = helpers.run_script("compare.py", self.a, self.b, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.tmp, "results", "comparison")
        self.assertTrue(os.path.isfile(os.path.join(out, "compare.csv")))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "comparison")))
        self.assertIn("figures and table written to results/comparison/",
                      r.stdout)
        with open(os.path.join(out, "compare.csv")) as f:
            eff = float(next(csv.DictReader(f))["efficiency"])
        self.assertIn(f"{eff:.3f}", r.stdout)
        self.assertNotIn(f"{eff:.0%}", r.stdout)

    def test_figures_and_tables(self):
        r = helpers.run_script("compare.py", self.a, self.b, "--labels",
                               "rarest_first,random", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in PNGS:
            with self.subTest(png=name):
                self.assertGoodPng(os.path.join(self.out, name))
        self.assertIn("rarest_first", r.stdout)
        self.assertIn("makespan", r.stdout)
        with open(os.path.join(self.out, "compare.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([row["label"] for row in rows],
                         ["rarest_first", "random"])
        self.assertEqual(rows[1]["seed"], "3")
        self.assertGreater(float(rows[0]["efficiency"]),
                           float(rows[1]["efficiency"]))  # smaller spread
        with open(os.path.join(self.out, "compare.md")) as f:
            md = f.read()
        self.assertTrue(md.startswith("| run | scenario | random seed |"))
        main = md.split("\n\n")[0]            # the per-class table follows
        rows = [l for l in main.splitlines() if l.startswith("| ")]
        self.assertEqual(len(rows), 3)                      # header + 2 runs

    def test_like_runs_get_no_caveats(self):
        r = helpers.run_script("compare.py", self.a, self.a, "--labels",
                               "x,y", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("note:", r.stdout)
        with open(os.path.join(self.out, "compare.md")) as f:
            self.assertNotIn("**Note:**", f.read())

    def test_caveats_for_unlike_runs(self):
        # A run twice as long, of another scenario, where not all finished:
        # its time averages cover another period (sequential looked the most
        # even of the three policies in compare.md, the least in the plot).
        c = synthetic.write_result(os.path.join(self.tmp, "long"),
                                   leechers=20, seed=4, seeding_s=2000.0,
                                   scenario="other")
        with open(os.path.join(c, "summary.json")) as f:
            summary = json.load(f)
        summary["peers"]["completed"] = 15
        with open(os.path.join(c, "summary.json"), "w") as f:
            json.dump(summary, f)
        tl = os.path.join(c, "timeline.csv")
        with open(tl) as f:
            lines = f.read().splitlines()
        with open(tl, "w") as f:      # a leecher stays to the end
            f.write("\n".join(lines[:1] + [l.split(",", 2)[0] + ",1," +
                                           l.split(",", 2)[2]
                                           for l in lines[1:]]) + "\n")
        r = helpers.run_script("compare.py", self.a, c, "--labels", "a,c",
                               "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("note: the runs are of different scenarios "
                      "(flash_crowd, other)", r.stdout)
        self.assertRegex(r.stdout, r"note: leechers were present for \d+ s "
                         r"\(a\) to \d+ s \(c\)")
        self.assertIn("not every leecher finished (c 15 of 26)", r.stdout)
        with open(os.path.join(self.out, "compare.md")) as f:
            self.assertEqual(f.read().count("**Note:**"), 3)

    def with_tail(self, run):
        """A copy of run whose timeline goes on for 1990 s with one leecher
        present and every piece equally common."""
        import shutil
        tail = os.path.join(self.tmp, "tail")
        shutil.copytree(run, tail)
        tl = os.path.join(tail, "timeline.csv")
        with open(tl) as f:
            lines = f.read().splitlines()
        last = float(lines[-1].split(",")[0])
        # Idle from here on: a 0.0 in any column after the eight above
        # (upload_utilization_mean, when the header has it).
        extra = ",0.0" * (len(lines[0].split(",")) - 8)
        with open(tl, "a") as f:
            for i in range(1, 200):
                f.write(f"{last + 10 * i:.6f},1,5,20,0.0,3.0,50.0,1.0{extra}\n")
        return tail

    def test_evenness_panels_mark_the_table_window(self):
        import compare
        import figures
        import matplotlib.pyplot as plt
        import resultdir
        runs = [resultdir.load(self.a), resultdir.load(self.with_tail(self.a))]
        end = resultdir.active_end_s(runs[0])
        div, _ = figures._timeline_unit(runs)
        saved = []
        real_save = compare.save
        compare.save = lambda fig, out, name: saved.append((fig, name))
        try:
            compare.plot_all(runs, ["a", "tail"], self.tmp)
        finally:
            compare.save = real_save
        figs = dict((n, f) for f, n in saved)
        panels = figs["compare_overview.png"].axes[2:4] + [
            figs["compare_entropy.png"].axes[0],
            figs["compare_min_availability.png"].axes[0]]
        for ax in panels:
            with self.subTest(panel=ax.get_title()):
                marks = [l for l in ax.get_lines() if l.get_linestyle() == ":"
                         and list(l.get_xdata()) == [end / div] * 2]
                self.assertEqual(len(marks), 1)
                self.assertIn(f"table: 0–{end:.0f} s (its averages' span)",
                              [t.get_text() for t in
                               ax.get_legend().get_texts()])
                self.assertEqual(len(ax.texts), 0)   # no label over curves
        self.assertFalse(any(l.get_linestyle() == ":" for l in
                             figs["compare_population.png"].axes[0]
                             .get_lines()))
        for fig, _ in saved:
            plt.close(fig)

    def test_time_averages_cover_the_common_window(self):
        # A copy of run a whose leechers stay on for long after a's end,
        # with a perfectly even spread meanwhile: averaged over its own span
        # its entropy looked higher than a's, though over the time both ran
        # the two are the same run (piece_selection, seed 1: sequential
        # showed 0.849 against rarest-first's 0.831; 0.746 vs 0.831 over the
        # 375 s both ran).
        tail = self.with_tail(self.a)
        r = helpers.run_script("compare.py", self.a, tail, "--labels",
                               "a,tail", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "compare.csv")) as f:
            a, t = list(csv.DictReader(f))
        import resultdir
        end = resultdir.active_end_s(resultdir.load(self.a))
        self.assertEqual(float(a["window_end_s"]), end)
        for col in ("upload_utilization", "availability_entropy",
                    "availability_min"):
            with self.subTest(col=col):
                self.assertEqual(a["window_mean_" + col],
                                 t["window_mean_" + col])
                self.assertEqual(a["window_mean_" + col],
                                 a["whole_run_mean_" + col])
                self.assertNotEqual(t["window_mean_" + col],
                                    t["whole_run_mean_" + col])
        self.assertGreater(float(t["whole_run_mean_availability_entropy"]),
                           float(t["window_mean_availability_entropy"]))
        with open(os.path.join(self.out, "compare.md")) as f:
            md = f.read()
        self.assertIn(f"| entropy 0–{end:.0f} s |", md)
        self.assertIn(f"time averages over 0–{end:.0f} s, while every run "
                      "still had leechers", md)
        self.assertIn(f"entropy 0–{end:.0f} s", r.stdout)

    def rewrite_timeline(self, run, edit):
        """Replaces run's timeline.csv by edit(header, rows) (lists of
        strings) and returns the new rows."""
        path = os.path.join(run, "timeline.csv")
        with open(path, newline="") as f:
            lines = list(csv.reader(f))
        header, rows = edit(lines[0], lines[1:])
        with open(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([header] + rows)
        return header, rows

    def test_upload_util_is_the_interval_mean(self):
        # The table averaged the instantaneous samples (upload_utilization)
        # though the timeline has the exact share over each interval.
        # Here the two disagree (0.3 at every instant; the interval means
        # vary from row to row) and one row is dropped, so that the
        # interval after the gap is twice as long and must weigh double.
        def edit(header, rows):
            u, m = header.index("upload_utilization"), \
                header.index("upload_utilization_mean")
            rows = rows[:5] + rows[6:]
            for i, row in enumerate(rows):
                row[u] = "0.300000"
                row[m] = "0.000000" if i == 0 else f"{0.4 + 0.05 * (i % 7):.6f}"
            return header, rows
        header, rows = self.rewrite_timeline(self.a, edit)
        r = helpers.run_script("compare.py", self.a, self.a, "--labels",
                               "x,y", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "compare.csv")) as f:
            got = list(csv.DictReader(f))[0]
        window = float(got["window_end_s"])
        col = {h: i for i, h in enumerate(header)}
        num = den = 0.0
        for prev, row in zip(rows, rows[1:]):
            t = float(row[col["time_s"]])
            if float(row[col["leechers"]]) > 0 and t <= window:
                dt = t - float(prev[col["time_s"]])
                num += dt * float(row[col["upload_utilization_mean"]])
                den += dt
        self.assertAlmostEqual(float(got["window_mean_upload_utilization"]),
                               num / den, places=9)
        self.assertNotAlmostEqual(num / den, 0.3, places=2)
        self.assertEqual(got["upload_utilization_from"],
                         "upload_utilization_mean")
        with open(os.path.join(self.out, "compare.md")) as f:
            md = f.read()
        self.assertIn("upload util is the share of the peers' upload "
                      "capacity used over each timeline interval", md)
        self.assertNotIn("instantaneous", md)

    def test_old_timeline_averages_the_samples_and_says_so(self):
        # A folder written before timeline.csv had upload_utilization_mean:
        # its samples are all there is, and compare.md says that its upload
        # util is of another kind than a newer run's.
        def edit(header, rows):
            return header[:-1], [row[:-1] for row in rows]
        header, rows = self.rewrite_timeline(self.b, edit)
        self.assertNotIn("upload_utilization_mean", header)
        r = helpers.run_script("compare.py", self.a, self.b, "--labels",
                               "new,old", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "compare.csv")) as f:
            new, old = list(csv.DictReader(f))
        self.assertEqual(new["upload_utilization_from"],
                         "upload_utilization_mean")
        self.assertEqual(old["upload_utilization_from"], "upload_utilization")
        window = float(old["window_end_s"])
        col = {h: i for i, h in enumerate(header)}
        samples = [float(row[col["upload_utilization"]]) for row in rows
                   if float(row[col["leechers"]]) > 0
                   and float(row[col["time_s"]]) <= window]
        self.assertAlmostEqual(float(old["window_mean_upload_utilization"]),
                               sum(samples) / len(samples), places=9)
        with open(os.path.join(self.out, "compare.md")) as f:
            md = f.read()
        self.assertIn("for old (written before that column existed) it is "
                      "the mean of timeline.csv's instantaneous "
                      "upload_utilization samples", md)
        self.assertIn("**Note:** upload util of old averages instantaneous "
                      "samples", md)
        self.assertIn("note: upload util of old averages instantaneous "
                      "samples", r.stdout)
        # Only old folders: no caveat (like with like), but the notes say
        # which kind of number the column is.
        r = helpers.run_script("compare.py", self.b, self.b, "--labels",
                               "o1,o2", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("note:", r.stdout)
        with open(os.path.join(self.out, "compare.md")) as f:
            self.assertIn("these result folders were written before "
                          "timeline.csv had upload_utilization_mean",
                          f.read())

    def test_per_class_download_times(self):
        # Free-rider studies need honest vs free-rider download times; the
        # table had only the whole swarm's.
        r = helpers.run_script("compare.py", self.a, self.b, "--labels",
                               "tft,rr", "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.out, "compare_classes.csv")) as f:
            rows = list(csv.DictReader(f))
        # One block per class, the runs in order within it.
        self.assertEqual(sorted((row["class"], row["label"]) for row in rows),
                         [("free_rider", "rr"), ("free_rider", "tft"),
                          ("leecher", "rr"), ("leecher", "tft")])
        self.assertEqual([row["label"] for row in rows], ["tft", "rr"] * 2)
        self.assertEqual(rows[0]["class"], rows[1]["class"])
        for row in rows:
            folder = self.a if row["label"] == "tft" else self.b
            with open(os.path.join(folder, "summary.json")) as f:
                want = json.load(f)["per_class"][row["class"]]
            with self.subTest(run=row["label"], klass=row["class"]):
                self.assertEqual(int(row["leechers"]), want["count"])
                self.assertEqual(int(row["completed"]), want["count"])
                self.assertAlmostEqual(float(row["mean_completion_s"]),
                                       want["mean_completion_s"], places=4)
        self.assertGreater(float(next(
            row["mean_completion_s"] for row in rows
            if row["class"] == "free_rider" and row["label"] == "tft")),
            float(next(row["mean_completion_s"] for row in rows
                       if row["class"] == "leecher" and row["label"] == "tft")))
        with open(os.path.join(self.out, "compare.md")) as f:
            md = f.read()
        self.assertIn("**Per leecher class", md)
        self.assertIn("| class | run | done | leechers | mean dl (s) | "
                      "median dl (s) |", md)
        self.assertRegex(md, r"\| free_rider \| tft \| 6 \| 6 \| \d+\.\d \|")
        self.assertIn("Per leecher class", r.stdout)

    def test_one_leecher_class_gets_no_class_table(self):
        a = synthetic.write_result(os.path.join(self.tmp, "x"), leechers=10,
                                   free_riders=0, seed=5)
        b = synthetic.write_result(os.path.join(self.tmp, "y"), leechers=10,
                                   free_riders=0, seed=6)
        r = helpers.run_script("compare.py", a, b, "--out", self.out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Per leecher class", r.stdout)
        with open(os.path.join(self.out, "compare.md")) as f:
            self.assertNotIn("Per leecher class", f.read())
        with open(os.path.join(self.out, "compare_classes.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([(row["label"], row["class"]) for row in rows],
                         [("x", "leecher"), ("y", "leecher")])

    def test_default_labels_are_folder_names(self):
        r = helpers.run_script("compare.py", self.a, self.b, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rarest", r.stdout)
        self.assertTrue(os.path.isfile(os.path.join(
            self.tmp, "results", "comparison", "compare.md")))

    def test_default_labels_drop_what_sweep_runs_share(self):
        import compare
        runs = ["sw/runs/protocol.piece_selection=rarest_first__seed=1",
                "sw/runs/protocol.piece_selection=random__seed=1/"]
        self.assertEqual(compare.default_labels(runs),
                         ["protocol.piece_selection=rarest_first",
                          "protocol.piece_selection=random"])
        other = ["a/x__seed=1", "b/x__seed=2", "c/ss"]
        self.assertEqual(compare.default_labels(other),
                         ["x__seed=1", "x__seed=2", "ss"])
        self.assertEqual(compare.default_labels(["a/x__seed=1", "b/x__seed=1"]),
                         ["a/x", "b/x"])

    def test_long_labels_keep_the_overview_its_width(self):
        # Sweep run names as labels used to widen the page by ~120 px and
        # push the legends out of their panels.
        import matplotlib.image as mpimg
        steady = os.path.join(helpers.HERE, "data", "sim_steady_100")
        widths = []
        for labels in ("a,b,c", "protocol.piece_selection=rarest_first__seed="
                       "1,protocol.piece_selection=random__seed=1,steady"):
            out = os.path.join(self.tmp, str(len(widths)))
            r = helpers.run_script("compare.py", self.a, self.b, steady,
                                   "--labels", labels, "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            widths.append(mpimg.imread(os.path.join(
                out, "compare_overview.png")).shape[1])
        self.assertLessEqual(widths[1], widths[0] * 1.02)

    def test_overview_names_the_runs_once(self):
        # Six runs named in every panel's legend covered the curves and the
        # population panel's title; the overview's CDF legend names them,
        # the other panels keep only what the CDF's does not say.
        import compare
        import figures
        import matplotlib.pyplot as plt
        import resultdir
        runs = [resultdir.load(synthetic.write_result(
            os.path.join(self.tmp, f"r{i}"), leechers=10, seed=i + 1))
            for i in range(6)]
        saved = []
        real_save = compare.save
        compare.save = lambda fig, out, name: saved.append((fig, name))
        try:
            compare.plot_all(runs, [f"run {i}" for i in range(6)], self.tmp)
        finally:
            compare.save = real_save
        overview = dict((n, f) for f, n in saved)["compare_overview.png"]
        cdf, population, entropy, rarest = overview.axes[:4]
        self.assertEqual(len(cdf.get_legend().texts), 7)   # runs + bound
        self.assertEqual([t.get_text() for t in population.get_legend().texts],
                         ["leechers", "seeds"])
        for ax in (entropy, rarest):     # no run named again (a legend
            legend = ax.get_legend()     # may name the table's window)
            self.assertFalse(legend and any(
                t.get_text().startswith("run ") for t in legend.texts))
        alone = dict((n, f) for f, n in saved)["compare_entropy.png"]
        names = [t.get_text() for t in alone.axes[0].get_legend().texts]
        self.assertEqual(len([n for n in names if n.startswith("run ")]), 6)
        for fig, _ in saved:
            plt.close(fig)

    def test_label_count_mismatch_exits_2(self):
        r = helpers.run_script("compare.py", self.a, self.b, "--labels", "x",
                               "--out", self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("1 label(s) for 2 folder(s)", r.stderr)

    def test_one_bad_folder_exits_2_before_writing(self):
        r = helpers.run_script("compare.py", self.a, self.tmp, "--out",
                               self.out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing peers.csv", r.stderr)
        self.assertFalse(os.path.exists(self.out))


if __name__ == "__main__":
    unittest.main()
