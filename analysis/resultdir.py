"""Loading and validating swarmlab result folders.

A result folder is what `sim run` (and `swarm run-scenario`) writes: peers.csv,
timeline.csv, summary.json and scenario.yaml (format: analysis/README.md,
"Result folder format"). Every analysis script loads
folders through `load()` here, so a folder is validated in one place and a bad
one always gives the same kind of message.

Errors: a folder or file that is not a valid result raises `ResultError` whose
text names the file, and where it applies the line and column. `run_cli()`
turns it into a one-line message on stderr and exit code 2. Exit code 3 means
numpy/matplotlib are missing (see `require_matplotlib()`).
"""

import csv
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field

PEERS_COLUMNS = ("peer", "class", "join_s", "first_piece_s", "completion_s",
                 "leave_s", "bytes_uploaded", "bytes_downloaded")
TIMELINE_COLUMNS = ("time_s", "leechers", "seeds", "completed",
                    "upload_utilization", "availability_min",
                    "availability_mean", "availability_entropy")
# Read as numbers when present; result folders written before 2026-11-27
# lack them and still load (the key is then absent from Result.timeline).
TIMELINE_OPTIONAL_COLUMNS = ("upload_utilization_mean",)
REQUIRED_FILES = ("peers.csv", "timeline.csv", "summary.json")

EXIT_BAD_INPUT = 2
EXIT_NO_MATPLOTLIB = 3


class ResultError(Exception):
    """A path that is not a readable swarmlab result (user input error)."""


def require_matplotlib():
    """Imports numpy and matplotlib (Agg backend) or exits with code 3."""
    try:
        import numpy  # noqa: F401
        import matplotlib
    except ImportError as e:
        sys.stderr.write(
            f"{os.path.basename(sys.argv[0])}: error: {e.name} is not installed "
            "for this Python; on Debian 12: sudo apt-get install "
            "python3-matplotlib python3-numpy (and run with /usr/bin/python3)\n")
        sys.exit(EXIT_NO_MATPLOTLIB)
    matplotlib.use("Agg")


def run_cli(main):
    """Runs main() and maps ResultError to a one-line message and exit 2."""
    prog = os.path.basename(sys.argv[0])
    try:
        return main()
    except ResultError as e:
        sys.stderr.write(f"{prog}: error: {e}\n")
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # stdout closed early (| head): not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except OSError as e:  # e.g. --out is not writable
        sys.stderr.write(f"{prog}: error: {e.filename or ''}: {e.strerror}\n")
        return EXIT_BAD_INPUT


def _number(text, where):
    """Parses a float; empty means 'never' and becomes NaN."""
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ResultError(f"{where}: '{text}' is not a number") from None


