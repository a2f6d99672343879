#!/usr/bin/python3
"""Draws who held which piece when, from a `sim run --trace` file.

Usage: plot_pieces.py TRACE [--pieces N] [--out PNG] [--time-max S] [--copies-max N] [--quiet]

Writes one PNG (default: pieces.png beside TRACE) with two panels:
- "piece map": one row per leecher (in order of joining), one column per
  piece, coloured by the time the leecher verified that piece (grey: never).
  Uniform columns mean every leecher got a piece at about the same time
  (as when a slow seed lets pieces out one by one); colours rising from left
  to right in each row are sequential selection.
- "copies of each piece": time across, one row per piece, coloured by how
  many peers present hold it (initial seeds included, peers that left or
  crashed not). A row that stays dark is a piece few peers have; the order
  in which rows brighten is the order in which pieces spread.

The trace lines read are `join`, `verify`, `leave` and `fail` (format:
docs/teaching.md, "Read the protocol, message by message"); other lines are
checked for shape and skipped. The number of pieces comes from --pieces, else
from the `file:` line of a scenario.yaml beside TRACE (as `sim run --out DIR
--trace DIR/trace.log` leaves it) or beside the PNG, else from the highest
piece any leecher verified. A trace is one line per protocol event: keep the swarm small (tens
of peers; 1000 peers and 100 MiB give tens of millions of lines).
Exit codes: 0 ok, 2 bad input (the message names the line), 3 matplotlib or
numpy missing.
"""

import argparse
import math
import os
import re
import sys
from dataclasses import dataclass, field

import resultdir

resultdir.require_matplotlib()
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is set)
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import figures  # noqa: E402,F401  (the shared plot style)

# Samples across the run in the copies panel.
TIME_SAMPLES = 400

_LINE = re.compile(r"(\S+) peer=(\d+) (\S+)(?: (.*))?$")
_PIECE = re.compile(r"piece=(\d+)\b")
_FILE_SIZES = re.compile(r"^file:.*\bsize:\s*(\d+)(GiB|MiB|KiB|B)\b.*"
                         r"\bpiece_size:\s*(\d+)(GiB|MiB|KiB|B)\b")
_UNITS = {"B": 1, "KiB": 2 ** 10, "MiB": 2 ** 20, "GiB": 2 ** 30}


@dataclass
class PeerTrace:
    join_s: float
    seed: bool                     # joined with the whole file
    gone_s: float = math.inf       # left or crashed
    verified: dict = field(default_factory=dict)  # piece -> time (s)


@dataclass
class Trace:
    peers: dict                    # peer id -> PeerTrace
    end_s: float                   # time of the last line
    pieces_seen: int               # highest verified piece + 1


def read_trace(path):
    """Parses the lines this script needs; ResultError names a bad line."""
    peers, end_s, top = {}, 0.0, -1
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise resultdir.ResultError(f"{path}: cannot read: {e.strerror}") from None
    with f:
        try:
            for lineno, line in enumerate(f, start=1):
                line = line.rstrip("\n")
                if not line:
                    continue
                m = _LINE.match(line)
                where = f"{path}: line {lineno}"
                if not m:
                    raise resultdir.ResultError(
                        f"{where}: expected 'TIME peer=N EVENT ...', got '{line[:60]}'")
                try:
                    t = float(m.group(1))
                except ValueError:
                    raise resultdir.ResultError(
                        f"{where}: '{m.group(1)}' is not a time") from None
                if not math.isfinite(t) or t < end_s:
                    raise resultdir.ResultError(
                        f"{where}: time {m.group(1)} is not after the line before")
                end_s = t
                p, what, detail = int(m.group(2)), m.group(3), m.group(4) or ""
                if what == "join":
                    peers[p] = PeerTrace(join_s=t, seed=(detail == "seed"))
                    continue
                if what not in ("verify", "leave", "fail"):
                    continue
                peer = peers.get(p)
                if peer is None:
                    raise resultdir.ResultError(f"{where}: peer {p} {what} before it joined")
                if what == "verify":
                    pm = _PIECE.search(detail)
                    if not pm:
                        raise resultdir.ResultError(f"{where}: verify without piece=K")
                    piece = int(pm.group(1))
                    peer.verified.setdefault(piece, t)
                    top = max(top, piece)
                else:
                    peer.gone_s = min(peer.gone_s, t)
        except UnicodeDecodeError:
            raise resultdir.ResultError(f"{path}: not a text trace") from None
    if not peers:
        raise resultdir.ResultError(f"{path}: no 'join' line: not a sim trace")
    return Trace(peers=peers, end_s=end_s, pieces_seen=top + 1)


