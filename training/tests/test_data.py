import json
import os
import shutil
import unittest

import numpy as np

import common
import layout
import dataclasses

from data import (COMBINE_P, JUMP_LEAD, MASK_KINDS, ROOT_ONLY, Clip, DataError, Dataset, Sampler, canonicalize,
                  class_weights, clip_draw_weight, family_mask, gait_events, jump_takeoffs, kick_peaks, lead_signal,
                  pick_frames, random_mask, yaw_matrix)
import fk
from tokenizer import CLS_ID, Tokenizer, build_vocab


def source_rows(rows: np.ndarray, heights: np.ndarray) -> list:
    """The dataset rows whose root heights (rows: [N]) a window's (heights: [n]) starts at."""
    n = len(heights)
    return [r for r in range(len(rows) - n + 1) if np.allclose(rows[r:r + n], heights, atol=1e-4)]


class LayoutTest(unittest.TestCase):
    def test_offsets(self):
        o = layout.OFFSETS
        self.assertEqual(o["local_joints_positions"], (5, 71))
        self.assertEqual(o["global_rot_data"], (71, 203))
        self.assertEqual(o["velocities"], (203, 269))
        self.assertEqual(o["foot_contacts"], (269, 273))
        self.assertEqual(layout.joint_position_dims(["LeftHand"]), [32, 33, 34])  # joint 9

    def test_check_layout(self):
        good = dict(layout.features_object(), predicted_joints=layout.PREDICTED_JOINTS)
        layout.check_layout(good, 273)
        bad_joints = dict(good, predicted_joints=list(reversed(layout.PREDICTED_JOINTS)))
        bad_blocks = dict(good, blocks=[{"name": "velocities", "size": 66}])
        for lay, dim in [(good, 369), (bad_joints, 273), (bad_blocks, 273)]:
            with self.assertRaises(layout.LayoutError):
                layout.check_layout(lay, dim)


class DatasetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = common.synthetic_dataset()
        cls.ds = Dataset(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_stats_are_over_canonical_windows_and_fixed(self):
        ds = self.ds
        self.assertEqual(ds.std.shape, (layout.D,))
        np.testing.assert_array_equal(ds.mean, Dataset(self.dir).mean)  # fixed seed: reproducible
        # uniform random yaw: x/z means vanish, heading cos/sin means vanish
        self.assertLess(abs(float(ds.mean[3])), 0.1)
        self.assertLess(abs(float(ds.mean[4])), 0.1)
        raw = ds.raw[ds.split("train")[0].start]
        np.testing.assert_allclose(ds.normalize(raw), (raw - ds.mean) / np.sqrt(ds.std ** 2 + 1e-5), rtol=1e-5)
        self.assertEqual(sorted(ds.classes()), ["jump", "run", "walk"])

    def test_stats_override(self):
        ds = Dataset(self.dir, stats=(np.ones(layout.D, np.float32), np.full(layout.D, 2.0, np.float32)))
        self.assertEqual(float(ds.mean[0]), 1.0)
        self.assertAlmostEqual(float(ds.scale[5]), np.sqrt(4 + 1e-5), places=6)
        with self.assertRaises(DataError):
            Dataset(self.dir, stats=(np.ones(3, np.float32), np.ones(3, np.float32)))

    def test_bad_files(self):
        d = common.synthetic_dataset(clips=6, frames=40)
        with open(os.path.join(d, "clips.json")) as f:
            meta = json.load(f)
        cases = {
            "out of range": lambda m: m["clips"][0].update(start=10 ** 6),
            "no caption": lambda m: m["clips"][0].update(captions=[]),
            "wrong fps": lambda m: m.update(fps=60),
            "wrong dim": lambda m: m.update(dim=369),
        }
        for name, edit in cases.items():
            with self.subTest(name):
                m = json.loads(json.dumps(meta))
                edit(m)
                with open(os.path.join(d, "clips.json"), "w") as f:
                    json.dump(m, f)
                with self.assertRaises(ValueError):
                    Dataset(d)
        os.remove(os.path.join(d, "features.npy"))
        with self.assertRaises(DataError):
            Dataset(d)
        shutil.rmtree(d)

    def test_batch(self):
        tok = Tokenizer(build_vocab(self.ds.captions()))
        s = Sampler(self.ds, tok, "train", 40, 80)
        rng = np.random.default_rng(0)
        lengths = set()
        for _ in range(20):
            b = s.batch(rng, 5)
            n, t, d = b["x0"].shape
            self.assertEqual((n, d), (5, layout.D))
            self.assertEqual(t % 4, 0)
            self.assertTrue(40 <= t <= 80)
            lengths.add(t)
            self.assertEqual(b["mask"].shape, b["x0"].shape)
            self.assertTrue(np.all(b["tokens"][:, 0] == CLS_ID))
            self.assertLessEqual(b["tokens"].shape[1], tok.max_tokens)
        self.assertGreater(len(lengths), 3)
        # every window starts at the origin (smooth root x, z of frame 0)
        raw = b["x0"] * self.ds.scale + self.ds.mean
        np.testing.assert_allclose(raw[:, 0, [0, 2]], 0.0, atol=1e-4)
        # the y-up dims of a window are a verbatim slice of one clip
        rows = self.ds.raw[:, 1]
        hit = [i for i in range(len(rows) - t + 1) if np.allclose(rows[i:i + t], raw[0, :, 1], atol=1e-4)]
        self.assertEqual(len(hit), 1)

    def test_zero_facing(self):
        # "zero": every window starts at the origin facing +Z, and the stats follow
        tok = Tokenizer(build_vocab(self.ds.captions()))
        ds = Dataset(self.dir, facing="zero")
        self.assertGreater(float(ds.mean[3]), 0.5)  # cos of the heading: mostly facing +Z
        s = Sampler(ds, tok, "train", 40, 80, facing="zero")
        raw = s.batch(np.random.default_rng(1), 16)["x0"] * ds.scale + ds.mean
        np.testing.assert_allclose(raw[:, 0, [0, 2]], 0.0, atol=1e-4)
        np.testing.assert_allclose(np.arctan2(raw[:, 0, 4], raw[:, 0, 3]), 0.0, atol=1e-4)
        self.assertGreater(np.ptp(np.arctan2(raw[:, -1, 4], raw[:, -1, 3])), 0.1)  # later frames turn as they did
        with self.assertRaises(ValueError):
            Sampler(ds, tok, "train", 40, 80, facing="east")

    def test_gait_events(self):
        cases = [
            ("a stride each way", [0, -0.2, -0.1, 0.05, 0.1, 0.2, 0.1, -0.05, -0.2, 0.01, 0.3], [3, 9]),
            ("no right lead before: not an event", [0.0, 0.1, 0.2, 0.3, 0.1, -0.3], []),
            ("a wobble inside the margin", [-0.2, 0.05, -0.05, 0.1, -0.1, 0.01, 0.2], [5]),
            ("standing", [0.0] * 20, []),
        ]
        for name, lead, want in cases:
            with self.subTest(name):
                self.assertEqual(gait_events(np.array(lead)).tolist(), want)

    def test_jump_takeoffs(self):
        def clip(air, lift, stand=40):
            """stand frames on the ground at 0.95 m, air frames off it rising lift m, then 20 down."""
            y = np.r_[np.full(stand, 0.95), 0.95 + lift * np.sin(np.linspace(0, np.pi, air)), np.full(20, 0.95)]
            c = np.ones((len(y), 4))
            c[stand:stand + air] = 0
            return y, c
        cases = [
            ("a jump", clip(20, 0.3), [40]),
            ("too low: a hop", clip(20, 0.1), []),
            ("too short: a contact flicker", clip(2, 0.3), []),
            ("from the first frames", clip(15, 0.4, stand=1), [1]),
            ("standing", (np.full(50, 0.95), np.ones((50, 4))), []),
        ]
        for name, (y, c), want in cases:
            with self.subTest(name):
                self.assertEqual(jump_takeoffs(y, c).tolist(), want)
        y, c = clip(20, 0.3)
        y2, c2 = np.r_[y, y], np.r_[c, c]
        c2[10, :2] = 0  # one foot off while standing: still on the ground
        self.assertEqual(jump_takeoffs(y2, c2).tolist(), [40, len(y) + 40])

    def test_kick_peaks(self):
        def feet(left, right):
            return np.stack([np.array(left, float), np.array(right, float)], -1)
        cases = [
            ("a kick with the left foot", feet([0.1, 0.5, 1.0, 1.3, 1.1, 0.4, 0.1], [0.1] * 7), [3]),
            ("either foot, two kicks", feet([0.1, 1.2, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 1.0, 1.4]), [1, 4]),
            ("a high dance step under the line", feet([0.1, 0.8, 0.1], [0.1, 0.2, 0.1]), []),
            ("up from the first frame", feet([1.5, 1.2, 0.2], [0.1, 0.1, 0.1]), [0]),
            ("standing", feet([0.1] * 5, [0.1] * 5), []),
        ]
        for name, y, want in cases:
            with self.subTest(name):
                self.assertEqual(kick_peaks(y).tolist(), want)

    def test_lead_signal_reads_the_facing(self):
        raw = np.zeros((1, layout.D))
        raw[0, layout.joint_position_dims(["LeftLeg"])] = [0.1, 0.9, 0.0]  # hips across X: facing +Z
        raw[0, layout.joint_position_dims(["RightLeg"])] = [-0.1, 0.9, 0.0]
        raw[0, layout.joint_position_dims(["LeftFoot"])] = [0.1, 0.1, 0.4]  # left foot 0.4 m ahead
        raw[0, layout.joint_position_dims(["RightFoot"])] = [-0.1, 0.1, 0.0]
        raw[0, 3:5] = [1.0, 0.0]
        self.assertAlmostEqual(float(lead_signal(raw)[0]), 0.4)
        # the same window turned: the lead does not change
        turned = canonicalize(raw, 1.1)
        self.assertAlmostEqual(float(lead_signal(turned)[0]), 0.4)

    def test_phase_classes_start_unconstrained_gaits_at_an_event(self):
        tok = Tokenizer(build_vocab(self.ds.captions()))
        ds = Dataset(self.dir, facing="zero")
        walks = [c for c in ds.split("train") if "walk" in c.classes]
        for c in walks:  # known events: every 17th frame from the 5th
            ds._events[c.start] = c.start + np.arange(5, c.frames, 17)
        plain = Sampler(ds, tok, "train", 40, 80, facing="zero")
        aligned = Sampler(ds, tok, "train", 40, 80, facing="zero", phase_classes=["walk"])
        same = Sampler(ds, tok, "train", 40, 80, facing="zero", phase_classes=["climb"])
        b0 = plain.batch(np.random.default_rng(5), 8)
        b1 = same.batch(np.random.default_rng(5), 8)
        for k in b0:  # a class the data lacks changes nothing, draws included
            np.testing.assert_array_equal(b0[k], b1[k], err_msg=k)
        rows = ds.raw[:, 1]
        starts = {int(r) for c in walks for r in ds._events[c.start]}
        walk_rows = {r for c in walks for r in range(c.start, c.start + c.frames)}
        counts = {"aligned": 0, "stated body": 0, "stated body off an event": 0}
        rng = np.random.default_rng(2)
        for _ in range(40):
            b = aligned.batch(rng, 8)
            raw = b["x0"] * ds.scale + ds.mean
            for i in range(8):
                n = int(b["valid"][i].sum())
                hit = source_rows(rows, raw[i, :n, 1])
                self.assertEqual(len(hit), 1)
                if hit[0] not in walk_rows:
                    continue
                if b["mask"][i, :, ROOT_ONLY:].any():
                    counts["stated body"] += 1
                    counts["stated body off an event"] += hit[0] not in starts
                else:
                    counts["aligned"] += 1
                    self.assertIn(hit[0], starts)
                    self.assertEqual(float(b["mask"][i, n:].max(initial=0)), 0.0)
        self.assertGreater(counts["aligned"], 10, counts)
        self.assertGreater(counts["stated body off an event"], 0, counts)

    def test_phase_class_jump_or_kick_starts_before_its_moment(self):
        tok = Tokenizer(build_vocab(self.ds.captions()))
        for cls, moments in (("jump", "_takeoffs"), ("kick", "_kicks")):
            with self.subTest(cls):
                ds = Dataset(self.dir, facing="zero")
                # The synthetic data has no kicks: its jump clips stand in for them.
                ds.clips = [dataclasses.replace(c, classes=[cls]) if "jump" in c.classes else c for c in ds.clips]
                clips = [c for c in ds.split("train") if cls in c.classes]
                self.assertTrue(clips)
                for c in clips:  # one known moment per clip, late enough for every lead
                    getattr(ds, moments)[c.start] = np.array([c.start + 30])
                aligned = Sampler(ds, tok, "train", 40, 40, facing="zero", phase_classes=[cls])
                rows = ds.raw[:, 1]
                seen = set()
                rng = np.random.default_rng(3)
                for _ in range(30):
                    b = aligned.batch(rng, 8, clips)
                    raw = b["x0"] * ds.scale + ds.mean
                    for i in range(8):
                        if b["mask"][i, :, ROOT_ONLY:].any():
                            continue
                        n = int(b["valid"][i].sum())
                        hit = source_rows(rows, raw[i, :n, 1])
                        self.assertEqual(len(hit), 1)
                        lead = min(c.start + 30 - hit[0] for c in clips if c.start <= hit[0] < c.start + c.frames)
                        self.assertTrue(JUMP_LEAD[0] <= lead <= JUMP_LEAD[1], lead)
                        seen.add(lead)
                self.assertGreater(len(seen), 3, seen)  # the lead is drawn, not fixed

    def test_training_batch_is_fixed_by_its_generator(self):
        tok = Tokenizer(build_vocab(self.ds.captions()))
        s = Sampler(self.ds, tok, "train", 40, 80)
        a = s.training_batch(np.random.default_rng([3, 17]), 4, 1000, 0.5)
        b = s.training_batch(np.random.default_rng([3, 17]), 4, 1000, 0.5)
        c = s.training_batch(np.random.default_rng([3, 18]), 4, 1000, 0.5)
        for k in ("x0", "tokens", "mask", "t", "noise", "keep"):
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        self.assertFalse(np.array_equal(a["noise"], c["noise"]))
        self.assertTrue(np.all((a["t"] >= 0) & (a["t"] < 1000)))
        self.assertEqual(a["noise"].shape, a["x0"].shape)

    def test_high_t_moves_only_the_diffusion_steps(self):
        tok = Tokenizer(build_vocab(self.ds.captions()))
        s = Sampler(self.ds, tok, "train", 40, 80)
        base = s.training_batch(np.random.default_rng([3, 17]), 64, 1000, 0.5)
        none = s.training_batch(np.random.default_rng([3, 17]), 64, 1000, 0.5, high_t=0.0)
        half = s.training_batch(np.random.default_rng([3, 17]), 64, 1000, 0.5, high_t=0.5)
        full = s.training_batch(np.random.default_rng([3, 17]), 64, 1000, 0.5, high_t=1.0)
        for k in ("x0", "tokens", "mask", "noise", "keep"):
            np.testing.assert_array_equal(base[k], half[k], err_msg=k)
        np.testing.assert_array_equal(base["t"], none["t"])
        self.assertTrue(np.all((full["t"] >= 800) & (full["t"] < 1000)))
        moved = half["t"] != base["t"]
        self.assertTrue(np.all(half["t"][moved] >= 800))
        self.assertTrue(10 < np.count_nonzero(half["t"] >= 800) < 54)

    def test_gait_batches_draw_gait_clips_at_high_noise(self):
        tok = Tokenizer(build_vocab(self.ds.captions()))
        plain = Sampler(self.ds, tok, "train", 40, 80)
        gait = Sampler(self.ds, tok, "train", 40, 80, gait_classes=["walk"])
        a = plain.training_batch(np.random.default_rng([3, 17]), 8, 1000, 0.1)
        b = gait.training_batch(np.random.default_rng([3, 17]), 8, 1000, 0.1, gait_batches=0.0)
        for k in a:  # off, it draws what it always did
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        with self.assertRaises(DataError):
            Sampler(self.ds, tok, "train", 40, 80, gait_classes=["no-such-class"])
        rows = self.ds.raw[:, 1]
        walk_rows = {r for c in gait.gait_clips for r in range(c.start, c.start + c.frames)}
        high = 0
        for step in range(30):
            bt = gait.training_batch(np.random.default_rng([4, step]), 4, 1000, 0.1, gait_batches=0.5)
            raw = bt["x0"] * self.ds.scale + self.ds.mean
            starts = []
            for i in range(4):
                n = int(bt["valid"][i].sum())
                hit = source_rows(rows, raw[i, :n, 1])
                starts.append(hit[0])
            if np.all(bt["t"] >= 800) and all(r in walk_rows for r in starts):
                high += 1
        self.assertTrue(5 < high < 25, high)

    def test_gait_keep_text_keeps_every_gait_row_and_draws_the_rest_alike(self):
        tok = Tokenizer(build_vocab(self.ds.captions()))
        gait = Sampler(self.ds, tok, "train", 40, 80, gait_classes=["walk"])
        seen = {True: 0, False: 0}
        for step in range(20):
            a = gait.training_batch(np.random.default_rng([5, step]), 16, 1000, 0.5, gait_batches=0.5)
            b = gait.training_batch(np.random.default_rng([5, step]), 16, 1000, 0.5, gait_batches=0.5,
                                    gait_keep_text=True)
            for k in ("x0", "tokens", "mask", "valid", "t", "noise"):
                np.testing.assert_array_equal(a[k], b[k], err_msg=k)
            is_gait = bool(np.all(a["t"] >= 800))
            seen[is_gait] += 1
            if is_gait:
                self.assertTrue(np.all(b["keep"] == 1.0))
                self.assertLess(a["keep"].sum(), 16)  # half the rows dropped: 16 kept has odds 2**-16
            else:
                np.testing.assert_array_equal(a["keep"], b["keep"])
        self.assertTrue(seen[True] and seen[False], seen)

    def test_class_weights_flatten_the_mix(self):
        clips = [Clip("a", "train", 0, 1800 * 4, [], ["dance"], False),
                 Clip("b", "train", 0, 1800, [], ["walk"], False),
                 Clip("c", "train", 0, 900, [], [], False)]
        self.assertEqual(set(class_weights(clips, 0.0).values()), {1.0})
        w = class_weights(clips, 1.0)
        self.assertAlmostEqual(w["dance"], 0.25)
        self.assertAlmostEqual(w["walk"], 1.0)
        self.assertAlmostEqual(w[""], 2.0)
        # each class's share of the windows: equal at power 1, proportional at 0
        share = {k: w[k] * m for k, m in (("dance", 4.0), ("walk", 1.0), ("", 0.5))}
        self.assertEqual(len({round(v, 9) for v in share.values()}), 1)

    def test_short_clips_are_padded_and_kept_off(self):
        # CMU's runs are ~1 s takes: a window longer than a clip takes it whole,
        # pads it with its last frame and marks the real frames valid.
        tok = Tokenizer(build_vocab(self.ds.captions()))
        s = Sampler(self.ds, tok, "train", 40, 40, pad_short=True)
        s.clips[0] = dataclasses.replace(s.clips[0], frames=22)
        s.clips[1] = dataclasses.replace(s.clips[1], frames=10)  # under min_frames: never drawn
        rng = np.random.default_rng(1)
        seen = 0
        for _ in range(60):
            b = s.batch(rng, 6)
            self.assertEqual(b["valid"].shape, b["x0"].shape[:2])
            n = b["valid"].sum(axis=1)
            self.assertTrue(set(n.tolist()) <= {22.0, 40.0}, n)
            for i in np.flatnonzero(n == 22):
                seen += 1
                np.testing.assert_array_equal(b["valid"][i, :22], 1)
                np.testing.assert_array_equal(b["x0"][i, 22:], np.repeat(b["x0"][i, 21:22], 18, axis=0))
                self.assertEqual(float(b["mask"][i, 22:].max()), 0.0)
                raw = b["x0"][i, :22, 1] * self.ds.scale[1] + self.ds.mean[1]
                np.testing.assert_allclose(raw, self.ds.raw[s.clips[0].start:s.clips[0].start + 22, 1], atol=1e-4)
        self.assertGreater(seen, 10)
        # without pad_short (the 1.2.0 recipe) a clip shorter than the window is never drawn
        old = Sampler(self.ds, tok, "train", 40, 40)
        old.clips[0] = s.clips[0]
        for _ in range(30):
            self.assertEqual(float(old.batch(rng, 6)["valid"].min()), 1.0)
        with self.assertRaises(DataError):
            Sampler(self.ds, tok, "train", 40, 40, min_frames=10 ** 6)

    def test_clip_draw_weight(self):
        # padded: frames covered per draw x draws / frames = the class weight, long, short or near t
        for frames, t in [(1000, 100), (30, 120), (121, 120), (120, 120)]:
            w = clip_draw_weight(frames, t, 2.0)
            self.assertAlmostEqual(min(frames, t) * w / frames, 2.0, places=9)
        # the 1.2.0 recipe: window positions, none for a short clip
        self.assertEqual(clip_draw_weight(130, 120, 2.0, pad_short=False), 22.0)
        self.assertEqual(clip_draw_weight(30, 120, 2.0, pad_short=False), 0.0)

    def test_pick_frames_caps_at_longest_clip(self):
        rng = np.random.default_rng(0)
        self.assertEqual(pick_frames(rng, self.ds.split("train"), 200, 200), 100)


def consistent_features(t: int = 10, seed: int = 0) -> np.ndarray:
    """Raw features whose blocks agree with each other (built by FK, as the Go builder does)."""
    rng = np.random.default_rng(seed)
    f = np.zeros((t, layout.D))
    lo = layout.OFFSETS["global_rot_data"][0]
    for j in range(layout.J):
        q = np.linalg.qr(rng.normal(size=(t, 3, 3)))[0]
        q *= np.sign(np.linalg.det(q))[:, None, None]
        f[:, lo + 6 * j:lo + 6 * j + 3], f[:, lo + 6 * j + 3:lo + 6 * j + 6] = q[..., 0], q[..., 1]
    f[:, 0], f[:, 2] = np.cumsum(rng.normal(size=t)) + 3.0, np.cumsum(rng.normal(size=t)) - 2.0
    lp = layout.OFFSETS["local_joints_positions"][0]
    f[:, lp:lp + 3] = rng.normal(scale=0.05, size=(t, 3)) + [0, 0.9, 0]
    world = fk.world_positions(f)
    local = world - np.stack([f[:, 0], np.zeros(t), f[:, 2]], -1)[:, None]
    f[:, lp:lp + 3 * layout.J] = local.reshape(t, -1)
    names = layout.PREDICTED_JOINTS
    d = world[:, names.index("RightLeg")] - world[:, names.index("LeftLeg")]
    th = np.arctan2(d[:, 2], -d[:, 0])
    f[:, 3], f[:, 4] = np.cos(th), np.sin(th)
    vel = np.diff(world, axis=0, append=world[-1:]) * 30
    vel[-1] = vel[-2]
    vlo = layout.OFFSETS["velocities"][0]
    f[:, vlo:vlo + 3 * layout.J] = vel.reshape(t, -1)
    f[:, -4:] = rng.integers(0, 2, size=(t, 4))
    return f


class CanonicalizeTest(unittest.TestCase):
    def check_consistent(self, f: np.ndarray) -> None:
        world = fk.world_positions(f)
        np.testing.assert_allclose(world, fk.target_positions(f), atol=1e-9)
        names = layout.PREDICTED_JOINTS
        d = world[:, names.index("RightLeg")] - world[:, names.index("LeftLeg")]
        th = np.arctan2(d[:, 2], -d[:, 0])
        np.testing.assert_allclose(f[:, 3], np.cos(th), atol=1e-9)
        np.testing.assert_allclose(f[:, 4], np.sin(th), atol=1e-9)
        vlo = layout.OFFSETS["velocities"][0]
        vel = f[:, vlo:vlo + 3 * layout.J].reshape(len(f), -1, 3)
        np.testing.assert_allclose(vel[:-1], np.diff(world, axis=0) * 30, atol=1e-9)

    def test_blocks_stay_consistent(self):
        f = consistent_features()
        self.check_consistent(f)  # the fixture itself
        for angle in (0.0, 0.7, np.pi, -2.0):
            with self.subTest(angle=angle):
                g = canonicalize(f, angle)
                np.testing.assert_allclose(g[0, [0, 2]], 0.0, atol=1e-12)
                self.check_consistent(g)
                np.testing.assert_array_equal(g[:, -4:], f[:, -4:])
                np.testing.assert_allclose(g[:, 1], f[:, 1])
                # world positions turned by the yaw about the first frame's root
                o = np.array([f[0, 0], 0, f[0, 2]])
                want = (fk.world_positions(f) - o) @ yaw_matrix(angle).T
                np.testing.assert_allclose(fk.world_positions(g), want, atol=1e-9)


class MaskTest(unittest.TestCase):
    def dims_and_frames(self, m):
        return set(np.where(m.any(0))[0]), set(np.where(m.any(1))[0])

    def test_family_channels(self):
        rng = np.random.default_rng(3)
        root5 = {0, 1, 2, 3, 4}
        chains = [c for c in layout.EFFECTOR_CHAINS.values()]
        eff = set(layout.ROOT_XZ + layout.ROOT_Y + layout.HEADING +
                  layout.joint_position_dims(layout.EFFECTOR_JOINTS)) | {
            d for c in chains for d in layout.joint_position_dims(c) + layout.joint_rotation_dims(c)}
        full, posed, chained = set(range(5, 71)), set(range(5, 203)), 0
        for _ in range(80):
            dims, frames = self.dims_and_frames(family_mask(rng, "root2d", 60))
            self.assertTrue({0, 2} <= dims <= {0, 2, 3, 4})
            dims, frames = self.dims_and_frames(family_mask(rng, "fullbody", 60))
            self.assertEqual(dims, root5 | full)  # Kimodo's channels only, unless engine
            dims, frames = self.dims_and_frames(family_mask(rng, "fullbody", 60, engine=True))
            self.assertIn(dims, (root5 | full, root5 | posed))
            self.assertLessEqual(len(frames), 5)
            dims, _ = self.dims_and_frames(family_mask(rng, "end_effector", 60))
            self.assertTrue(root5 < dims <= eff)
            self.assertFalse(any(d >= 71 for d in dims))
            dims, _ = self.dims_and_frames(family_mask(rng, "end_effector", 60, engine=True))
            self.assertTrue(root5 < dims <= eff)
            chained += any(d >= 71 for d in dims)
            m = family_mask(rng, "prefix", 60)
            _, frames = self.dims_and_frames(m)
            k = len(frames)
            self.assertEqual(frames, set(range(k)))
            self.assertTrue(np.all(m[:k] == 1))
            self.assertFalse(family_mask(rng, "none", 60).any())
        self.assertTrue(20 < chained < 80, chained)  # some targets state their chain

    def test_effector_chains_follow_the_skeleton(self):
        names, parents, _ = fk.load_skeleton()
        for end, chain in layout.EFFECTOR_CHAINS.items():
            want, j = [], names.index(end)
            while j >= 0:
                if names[j] in layout.PREDICTED_JOINTS:
                    want.append(names[j])
                j = parents[j]
            self.assertEqual(chain, want[::-1], end)
        self.assertEqual(sorted(layout.EFFECTOR_CHAINS), sorted(layout.EFFECTOR_JOINTS))

    def test_family_frequencies(self):
        rng = np.random.default_rng(4)
        n = 4000
        empty = sum(not random_mask(rng, 40).any() for _ in range(n))
        self.assertAlmostEqual(empty / n, dict(MASK_KINDS)["none"], delta=0.03)
        self.assertGreater(COMBINE_P, 0)


if __name__ == "__main__":
    unittest.main()
