"""Unit tests of validate.py's measures and hard-bound verdicts (fast; no simulator runs)."""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate  # noqa: E402


def staircase(factor, round_s, first_step_s, n):
    """First-piece times of n peers whose holders grow by `factor` per round
    in synchronous steps: 1 holder at the first step, `factor` at the next..."""
    times = []
    for i in range(1, n + 1):
        k = 0
        while factor ** k < i:
            k += 1
        times.append(first_step_s + round_s * k)
    return sorted(times)


class SmoothedLogGrowthTest(unittest.TestCase):
    def test_an_exponential_staircase_fits_a_line(self):
        times = staircase(4, 10.0, 8.4, 1000)
        # The raw fit of the same staircase is poor: the measure the smoothing
        # replaces failed perfect exponential growth.
        pts = [(t, math.log2(i + 1)) for i, t in enumerate(times) if 4 <= i + 1 <= 500]
        raw = validate.linfit(*zip(*pts))[2]
        self.assertLess(raw, 0.9)
        self.assertGreater(validate.smoothed_log_growth_r2(times, 500, 10.0), 0.999)

    def test_a_linear_ramp_does_not(self):
        times = [0.08 * i for i in range(1, 1001)]  # 12.5 new holders a second
        r2 = validate.smoothed_log_growth_r2(times, 500, 10.0)
        self.assertLess(r2, 0.95)

    def test_too_few_holders_is_not_a_number(self):
        self.assertTrue(math.isnan(validate.smoothed_log_growth_r2([1.0, 2.0, 3.0], 500, 10.0)))


class SignTestTest(unittest.TestCase):
    def test_ties_are_dropped_not_won(self):
        # Two identical policies: every pair tied, nothing shown.
        w, l, t, p = validate.sign_test([1.0] * 30, [1.0] * 30)
        self.assertEqual((w, l, t), (0, 0, 30))
        self.assertEqual(p, 1.0)
        self.assertGreater(p, validate.SIGN_TEST_ALPHA)

    def test_p_value_of_the_remaining_pairs(self):
        a = [2.0] * 10 + [1.0] * 20
        b = [1.0] * 30
        w, l, t, p = validate.sign_test(a, b)
        self.assertEqual((w, l, t), (10, 0, 20))
        self.assertAlmostEqual(p, 2 ** -10)
        # 24 of 30, the entropy row's threshold: p just under 0.001.
        p24 = validate.sign_test([1] * 24 + [0] * 6, [0] * 24 + [1] * 6)[3]
        self.assertLess(p24, 0.001)
        p23 = validate.sign_test([1] * 23 + [0] * 7, [0] * 23 + [1] * 7)[3]
        self.assertGreater(p23, 0.001)


class ReportVerdictTest(unittest.TestCase):
    def setUp(self):
        import report
        self.report = report

    def row(self, met, gate=True, why=None, hard=False, expected="1"):
        return {"what": "x", "expected": expected, "measured": "y", "ok": met or not gate,
                "met": met, "gate": gate, "why": why, "hard": hard}

    def test_an_unmet_row_that_does_not_gate_is_not_reproduced_with_its_reason(self):
        r = self.row(False, gate=False, why="a reason (explanations: V9: s)")
        self.assertTrue(self.report.verdict(r).startswith("*not reproduced*: a reason"))
        d = {"check": "V9", "ok": True, "rows": [self.row(True), r]}
        self.assertIn("not reproduced", self.report.check_verdict(d))
        self.assertNotEqual(self.report.check_verdict(d), "reproduced")

    def test_all_rows_met_is_reproduced(self):
        d = {"check": "V9", "ok": True,
             "rows": [self.row(True), self.row(False, expected="report")]}
        self.assertEqual(self.report.check_verdict(d), "reproduced")

    def test_a_failed_check_names_its_failed_gates_and_bounds(self):
        gate = dict(self.row(False), what="gate")
        bound = dict(self.row(False, hard=True), what="bound")
        loose = dict(self.row(False, gate=False, why="r"), what="loose")
        d = {"check": "V9", "ok": False, "rows": [self.row(True), gate, bound, loose]}
        self.assertEqual(self.report.check_verdict(d), "**FAIL**: gate; bound")
        lines = self.report.missed_lines([gate, bound, loose])
        self.assertEqual(lines, ["- **FAIL**: gate (expected 1, measured y)",
                                 "- **VIOLATED**: bound (expected 1, measured y)",
                                 "- not reproduced: loose (expected 1, measured y): r"])

    def test_rows_not_reproduced_are_counted_among_rows_that_test_a_result(self):
        hard = self.row(True, hard=True)
        regression = dict(self.row(True), regression=True)
        missed = self.row(False, gate=False, why="r")
        d = {"check": "V9", "ok": True,
             "rows": [self.row(True), missed, hard, regression,
                      self.row(False, expected="report")]}
        self.assertEqual(self.report.check_verdict(d),
                         "passes its gates; **not reproduced** (1 of 2 rows): x")

    def test_a_reason_must_name_a_section_that_exists(self):
        d = {"check": "V9", "ok": True,
             "rows": [self.row(False, gate=False, why="r (explanations: V9: gone)")]}
        self.assertEqual(self.report.missing_sections({"V9": d}, "### V9: here\n"),
                         ["V9: x"])
        self.assertEqual(self.report.missing_sections({"V9": d}, "### V9: gone\n"), [])

    def test_a_row_that_does_not_gate_needs_a_reason(self):
        c = validate.Check("V9", "t", "s")
        with self.assertRaises(ValueError):
            c.row("x", "1", 0.5, False, gate=False)


