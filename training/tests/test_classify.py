import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

import numpy as np

import common  # noqa: I001 (first: puts training/ on sys.path)
import classify
import layout
from data import Dataset, canonicalize

# A small, quick classifier; the synthetic clips are 84-100 frames long.
SMALL = ["--steps", "150", "--batch", "16", "--width", "16", "--frames", "60", "--threads", "1", "--seed", "1"]


def run_main(*args: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert classify.main(list(args)) == 0
    return buf.getvalue()


class ClassifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = common.synthetic_dataset(clips=12, frames=100)  # walk, run, jump; test clips are jump
        cls.tmp = tempfile.mkdtemp(prefix="mclassify-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data)
        shutil.rmtree(cls.tmp)

    def test_features_ignore_position_and_facing(self):
        ds = Dataset(self.data)
        c = ds.clips[0]
        w = ds.raw[c.start + 10:c.start + 70].astype(np.float64)
        moved = w.copy()
        moved[:, [0, 2]] += [3.0, -2.0]
        a = classify.frame_features(w)
        self.assertEqual(a.shape, (60, classify.N_FEATURES))
        for angle in (0.0, 1.0, 2.5, -2.0):
            np.testing.assert_allclose(classify.frame_features(canonicalize(moved, angle)), a, atol=2e-4)

    def test_train_heldout_and_score_generated(self):
        ds = Dataset(self.data)
        rng = np.random.default_rng(0)
        wins, labels = [], []
        for c in ds.clips:  # real windows posing as generated samples: any start point and facing
            for _ in range(3):
                s = c.start + int(rng.integers(0, c.frames - 60 + 1))
                wins.append(canonicalize(ds.raw[s:s + 60], rng.uniform(0, 2 * np.pi)))
                labels.append(c.classes[0])
        gen = os.path.join(self.tmp, "gen")
        os.makedirs(gen)
        np.save(os.path.join(gen, "features.npy"), np.stack(wins).astype(np.float32))
        with open(os.path.join(gen, "labels.json"), "w") as f:
            json.dump(labels, f)
        cache, out = os.path.join(self.tmp, "cache"), os.path.join(self.tmp, "out.json")

        text = run_main("--data", self.data, "--out", cache, "--generated", gen, "--json", out, *SMALL)
        self.assertIn("confusion", text)
        with open(out) as f:
            res = json.load(f)
        g = res["generated"]
        self.assertEqual(g["classes"], classify.CLASSES)
        self.assertEqual(g["samples"], len(labels))
        self.assertEqual(len(g["predictions"]), len(labels))
        m = np.array(g["confusion"])
        self.assertEqual(m.shape, (7, 7))
        self.assertEqual(m.sum(), len(labels))
        for k in ("walk", "run", "jump"):
            self.assertEqual(g["per_class"][k]["n"], labels.count(k))
        self.assertIsNone(g["per_class"]["kick"]["accuracy"])  # no sample prompted with it
        self.assertGreater(g["overall_accuracy"], 0.6)  # chance is 1/3
        self.assertGreater(g["mean_class_accuracy"], 0.6)
        held = res["classifier"]["heldout"]
        self.assertEqual(held["per_class"]["jump"]["n"], 2)  # two 84-frame test clips, one window each
        self.assertEqual(held["per_class"]["walk"]["n"], 0)

        # cached: a second run loads the same file and scores identically; --retrain trains again
        path = res["classifier"]["path"]
        self.assertTrue(path.startswith(cache) and os.path.exists(path))
        stamp = os.path.getmtime(path)
        run_main("--data", self.data, "--out", cache, "--generated", gen, "--json", out, *SMALL)
        with open(out) as f:
            again = json.load(f)
        self.assertEqual(again["generated"]["predictions"], g["predictions"])
        self.assertEqual(os.path.getmtime(path), stamp)
        run_main("--data", self.data, "--out", cache, "--generated", gen, "--json", out, "--retrain", *SMALL)
        with open(out) as f:
            retrained = json.load(f)
        self.assertEqual(retrained["generated"]["predictions"], g["predictions"])  # deterministic

        with open(os.path.join(gen, "labels.json"), "w") as f:
            json.dump(labels[:-1] + ["fly"], f)
        with self.assertRaises(ValueError):
            run_main("--data", self.data, "--out", cache, "--generated", gen, *SMALL)


if __name__ == "__main__":
    unittest.main()
