"""Tests for analysis/resultdir.py: loading and validating result folders."""

import json
import math
import os
import unittest

import helpers
import resultdir
import synthetic
from resultdir import ResultError


class LoadTest(helpers.TempDirTest):

    def setUp(self):
        super().setUp()
        self.dir = synthetic.write_result(os.path.join(self.tmp, "run"),
                                          leechers=12, free_riders=3)

    def test_loads_every_file(self):
        run = resultdir.load(self.dir)
        self.assertEqual(len(run.peers.peer), 16)          # 1 seed + 15
        classes = run.peers.classes()
        self.assertEqual(classes[0], "seed")
        self.assertEqual(sorted(classes), ["free_rider", "leecher", "seed"])
        self.assertEqual(run.name, "flash_crowd")
        self.assertGreater(run.kumar_ross_s, 0)
        self.assertEqual(run.timeline["time_s"][0], 0.0)
        self.assertIn("synthetic", run.description)

    def test_empty_field_is_never(self):
        run = resultdir.load(self.dir)
        self.assertTrue(math.isnan(run.peers.leave_s[0]))   # the seed stays
        self.assertTrue(math.isnan(run.peers.first_piece_s[0]))

    def test_initial_seed_is_not_a_leecher(self):
        run = resultdir.load(self.dir)
        self.assertEqual(list(run.peers.initial_seed).count(True), 1)
        self.assertTrue(run.peers.initial_seed[0])
        self.assertEqual(int(run.peers.leecher.sum()), 15)

    def test_seed_found_without_scenario_file(self):
        os.remove(os.path.join(self.dir, "scenario.yaml"))
        run = resultdir.load(self.dir)
        self.assertIsNone(run.peers.seed_classes)
        self.assertEqual(list(run.peers.initial_seed).count(True), 1)
        self.assertTrue(run.peers.initial_seed[0])

    def test_peer_that_never_joined_is_not_a_leecher(self):
        path = os.path.join(self.dir, "peers.csv")
        with open(path, "a") as f:
            f.write("99,leecher,,,,,0,0\n")
        run = resultdir.load(self.dir)
        self.assertEqual(len(run.peers.peer), 17)
        self.assertEqual(int(run.peers.leecher.sum()), 15)

    def test_download_time_is_completion_minus_join(self):
        run = resultdir.load(self.dir)
        p = run.peers
        self.assertAlmostEqual(p.download_time_s[3],
                               p.completion_s[3] - p.join_s[3])

    def test_key_metrics(self):
        run = resultdir.load(self.dir)
        m = resultdir.key_metrics(run)
        with open(os.path.join(self.dir, "summary.json")) as f:
            s = json.load(f)
        self.assertEqual(m["makespan_s"], s["makespan_s"])
        self.assertEqual(m["leechers"], 15)
        self.assertGreater(m["mean_availability_entropy"], 0)
        self.assertLessEqual(m["mean_upload_utilization"], 1.0)

    def test_null_bound_is_none(self):
        path = os.path.join(self.dir, "summary.json")
        with open(path) as f:
            s = json.load(f)
        s["bounds"]["kumar_ross_s"] = None
        with open(path, "w") as f:
            json.dump(s, f)
        self.assertIsNone(resultdir.load(self.dir).kumar_ross_s)

    def test_interval_mean_utilization_is_read(self):
        run = resultdir.load(self.dir)
        mean = run.timeline["upload_utilization_mean"]
        self.assertEqual(mean.dtype, float)
        self.assertEqual(len(mean), len(run.timeline["time_s"]))
        self.assertEqual(mean[0], 0.0)
        self.assertGreater(mean.max(), 0.5)

    def test_folder_without_interval_mean_loads(self):
        # A folder written before the column existed (2026-11-27).
        path = os.path.join(self.dir, "timeline.csv")
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertTrue(lines[0].endswith(",upload_utilization_mean"))
        with open(path, "w") as f:
            f.write("\n".join(l.rsplit(",", 1)[0] for l in lines) + "\n")
        run = resultdir.load(self.dir)
        self.assertNotIn("upload_utilization_mean", run.timeline)
        self.assertGreater(len(run.timeline["upload_utilization"]), 10)

    def test_extra_columns_are_tolerated(self):
        path = os.path.join(self.dir, "timeline.csv")
        with open(path) as f:
            lines = f.read().splitlines()
        lines = [lines[0] + ",extra"] + [l + ",x" for l in lines[1:]]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        run = resultdir.load(self.dir)
        self.assertGreater(len(run.timeline["time_s"]), 10)