def pieces_from_scenario(path):
    """ceil(size / piece_size) from a resolved scenario.yaml's `file:` line,
    or None when there is none or it has no sizes in bytes units."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = _FILE_SIZES.match(line)
                if m:
                    size = int(m.group(1)) * _UNITS[m.group(2)]
                    piece = int(m.group(3)) * _UNITS[m.group(4)]
                    return -(-size // piece) if piece > 0 else None
    except (OSError, UnicodeDecodeError):
        return None
    return None


def piece_map(trace, pieces):
    """(leecher ids in join order, matrix leecher x piece of verify times,
    NaN = never)."""
    ids = sorted((p for p, pt in trace.peers.items() if not pt.seed),
                 key=lambda p: (trace.peers[p].join_s, p))
    grid = np.full((len(ids), pieces), np.nan)
    for row, p in enumerate(ids):
        for piece, t in trace.peers[p].verified.items():
            if piece < pieces:
                grid[row, piece] = t
    return ids, grid


def copies_over_time(trace, pieces, samples):
    """Matrix piece x sample: peers present at that time holding the piece
    (a holder counts from its verify, or its join for an initial seed, until
    it leaves or crashes)."""
    diff = np.zeros((pieces, len(samples) + 1), dtype=np.int64)

    def hold(piece, start_s, end_s):
        a = np.searchsorted(samples, start_s, side="left")
        b = np.searchsorted(samples, end_s, side="left")
        if a < b:
            diff[piece, a] += 1
            diff[piece, b] -= 1

    for pt in trace.peers.values():
        if pt.seed:
            for piece in range(pieces):
                hold(piece, pt.join_s, pt.gone_s)
        for piece, t in pt.verified.items():
            if piece < pieces:
                hold(piece, t, pt.gone_s)
    return np.cumsum(diff, axis=1)[:, :len(samples)]


_PIECE_SELECTION = re.compile(r"^(?:\s+|protocol:\s*\{.*?)piece_selection:"
                              r"\s*([A-Za-z_]+)")


def piece_selection_of(scenario_yaml):
    """The swarm's protocol.piece_selection from a resolved scenario.yaml
    (its `protocol:` block, or an inline {...}), or None."""
    try:
        with open(scenario_yaml, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    in_protocol = False
    for line in lines:
        if line.startswith("protocol:"):
            m = _PIECE_SELECTION.match(line)
            if m:
                return m.group(1)
            in_protocol = True
        elif line and not line[0].isspace():
            in_protocol = False
        elif in_protocol:
            m = _PIECE_SELECTION.match(line)
            if m:
                return m.group(1)
    return None


def title_of(trace_path, folders):
    """The scenario's name from the first scenario.yaml in `folders`, with
    its piece-selection policy and random seed ("piece_selection,
    sequential, random seed 1": two runs' figures had the same title)."""
    for folder in folders:
        path = os.path.join(folder, "scenario.yaml")
        scalars = resultdir.read_scenario_scalars(path)
        name = scalars.get("name")
        if name:
            parts = [name]
            policy = piece_selection_of(path)
            if policy:
                parts.append(policy.replace("_", "-"))
            if scalars.get("seed") is not None:
                parts.append(f"random seed {scalars['seed']}")
            return ", ".join(parts)
    return os.path.basename(trace_path)


# Up to this many pieces (or leechers), every one gets its tick label.
LABEL_EVERY_UP_TO = 40


def _count_ticks(axis, n):
    """Whole-number ticks on a counted axis: each of 0..n-1 up to
    LABEL_EVERY_UP_TO, else as many as fit."""
    from matplotlib.ticker import FixedLocator
    if n <= LABEL_EVERY_UP_TO:
        axis.set_major_locator(FixedLocator(range(n)))
    else:
        # min_n_ticks=1: with one piece or one leecher the locator
        # otherwise falls back to ticks at -0.4, -0.3, ... .
        axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def draw(trace, pieces, title, time_max=None, copies_max=None):
    """The two panels as a matplotlib figure (the caller saves and closes
    it). time_max / copies_max fix the top of the two colour scales (so
    that the figures of two runs compare); by default each run's own."""
    ids, grid = piece_map(trace, pieces)
    end_s = max(trace.end_s, 1e-6)
    samples = np.linspace(0.0, end_s, TIME_SAMPLES)
    copies = copies_over_time(trace, pieces, samples)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 9.5),
                                      gridspec_kw={"height_ratios": [3, 2]})
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("0.85")
    if ids:
        shown = top.imshow(grid, aspect="auto", interpolation="nearest",
                           cmap=cmap, origin="upper", vmin=0.0,
                           vmax=time_max,
                           extent=(-0.5, pieces - 0.5, len(ids) - 0.5, -0.5))
        lo, hi = shown.get_clim()
        fig.colorbar(shown, ax=top, label=f"verified at (s); scale 0–{hi:.0f} s"
                     + ("" if time_max else ", this run's own"))
    top.set_title("Piece map: when each leecher got each piece (grey: never)")
    top.set_xlabel("piece")
    top.set_ylabel(f"leecher, in order of joining ({len(ids)})")
    # Pieces and leechers are counted: ticks at whole numbers only, not at
    # 2.5 or 7.5 as matplotlib picks for a short axis; every one when they
    # fit (piece 9 of 20 had no label).
    _count_ticks(top.xaxis, pieces)
    _count_ticks(top.yaxis, len(ids))
    top.tick_params(labelsize=8 if pieces > 20 else 9)
    top.grid(False)
    heat = bottom.imshow(copies, aspect="auto", interpolation="nearest",
                         cmap="magma", origin="lower", vmin=0,
                         vmax=copies_max,
                         extent=(0.0, end_s, -0.5, pieces - 0.5))
    lo, hi = heat.get_clim()
    fig.colorbar(heat, ax=bottom, label=f"copies among peers present; "
                 f"scale 0–{hi:.0f}" + ("" if copies_max else
                                          ", this run's own"))
    bottom.set_title("Copies of each piece over time")
    bottom.set_xlabel("simulated time (s)")
    bottom.set_ylabel("piece")
    _count_ticks(bottom.yaxis, pieces)
    bottom.tick_params(axis="y", labelsize=8 if pieces > 20 else 9)
    bottom.grid(False)
    fig.suptitle(f"{title}: {len(ids)} leecher{'' if len(ids) == 1 else 's'}"
                 f", {pieces} piece{'' if pieces == 1 else 's'}",
                 fontsize=12, fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


def plot(trace, pieces, title, out_png, time_max=None, copies_max=None):
    fig = draw(trace, pieces, title, time_max, copies_max)
    fig.savefig(out_png)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(
        description="Piece map and per-piece copies from a sim --trace file.")
    parser.add_argument("trace")
    parser.add_argument("--pieces", type=int,
                        help="number of pieces (default: from a scenario.yaml "
                        "beside TRACE or the PNG, else the highest piece "
                        "verified + 1)")
    parser.add_argument("--out", help="PNG to write (default: pieces.png "
                        "beside TRACE)")
    parser.add_argument("--time-max", type=float, metavar="SECONDS",
                        help="top of the piece map's colour scale (default: "
                        "the run's last verify); give two runs the same to "
                        "compare their figures")
    parser.add_argument("--copies-max", type=float, metavar="N",
                        help="top of the copies colour scale (default: the "
                        "run's most copies)")
    parser.add_argument("--quiet", action="store_true",
                        help="do not print the file written")
    args = parser.parse_args()
    for name in ("time_max", "copies_max"):
        v = getattr(args, name)
        if v is not None and not (math.isfinite(v) and v > 0):
            raise resultdir.ResultError(
                f"--{name.replace('_', '-')}: expected a number above 0, "
                f"got {v}")
    if args.pieces is not None and args.pieces < 1:
        raise resultdir.ResultError(f"--pieces: expected at least 1, got {args.pieces}")
    trace = read_trace(args.trace)
    folder = os.path.dirname(args.trace) or "."
    out = args.out or os.path.join(folder, "pieces.png")
    # A result folder's scenario.yaml: beside the trace, or where the PNG goes
    # (`sim run --out DIR --trace ELSEWHERE --plot`).
    folders = [folder, os.path.dirname(out) or "."]
    pieces = args.pieces
    for f in folders:
        pieces = pieces or pieces_from_scenario(os.path.join(f, "scenario.yaml"))
    if pieces is None:
        pieces = max(trace.pieces_seen, 1)
        sys.stderr.write(f"plot_pieces.py: no scenario.yaml beside {args.trace} or the PNG: "
                         f"assuming {pieces} pieces (the highest verified + 1; "
                         "use --pieces N)\n")
    if trace.pieces_seen > pieces:
        raise resultdir.ResultError(
            f"{args.trace}: a leecher verified piece {trace.pieces_seen - 1}, "
            f"but the file has {pieces} pieces")
    plot(trace, pieces, title_of(args.trace, folders), out, args.time_max,
         args.copies_max)
    if not args.quiet:
        print(f"plot: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(resultdir.run_cli(main))
