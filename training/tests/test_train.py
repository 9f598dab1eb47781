import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

import checkpoint
import common
import layout
import train
from diffusion import alphas_cumprod
from data import Dataset
from model import Config, Net, expert_params

ARGS = ["--small", "--batch", "8", "--frames-min", "40", "--frames-max", "80", "--lr", "2e-3", "--warmup", "5",
        "--log-every", "5", "--val-every", "10", "--ckpt-every", "1000", "--threads", "1", "--seed", "3"]


def run(data: str, out: str, *extra: str) -> None:
    assert train.main(["--data", data, "--out", out] + ARGS + list(extra)) == 0


def log(out: str):
    with open(os.path.join(out, "log.jsonl")) as f:
        return [json.loads(line) for line in f]


class TrainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = common.synthetic_dataset(clips=12, frames=100)
        cls.tmp = tempfile.mkdtemp(prefix="mtrain-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data)
        shutil.rmtree(cls.tmp)

    def test_loss_falls_and_resume_is_exact(self):
        straight = os.path.join(self.tmp, "straight")
        run(self.data, straight, "--steps", "60")
        recs = log(straight)
        self.assertEqual(recs[-1]["step"], 60)
        # the synthetic clips are not FK-consistent, so only the feature term must fall
        self.assertLess(recs[-1]["loss_feat"], 0.8 * recs[0]["loss_feat"], recs)
        self.assertIn("val_loss", recs[-1])
        self.assertIn("val_fk_known_err_m", recs[-1])

        chunked = os.path.join(self.tmp, "chunked")
        run(self.data, chunked, "--steps", "60", "--stop-at", "25")
        self.assertEqual(torch.load(os.path.join(chunked, train.CHECKPOINT))["step"], 25)
        run(self.data, chunked, "--steps", "60")
        a = torch.load(os.path.join(straight, train.CHECKPOINT))
        b = torch.load(os.path.join(chunked, train.CHECKPOINT))
        self.assertEqual(b["step"], 60)
        for k in a["net"]:
            self.assertTrue(torch.equal(a["net"][k], b["net"][k]), k)
            self.assertTrue(torch.equal(a["ema"][k], b["ema"][k]), k)
        self.assertEqual(a["vocab"], b["vocab"])

    def test_workers_draw_the_same_batches(self):
        inline = os.path.join(self.tmp, "inline")
        pooled = os.path.join(self.tmp, "pooled")
        run(self.data, inline, "--steps", "12")
        run(self.data, pooled, "--steps", "12", "--workers", "2", "--weights-out", os.path.join(pooled, "w"))
        a = torch.load(os.path.join(inline, train.CHECKPOINT))
        b = checkpoint.load(os.path.join(pooled, "w"))
        self.assertEqual(b["step"], 12)
        for k in a["ema"]:
            self.assertTrue(torch.equal(a["ema"][k], b["weights"][k]), k)

    def test_init_from_weights(self):
        first = os.path.join(self.tmp, "first")
        run(self.data, first, "--steps", "6", "--weights-out", os.path.join(first, "w"))
        tuned = os.path.join(self.tmp, "tuned")
        run(self.data, tuned, "--steps", "2", "--lr", "0", "--warmup", "1", "--init", os.path.join(first, "w"))
        a, b = checkpoint.load(os.path.join(first, "w")), torch.load(os.path.join(tuned, train.CHECKPOINT))
        self.assertEqual(a["vocab"], b["vocab"])
        for k in a["weights"]:  # lr 0: the weights stay what they were given
            self.assertTrue(torch.allclose(a["weights"][k], b["net"][k]), k)
        # A skip path the initial weights lack starts at zero and trains at its own rate;
        # a resumed run keeps that rate (the optimiser's groups come from the checkpoint).
        skip = os.path.join(self.tmp, "skip")
        run(self.data, skip, "--steps", "4", "--stop-at", "2", "--init", os.path.join(first, "w"), "--skip",
            "--skip-lr-mult", "10", "--geo-gate")
        c = torch.load(os.path.join(skip, train.CHECKPOINT))
        self.assertTrue(c["config"]["skip"])
        self.assertEqual([g["mult"] for g in c["opt"]["param_groups"]], [1.0, 10.0])
        self.assertGreater(float(c["net"]["denoiser.skip.2.bias"].abs().max()), 0.0)  # it learnt
        run(self.data, skip, "--steps", "4", "--init", os.path.join(first, "w"), "--skip",
            "--skip-lr-mult", "10", "--geo-gate")
        self.assertEqual(torch.load(os.path.join(skip, train.CHECKPOINT))["step"], 4)

    def test_grow_vocab_keeps_the_known_words(self):
        first = os.path.join(self.tmp, "gfirst")
        run(self.data, first, "--steps", "2", "--weights-out", os.path.join(first, "w"))
        a = checkpoint.load(os.path.join(first, "w"))
        # The weights of a smaller vocabulary: its last three words are unknown to them.
        small = dict(a["weights"])
        small[train.EMBED] = small[train.EMBED][:-3]
        vocab = train.grown_vocab(a["vocab"][:-3], Dataset(self.data).captions("train"))
        self.assertEqual(vocab[:-3], a["vocab"][:-3])
        self.assertEqual(sorted(vocab[-3:]), sorted(a["vocab"][-3:]))
        grown = train.grown_embeddings(small, len(vocab), seed=1)
        self.assertEqual(tuple(grown[train.EMBED].shape), tuple(a["weights"][train.EMBED].shape))
        self.assertTrue(torch.equal(grown[train.EMBED][:-3], small[train.EMBED]))
        self.assertFalse(torch.equal(grown[train.EMBED][-3:], a["weights"][train.EMBED][-3:]))
        with self.assertRaises(SystemExit):
            train.grown_embeddings(a["weights"], 2, seed=1)
        # Through main: --grow-vocab with weights that already know every word changes nothing.
        tuned = os.path.join(self.tmp, "gtuned")
        run(self.data, tuned, "--steps", "1", "--lr", "0", "--warmup", "1", "--init", os.path.join(first, "w"),
            "--grow-vocab")
        self.assertEqual(torch.load(os.path.join(tuned, train.CHECKPOINT))["vocab"], a["vocab"])

    def test_expert_only_trains_the_expert_alone(self):
        first = os.path.join(self.tmp, "first-x")
        run(self.data, first, "--steps", "4", "--weights-out", os.path.join(first, "w"))
        out = os.path.join(self.tmp, "expert")
        # enough EMA steps that d*w + (1-d)*w would have moved a frozen weight by an ulp
        run(self.data, out, "--steps", "30", "--ema", "0.99", "--init", os.path.join(first, "w"), "--expert-rank",
            "2", "--expert-steps", "500,700", "--expert-only", "--high-t", "1", "--high-from", "500")
        a, b = checkpoint.load(os.path.join(first, "w")), torch.load(os.path.join(out, train.CHECKPOINT))
        self.assertEqual((b["config"]["expert_rank"], b["config"]["expert_from"], b["config"]["expert_full"]),
                         (2, 500, 700))
        for k, v in a["weights"].items():  # every weight but the expert's is frozen, in the EMA too
            self.assertTrue(torch.equal(v, b["net"][k]), k)
            self.assertTrue(torch.equal(v, b["ema"][k]), k)
        ups = [k for k in expert_params(Net(Config(**b["config"]))) if ".up." in k]
        self.assertEqual(len(ups), 4)
        self.assertTrue(all(float(b["net"][k].abs().max()) > 0 for k in ups), "the expert learnt")
        with self.assertRaises(SystemExit):  # --expert-only without an expert
            run(self.data, os.path.join(self.tmp, "noexpert"), "--steps", "1", "--expert-only")

    def test_geometric_losses(self):
        """FK terms are zero for the truth, grow with a wrong rotation, and the known
        term counts only the joints the mask states."""
        ds = Dataset(self.data)
        loss = train.Loss(ds.mean, ds.scale, 1.0, 1.0, 1.0, torch.device("cpu"), 1.0)
        raw = torch.from_numpy(ds.raw[:40][None].astype(np.float32))
        x0 = (raw - loss.mean) / loss.scale
        mask = torch.zeros_like(x0)
        total, parts = loss(x0, x0, mask)
        self.assertLess(float(parts["feat"]), 1e-12)
        self.assertEqual(float(parts["known"]), 0.0)
        wrong = raw.clone()
        lo = layout.OFFSETS["global_rot_data"][0] + 6 * layout.PREDICTED_JOINTS.index("Hips")
        wrong[..., lo:lo + 6] = torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0, 0.0])  # Hips turned 90 degrees
        pred = (wrong - loss.mean) / loss.scale
        mask[:, 5, layout.joint_position_dims(["Head"])] = 1
        _, parts = loss(pred, x0, mask)
        self.assertGreater(float(parts["fk"]), 0.0)
        self.assertGreater(float(parts["known"]), 0.0)
        self.assertGreater(float(parts["vel"]), 0.0)
        # Planted feet (contacts set) that a prediction drags along add foot slide.
        c0 = layout.OFFSETS["foot_contacts"][0]
        planted = raw.clone()
        planted[..., c0:c0 + 4] = 1.0
        x0 = (planted - loss.mean) / loss.scale
        _, still = loss(x0, x0, torch.zeros_like(x0))
        dragged = planted.clone()
        dragged[..., 0] += 0.05 * torch.arange(dragged.shape[1], dtype=torch.float32)  # 5 cm per frame
        _, moved = loss((dragged - loss.mean) / loss.scale, x0, torch.zeros_like(x0))
        self.assertGreater(float(moved["foot"]), float(still["foot"]) + 10.0)  # units of (1 cm/frame)^2

    def test_padding_counts_in_no_term(self):
        """Frames padded after a short clip (valid 0) change no loss term, however wrong."""
        ds = Dataset(self.data)
        loss = train.Loss(ds.mean, ds.scale, 1.0, 1.0, 1.0, torch.device("cpu"), 1.0)
        raw = torch.from_numpy(ds.raw[:40][None].astype(np.float32))
        c0 = layout.OFFSETS["foot_contacts"][0]
        raw[..., c0:c0 + 4] = 1.0
        x0 = (raw - loss.mean) / loss.scale
        pred = x0 + 0.1 * torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
        valid = torch.ones(1, 40)
        valid[:, 30:] = 0
        mask = torch.zeros_like(x0)
        mask[:, 3, layout.joint_position_dims(["LeftHand"])] = 1
        _, a = loss(pred, x0, mask, valid)
        junk = pred.clone()
        junk[:, 30:] += 5.0
        _, b = loss(junk, x0, mask, valid)
        _, c = loss(pred[:, :30], x0[:, :30], mask[:, :30])
        for k in ("feat", "fk", "known", "vel", "foot"):
            self.assertEqual(float(a[k]), float(b[k]), k)
            self.assertLess(abs(float(a[k]) - float(c[k])), 1e-6 * max(1.0, abs(float(c[k]))), k)

    def test_noise_gate_scales_the_smoothing_terms_per_sample_and_not_the_rest(self):
        """--geo-gate: a sample's fk, vel and foot terms scale with its weight; feat and
        known do not (a stated joint must be reached at every noise level)."""
        ds = Dataset(self.data)
        loss = train.Loss(ds.mean, ds.scale, 1.0, 1.0, 1.0, torch.device("cpu"), 1.0)
        raw = torch.from_numpy(np.stack([ds.raw[:40], ds.raw[40:80]]).astype(np.float32))
        c0 = layout.OFFSETS["foot_contacts"][0]
        raw[..., c0:c0 + 4] = 1.0
        x0 = (raw - loss.mean) / loss.scale
        pred = x0 + 0.1 * torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
        mask = torch.zeros_like(x0)
        mask[:, 3, layout.joint_position_dims(["LeftHand"])] = 1
        _, full = loss(pred, x0, mask)
        _, ones = loss(pred, x0, mask, noise=torch.ones(2))
        _, first = loss(pred, x0, mask, noise=torch.tensor([1.0, 0.0]))
        _, second = loss(pred, x0, mask, noise=torch.tensor([0.0, 1.0]))
        _, half = loss(pred, x0, mask, noise=torch.full((2,), 0.5))
        for k in ("feat", "fk", "known", "vel", "foot"):
            self.assertEqual(float(full[k]), float(ones[k]), k)
        for k in ("feat", "known"):
            self.assertEqual(float(first[k]), float(full[k]), k)
            self.assertEqual(float(half[k]), float(full[k]), k)
        for k in ("fk", "vel", "foot"):
            self.assertGreater(float(first[k]), 0.0, k)
            self.assertGreater(float(second[k]), 0.0, k)
            self.assertAlmostEqual(float(first[k]) + float(second[k]), float(full[k]), delta=1e-4 * float(full[k]))
            self.assertAlmostEqual(float(half[k]), 0.5 * float(full[k]), delta=1e-5 * float(full[k]))


