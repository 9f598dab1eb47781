import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

import common  # noqa: I001 (first: puts training/ on sys.path)
import classify
import layout
from data import Dataset, canonicalize

# A small, quick classifier; the synthetic clips are 84-100 frames long.
SMALL = ["--steps", "300", "--batch", "16", "--width", "16", "--frames", "60", "--bag-frames", "150",
         "--threads", "1", "--seed", "1"]
VOCAB = ["walk", "run", "jump", "spin", "wave"]  # wave: no take at all
FREQ = {"walk": 0.15, "run": 0.4, "jump": 0.8, "spin": 1.3}  # synth.py's, and one more


def run_main(*args: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert classify.main(list(args)) == 0
    return buf.getvalue()


def segment(rng: np.random.Generator, base: np.ndarray, amp: np.ndarray, freq: float, n: int) -> np.ndarray:
    """Rows moving as synth.py's clips of a class with this frequency."""
    t = np.arange(n)[:, None]
    phase = rng.uniform(0, 2 * np.pi, layout.D)
    x = base + amp * np.sin(freq * t + phase) + rng.normal(0, 0.02, (n, layout.D))
    x[:, -4:] = (np.sin(freq * t + phase[-4:]) > 0).astype(np.float64)
    return x.astype(np.float32)


def add_takes(data: str, takes, vocab=VOCAB) -> None:
    """Append takes [(id, split, classes, rows)] to a synthetic dataset and name its
    vocabulary_classes."""
    feats = np.load(os.path.join(data, "features.npy"))
    with open(os.path.join(data, "clips.json")) as f:
        meta = json.load(f)
    start, rows = feats.shape[0], [feats]
    for tid, split, classes, x in takes:
        meta["clips"].append({"id": tid, "source": f"synthetic/{tid}.bvh", "mirrored": False, "split": split,
                              "start": start, "frames": len(x), "captions": [" and ".join(classes)],
                              "classes": classes})
        rows.append(x)
        start += len(x)
    meta["vocabulary_classes"] = list(vocab)
    np.save(os.path.join(data, "features.npy"), np.concatenate(rows))
    with open(os.path.join(data, "clips.json"), "w") as f:
        json.dump(meta, f)


class PartsTest(unittest.TestCase):
    def test_targets_per_kind_of_take(self):
        self.assertEqual(classify.take_kind(1, 5000, 240), classify.SINGLE)
        self.assertEqual(classify.take_kind(2, 240, 240), classify.BAG)
        self.assertEqual(classify.take_kind(2, 241, 240), classify.LONG)
        y, known, anyk = classify.targets([2], classify.SINGLE, 4)
        np.testing.assert_array_equal(y, [0, 0, 1, 0])
        np.testing.assert_array_equal(known, [1, 1, 1, 1])
        np.testing.assert_array_equal(anyk, [0, 0, 0, 0])
        y, known, anyk = classify.targets([0, 2], classify.BAG, 4)  # a short take shows every class
        np.testing.assert_array_equal(y, [1, 0, 1, 0])
        np.testing.assert_array_equal(known, [1, 1, 1, 1])
        np.testing.assert_array_equal(anyk, [0, 0, 0, 0])
        y, known, anyk = classify.targets([0, 2], classify.LONG, 4)  # a window of a long one: one of them
        np.testing.assert_array_equal(y, [0, 0, 0, 0])
        np.testing.assert_array_equal(known, [0, 1, 0, 1])
        np.testing.assert_array_equal(anyk, [1, 0, 1, 0])

    def test_background_class_unlabelled_among_others(self):
        for kind in (classify.BAG, classify.LONG):  # walk (0) and climb (2): taught as the climb
            y, known, anyk = classify.targets([0, 2], kind, 4, background=0)
            self.assertEqual((y[0], known[0], anyk[0]), (0, 0, 0))
            self.assertEqual(known[1], 1)  # a class the take lacks stays a negative
            self.assertEqual(y[2] + anyk[2], 1)
        y, known, anyk = classify.targets([0], classify.SINGLE, 4, background=0)  # a walk alone is a walk
        np.testing.assert_array_equal(y, [1, 0, 0, 0])
        np.testing.assert_array_equal(known, [1, 1, 1, 1])

    def test_loss_at_least_one(self):
        y, known, anyk = (torch.from_numpy(v[None]) for v in classify.targets([0, 1], classify.LONG, 3))
        one = classify.loss_fn(torch.tensor([[8.0, -8.0, -8.0]]), y, known, anyk)
        other = classify.loss_fn(torch.tensor([[-8.0, 8.0, -8.0]]), y, known, anyk)
        none = classify.loss_fn(torch.tensor([[-8.0, -8.0, -8.0]]), y, known, anyk)
        wrong = classify.loss_fn(torch.tensor([[8.0, -8.0, 8.0]]), y, known, anyk)
        self.assertLess(float(one), 0.01)
        self.assertAlmostEqual(float(one), float(other), places=6)  # either class of the take will do
        self.assertGreater(float(none), 2.0)
        self.assertGreater(float(wrong), 2.0)  # a class the take does not have is a negative
        y, known, anyk = (torch.from_numpy(v[None]) for v in classify.targets([0, 1], classify.BAG, 3))
        self.assertGreater(float(classify.loss_fn(torch.tensor([[8.0, -8.0, -8.0]]), y, known, anyk)), 2.0)

    def test_pooling_ignores_padding_and_length(self):
        torch.manual_seed(0)
        net = classify.Net(5, width=8).eval()
        a, b = torch.randn(1, 40, classify.N_FEATURES), torch.randn(1, 70, classify.N_FEATURES)
        x = torch.zeros(2, 70, classify.N_FEATURES)
        x[0, :40], x[1] = a[0], b[0]
        both = net(x, torch.tensor([40, 70]))
        torch.testing.assert_close(both[0], net(a)[0])
        torch.testing.assert_close(both[1], net(b)[0])
        # log-mean-exp of the per-frame logits: a class shown in a few frames scores high
        per = net.head(net.body(a.transpose(1, 2)))[0]  # [classes, 40 - 29 + 1]
        self.assertEqual(per.shape, (5, 40 - net.receptive_field + 1))
        torch.testing.assert_close(net(a)[0], torch.logsumexp(per, -1) - np.log(per.shape[-1]))
        self.assertTrue(bool((net(a)[0] > per.mean(-1)).all()))

    def test_stretch_plays_faster_and_scales_speeds(self):
        rng = np.random.default_rng(3)
        f = rng.normal(size=(41, classify.N_FEATURES)).astype(np.float32)
        j = 3 * layout.J
        f[:, 2 * j:2 * j + 4] = rng.integers(0, 2, (41, 4))
        out = classify.stretch_window(f, 21, 41)  # 41 frames played in 21: twice as fast
        self.assertEqual(out.shape, (21, classify.N_FEATURES))
        np.testing.assert_allclose(out[:, :j], f[::2, :j], atol=1e-6)  # poses of every other frame
        np.testing.assert_allclose(out[:, j:2 * j], 2 * f[::2, j:2 * j], atol=1e-5)  # velocities doubled
        np.testing.assert_allclose(out[:, -1], 2 * f[::2, -1], atol=1e-5)  # and the yaw rate
        self.assertTrue(set(np.unique(out[:, 2 * j:2 * j + 4])) <= {0.0, 1.0})  # contacts stay labels
        self.assertIs(classify.stretch_window(f, 41, 41), f)

    def test_short_windows_are_held_to_the_receptive_field(self):
        torch.manual_seed(0)
        net = classify.Net(3, width=8, dilations=classify.dilations_of({"dilations": "1,2,4,8"})).eval()
        self.assertEqual(net.receptive_field, 61)
        f = np.random.default_rng(0).normal(size=(40, classify.N_FEATURES)).astype(np.float32)
        held = classify.fit(f, net.receptive_field)
        self.assertEqual(held.shape[0], 61)
        np.testing.assert_array_equal(held[39:], np.repeat(f[-1:], 22, 0))
        clf = classify.Classifier(net, np.zeros(classify.N_FEATURES), np.ones(classify.N_FEATURES), ["a", "b", "c"], {})
        self.assertEqual(clf.predict_features([f]).shape, (1, 3))  # 40 frames: held, not refused
        self.assertEqual(classify.dilations_of({}), (1, 2, 4))  # a classifier saved before the setting

    def test_lengths_json_limits_each_row(self):
        torch.manual_seed(0)
        net = classify.Net(2, width=8).eval()
        clf = classify.Classifier(net, np.zeros(classify.N_FEATURES), np.ones(classify.N_FEATURES), ["a", "b"], {})
        rng = np.random.default_rng(1)
        raw = rng.normal(size=(3, 50, layout.D)).astype(np.float32)
        raw[1, 20:] = 1e3 * rng.normal(size=(30, layout.D))  # past row 1's motion: not to be read
        d = tempfile.mkdtemp(prefix="mlengths-")
        self.addCleanup(shutil.rmtree, d)
        np.save(os.path.join(d, "features.npy"), raw)
        with open(os.path.join(d, "labels.json"), "w") as f:
            json.dump(["a", "b", "a"], f)
        _, labels, lengths = classify.load_generated(d, clf.classes)
        self.assertEqual((labels, lengths), ([0, 1, 0], None))  # no lengths.json: every row whole
        with open(os.path.join(d, "lengths.json"), "w") as f:
            json.dump([50, 20, 50], f)
        feats, _, lengths = classify.load_generated(d, clf.classes)
        self.assertEqual(lengths, [50, 20, 50])
        got = clf.predict_raw(feats, lengths)
        want = clf.predict_features([classify.frame_features(raw[i, :n]) for i, n in enumerate(lengths)])
        np.testing.assert_allclose(got, want, rtol=1e-6)
        np.testing.assert_allclose(got[[0, 2]], clf.predict_raw(feats)[[0, 2]], rtol=1e-5)  # whole rows as before
        self.assertFalse(np.allclose(got[1], clf.predict_raw(feats)[1]))  # the padding would count
        for bad in ([50, 20], [50, 1, 50], [50, 51, 50], [50, 20.5, 50], {"0": 50}):
            with open(os.path.join(d, "lengths.json"), "w") as f:
                json.dump(bad, f)
            with self.assertRaisesRegex(ValueError, "lengths.json"):
                classify.load_generated(d, clf.classes)


class WindowsTest(unittest.TestCase):
    def test_load_windows_keeps_passing_ones(self):
        d = tempfile.mkdtemp(prefix="mwindows-")
        self.addCleanup(shutil.rmtree, d)
        self.assertEqual(classify.load_windows(d), {})
        with open(os.path.join(d, classify.WINDOWS), "w") as f:
            json.dump([{"row": 0, "class": "kick", "start": 30, "frames": 120, "physical_pass": True},
                       {"row": 0, "class": "walk", "start": 0, "frames": 120, "physical_pass": False},
                       {"row": 500, "class": "kick", "start": 0, "frames": 90, "physical_pass": True}], f)
        self.assertEqual(classify.load_windows(d), {(0, "kick"): (30, 120), (500, "kick"): (0, 90)})


class ClassifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = common.synthetic_dataset(clips=12, frames=100)  # walk, run, jump; test clips are jump
        cls.tmp = tempfile.mkdtemp(prefix="mclassify-")
        raw = np.load(os.path.join(cls.data, "features.npy"))
        base, amp = raw.mean(0), raw.std(0) * np.sqrt(2.0)
        rng = np.random.default_rng(7)
        cls.seg = staticmethod(lambda k, n: segment(rng, base, amp, FREQ[k], n))
        takes = []
        # spin shows only in takes of two classes: short ones (whole take, both 1) ...
        for i in range(4):
            first, second = ("walk", "spin") if i % 2 else ("spin", "jump")
            takes.append((f"m{i}", "train", [first, second], np.concatenate([cls.seg(first, 50), cls.seg(second, 50)])))
        # ... and long ones (windows: at least one of run, spin)
        for i in range(2):
            takes.append((f"l{i}", "train", ["run", "spin"], np.concatenate([cls.seg("run", 120), cls.seg("spin", 120)])))
        takes.append(("t0", "test", ["spin"], cls.seg("spin", 90)))
        takes.append(("t1", "test", ["walk", "spin"], np.concatenate([cls.seg("walk", 60), cls.seg("spin", 60)])))
        takes.append(("t2", "test", [], cls.seg("run", 90)))  # no class: left out
        add_takes(cls.data, takes)

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
        for c in ds.clips:  # real windows of single-class takes posing as generated samples
            if len(c.classes) != 1:
                continue
            for _ in range(3):
                s = c.start + int(rng.integers(0, c.frames - 60 + 1))
                wins.append(canonicalize(ds.raw[s:s + 60], rng.uniform(0, 2 * np.pi)))
                labels.append(c.classes[0])
        for _ in range(9):  # and spins: no train take has spin alone
            wins.append(canonicalize(self.seg("spin", 60), rng.uniform(0, 2 * np.pi)))
            labels.append("spin")
        gen = os.path.join(self.tmp, "gen")
        os.makedirs(gen)
        np.save(os.path.join(gen, "features.npy"), np.stack(wins).astype(np.float32))
        with open(os.path.join(gen, "labels.json"), "w") as f:
            json.dump(labels, f)
        cache, out = os.path.join(self.tmp, "cache"), os.path.join(self.tmp, "out.json")

        text = run_main("--data", self.data, "--out", cache, "--generated", gen, "--json", out, *SMALL)
        self.assertIn("confusion", text)
        self.assertIn("real held-out vs generated", text)
        with open(out) as f:
            res = json.load(f)
        self.assertEqual(res["classifier"]["classes"], VOCAB)  # the dataset's vocabulary_classes
        g = res["generated"]
        self.assertEqual(g["classes"], VOCAB)
        self.assertEqual(g["samples"], len(labels))
        self.assertEqual(len(g["predictions"]), len(labels))
        m = np.array(g["confusion"])
        self.assertEqual(m.shape, (5, 5))
        self.assertEqual(m.sum(), len(labels))
        for k in ("walk", "run", "jump", "spin"):
            self.assertEqual(g["per_class"][k]["n"], labels.count(k))
        self.assertIsNone(g["per_class"]["wave"]["accuracy"])  # no sample prompted with it
        self.assertIsNone(g["per_class"]["wave"]["detected"])
        self.assertGreater(g["overall_accuracy"], 0.6)  # chance is 1/4
        self.assertGreater(g["mean_class_accuracy"], 0.6)
        self.assertGreaterEqual(g["per_class"]["spin"]["accuracy"], 0.6)  # learnt from multi-class takes
        self.assertGreaterEqual(g["per_class"]["spin"]["detected"], 0.6)

        held = res["classifier"]["heldout"]
        self.assertEqual(held["per_class"]["jump"]["n"], 2)  # two 84-frame test clips, one window each
        self.assertEqual(held["per_class"]["walk"]["n"], 0)  # the walk test take also has spin
        self.assertEqual(held["per_class"]["spin"]["n"], 2)  # t0: 90 frames, windows at 0 and 30
        self.assertEqual(held["per_class"]["spin"]["single_takes"], ["t0"])
        self.assertEqual(held["per_class"]["spin"]["takes"], ["t0", "t1"])
        self.assertEqual(held["per_class"]["spin"]["take_count"], 2)
        self.assertEqual(held["per_class"]["walk"]["takes"], ["t1"])
        self.assertEqual(held["samples"], 4)  # windows of single-class takes only
        self.assertEqual(held["multi_windows"], 3)  # t1: 120 frames, windows at 0, 30, 60
        self.assertIsNotNone(held["multi_in_take"])
        self.assertGreaterEqual(held["per_class"]["spin"]["takes_found"], 1)
        self.assertIsNone(held["per_class"]["wave"]["accuracy"])

        cmp = res["real_vs_generated"]
        self.assertEqual(sorted(cmp), ["jump", "run", "spin", "walk"])
        self.assertEqual(cmp["spin"]["real_n"], 2)
        self.assertEqual(cmp["spin"]["generated_n"], labels.count("spin"))
        self.assertEqual(cmp["spin"]["generated_accuracy"], g["per_class"]["spin"]["accuracy"])
        self.assertEqual(cmp["spin"]["real_accuracy"], held["per_class"]["spin"]["accuracy"])

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

        # a dataset with another class list: the cache does not hand it this classifier,
        # and naming the file is a clear error
        other = os.path.join(self.tmp, "other")
        shutil.copytree(self.data, other)
        add_takes(other, [], vocab=["walk", "run", "jump", "wave", "spin"])
        ds_other = Dataset(other, stats=(np.zeros(layout.D, np.float32), np.ones(layout.D, np.float32)))
        cfg = dict(classify.DEFAULTS)
        self.assertNotEqual(classify.cache_key(other, classify.dataset_classes(ds_other), cfg),
                            classify.cache_key(self.data, VOCAB, cfg))
        with self.assertRaisesRegex(ValueError, "classes"):
            run_main("--data", other, "--classifier", path, *SMALL)
        with self.assertRaisesRegex(ValueError, "classes"):
            classify.load(path, ["walk", "run", "jump", "spin"])
        clf, _ = classify.load(path, VOCAB)
        self.assertEqual(clf.classes, VOCAB)
        run_main("--data", self.data, "--classifier", path, *SMALL)  # the matching dataset is fine

    def test_cross_validation_holds_out_train_takes(self):
        out = os.path.join(self.tmp, "cv.json")
        text = run_main("--data", self.data, "--cv", "2", "--json", out, "--stretch", "0.1", "--dilations", "1,2,3",
                        *SMALL)
        self.assertIn("cross-validation on the train split (2 folds by take)", text)
        self.assertIn("best windows - (no windows.json", text)
        with open(out) as f:
            rep = json.load(f)
        self.assertIsNone(rep["mean_best_accuracy"])
        ds = Dataset(self.data)
        train = [c for c in ds.clips if c.split == "train"]
        # every single-class train take is held out once: its windows are counted once
        single = {k: sum(1 for c in train if c.classes == [k]) for k in VOCAB}
        for k in VOCAB:
            self.assertEqual(rep["per_class"][k]["take_count"], sum(1 for c in train if k in c.classes))
            if not single[k]:
                self.assertEqual(rep["per_class"][k]["n"], 0)
        self.assertGreater(rep["per_class"]["jump"]["n"], 0)
        self.assertEqual(rep["config"]["dilations"], "1,2,3")
        # every window of a single-class train take is scored exactly once, in the fold holding its take out
        spans = classify.heldout_spans(ds, VOCAB, 60, classify.DEFAULTS["min_frames"], split="train")
        for k in VOCAB:
            windows = sum(len(ws) for _, ks, ws in spans if ks == [VOCAB.index(k)])
            self.assertEqual(rep["per_class"][k]["n"], windows, k)
        accs = [v["accuracy"] for v in rep["per_class"].values() if v["accuracy"] is not None]
        self.assertAlmostEqual(rep["mean_class_accuracy"], sum(accs) / len(accs))

    def test_cross_validation_reads_best_windows(self):
        data = os.path.join(self.tmp, "with-windows")
        shutil.copytree(self.data, data)
        ds = Dataset(data)
        longs = [c for c in ds.clips if c.id.startswith("l")]
        rows = []
        for c in longs:  # run in the first half, spin in the second
            rows += [{"row": c.start, "class": "run", "start": 0, "frames": 120, "physical_pass": True},
                     {"row": c.start, "class": "spin", "start": 120, "frames": 120, "physical_pass": True}]
        rows.append({"row": ds.clips[0].start, "class": ds.clips[0].classes[0], "start": 0, "frames": 60,
                     "physical_pass": False})
        with open(os.path.join(data, classify.WINDOWS), "w") as f:
            json.dump(rows, f)
        out = os.path.join(self.tmp, "cv-windows.json")
        text = run_main("--data", data, "--cv", "2", "--json", out, *SMALL)
        self.assertIn("best windows", text)
        with open(out) as f:
            rep = json.load(f)
        # each long take's passing best window is read once, in the fold holding it out; the failing one never
        self.assertEqual(rep["per_class"]["spin"]["best_n"], len(longs))
        self.assertEqual(rep["per_class"]["run"]["best_n"], len(longs))
        self.assertEqual(sum(v["best_n"] for v in rep["per_class"].values()), 2 * len(longs))
        accs = [v["best_accuracy"] for v in rep["per_class"].values() if v["best_accuracy"] is not None]
        self.assertAlmostEqual(rep["mean_best_accuracy"], sum(accs) / len(accs))


if __name__ == "__main__":
    unittest.main()
