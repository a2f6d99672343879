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


class WelchTest(unittest.TestCase):
    """sweep_pairs.welch(): the unpaired difference interval of --diff-to,
    against hand computations."""

    def test_equal_variances_and_sizes_give_the_pooled_df(self):
        # [4, 5, 6] - [1, 2, 3]: means 5 and 2, both variances 1, so
        # se^2 = 1/3 + 1/3 = 2/3 and df = (2/3)^2 / (2 (1/3)^2 / 2) = 4;
        # t(0.975, 4) = 2.776445 (tables), half-width 2.776445 sqrt(2/3).
        diff, low, high, df = sweep_pairs.welch([4, 5, 6], [1, 2, 3])
        self.assertEqual(diff, 3.0)
        self.assertAlmostEqual(df, 4.0, places=12)
        half = 2.776445 * math.sqrt(2 / 3)     # 2.266958
        self.assertAlmostEqual(low, 3 - half, places=5)
        self.assertAlmostEqual(high, 3 + half, places=5)
        self.assertAlmostEqual(low, 0.733042, places=5)

    def test_unequal_variances_give_a_fractional_df(self):
        # [1..5]: mean 3, s^2 2.5, s^2/n 0.5; [2, 4, 6]: mean 4, s^2 4,
        # s^2/n 4/3. se^2 = 11/6; df = (11/6)^2 / (0.5^2/4 + (4/3)^2/2)
        # = (121/36) / (1/16 + 8/9) = 3.532847.
        diff, low, high, df = sweep_pairs.welch([1, 2, 3, 4, 5], [2, 4, 6])
        self.assertEqual(diff, -1.0)
        self.assertAlmostEqual(df, (121 / 36) / (1 / 16 + 8 / 9), places=12)
        self.assertAlmostEqual(df, 3.532847, places=6)
        t = (high - diff) / math.sqrt(11 / 6)
        self.assertAlmostEqual(t, sweep_pairs.t975(df), places=12)
        # Between the tables' t(0.975, 4) and t(0.975, 3).
        self.assertGreater(t, 2.776445)
        self.assertLess(t, 3.182446)
        self.assertAlmostEqual(high - diff, diff - low, places=12)

    def test_no_spread_and_too_few_values(self):
        self.assertEqual(sweep_pairs.welch([2, 2], [1, 1, 1]), (1.0, 1.0, 1.0, 3.0))
        with self.assertRaises(ValueError):
            sweep_pairs.welch([1], [1, 2])

    def test_differences_per_series_and_x(self):
        rows = [{"run": f"r{i}", "seed": str(i % 3), "x": x, "g": g, "y": str(v)}
                for i, (x, g, v) in enumerate(
                    [("a", "1", 1), ("a", "1", 2), ("a", "1", 3),
                     ("b", "1", 4), ("b", "1", 5), ("b", "1", 6),
                     ("c", "1", 7), ("a", "2", 1), ("b", "2", "")])]
        series, short = sweep_pairs.differences(rows, "x", "y", "a", ["g"])
        self.assertEqual(list(series), ["g=1"])
        (d,) = series["g=1"]
        self.assertEqual((d.x, d.diff, d.n, d.n_ref), ("b", 3.0, 3, 3))
        self.assertEqual(d[:5], ("b", *sweep_pairs.welch([4, 5, 6], [1, 2, 3])))
        self.assertEqual(short, [("g=1", "c")])   # one run of c


if __name__ == "__main__":
    unittest.main()