class GeoWeightTest(unittest.TestCase):
    def test_weights(self):
        """--geo-gate and --geo-fade-from: 1 - abar_t, faded by abar_t / abar_T above T."""
        acp = torch.tensor(alphas_cumprod(), dtype=torch.float32)
        t = torch.tensor([0, 500, 800, 900, 999])
        a = acp[t]
        fade = torch.tensor([1.0, 1.0, 1.0, float(a[3] / a[2]), float(a[4] / a[2])])  # abar_t / abar_800 above 800
        cases = [
            ("off", False, 0, None),
            ("gate", True, 0, 1 - a),
            ("fade", False, 800, fade),
            ("both", True, 800, (1 - a) * fade),
        ]
        for name, gate, fade, want in cases:
            with self.subTest(name):
                got = train.geo_weight(acp, t, gate, fade)
                if want is None:
                    self.assertIsNone(got)
                    continue
                torch.testing.assert_close(got, want)
        w = train.geo_weight(acp, torch.arange(800, 1000), True, 800)
        self.assertTrue(bool((w[1:] < w[:-1]).all()), "fades monotonically to pure noise")
        self.assertLess(float(w[-1]), 1e-6)

    def test_fade_step_is_checked(self):
        for bad in ("-1", "1000"):
            with self.subTest(bad), self.assertRaises(SystemExit):
                train.main(["--geo-fade-from", bad, "--small", "--data", "/nonexistent", "--out", "/nonexistent"])


class ScheduleTest(unittest.TestCase):
    def test_lr(self):
        a = train.parse_args(["--lr", "1e-3", "--warmup", "10", "--steps", "110"])
        self.assertAlmostEqual(train.lr_at(0, a), 1e-4)
        self.assertAlmostEqual(train.lr_at(9, a), 1e-3)
        self.assertAlmostEqual(train.lr_at(10, a), 1e-3)
        self.assertAlmostEqual(train.lr_at(110, a), 1e-4)
        self.assertAlmostEqual(train.lr_at(60, a), 0.55e-3)


if __name__ == "__main__":
    unittest.main()
