"""Paired comparisons within a sweep: every condition against a reference
condition, seed by seed.

Runs of a sweep with the same seed draw the same random numbers for their
workload (arrival times, the seeds of every peer), so two conditions run
with one seed meet the same swarm. Comparing them seed by seed removes that
shared variation, which the unpaired confidence intervals of plot_sweep.py
keep: a difference can be clear in every seed and still hide inside two
overlapping intervals.

A run is paired with the run of the reference x value that has the same
seed and the same values of every other varied parameter (so a sweep over
two parameters pairs within each value of the other one). For each pair
the statistic is

  difference = value - reference value, summarised by its mean and a 95%
               confidence interval from Student's t with n - 1 degrees of
               freedom (the paired t interval);
  ratio      = value / reference value, summarised by its geometric mean
               and the t interval of log(ratio), mapped back (so the
               interval is not symmetric). Only positive values form one.

The t quantiles are computed here for any degrees of freedom (t_quantile()),
for these intervals and the unpaired ones of plot_sweep.py alike: these
scripts use numpy and matplotlib only, and scipy is not needed for them.

Plain functions over the rows read by plot_sweep.read_sweep(); drawing is
plot_sweep.py's job.
"""

import collections
import functools
import math

from resultdir import ResultError

def _beta_fraction(a, b, x):
    """The continued fraction of the regularized incomplete beta function
    (modified Lentz's method; converges fast for x < (a + 1) / (a + b + 2))."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10000):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def incomplete_beta(a, b, x):
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def t_tail(t, df):
    """P(T > t) for Student's t with df degrees of freedom, t >= 0."""
    return 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


@functools.lru_cache(maxsize=None)
def t_quantile(p, df):
    """The Student t quantile: the t with P(T <= t) = p, for 0.5 <= p < 1
    and df > 0 degrees of freedom (any df, not only a table's). Found by
    bisection on t_tail(), which falls as t grows, to double precision."""
    if not 0.5 <= p < 1.0 or df <= 0:
        raise ValueError(f"t_quantile: needs 0.5 <= p < 1 and df > 0, got "
                         f"p={p}, df={df}")
    tail = 1.0 - p
    lo, hi = 0.0, 1.0
    while t_tail(hi, df) > tail:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if t_tail(mid, df) > tail:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def t975(df):
    """t(0.975, df) for df >= 1: the two-sided 95% interval's factor."""
    return t_quantile(0.975, df)


# One paired run: its seed, the other varied parameters it shares with its
# reference run ((column, value) pairs), both values as the table has them
# (text) and the statistic.
Pair = collections.namedtuple("Pair", "seed others value reference stat")

# One unpaired comparison (--diff-to): the x value, the difference of the
# means (x's minus the reference's), the 95% interval's ends, the
# Welch-Satterthwaite degrees of freedom, and both samples' sizes.
Difference = collections.namedtuple("Difference", "x diff low high df n n_ref")


def welch(values, reference):
    """(difference of the means, low, high, df): mean(values) -
    mean(reference) with Welch's 95% confidence interval, which assumes
    neither equal variances nor any pairing between the two samples:

      se^2 = s1^2/n1 + s2^2/n2
      df   = se^4 / ((s1^2/n1)^2/(n1-1) + (s2^2/n2)^2/(n2-1))
      interval = difference -+ t(0.975, df) * se

    df is usually not a whole number; t_quantile() takes any. Needs at
    least two values in each sample (else ValueError). When neither sample
    varies, the interval is the difference itself and df = n1 + n2 - 2."""
    n1, n2 = len(values), len(reference)
    if n1 < 2 or n2 < 2:
        raise ValueError("welch: needs at least two values in each sample")
    m1, m2 = sum(values) / n1, sum(reference) / n2
    v1 = sum((v - m1) ** 2 for v in values) / (n1 - 1) / n1
    v2 = sum((v - m2) ** 2 for v in reference) / (n2 - 1) / n2
    diff = m1 - m2
    se2 = v1 + v2
    if se2 == 0:
        return diff, diff, diff, float(n1 + n2 - 2)
    df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    half = t975(df) * math.sqrt(se2)
    return diff, diff - half, diff + half, df


def differences(rows, x, y, ref, groups, exclude=frozenset()):
    """--diff-to: per series (the `groups` values, labelled as
    plot_sweep.aggregate() labels them) and per x value other than `ref`,
    the Welch difference of y's mean to the mean of the reference's runs in
    the same series, over every run with a value (runs in `exclude` and
    empty cells left out). Returns ({label: [Difference]}, x values left
    out for having fewer than two runs with a value, as (label, x))."""
    buckets = {}
    for r in rows:
        v = None if r.get("run") in exclude else as_float(r[y])
        if v is None:
            continue
        label = ", ".join(f"{g}={r[g]}" for g in groups)
        buckets.setdefault(label, {}).setdefault(r[x], []).append(v)
    order = list(dict.fromkeys(r[x] for r in rows))
    series, short = {}, []
    for label, by_x in buckets.items():
        base = by_x.get(ref, [])
        points = []
        for xv in order:
            if xv == ref or xv not in by_x:
                continue
            if len(by_x[xv]) < 2 or len(base) < 2:
                short.append((label, xv))
                continue
            points.append(Difference(xv, *welch(by_x[xv], base),
                                     len(by_x[xv]), len(base)))
        if points:
            series[label] = points
    return series, short