class PopulationTest(unittest.TestCase):

    def test_equals_the_timeline_at_every_sample_of_simulator_runs(self):
        import numpy as np
        for name in ("sim_flash_20", "sim_steady_100", "sim_nat_200"):
            run = resultdir.load(os.path.join(helpers.HERE, "data", name))
            t, leechers, seeds, completed = resultdir.population(run)
            tl = run.timeline
            at = np.searchsorted(t, tl["time_s"], side="right") - 1
            for got, column in ((leechers, "leechers"), (seeds, "seeds"),
                                (completed, "completed")):
                np.testing.assert_array_equal(got[at], tl[column], err_msg=(name, column))
            self.assertEqual((t[0], t[-1]), (0.0, tl["time_s"][-1]))

    def test_completion_and_leave_at_one_moment(self):
        # A leecher that leaves as it completes is a seed for no time at all.
        import numpy as np
        run = resultdir.load(os.path.join(helpers.HERE, "data", "sim_nat_200"))
        p = run.peers
        p.leave_s = np.where(p.leecher, p.completion_s, p.leave_s)
        _, leechers, seeds, completed = resultdir.population(run)
        self.assertEqual(seeds.max(), int(np.sum(p.initial_seed)))
        self.assertEqual(completed[-1], int(np.sum(np.isfinite(p.completion_s[p.leecher]))))
        self.assertEqual(leechers[-1], 0)


