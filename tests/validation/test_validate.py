"""Unit tests of validate.py's measures (fast; no simulator runs)."""

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


if __name__ == "__main__":
    unittest.main()
