"""Tests for analysis/sweep_pairs.py: the Student t quantile behind every
95% interval of plot_sweep.py, paired and unpaired."""

import math
import unittest

import helpers  # noqa: F401  (puts analysis/ on sys.path)
import sweep_pairs

# t(0.975, df), as R's qt(0.975, df) and published tables give it.
KNOWN_T975 = {1: 12.706204736, 2: 4.302652730, 5: 2.570581836,
              10: 2.228138852, 30: 2.042272456, 31: 2.039513446,
              40: 2.021075390, 60: 2.000297822, 120: 1.979930405,
              1000: 1.962339081}


class TQuantileTest(unittest.TestCase):

    def test_known_values(self):
        for df, t in KNOWN_T975.items():
            with self.subTest(df=df):
                self.assertAlmostEqual(sweep_pairs.t975(df), t, places=7)

    def test_beyond_thirty_is_not_the_normal_quantile(self):
        # df 31..60 (32..61 seeds) used to get 1.96: intervals 2-4% narrow.
        for df in range(31, 61):
            self.assertGreater(sweep_pairs.t975(df), 2.0)
        self.assertGreater(sweep_pairs.t975(100000), 1.95996)
        self.assertLess(sweep_pairs.t975(100000), 1.96)

    def test_decreases_with_df_and_inverts_the_tail(self):
        prev = math.inf
        for df in range(1, 200):
            t = sweep_pairs.t975(df)
            self.assertLess(t, prev)
            prev = t
            self.assertAlmostEqual(sweep_pairs.t_tail(t, df), 0.025, places=12)
        # Other levels: t(0.95, 10) and the median.
        self.assertAlmostEqual(sweep_pairs.t_quantile(0.95, 10), 1.812461123,
                               places=7)
        self.assertAlmostEqual(sweep_pairs.t_quantile(0.5, 3), 0.0, places=9)
        with self.assertRaises(ValueError):
            sweep_pairs.t_quantile(0.975, 0)

    def test_a_forty_seed_interval_uses_t_with_39_df(self):
        values = [float(v % 7) for v in range(40)]
        mean = sum(values) / 40
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 39)
        centre, low, high = sweep_pairs.summarize(values, False, "ci95")
        self.assertAlmostEqual(centre, mean)
        # qt(0.975, 39) = 2.022690901
        self.assertAlmostEqual((high - low) / 2, 2.022690901 * sd / math.sqrt(40),
                               places=7)


if __name__ == "__main__":
    unittest.main()
