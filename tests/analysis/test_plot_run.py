"""Tests for analysis/plot_run.py, run as a user would run it."""

import json
import os
import shutil
import unittest

import helpers
import figures  # noqa: E402  (helpers puts analysis/ on sys.path)
import plot_run
import resultdir
import synthetic

REAL = os.path.join(helpers.HERE, "data", "sim_flash_20")
STEADY = os.path.join(helpers.HERE, "data", "sim_steady_100")

PNGS = ("overview.png", "completion_cdf.png", "population.png",
        "upload_utilization.png", "availability.png", "class_ratio.png",
        "growth.png")


class PlotRunTest(helpers.TempDirTest):

    def test_writes_every_png(self):
        d = synthetic.write_result(os.path.join(self.tmp, "flash"),
                                   leechers=25, free_riders=5)
        r = helpers.run_script("plot_run.py", d)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in PNGS:
            with self.subTest(png=name):
                self.assertGoodPng(os.path.join(d, name))
        self.assertIn("overview.png", r.stdout)

    def test_talk_style_and_svg(self):
        # For a projector: larger text and dpi, or SVG; the default output
        # is unchanged.
        d = synthetic.write_result(os.path.join(self.tmp, "flash"),
                                   leechers=10, free_riders=0)
        talk = os.path.join(self.tmp, "talk")
        r = helpers.run_script("plot_run.py", d, "--out", talk, "--style",
                               "talk")
        self.assertEqual(r.returncode, 0, r.stderr)
        plain = os.path.join(self.tmp, "plain")
        r = helpers.run_script("plot_run.py", d, "--out", plain, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        import matplotlib.image as mpimg
        big = mpimg.imread(os.path.join(talk, "completion_cdf.png"))
        small = mpimg.imread(os.path.join(plain, "completion_cdf.png"))
        self.assertGreater(big.shape[1], small.shape[1] * 1.3)   # 150 dpi
        svg = os.path.join(self.tmp, "svg")
        r = helpers.run_script("plot_run.py", d, "--out", svg, "--format",
                               "svg")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(os.path.join(svg, "overview.svg"), r.stdout)
        for name in PNGS:
            with open(os.path.join(svg, name[:-4] + ".svg")) as f:
                self.assertIn("<svg", f.read(2000))
            self.assertFalse(os.path.exists(os.path.join(svg, name)))

    def test_a_dollar_in_the_name_is_plain_text(self):
        # matplotlib reads "$...$" as mathematical notation and fails on
        # an unbalanced one; scenario names may hold "$".
        d = synthetic.write_result(os.path.join(self.tmp, "dollar"),
                                   leechers=10, free_riders=0,
                                   scenario=r"p $\frac$ q")
        r = helpers.run_script("plot_run.py", d, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(os.path.join(d, "overview.png"))

    def test_real_simulator_output(self):
        d = os.path.join(self.tmp, "real")
        shutil.copytree(REAL, d)
        r = helpers.run_script("plot_run.py", d, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in PNGS:
            with self.subTest(png=name):
                self.assertGoodPng(os.path.join(d, name))
        run = resultdir.load(d)
        self.assertEqual(run.peers.seed_classes, {"seed"})
        self.assertEqual(int(run.peers.leecher.sum()), 20)

    def test_out_writes_elsewhere(self):
        out = os.path.join(self.tmp, "pictures")
        r = helpers.run_script("plot_run.py", REAL, "--out", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGoodPng(os.path.join(out, "overview.png"))
        self.assertFalse(os.path.exists(os.path.join(REAL, "overview.png")))

    def test_headline_says_how_many_finished(self):
        run = helpers.joined_at_once(resultdir.load(REAL))
        self.assertIn("efficiency 57%", plot_run.headline(run))
        run.summary["peers"]["completed"] = 0
        run.summary["makespan_s"] = None
        text = plot_run.headline(run)
        self.assertIn("only 0 of 20 finished", text)
        self.assertNotIn("efficiency", text)
        run.summary["stopped"] = "pieces_lost"
        self.assertIn("only 0 of 20 finished (stopped: some pieces had no "
                      "holder left)", plot_run.headline(run))

    def test_headline_names_the_makespan_not_the_last_finish(self):
        # makespan_s runs from the first leecher's arrival to the last
        # finish: with leechers arriving late, "last finish 89.0 s" was
        # read as a time when the last finish came 100 s later.
        run = helpers.joined_at_once(resultdir.load(REAL))
        makespan = run.summary["makespan_s"]
        text = plot_run.headline(run)
        self.assertIn(f"— makespan {figures.fmt_duration(makespan)}", text)
        self.assertNotIn("last finish", text)

    def test_headline_says_whether_the_piece_granular_value_is_a_bound(self):
        run = helpers.joined_at_once(resultdir.load(REAL))
        run.summary["bounds"]["piece_granular_s"] = 30.0
        self.assertIn(", piece-granular value ", plot_run.headline(run))
        run.summary["bounds"]["piece_granular_is_bound"] = True
        self.assertIn(", piece-granular bound ", plot_run.headline(run))
        run.summary["bounds"]["piece_granular_is_bound"] = False
        text = plot_run.headline(run)
        self.assertIn(", piece-granular reference ", text)
        self.assertNotIn("piece-granular bound", text)

    def test_headline_says_one_leecher(self):
        run = resultdir.load(REAL)
        run.summary["peers"]["leechers"] = 1
        self.assertIn(", 1 leecher, random seed 1", plot_run.headline(run))

    def test_headline_counts_leechers_that_never_joined(self):
        # A steady state cut by max_time: 4400 leechers in summary.json,
        # 601 joined; "only 482 of 4400 finished" read as 3918 failures
        # beside a CDF saying "482 of 601".
        run = resultdir.load(STEADY)
        self.assertNotIn("not joined", plot_run.headline(run))
        run.summary["peers"]["completed"] = 90
        leechers = run.peers.leecher.nonzero()[0]
        for i in leechers[-7:]:
            run.peers.join_s[i] = run.peers.first_piece_s[i] = float("nan")
            run.peers.completion_s[i] = float("nan")
        self.assertIn("only 90 of 100 finished, 7 had not joined yet",
                      plot_run.headline(run))

    def test_headline_gives_both_download_times_in_one_unit(self):
        run = resultdir.load(STEADY)
        run.summary["completion_time_s"]["mean"] = 642.0
        run.fluid_model["download_time_s"] = 533.9
        self.assertTrue(plot_run.headline(run).endswith(
            "mean download 642.0 s, Qiu–Srikant 533.9 s"),
            plot_run.headline(run))

    def test_headline_counts_leechers_that_crashed_before_finishing(self):
        run = resultdir.load(STEADY)
        self.assertIsNotNone(run.peers.failed)  # the folder has the column
        self.assertFalse(run.peers.failed.any())
        run.summary["peers"]["completed"] = 97
        self.assertNotIn("crashed", plot_run.headline(run))
        leechers = [i for i in range(len(run.peers.peer)) if run.peers.leecher[i]]
        for i in leechers[:3]:
            run.peers.failed[i] = True
            run.peers.completion_s[i] = float("nan")
        run.peers.failed[leechers[3]] = True  # crashed after finishing
        self.assertIn("only 97 of 100 finished, 3 crashed first",
                      plot_run.headline(run))
        # A folder from before the column: nothing said, nothing breaks.
        old = resultdir.load(REAL)
        self.assertIsNone(old.peers.failed)
        old.summary["peers"]["completed"] = 0
        self.assertNotIn("crashed", plot_run.headline(old))

    def test_spread_arrivals_get_no_efficiency(self):
        run = helpers.joined_at_once(resultdir.load(REAL))
        self.assertIn("efficiency", plot_run.headline(run))
        # Leechers joining over most of the run: a steady-state swarm.
        makespan = run.summary["makespan_s"]
        leechers = run.peers.leecher.nonzero()[0]
        run.peers.join_s[leechers[-1]] = run.peers.join_s[leechers[0]] + 0.6 * makespan
        text = plot_run.headline(run)
        self.assertIn("not a flash crowd, no efficiency", text)
        self.assertNotIn("Kumar–Ross", text)
        self.assertNotIn("(efficiency", text)

    def test_steady_state_headline_compares_with_the_fluid_model(self):
        run = resultdir.load(STEADY)
        self.assertEqual(plot_run.headline(run),
                         "steady_state, 100 leechers, random seed 1 — joins "
                         "over "
                         "1745.3 s, more than ¼ of the 180.4 s bound: not a "
                         "flash crowd, no efficiency — mean download 69.7 s, "
                         "Qiu–Srikant 41.9 s")

    def test_steady_state_overview_keeps_its_width(self):
        # Its headline used to be so long that the PNG grew 250 px wider.
        import matplotlib.image as mpimg
        widths = []
        for src in (REAL, STEADY):
            d = os.path.join(self.tmp, os.path.basename(src))
            shutil.copytree(src, d)
            r = helpers.run_script("plot_run.py", d, "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)
            widths.append(mpimg.imread(os.path.join(d, "overview.png"))
                          .shape[1])
        self.assertLessEqual(widths[1], widths[0] * 1.02)

    def test_a_long_scenario_name_keeps_the_overview_width(self):
        # A 130-character headline used to widen the PNG past the figure
        # (only its first " — " was turned into a line break).
        import matplotlib.image as mpimg
        widths = []
        for name in ("flash_crowd", "a rather long scenario name " * 4
                     + "x" * 120):
            d = synthetic.write_result(os.path.join(self.tmp, str(len(name))),
                                       scenario=name)
            r = helpers.run_script("plot_run.py", d, "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)
            widths.append(mpimg.imread(os.path.join(d, "overview.png"))
                          .shape[1])
        self.assertLessEqual(widths[1], widths[0] * 1.02)
        for line in plot_run.title_lines("n" * 250 + " — 40 leechers").split(
                "\n"):
            self.assertLessEqual(len(line), 105)

    def test_a_wrapped_headline_leaves_no_word_alone(self):
        # Two bounds in minutes and seconds made the second part 108
        # characters: "... (432 s) (efficiency" / "50%)".
        self.assertEqual(plot_run.title_lines(
            "v4_piece_selection, 100 leechers, seed 1 — last finish 14.1 "
            "min, Kumar–Ross bound 7.0 min (419 s), piece-granular bound "
            "7.2 min (432 s) (efficiency 50%)").split("\n"),
            ["v4_piece_selection, 100 leechers, seed 1",
             "last finish 14.1 min, Kumar–Ross bound 7.0 min (419 s),",
             "piece-granular bound 7.2 min (432 s) (efficiency 50%)"])

    def test_a_wrapped_subtitle_leaves_no_word_alone(self):
        # "... leecher: 800 peers, 1 Mbit/s up, 8 Mbit/s" / "down".
        run = resultdir.load(REAL)
        run.file_spec["size"] = "10MiB"
        run.peer_classes[1]["count"] = "800"
        run.summary["overrides"] = [
            "file.size=10MiB", "peers.1.count=800",
            "protocol.piece_selection=random"]
        lines = plot_run.subtitle_lines(run)
        self.assertEqual(len(lines), 4, lines)
        for line in lines:
            self.assertGreater(len(line), 50, lines)
        self.assertTrue(lines[1].endswith("8 Mbit/s down"), lines)

    def overview_layout(self, run):
        """(bottom of the heading, top of the highest panel), as fractions
        of the overview's height, and the number of heading lines."""
        saved = []
        real_save = plot_run.save
        plot_run.save = lambda fig, out, name: saved.append(fig)
        try:
            plot_run.plot_overview(run, self.tmp)
        finally:
            plot_run.save = real_save
        fig = saved[0]
        renderer = fig.canvas.get_renderer()
        height = fig.bbox.height
        texts = [t for t in fig.texts if t.get_text()]
        bottom = min(t.get_window_extent(renderer).y0 for t in texts)
        top = max(ax.get_tightbbox(renderer).y1 for ax in fig.axes)
        lines = sum(t.get_text().count("\n") + 1 for t in texts)
        plt_close(fig)
        return bottom / height, top / height, lines

    def test_overview_panels_start_right_under_the_heading(self):
        # tight_layout made room for the title a second time: an empty band
        # of ~7 % of the height under a two-line title and its subtitle.
        run = resultdir.load(REAL)
        cases = {"short": ("flash", ""),
                 "long": ("a long scenario name " * 6,
                          "One sentence of a description. " * 12)}
        for what, (name, description) in cases.items():
            run.summary["scenario"] = name
            run.scenario["description"] = description
            bottom, top, lines = self.overview_layout(run)
            with self.subTest(what, lines=lines):
                self.assertLess(top, bottom)                 # no overlap
                self.assertLess(bottom - top, 0.03)
                if what == "long":
                    self.assertGreaterEqual(lines, 5)

    def test_a_cut_description_ends_in_an_ellipsis_not_a_full_stop(self):
        # Cut after a sentence, it read "worlds.…".
        text = ("One sentence that ends here. " * 40).strip()
        lines = plot_run.description_lines(text, width=29, max_lines=2)
        self.assertTrue(lines[-1].endswith("here…"), lines)

    def test_subtitle_says_what_the_run_changed(self):
        run = resultdir.load(REAL)
        self.assertEqual(plot_run.subtitle_lines(run),
                         plot_run.description_lines(run.description))
        run.summary["overrides"] = ["peers.1.count=20", "file.size=4MiB"]
        self.assertEqual(plot_run.subtitle_lines(run)[-1],
                         "run with --set peers.1.count=20, file.size=4MiB "
                         "(the scenario file's description is left out: it "
                         "need not hold for this run)")

    def test_subtitle_of_an_overridden_run_states_only_its_own_facts(self):
        # flash_crowd.yaml's description ("1000 leechers ... a 100 MiB file
        # ... 830.6 s") stood above "run with --set", in a figure of a run
        # with 20 leechers and a 4 MiB file.
        run = resultdir.load(REAL)
        run.summary["overrides"] = ["peers.1.count=20", "file.size=4MiB"]
        text = " ".join(plot_run.subtitle_lines(run))
        for false in ("1000 leechers", "100 MiB", "830.6 s"):
            self.assertNotIn(false, text)
        self.assertIn("This run: 4 MiB file in 256 KiB pieces; seed: 1 peer, "
                      "10 Mbit/s up, 100 Mbit/s down, complete at start; "
                      "leecher: 20 peers, 1 Mbit/s up, 8 Mbit/s down", text)

    def test_run_facts_without_scenario_yaml_count_the_classes(self):
        d = synthetic.write_result(os.path.join(self.tmp, "bare"),
                                   leechers=12, free_riders=3)
        run = resultdir.load(d)
        self.assertIn("free_rider: 3 peers, 0 bit/s up, 8 Mbit/s down, "
                      "free-riding (uploads nothing)", plot_run.run_facts(run))
        os.remove(os.path.join(d, "scenario.yaml"))
        run = resultdir.load(d)
        run.summary["overrides"] = ["peers.1.count=12"]
        facts = plot_run.run_facts(run)
        self.assertNotIn("file", facts)
        for part in ("seed: 1 peer", "leecher: 12 peers",
                     "free_rider: 3 peers"):
            self.assertIn(part, facts)
        self.assertEqual(plot_run.subtitle_lines(run)[0],
                         "This run: " + facts)
        # No description to leave out: the --set line says nothing about it.
        self.assertEqual(plot_run.subtitle_lines(run)[-1],
                         "run with --set peers.1.count=12")

    def test_overview_is_large_enough_to_read(self):
        import matplotlib.image as mpimg
        d = synthetic.write_result(os.path.join(self.tmp, "flash"))
        self.assertEqual(helpers.run_script("plot_run.py", d, "--quiet")
                         .returncode, 0)
        h, w = mpimg.imread(os.path.join(d, "overview.png")).shape[:2]
        self.assertGreaterEqual(w, 1200)
        self.assertGreaterEqual(h, 800)

    def test_run_where_nobody_finished_still_plots(self):
        d = synthetic.write_result(os.path.join(self.tmp, "stuck"),
                                   leechers=8, free_riders=0)
        path = os.path.join(d, "peers.csv")
        with open(path) as f:
            lines = f.read().splitlines()
        out = [lines[0], lines[1]]                     # header, the seed
        for line in lines[2:]:
            f = line.split(",")
            f[4] = f[5] = ""                           # never completed
            out.append(",".join(f))
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        path = os.path.join(d, "summary.json")
        with open(path) as f:
            summary = json.load(f)
        summary.update(completion_time_s=None, makespan_s=None,
                       efficiency=None)
        with open(path, "w") as f:
            json.dump(summary, f)
        r = helpers.run_script("plot_run.py", d, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(d, "completion_cdf.png")))

    def test_single_sample_timeline(self):
        d = synthetic.write_result(os.path.join(self.tmp, "one"), leechers=3)
        path = os.path.join(d, "timeline.csv")
        with open(path) as f:
            lines = f.read().splitlines()
        with open(path, "w") as f:
            f.write("\n".join(lines[:2]) + "\n")
        r = helpers.run_script("plot_run.py", d, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_not_a_result_exits_2_with_one_line(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        with open(os.path.join(empty, "notes.txt"), "w") as f:
            f.write("hello\n")
        r = helpers.run_script("plot_run.py", empty)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertIn("not a swarmlab result folder", r.stderr)
        self.assertIn("peers.csv", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(empty, "overview.png")))

    def test_bad_header_exits_2(self):
        d = synthetic.write_result(os.path.join(self.tmp, "bad"), leechers=5)
        path = os.path.join(d, "timeline.csv")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("availability_entropy", "entropy", 1))
        r = helpers.run_script("plot_run.py", d)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"^plot_run\.py: error: .*timeline\.csv: "
                                   r"line 1: bad header.*availability_entropy")

    def test_missing_directory_exits_2(self):
        r = helpers.run_script("plot_run.py", os.path.join(self.tmp, "nope"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a directory", r.stderr)


def plt_close(fig):
    import matplotlib.pyplot as plt
    plt.close(fig)


if __name__ == "__main__":
    unittest.main()
