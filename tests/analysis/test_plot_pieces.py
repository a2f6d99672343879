"""Tests for analysis/plot_pieces.py: the piece map and per-piece copies
computed from a `sim run --trace` file, and the script run as a user would."""

import math
import os
import random
import unittest

import helpers
import numpy as np
import plot_pieces

# A seed and two leechers, three pieces. Leecher 1 leaves at 7 s, the seed
# crashes at 9 s; leecher 2's first try at piece 0 fails its hash check.
SMALL = """\
0.000000 peer=0 join seed
0.000000 peer=0 announce started
1.000000 peer=1 join leecher
2.000000 peer=2 join leecher
3.000000 peer=1 verify piece=1
4.000000 peer=1 recv conn=0 have piece=1
5.000000 peer=2 verify piece=1
6.000000 peer=1 verify piece=0
6.500000 peer=2 verify-failed piece=0
7.000000 peer=1 leave
8.000000 peer=2 verify piece=0
9.000000 peer=0 fail
"""

SCENARIO = """\
name: tiny_pieces
file: {name: f, size: 768KiB, piece_size: 256KiB, block_size: 16KiB}
"""


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def synthetic_trace(leechers=30, pieces=20, seed=7):
    """A plausible trace: leechers join over 5 s and verify every piece in
    a random order, one every ~2 s."""
    rng = random.Random(seed)
    events = [(0.0, 0, "join seed")]
    for p in range(1, leechers + 1):
        t = rng.uniform(0, 5)
        events.append((t, p, "join leecher"))
        for piece in rng.sample(range(pieces), pieces):
            t += rng.uniform(1, 3)
            events.append((t, p, f"verify piece={piece}"))
        events.append((t + 10, p, "leave"))
    events.sort()
    return "".join(f"{t:.6f} peer={p} {what}\n" for t, p, what in events)


class ReadTraceTest(helpers.TempDirTest):

    def test_piece_map_holds_verify_times_of_leechers_only(self):
        trace = plot_pieces.read_trace(write(os.path.join(self.tmp, "t.log"), SMALL))
        ids, grid = plot_pieces.piece_map(trace, 3)
        self.assertEqual(ids, [1, 2])
        np.testing.assert_array_equal(grid[0], [6.0, 3.0, math.nan])
        np.testing.assert_array_equal(grid[1], [8.0, 5.0, math.nan])
        self.assertEqual(trace.pieces_seen, 2)
        self.assertEqual(trace.end_s, 9.0)

    def test_copies_count_holders_present(self):
        trace = plot_pieces.read_trace(write(os.path.join(self.tmp, "t.log"), SMALL))
        samples = np.array([0.5, 3.5, 5.5, 6.7, 7.5, 8.5, 9.5])
        copies = plot_pieces.copies_over_time(trace, 3, samples)
        # Piece 0: the seed; + leecher 1 at 6 s until it leaves at 7 s;
        # + leecher 2 at 8 s (its failed check at 6.5 s adds nothing); the
        # seed's crash at 9 s takes its copy away.
        np.testing.assert_array_equal(copies[0], [1, 1, 1, 2, 1, 2, 1])
        np.testing.assert_array_equal(copies[1], [1, 2, 3, 3, 2, 2, 1])
        np.testing.assert_array_equal(copies[2], [1, 1, 1, 1, 1, 1, 0])

    def test_piece_and_leecher_ticks_are_whole_numbers(self):
        # 20 pieces and 40 leechers, as in the lab's piece-by-piece run: left
        # to itself matplotlib ticks such axes at 0, 2.5, 5, 7.5 ...
        # One piece and one leecher (v3_one_piece shrunk) had ticks at
        # -0.5, -0.4, ..., 0.5.
        for leechers, pieces in ((40, 20), (1, 1)):
            self._whole_number_ticks(leechers, pieces)

    def _whole_number_ticks(self, leechers, pieces):
        text = synthetic_trace(leechers=leechers, pieces=pieces)
        trace = plot_pieces.read_trace(write(os.path.join(self.tmp, "t.log"), text))
        fig = plot_pieces.draw(trace, pieces, "ticks")
        try:
            fig.canvas.draw()
            top = [a for a in fig.axes if a.get_xlabel() == "piece"]
            bottom = [a for a in fig.axes if a.get_ylabel() == "piece"]
            self.assertEqual((len(top), len(bottom)), (1, 1))
            top, bottom = top[0], bottom[0]
            for axis in (top.xaxis, top.yaxis, bottom.yaxis):
                ticks = axis.get_ticklocs()
                self.assertGreater(len(ticks), 1 if pieces > 1 else 0)
                for t in ticks:
                    self.assertEqual(t, round(t), f"tick {t} on {axis.get_label_text()}")
        finally:
            plot_pieces.plt.close(fig)

    def test_every_piece_labelled_up_to_40_and_scales_fixed(self):
        # Labels sat on every other piece (piece 9 of 20 had none); the
        # colour scales were each run's own (0–107 s against 0–137 s).
        text = synthetic_trace(leechers=12, pieces=20)
        trace = plot_pieces.read_trace(write(os.path.join(self.tmp, "t.log"), text))
        fig = plot_pieces.draw(trace, 20, "t", time_max=140.0, copies_max=50)
        try:
            fig.canvas.draw()
            top = next(a for a in fig.axes if a.get_xlabel() == "piece")
            bottom = next(a for a in fig.axes if a.get_ylabel() == "piece")
            self.assertEqual(list(top.get_xticks()), list(range(20)))
            self.assertEqual(list(top.get_yticks()), list(range(12)))
            self.assertEqual(list(bottom.get_yticks()), list(range(20)))
            self.assertEqual(top.images[0].get_clim(), (0.0, 140.0))
            self.assertEqual(bottom.images[0].get_clim(), (0.0, 50.0))
            bars = [a.get_ylabel() for a in fig.axes]
            self.assertIn("verified at (s); scale 0–140 s", bars)
            self.assertIn("copies among peers present; scale 0–50", bars)
        finally:
            plot_pieces.plt.close(fig)

    def test_title_names_policy_and_random_seed(self):
        # Two runs' figures had the same title, "piece_selection: 40
        # leechers, 20 pieces", with no policy named.
        path = write(os.path.join(self.tmp, "scenario.yaml"),
                     "name: piece_selection\nseed: 3\nprotocol:\n"
                     "  piece_selection: rarest_first\n  endgame: true\n"
                     "peers:\n  - {class: seed, protocol: {piece_selection: "
                     "sequential}}\n")
        self.assertEqual(plot_pieces.title_of("t.log", [self.tmp]),
                         "piece_selection, rarest-first, random seed 3")
        write(path, "name: x\nprotocol: {endgame: true, piece_selection: "
              "sequential}\n")
        self.assertEqual(plot_pieces.title_of("t.log", [self.tmp]),
                         "x, sequential")

    def test_pieces_from_the_resolved_scenario(self):
        path = write(os.path.join(self.tmp, "scenario.yaml"), SCENARIO)
        self.assertEqual(plot_pieces.pieces_from_scenario(path), 3)
        write(path, "name: x\nfile: {name: f, size: 1000B, piece_size: 256KiB}\n")
        self.assertEqual(plot_pieces.pieces_from_scenario(path), 1)
        write(path, "name: x\n")
        self.assertIsNone(plot_pieces.pieces_from_scenario(path))
        self.assertIsNone(plot_pieces.pieces_from_scenario(
            os.path.join(self.tmp, "missing.yaml")))


