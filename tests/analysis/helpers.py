"""Shared helpers for the analysis tests: where the scripts are, how to run
them, and what a good PNG is (valid, big enough, with coloured plot lines)."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.environ.get("SWARMLAB_ANALYSIS_DIR") or \
    os.path.normpath(os.path.join(HERE, "..", "..", "analysis"))
PYTHON = os.environ.get("SWARMLAB_PYTHON") or sys.executable
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 8 * 1024

sys.path.insert(0, ANALYSIS)
os.environ.setdefault("MPLBACKEND", "Agg")


def joined_at_once(run):
    """run with its leechers' joins squeezed towards the first: data/
    sim_flash_20's joins span 9.1 s, over ¼ of its 22.4 s bound, so it is
    not a flash crowd (resultdir.is_flash_crowd); with them 0.2 s apart it
    is. Returns run."""
    p = run.peers
    first = min(p.join_s[p.leecher])
    p.join_s[p.leecher] = first + 0.2 * (p.join_s[p.leecher] - first)
    return run


def run_script(name, *args, cwd=None):
    """Runs analysis/<name> with args; returns CompletedProcess (text)."""
    return subprocess.run([PYTHON, os.path.join(ANALYSIS, name), *args],
                          capture_output=True, text=True, cwd=cwd,
                          timeout=120)


class TempDirTest(unittest.TestCase):
    """A test case with a fresh temporary folder in self.tmp."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="swarmlab-analysis-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def assertGoodPng(self, path, min_colour_fraction=0.003):
        """A valid PNG, > 8 KiB, not blank, with coloured (plotted) pixels:
        axes, text and grid are grey, data lines are coloured."""
        import matplotlib.image as mpimg
        import numpy as np
        self.assertTrue(os.path.isfile(path), f"{path} was not written")
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), PNG_MAGIC, f"{path} is not a PNG")
        size = os.path.getsize(path)
        self.assertGreater(size, MIN_PNG_BYTES, f"{path}: only {size} bytes")
        img = mpimg.imread(path)[..., :3]
        self.assertGreater(img.shape[0], 300)
        self.assertGreater(img.shape[1], 400)
        self.assertGreater(float(img.std()), 0.03, f"{path} looks blank")
        saturation = img.max(axis=2) - img.min(axis=2)
        coloured = float((saturation > 0.25).mean())
        self.assertGreater(coloured, min_colour_fraction,
                           f"{path}: no plotted data visible "
                           f"({coloured:.4%} coloured pixels)")