class RejectTest(helpers.TempDirTest):

    def setUp(self):
        super().setUp()
        self.dir = synthetic.write_result(os.path.join(self.tmp, "run"),
                                          leechers=5, free_riders=0)

    def assertRejected(self, fragment, path=None):
        with self.assertRaises(ResultError) as cm:
            resultdir.load(path or self.dir)
        self.assertIn(fragment, str(cm.exception))
        self.assertNotIn("\n", str(cm.exception))

    def rewrite(self, name, fn):
        path = os.path.join(self.dir, name)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(fn(text))

    def test_not_a_directory(self):
        self.assertRejected("not a directory",
                            os.path.join(self.tmp, "nothing-here"))

    def test_missing_file(self):
        os.remove(os.path.join(self.dir, "timeline.csv"))
        self.assertRejected("missing timeline.csv")

    def test_bad_header(self):
        self.rewrite("peers.csv", lambda t: t.replace("join_s", "joined", 1))
        self.assertRejected("peers.csv: line 1: bad header, missing column(s) "
                            "join_s")

    def test_bad_number_names_line_and_column(self):
        self.rewrite("timeline.csv",
                     lambda t: t.replace("\n0.000000,", "\nzero,", 1))
        self.assertRejected("timeline.csv: line 2: column time_s: 'zero' is "
                            "not a number")

    def test_bad_interval_mean_names_line_and_column(self):
        self.rewrite("timeline.csv",
                     lambda t: t.replace(",0.000000\n", ",busy\n", 1))
        self.assertRejected("timeline.csv: line 2: column "
                            "upload_utilization_mean: 'busy' is not a number")

    def test_failed_column_is_read_and_checked(self):
        def add_failed(bad):
            def fn(t):
                lines = t.splitlines()
                out = [lines[0] + ",failed"]
                for i, line in enumerate(lines[1:]):
                    out.append(line + ("," + bad if i == 1 else ",1" if i == 2
                                       else ",0"))
                return "\n".join(out) + "\n"
            return fn
        self.rewrite("peers.csv", add_failed("0"))
        run = resultdir.load(self.dir)
        self.assertEqual(list(run.peers.failed[:4]), [False, False, True, False])
        self.rewrite("peers.csv", lambda t: t.replace(",0\n", ",yes\n", 2)
                     .replace(",yes\n", ",0\n", 1))
        self.assertRejected("peers.csv: line 3: column failed: expected 0 or 1, "
                            "got 'yes'")

    def test_time_going_backwards(self):
        def swap(t):
            lines = t.splitlines()
            lines[2], lines[3] = lines[3], lines[2]
            return "\n".join(lines) + "\n"
        self.rewrite("timeline.csv", swap)
        self.assertRejected("timeline.csv: line 4: time_s goes backwards")

    def test_empty_time(self):
        self.rewrite("timeline.csv",
                     lambda t: t.replace("\n0.000000,", "\n,", 1))
        self.assertRejected("timeline.csv: line 2: column time_s is empty")

    def test_wrong_field_count(self):
        self.rewrite("peers.csv", lambda t: t + "99,leecher,1.0\n")
        self.assertRejected("fields, header has 8")

    def test_header_only(self):
        self.rewrite("peers.csv", lambda t: t.splitlines()[0] + "\n")
        self.assertRejected("peers.csv: no data rows")

    def test_invalid_json(self):
        self.rewrite("summary.json", lambda t: t[:-5])
        self.assertRejected("summary.json: line")

    def test_summary_without_scenario(self):
        self.rewrite("summary.json", lambda t: '{"peers": {}}')
        self.assertRejected("missing field 'scenario'")

    def edit_summary(self, change):
        def edit(text):
            s = json.loads(text)
            change(s)
            return json.dumps(s)
        self.rewrite("summary.json", edit)

    def test_summary_peers_not_an_object(self):
        # Was an AttributeError traceback in plot_run.py and compare.py.
        self.edit_summary(lambda s: s.update(peers=[1, 2]))
        self.assertRejected("field 'peers' must be an object")

    def test_summary_number_of_wrong_type(self):
        # Was a ValueError traceback when compare.py formatted the table.
        self.edit_summary(lambda s: s["completion_time_s"].update(mean="fast"))
        self.assertRejected("field 'completion_time_s.mean' must be a number "
                            'or null, got "fast"')

    def test_summary_fluid_model_must_be_an_object(self):
        self.edit_summary(lambda s: s.update(fluid_model=[2.1, 15.0]))
        self.assertRejected("field 'fluid_model' must be an object")

    def test_summary_fluid_model_numbers(self):
        self.edit_summary(lambda s: s.update(fluid_model={"leechers": "2"}))
        self.assertRejected("field 'fluid_model.leechers' must be a number")

    def test_summary_overrides_must_be_strings(self):
        self.edit_summary(lambda s: s.update(overrides="file.size=4MiB"))
        self.assertRejected("field 'overrides' must be a list of strings")

    def test_summary_overrides_default_to_none(self):
        run = resultdir.load(self.dir)   # synthetic summaries have none
        self.assertEqual(run.overrides, [])

    def test_summary_nulls_are_accepted(self):
        def nulls(s):
            s.update(makespan_s=None, efficiency=None, completion_time_s=None)
        self.edit_summary(nulls)
        run = resultdir.load(self.dir)
        self.assertIsNone(resultdir.key_metrics(run)["makespan_s"])

    def test_compare_rejects_bad_summary_with_exit_2(self):
        self.edit_summary(lambda s: s.update(makespan_s=[1]))
        r = helpers.run_script("compare.py", self.dir, self.dir, "--out",
                               os.path.join(self.tmp, "cmp"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertIn("field 'makespan_s' must be a number or null", r.stderr)


class ScenarioScalarsTest(helpers.TempDirTest):

    def write(self, text):
        path = os.path.join(self.tmp, "s.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_seed_classes_block_style(self):
        path = self.write("name: x\npeers:\n  - class: origin\n    count: 1\n"
                          "    start: complete\n  - class: leecher\n"
                          "    start: empty\n  - class: mirror\n"
                          "    start: complete\nsample_interval: 1s\n")
        self.assertEqual(resultdir.read_seed_classes(path),
                         {"origin", "mirror"})

    def test_seed_classes_flow_style(self):
        path = self.write("peers:\n  - {class: seed, count: 1, start: complete,"
                          "\n     arrival: {at: 0s}}\n"
                          "  - {class: leecher, count: 9, start: empty}\n")
        self.assertEqual(resultdir.read_seed_classes(path), {"seed"})

    def test_peer_classes_and_file_of_a_scenario_file(self):
        # Flow style, as in scenarios/; the nested arrival's `start` must
        # not be read as the class's.
        path = os.path.join(helpers.HERE, "..", "..", "scenarios",
                            "free_riders.yaml")
        classes = resultdir.read_peer_classes(path)
        self.assertEqual([(c["class"], c["count"]) for c in classes],
                         [("seed", "1"), ("contributor", "150"),
                          ("free_rider", "50")])
        self.assertEqual(classes[2]["free_rider"], "true")
        self.assertEqual(classes[1]["upload"], "1Mbit/s")
        self.assertEqual(resultdir.read_file_spec(path),
                         {"size": "20MiB", "piece_size": "256KiB"})

    def test_peer_classes_and_file_block_style(self):
        path = self.write("name: x\nfile:\n  name: file\n  size: 4MiB\n"
                          "  piece_size: 64KiB\npeers:\n  - class: origin\n"
                          "    count: 2\n    start: complete\n    arrival:\n"
                          "      poisson: {rate: 1, start: 5s}\n"
                          "  - class: leecher\n    count: 9\n"
                          "    start: empty\n    arrival:\n"
                          "      poisson: {rate: 1, start: complete}\n"
                          "sample_interval: 1s\n")
        self.assertEqual(resultdir.read_peer_classes(path),
                         [{"class": "origin", "count": "2",
                           "start": "complete"},
                          {"class": "leecher", "count": "9",
                           "start": "empty"}])
        self.assertEqual(resultdir.read_file_spec(path),
                         {"size": "4MiB", "piece_size": "64KiB"})
        self.assertEqual(resultdir.read_file_spec(self.write("name: x\n")), {})
        self.assertIsNone(resultdir.read_peer_classes(self.write("name: x\n")))

    def test_no_peers_list_means_unknown(self):
        self.assertIsNone(resultdir.read_seed_classes(self.write("name: x\n")))
        self.assertIsNone(resultdir.read_seed_classes(
            os.path.join(self.tmp, "missing.yaml")))

    def test_quoted_description_with_escapes(self):
        path = self.write('description: "a \\"flash\\" crowd # big\\n"\n')
        self.assertEqual(resultdir.read_scenario_scalars(path)["description"],
                         'a "flash" crowd # big')

    def test_reads_top_level_scalars_and_folded_blocks(self):
        path = os.path.join(self.tmp, "s.yaml")
        with open(path, "w") as f:
            f.write("name: churn  # a comment\n"
                    "description: >\n  seeds leave\n  and the swarm dies\n"
                    "file: {size: 1MiB}\npeers:\n  - {class: seed}\n"
                    "seed: 7\n")
        s = resultdir.read_scenario_scalars(path)
        self.assertEqual(s["name"], "churn")
        self.assertEqual(s["description"], "seeds leave and the swarm dies")
        self.assertEqual(s["seed"], "7")
        self.assertNotIn("file", s)


if __name__ == "__main__":
    unittest.main()