class PlotPiecesCliTest(helpers.TempDirTest):

    def test_writes_the_png_beside_the_trace(self):
        write(os.path.join(self.tmp, "scenario.yaml"),
              "name: synthetic\nfile: {name: f, size: 5MiB, piece_size: 256KiB}\n")
        trace = write(os.path.join(self.tmp, "trace.log"), synthetic_trace())
        r = helpers.run_script("plot_pieces.py", trace)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        png = os.path.join(self.tmp, "pieces.png")
        self.assertIn(png, r.stdout)
        self.assertGoodPng(png)

    def test_without_a_scenario_it_says_what_it_assumed(self):
        trace = write(os.path.join(self.tmp, "trace.log"), synthetic_trace())
        out = os.path.join(self.tmp, "elsewhere.png")
        r = helpers.run_script("plot_pieces.py", trace, "--out", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("assuming 20 pieces", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertGoodPng(out)

    def test_a_scenario_beside_the_png_counts_too(self):
        # sim run --out DIR --trace ELSEWHERE --plot: the result folder,
        # with its scenario.yaml, is where the PNG goes.
        trace = write(os.path.join(self.tmp, "trace.log"), synthetic_trace(pieces=20))
        result = os.path.join(self.tmp, "result")
        os.makedirs(result)
        write(os.path.join(result, "scenario.yaml"),
              "name: beside_png\nfile: {name: f, size: 6MiB, piece_size: 256KiB}\n")
        r = helpers.run_script("plot_pieces.py", trace, "--out",
                               os.path.join(result, "pieces.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")  # 24 pieces from the scenario, nothing assumed
        self.assertGoodPng(os.path.join(result, "pieces.png"))

    def test_bad_lines_name_the_line(self):
        bad = SMALL.splitlines(keepends=True)
        cases = {
            "garbage": (bad[:2] + ["this is not a trace line\n"] + bad[2:], "line 3"),
            "time backwards": (bad[:3] + ["0.500000 peer=1 verify piece=0\n"] + bad[3:],
                               "line 4: time 0.500000 is not after"),
            "before join": (["0.000000 peer=5 verify piece=0\n"], "peer 5 verify before it joined"),
        }
        for name, (lines, expected) in cases.items():
            with self.subTest(name):
                trace = write(os.path.join(self.tmp, "t.log"), "".join(lines))
                r = helpers.run_script("plot_pieces.py", trace, "--pieces", "3")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(expected, r.stderr)
                self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_a_piece_past_the_file_is_refused(self):
        trace = write(os.path.join(self.tmp, "t.log"), SMALL)
        r = helpers.run_script("plot_pieces.py", trace, "--pieces", "1")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("verified piece 1, but the file has 1 pieces", r.stderr)

    def test_missing_trace(self):
        r = helpers.run_script("plot_pieces.py", os.path.join(self.tmp, "nope.log"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("nope.log: cannot read", r.stderr)


if __name__ == "__main__":
    unittest.main()
