import shutil
import unittest

import numpy as np
import torch

import common
import evaluate
import layout
from data import Dataset
from model import Config, Net
from tokenizer import Tokenizer, build_vocab


class EvaluateTest(unittest.TestCase):
    def test_runs_and_replace_known_pins_root_path(self):
        d = common.synthetic_dataset(clips=12, frames=60)
        try:
            ds = Dataset(d)
            tok = Tokenizer(build_vocab(ds.captions()))
            torch.manual_seed(0)
            net = Net(Config(len(tok), 273, 16, 1, 2, 32, 32, 1, 2, 64))
            res = evaluate.evaluate(net, ds, tok, samples=3, frames=40, steps=4)
            for k in ("x0_mse_t50", "fullbody_fk_err_m_mean", "end_effector_within_10cm", "root2d_fk_err_m_p95"):
                self.assertTrue(np.isfinite(res[k]), k)
            self.assertEqual(res["root2d_fk_err_m_mean"], 0.0)  # known root entries are put back
            mixed = evaluate.evaluate(net, ds, tok, samples=3, frames=40, steps=4, replace_known=False)
            self.assertGreater(mixed["root2d_fk_err_m_mean"], 0.0)
            probe = evaluate.probe(net, ds, tok, samples=2, frames=40, steps=2)
            self.assertEqual(set(probe), set(evaluate.PROBE_PROMPTS))
            self.assertIn("real", probe["walk"])  # the synthetic set has walk clips
            for k in ("net_speed", "path_speed", "lift", "root_jitter_cm", "contact_switch_hz"):
                self.assertTrue(np.isfinite(probe["walk"]["generated"][k]), k)
        finally:
            shutil.rmtree(d)

    def test_motion_stats(self):
        """A root moving at 1.5 m/s along x with feet alternating every 15 frames."""
        t, fps = 61, layout.FPS
        raw = np.zeros((1, t, layout.D))
        lo = layout.OFFSETS["velocities"][0]
        raw[..., lo] = 1.5
        lp = layout.OFFSETS["local_joints_positions"][0]
        raw[..., lp + 1] = 0.9
        raw[0, 30, lp + 1] = 1.2  # one lift of 30 cm
        c0 = layout.OFFSETS["foot_contacts"][0]
        left = (np.arange(t) // 15) % 2 == 0
        raw[0, left, c0] = 1
        raw[0, ~left, c0 + 2] = 1
        s = evaluate.motion_stats(raw)
        self.assertAlmostEqual(s["net_speed"], 1.5 * (t - 1) / fps / ((t - 1) / fps) * (t - 1) / t, places=1)
        self.assertAlmostEqual(s["lift"], 0.3)
        self.assertAlmostEqual(s["root_jitter_cm"], 0.0)
        self.assertAlmostEqual(s["contact_switch_hz"], 4 / ((t - 1) / fps))


if __name__ == "__main__":
    unittest.main()