class PipelineModelTest(unittest.TestCase):
    BLOCK = 16384  # a Piece message of 16,397 bytes: S = 1.31176 ms at 100 Mbit/s
    S = 16397 * 8 / 100e6

    def test_window_limited_rate(self):
        # 5 blocks per round of 2 x 50 ms + S.
        x = validate.pipeline_rate(0.050, 5, self.BLOCK, 100e6)
        self.assertAlmostEqual(x, 5 * 131072 / (0.1 + self.S), places=3)

    def test_capacity_limited_rate_is_the_payload_share_of_the_link(self):
        # 20 blocks over 21.3 ms would be 123 Mbit/s: the link caps it, and
        # 13 of every 16,397 bytes it carries are headers.
        x = validate.pipeline_rate(0.010, 20, self.BLOCK, 100e6)
        self.assertAlmostEqual(x, 100e6 * 16384 / 16397, places=3)

    def test_one_block_in_flight(self):
        # Announce round trip 50 ms, then 6 latencies before the request,
        # then request, transmission and block: 0.05 + 0.06 + 0.02 + S.
        t = validate.pipeline_download_time(0.010, 0.025, 1, 1, self.BLOCK, 100e6)
        self.assertAlmostEqual(t, 0.13 + self.S, places=9)

    def test_last_round_ends_p_minus_one_blocks_after_its_first(self):
        # Window-limited, 2 rounds of 4: the first request leaves at
        # 0.05 + 0.6; the first round's blocks arrive at +0.2 + i S, the
        # second's one round (0.2 + S) later, its last at +0.2 + S + 4 S.
        t = validate.pipeline_download_time(0.100, 0.025, 4, 8, self.BLOCK, 100e6)
        self.assertAlmostEqual(t, 0.05 + 0.6 + 0.2 + (0.2 + self.S) + 4 * self.S, places=9)

    def test_capacity_limited_seed_never_idles(self):
        t = validate.pipeline_download_time(0.010, 0.025, 20, 640, self.BLOCK, 100e6)
        self.assertAlmostEqual(t, 0.05 + 0.06 + 0.02 + 640 * self.S, places=9)


class FakeRun:
    """What Check.hard_bounds reads of a run: checks.json and summary.json."""

    def __init__(self, **checks):
        self.folder = "/runs/fake-seed1"
        self.summary = {"makespan_s": 900.0}
        self.checks = {
            "causality_violations": 0, "cap_violations": 0, "idle_violations": 0,
            "host_rate_violations": 0, "volume_violations": 0,
            "utilization_violations": 0,
            "bytes_sent": 10, "bytes_delivered": 10, "bytes_dropped": 0,
            "bytes_in_flight": 0, "peers_uploaded": 10, "peers_downloaded": 10,
            "rank_bound_violations": 0, "peer_bound_violations": 0,
            "hit_max_time": False, "kumar_ross_s": 830.6}
        self.checks.update(checks)


class HardBoundsTest(unittest.TestCase):
    def violations(self, run):
        c = validate.Check("VX", "test", "none")
        c.hard_bounds(run)
        return c.hard["violations"]

    def test_a_clean_run_passes(self):
        self.assertEqual(self.violations(FakeRun()), [])

    def test_rate_caps_against_the_scenario_fail(self):
        for key in ("host_rate_violations", "volume_violations", "utilization_violations"):
            bad = self.violations(FakeRun(**{key: 3}))
            self.assertEqual(len(bad), 1, key)
            self.assertIn("3 ", bad[0])

    def test_a_checks_file_without_them_fails(self):
        run = FakeRun()
        del run.checks["volume_violations"]
        bad = self.violations(run)
        self.assertEqual(len(bad), 1)
        self.assertIn("no volume_violations", bad[0])


if __name__ == "__main__":
    unittest.main()