def read_table(path, columns, numeric):
    """Reads a CSV with the given leading columns into {column: list}.

    Extra columns after the required ones are kept as strings. Columns named
    in `numeric` are parsed as floats (empty -> NaN).
    REQUIRES: path exists.
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ResultError(f"{path}: cannot read: {e}") from None
    if not rows:
        raise ResultError(f"{path}: empty file, expected header "
                          f"'{','.join(columns)}'")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ResultError(
            f"{path}: line 1: bad header, missing column(s) "
            f"{', '.join(missing)} (expected '{','.join(columns)}')")
    table = {h: [] for h in header}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ResultError(f"{path}: line {lineno}: {len(row)} fields, "
                              f"header has {len(header)}")
        for h, v in zip(header, row):
            v = v.strip()
            table[h].append(_number(v, f"{path}: line {lineno}: column {h}")
                            if h in numeric else v)
    if not table[header[0]]:
        raise ResultError(f"{path}: no data rows")
    return table


@dataclass
class Peers:
    """peers.csv as numpy arrays; times in seconds, NaN = never."""
    peer: list
    klass: list
    join_s: object
    first_piece_s: object
    completion_s: object
    leave_s: object
    bytes_uploaded: object
    bytes_downloaded: object
    # Classes that start with the whole file (scenario.yaml `start: complete`);
    # None when unknown.
    seed_classes: object = None
    # Per peer, whether its leave was a failure (peers.csv `failed`, written
    # since 2026-11-26); None for older result folders.
    failed: object = None

    def class_counts(self):
        """{class: number of peers in peers.csv}, in order of appearance."""
        return {c: sum(1 for k in self.klass if k == c)
                for c in self.classes()}

    @property
    def initial_seed(self):
        """Peers that started with the whole file. From scenario.yaml when
        known; otherwise peers of a class in which nobody downloaded a byte
        or got a first piece, and peers complete at join with 0 downloaded."""
        import numpy as np
        klass = np.array(self.klass)
        if self.seed_classes is not None:
            return np.isin(klass, sorted(self.seed_classes))
        mask = (np.abs(self.completion_s - self.join_s) <= 1e-6) & \
            (self.bytes_downloaded == 0)
        for c in self.classes():
            m = klass == c
            if (self.bytes_downloaded[m] == 0).all() and \
                    np.isnan(self.first_piece_s[m]).all():
                mask |= m
        return mask

    @property
    def leecher(self):
        """Peers that joined and had to download (not initial seeds)."""
        import numpy as np
        return ~self.initial_seed & np.isfinite(self.join_s)

    @property
    def download_time_s(self):
        """completion_s - join_s per peer (NaN if it never completed)."""
        return self.completion_s - self.join_s

    def classes(self):
        """Class names in order of first appearance."""
        seen = []
        for c in self.klass:
            if c not in seen:
                seen.append(c)
        return seen


@dataclass
class Result:
    """One loaded result folder."""
    path: str
    peers: Peers
    # column -> numpy array: every one of TIMELINE_COLUMNS, and those of
    # TIMELINE_OPTIONAL_COLUMNS the file has
    timeline: dict
    summary: dict
    scenario: dict = field(default_factory=dict)  # top-level scalars only
    # scenario.yaml's peer classes and file (read_peer_classes(),
    # read_file_spec()): None / {} when unknown.
    peer_classes: object = None
    file_spec: dict = field(default_factory=dict)

    @property
    def name(self):
        return str(self.summary.get("scenario") or self.scenario.get("name")
                   or os.path.basename(os.path.normpath(self.path)))

    @property
    def kumar_ross_s(self):
        v = (self.summary.get("bounds") or {}).get("kumar_ross_s")
        return float(v) if isinstance(v, (int, float)) else None

    @property
    def piece_granular_s(self):
        v = (self.summary.get("bounds") or {}).get("piece_granular_s")
        return float(v) if isinstance(v, (int, float)) else None

    @property
    def piece_granular_is_bound(self):
        """summary.json's bounds.piece_granular_is_bound: True when the
        piece-granular value is a lower bound on the makespan, False when it
        is a reference (leechers download faster than they upload, so the
        core can beat it: docs/theory.md, section 2); None without a
        piece-granular value or in a summary.json written before the flag."""
        v = (self.summary.get("bounds") or {}).get("piece_granular_is_bound")
        return v if isinstance(v, bool) else None

    @property
    def fluid_model(self):
        """summary.json's Qiu–Srikant steady state ({class, regime, leechers,
        seeds, download_time_s, permanent_seeds}), present only when the
        model describes the whole swarm; None otherwise."""
        f = self.summary.get("fluid_model")
        return f if isinstance(f, dict) else None

    @property
    def description(self):
        return self.scenario.get("description", "")

    @property
    def overrides(self):
        """The run's --set K=V overrides: what it changed from the file
        (and from what the description says)."""
        return list(self.summary.get("overrides") or [])


def _read_summary(path):
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
    except json.JSONDecodeError as e:
        raise ResultError(f"{path}: line {e.lineno}: invalid JSON: {e.msg}") \
            from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultError(f"{path}: cannot read: {e}") from None
    if not isinstance(summary, dict):
        raise ResultError(f"{path}: expected a JSON object at top level")
    for key in ("scenario", "peers"):
        if key not in summary:
            raise ResultError(f"{path}: missing field '{key}'")
    # The fields the scripts read must have the documented types, so that a
    # hand-edited or foreign file gives this message, not a traceback.
    for key in ("peers", "completion_time_s", "bounds", "fluid_model"):
        if key in summary and not isinstance(summary[key], dict) and \
                not (key != "peers" and summary[key] is None):
            raise ResultError(f"{path}: field '{key}' must be an object")
    numbers = [("makespan_s",), ("efficiency",), ("peers", "leechers"),
               ("peers", "completed"), ("bounds", "kumar_ross_s"),
               ("bounds", "piece_granular_s")]
    numbers += [("completion_time_s", k) for k in ("mean", "median", "p90")]
    numbers += [("fluid_model", k) for k in ("leechers", "seeds",
                                             "download_time_s",
                                             "permanent_seeds")]
    overrides = summary.get("overrides")
    if overrides is not None and (not isinstance(overrides, list) or not all(
            isinstance(o, str) for o in overrides)):
        raise ResultError(f"{path}: field 'overrides' must be a list of "
                          f"strings")
    for keys in numbers:
        obj = summary
        for k in keys[:-1]:
            obj = obj.get(k) or {}
        v = obj.get(keys[-1])
        if v is not None and (isinstance(v, bool) or
                              not isinstance(v, (int, float))):
            raise ResultError(f"{path}: field '{'.'.join(keys)}' must be a "
                              f"number or null, got {json.dumps(v)}")
    return summary


_TOP_SCALAR = re.compile(r"^([A-Za-z_][\w.-]*):\s*(.*?)\s*$")
_ITEM_CLASS = re.compile(r"\bclass:\s*['\"]?([^,}'\"\s]+)")
_ITEM_START = re.compile(r"\bstart:\s*['\"]?([^,}'\"\s]+)")
# Fields of a peer class read for the figures' description of a run; the
# first match in the item wins, and the resolved scenario.yaml writes these
# before the nested arrival/leave/failure mappings.
_CLASS_FIELDS = ("class", "count", "upload", "download", "start",
                 "free_rider", "connectable")


def _scalar(value):
    """A plain or quoted YAML scalar as text (quotes and escapes removed)."""
    if value[:1] in ("'", '"'):
        q = value[0]
        body = value[1:value.rindex(q)] if value.rfind(q) > 0 else value[1:]
        if q == '"':
            body = body.replace("\\n", " ").replace('\\"', '"')
        return body.strip()
    return value.split(" #")[0].strip()


def _read_lines(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ResultError(f"{path}: cannot read: {e}") from None


def read_scenario_scalars(path):
    """Top-level 'key: value' pairs of a YAML file (enough for name and
    description; analysis needs nothing deeper). Folded/literal blocks
    ('>' or '|') are joined into one line. Missing file -> {}."""
    lines = _read_lines(path)
    if lines is None:
        return {}
    out, block_key, block = {}, None, []
    for line in lines:
        if block_key is not None:
            if line.startswith((" ", "\t")) or not line.strip():
                block.append(line.strip())
                continue
            out[block_key] = " ".join(x for x in block if x)
            block_key, block = None, []
        m = _TOP_SCALAR.match(line)
        if not m:
            continue
        key, value = m.groups()
        if value in (">", "|", ">-", "|-"):
            block_key = key
        elif value and not value.startswith(("{", "[", "#")):
            out[key] = _scalar(value)
    if block_key is not None:
        out[block_key] = " ".join(x for x in block if x)
    return out


def _top_block(lines, key):
    """The lines of a top-level key's value: its own line after 'key:' and
    the indented lines below it."""
    out, inside = [], False
    for line in lines:
        if _TOP_SCALAR.match(line):
            inside = line.startswith(key + ":")
            if inside:
                out.append(line[len(key) + 1:])
        elif inside:
            out.append(line)
    return out


def _peer_items(lines):
    """The items of the `peers:` list, each joined into one line."""
    items = []
    for line in _top_block(lines, "peers"):
        if line.lstrip().startswith("- "):
            items.append(line)
        elif items:
            items[-1] += " " + line
    return items


def read_peer_classes(path):
    """The scenario's peer classes, in file order, as dicts of the
    _CLASS_FIELDS found (values as text: {'class': 'seed', 'count': '1',
    'upload': '10Mbit/s', ...}); None if the file or the list is missing."""
    lines = _read_lines(path)
    items = _peer_items(lines) if lines is not None else []
    if not items:
        return None
    out = []
    for item in items:
        fields = {}
        for key in _CLASS_FIELDS:
            m = re.search(r"\b" + key + r":\s*['\"]?([^,}'\"\s]+)", item)
            if m:
                fields[key] = m.group(1)
        out.append(fields)
    return out


def read_file_spec(path):
    """`size` and `piece_size` of the scenario's `file:` mapping (flow or
    block style) as text; {} when the file or the key is missing."""
    lines = _read_lines(path)
    text = " ".join(_top_block(lines, "file")) if lines is not None else ""
    out = {}
    for key in ("size", "piece_size"):
        m = re.search(r"\b" + key + r":\s*['\"]?([^,}'\"\s]+)", text)
        if m:
            out[key] = m.group(1)
    return out


def read_seed_classes(path):
    """Names of the peer classes with `start: complete` in the scenario's
    `peers:` list (block or flow style), or None if the file or the list is
    missing."""
    lines = _read_lines(path)
    if lines is None:
        return None
    items = _peer_items(lines)
    if not items:
        return None
    seeds = set()
    for item in items:
        c, st = _ITEM_CLASS.search(item), _ITEM_START.search(item)
        if c and st and st.group(1) == "complete":
            seeds.add(c.group(1))
    return seeds


def _check_times(path, time_s):
    """time_s must be present and non-decreasing (line numbers are 1-based,
    the header is line 1)."""
    import numpy as np
    bad = np.flatnonzero(~np.isfinite(time_s))
    if bad.size:
        raise ResultError(f"{path}: line {bad[0] + 2}: column time_s is empty")
    back = np.flatnonzero(np.diff(time_s) < 0)
    if back.size:
        raise ResultError(f"{path}: line {back[0] + 3}: time_s goes backwards")


def load(path):
    """Loads and validates one result folder. Raises ResultError."""
    import numpy as np
    if not os.path.isdir(path):
        raise ResultError(f"{path}: not a directory (expected a result folder "
                          "written by `sim run --out DIR`)")
    missing = [f for f in REQUIRED_FILES
               if not os.path.isfile(os.path.join(path, f))]
    if missing:
        raise ResultError(f"{path}: not a swarmlab result folder, missing "
                          f"{', '.join(missing)}")
    p = read_table(os.path.join(path, "peers.csv"), PEERS_COLUMNS,
                   numeric=set(PEERS_COLUMNS[2:]))
    peers = Peers(peer=p["peer"], klass=p["class"],
                  **{c: np.array(p[c], dtype=float) for c in PEERS_COLUMNS[2:]})
    if "failed" in p:
        bad = [i for i, v in enumerate(p["failed"]) if v not in ("0", "1")]
        if bad:
            raise ResultError(f"{os.path.join(path, 'peers.csv')}: line "
                              f"{bad[0] + 2}: column failed: expected 0 or 1, "
                              f"got {p['failed'][bad[0]]!r}")
        peers.failed = np.array([v == "1" for v in p["failed"]])
    t = read_table(os.path.join(path, "timeline.csv"), TIMELINE_COLUMNS,
                   numeric=set(TIMELINE_COLUMNS + TIMELINE_OPTIONAL_COLUMNS))
    timeline = {c: np.array(t[c], dtype=float)
                for c in TIMELINE_COLUMNS + TIMELINE_OPTIONAL_COLUMNS if c in t}
    _check_times(os.path.join(path, "timeline.csv"), timeline["time_s"])
    summary = _read_summary(os.path.join(path, "summary.json"))
    scenario = read_scenario_scalars(os.path.join(path, "scenario.yaml"))
    yaml_path = os.path.join(path, "scenario.yaml")
    peers.seed_classes = read_seed_classes(yaml_path)
    return Result(path=path, peers=peers, timeline=timeline, summary=summary,
                  scenario=scenario, peer_classes=read_peer_classes(yaml_path),
                  file_spec=read_file_spec(yaml_path))


def population(result):
    """Who is in the swarm at every moment it changes, from peers.csv:
    arrays (time_s, leechers, seeds, completed), each value holding from its
    time until the next one (a step drawn "steps-post") and the last until
    the run's end, the timeline's last time. Leechers are the peers present
    without the whole file, seeds those present with it, completed the
    leechers that have finished so far. The timeline samples the same
    counts every sample_interval (equal at every sample: the analysis
    tests check it on simulator runs); these are exact in between too,
    where a run stopped early may have only two samples."""
    import numpy as np
    p = result.peers
    joined = np.isfinite(p.join_s)
    end = float(result.timeline["time_s"][-1])
    seed_from = np.where(p.initial_seed, p.join_s, p.completion_s)
    seeding = joined & np.isfinite(seed_from)
    left = joined & np.isfinite(p.leave_s)
    done = p.leecher & np.isfinite(p.completion_s)
    times = np.unique(np.concatenate(
        ([0.0, end], p.join_s[joined], seed_from[seeding], p.leave_s[left])))
    times = times[times <= end]

    def upto(x):  # how many of x are <= each time
        return np.searchsorted(np.sort(x), times, side="right")

    present = upto(p.join_s[joined]) - upto(p.leave_s[left])
    seeds = upto(seed_from[seeding]) - upto(p.leave_s[seeding & left])
    return times, present - seeds, seeds, upto(p.completion_s[done])


def time_during_run(result):
    """Mask of timeline samples while at least one leecher is present."""
    return result.timeline["leechers"] > 0


def arrival_spread_s(result):
    """Seconds between the first and the last leecher's join (of those that
    joined)."""
    import numpy as np
    joins = result.peers.join_s[result.peers.leecher]
    joins = joins[np.isfinite(joins)]
    return float(joins.max() - joins.min()) if len(joins) else 0.0


# A run is a flash crowd when its leechers' arrivals are spread over at most
# this share of the bound (see is_flash_crowd()).
FLASH_CROWD_SPREAD = 0.25


def flash_crowd_bound_s(result):
    """The bound a flash crowd is judged against: the larger of the
    Kumar–Ross and the piece-granular bound (the latter, when it applies,
    is the tighter one), or None when summary.json has neither."""
    bounds = [b for b in (result.kumar_ross_s, result.piece_granular_s)
              if b is not None and b > 0]
    return max(bounds) if bounds else None


def is_flash_crowd(result):
    """True when the leechers joined nearly at once: their arrivals (first
    to last join) are spread over at most FLASH_CROWD_SPREAD (a quarter) of
    the bound (flash_crowd_bound_s()). The Kumar–Ross and piece-granular
    bounds assume everyone joins at once; they are about the makespan (the
    last finish counted from the first join), so drawn on download times (completion − join) they
    are off by up to the arrival spread, at most a quarter of their value
    under this rule. A run whose arrivals spread wider (a steady state, the
    25 minutes of churn.yaml, three peers joining seconds apart in a 2 s
    download) gets no bound line and no efficiency. The arrival spread is
    compared with the bound, not with the run's length, which a stalled
    swarm stretches (churn.yaml without seeds ran to its 1 h max_time).
    Without a bound in summary.json: leechers did not keep joining over more
    than half of the run (to the last finish, or to the end of the timeline
    when not all finished); nothing is drawn for it then anyway."""
    joins = result.peers.join_s[result.peers.leecher]
    if not joins.size:
        return True
    bound = flash_crowd_bound_s(result)
    if bound is not None:
        return arrival_spread_s(result) <= FLASH_CROWD_SPREAD * bound
    span = result.summary.get("makespan_s")
    if not isinstance(span, (int, float)):
        span = float(result.timeline["time_s"].max()) - float(joins.min())
    return arrival_spread_s(result) <= 0.5 * span


# The rule in words, for notes and captions: what a run that is not a flash
# crowd did.
NOT_FLASH_CROWD_RULE = ("their joins spread over more than a quarter of the "
                        "Kumar–Ross bound (or of the piece-granular bound, "
                        "when larger)")


def not_flash_crowd_reason(result):
    """Why is_flash_crowd() is False, in a few words ("joins over 25.6 min,
    more than ¼ of the 163.4 s bound"); None for a flash crowd."""
    if is_flash_crowd(result):
        return None
    spread = arrival_spread_s(result)
    bound = flash_crowd_bound_s(result)
    if bound is None:
        return f"joins over {_duration(spread)}, most of the run"
    return (f"joins over {_duration(spread)}, more than ¼ of the "
            f"{_duration(bound)} bound")


def _duration(s):
    """'830.6 s', '25.6 min' or '3.34 h', the units of figures.time_unit()."""
    if s <= TIME_IN_SECONDS_UP_TO:
        return f"{s:.1f} s"
    if s <= 5 * 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


# Times up to an hour are given in seconds, on axes and in text, as the
# docs quote them; longer ones in minutes, beyond 5 h in hours.
TIME_IN_SECONDS_UP_TO = 3600.0


def active_end_s(result):
    """Time of the last timeline sample with a leecher present (0 when no
    sample has one)."""
    active = time_during_run(result)
    t = result.timeline["time_s"]
    return float(t[active].max()) if active.any() else 0.0


TIME_AVERAGED = ("upload_utilization", "availability_entropy",
                 "availability_min")


def utilization_source(result):
    """Which timeline column time_averages() reads for upload_utilization:
    "upload_utilization_mean" (the exact share of capacity used over each
    sample interval) when the folder has it, else "upload_utilization"
    (the share at each sample instant; folders written before 2026-11-27)."""
    return "upload_utilization_mean" \
        if "upload_utilization_mean" in result.timeline \
        else "upload_utilization"


def time_averages(result, until_s=None):
    """Time averages of the TIME_AVERAGED quantities while at least one
    leecher is present and, given until_s, up to until_s; {column: None}
    when nothing qualifies. Runs of different length compare only over a
    common until_s: a run's slow tail (or its fast finish) otherwise weighs
    on its mean and not on the others'.

    Entropy and min copies: the mean of the samples (rows) with a leecher
    present and time_s <= until_s. Upload utilisation, when the folder has
    upload_utilization_mean: that column over the same rows but the first
    (row i covers the interval since row i-1; the first has none), each
    weighted by its interval's length, so the mean adds up all the time in
    between; otherwise (see utilization_source()) the mean of the
    instantaneous samples, as the other two."""
    import numpy as np
    tl = result.timeline
    use = time_during_run(result)
    if until_s is not None:
        use = use & (tl["time_s"] <= until_s)
    out = {c: float(np.mean(tl[c][use])) if use.any() else None
           for c in TIME_AVERAGED}
    if utilization_source(result) == "upload_utilization_mean":
        dt = np.diff(tl["time_s"], prepend=tl["time_s"][0])
        use = use & (np.arange(len(dt)) > 0) & (dt > 0)
        out["upload_utilization"] = float(np.average(
            tl["upload_utilization_mean"][use], weights=dt[use])) \
            if use.any() else None
    return out


def key_metrics(result):
    """A flat dict of the numbers compare.py tabulates (None = not known);
    the time averages are over the whole run (see time_averages())."""
    s, ct = result.summary, result.summary.get("completion_time_s") or {}
    avg = time_averages(result)
    peers = s.get("peers") or {}
    return {
        "scenario": result.name,
        "seed": s.get("seed"),
        "mode": s.get("mode"),
        "leechers": peers.get("leechers"),
        "completed": peers.get("completed"),
        "mean_completion_s": ct.get("mean"),
        "median_completion_s": ct.get("median"),
        "p90_completion_s": ct.get("p90"),
        "makespan_s": s.get("makespan_s"),
        "kumar_ross_s": result.kumar_ross_s,
        # Not a flash crowd: no efficiency (see is_flash_crowd()).
        "efficiency": s.get("efficiency") if is_flash_crowd(result) else None,
        "mean_upload_utilization": avg["upload_utilization"],
        "upload_utilization_from": utilization_source(result),
        "mean_availability_entropy": avg["availability_entropy"],
        "mean_availability_min": avg["availability_min"],
    }


def class_metrics(result):
    """Download times per leecher class, in order of first appearance in
    peers.csv: [{class, leechers, completed, mean_completion_s,
    median_completion_s}], over the class's peers that joined and had to
    download (Peers.leecher; initial seeds are no class's leechers); the
    times are over those that finished (None when none did)."""
    import numpy as np
    p = result.peers
    klass = np.array(p.klass)
    out = []
    for c in p.classes():
        m = p.leecher & (klass == c)
        if not m.any():
            continue
        dt = p.download_time_s[m]
        dt = dt[np.isfinite(dt)]
        out.append({
            "class": c, "leechers": int(m.sum()), "completed": int(dt.size),
            "mean_completion_s": float(dt.mean()) if dt.size else None,
            "median_completion_s": float(np.median(dt)) if dt.size else None,
        })
    return out