# One point of a paired series: the x value, the summary (centre and the
# interval's ends) and the per-seed statistics behind it.
Point = collections.namedtuple("Point", "x centre low high pairs")


def as_float(text):
    try:
        v = float(text)
        return v if math.isfinite(v) else None
    except (TypeError, ValueError):
        return None


def summarize(stats, ratio, err):
    """(centre, low, high) of per-seed statistics: the mean difference or
    the geometric mean ratio, with a 95% confidence interval (err
    'ci95') or one standard deviation ('std') either side. One value has
    no spread: low == high == centre."""
    values = [math.log(s) for s in stats] if ratio else list(stats)
    n = len(values)
    mean = sum(values) / n
    half = 0.0
    if n > 1:
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        half = sd if err == "std" else t975(n - 1) * sd / math.sqrt(n)
    if ratio:
        return math.exp(mean), math.exp(mean - half), math.exp(mean + half)
    return mean, mean - half, mean + half


def check_reference(path, rows, x, ref, flag="--paired-to"):
    """Raises ResultError unless `ref` is one of the values of column x
    (`flag` names the option that gave it)."""
    values = []
    for r in rows:
        if r[x] not in values:
            values.append(r[x])
    if ref not in values:
        raise ResultError(
            f"{path}: {flag} {ref}: not a value of {x} in this table "
            f"(its values: {', '.join(values)})")


Pairing = collections.namedtuple(
    "Pairing", "series unpaired not_positive references")


def pair(rows, x, y, ref, others, groups, ratio=False, err="ci95",
         exclude=frozenset(), path="sweep"):
    """Pairs every run whose x is not `ref` with its reference run (same
    seed, same values of the columns `others`) and summarises the pairs.

    Returns a Pairing: `series`, {series label (the `groups` values, as
    plot_sweep.aggregate() labels them): [Point]}, x values in the table's
    order, the reference's own point among them (centre 0, or 1 for a
    ratio, with the reference runs as its pairs); `unpaired`, runs left out because they
    or their reference run have no value of y (an empty cell, or a run in
    `exclude`) or there is no reference run; `not_positive`, runs left out
    of a ratio because a value is not above 0; `references`, how many
    reference runs have a value. Raises ResultError if two runs of the
    reference share a seed and other values (they could not be told
    apart)."""
    def key(r):
        return (r.get("seed"), tuple((c, r[c]) for c in others))

    def value(r):
        return None if r.get("run") in exclude else as_float(r[y])

    refs = {}
    for r in rows:
        if r[x] != ref:
            continue
        if key(r) in refs:
            raise ResultError(
                f"{path}: --paired-to {ref}: runs {refs[key(r)][0]} and "
                f"{r.get('run')} have the same seed and parameters: cannot "
                "pair them")
        refs[key(r)] = (r.get("run"), value(r), r[y])
    buckets, unpaired, not_positive = {}, 0, 0
    for r in rows:
        label = ", ".join(f"{g}={r[g]}" for g in groups)
        by_x = buckets.setdefault(label, {})
        v, (_, rv, rtext) = value(r), refs.get(key(r), (None, None, None))
        if r[x] == ref:
            if v is not None:
                by_x.setdefault(ref, []).append(Pair(
                    r.get("seed"), key(r)[1], r[y], r[y], 1.0 if ratio else 0.0))
            continue
        if v is None or rv is None:
            unpaired += 1
            continue
        if ratio and (v <= 0 or rv <= 0):
            not_positive += 1
            continue
        by_x.setdefault(r[x], []).append(Pair(
            r.get("seed"), key(r)[1], r[y], rtext, v / rv if ratio else v - rv))
    order = list(dict.fromkeys(r[x] for r in rows))   # as given to --vary
    series = {}
    for label, by_x in buckets.items():
        points = []
        for xv in order:
            pairs = by_x.get(xv)
            if not pairs:
                continue
            if xv == ref:
                c = 1.0 if ratio else 0.0
                points.append(Point(xv, c, c, c, pairs))
            else:
                points.append(Point(xv, *summarize(
                    [p.stat for p in pairs], ratio, err), pairs))
        if any(p.x != ref for p in points):
            series[label] = points
    references = sum(1 for _, v, _ in refs.values() if v is not None)
    return Pairing(series, unpaired, not_positive, references)


def side_counts(point, ratio):
    """(below, above): pairs whose statistic is below / above no change
    (0 for a difference, 1 for a ratio); ties count in neither."""
    level = 1.0 if ratio else 0.0
    return (sum(1 for p in point.pairs if p.stat < level),
            sum(1 for p in point.pairs if p.stat > level))
