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
            for k in ("net_speed", "path_speed", "lift", "root_jitter_cm", "contact_switch_hz", "steps_per_s"):
                self.assertTrue(np.isfinite(probe["walk"]["generated"][k]), k)
            gait = evaluate.gait_probe(net, ds, tok, windows=2, frames=40, steps=2, ts=(200, 900), chains=(1, 3))
            self.assertEqual(set(gait), {"frames", "real", "x0_from_t200", "x0_from_t900", "lead_kept_t200",
                                         "lead_kept_t900", "ddim1_from_t300", "ddim3_from_t300",
                                         "sampled_nocfg", "sampled_separated"})
            self.assertEqual(evaluate.gait_probe(net, ds, tok, cls="no such class"), {})
            self.assertEqual(evaluate.ideal_probe(net, ds, tok, frames=40), {})  # free facing: no bank
            zero = Net(Config(len(tok), 273, 16, 1, 2, 32, 32, 1, 2, 64, facing="zero"))
            ideal = evaluate.ideal_probe(zero, Dataset(d, facing="zero"), tok, frames=40, ts=(10, 900))
            self.assertEqual(set(ideal), {"frames", "bank", "held_out", "ideal_kept_t10", "ideal_kept_t900",
                                          "net_kept_t10", "net_kept_t900"})
            self.assertGreater(ideal["bank"], 0)
            for k in ("ideal_kept_t10", "net_kept_t900"):
                self.assertTrue(np.isfinite(ideal[k]), k)
            self.assertEqual(evaluate.ideal_probe(zero, ds, tok, cls="no such class"), {})
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

    def test_steps_per_s(self):
        """Feet crossing ±0.3 m ahead of each other along the facing every 15 frames: 2 steps/s;
        a sway inside the margin: none; the facing is read from the hips, whichever way they turn."""
        t, fps = 61, layout.FPS
        raw = np.zeros((3, t, layout.D))
        phase = np.where((np.arange(t) // 15) % 2 == 0, 0.3, -0.3)
        sway = np.full(t, 0.1)
        lead = np.stack([phase, sway, phase])
        facing = np.array([[0, 1], [0, 1], [1, 0]])  # +z, +z, +x (the hips turned 90 degrees)
        for i in range(3):
            fx, fz = facing[i]
            hip = np.array([fz, 0, -fx]) * 0.1  # left minus right leg, perpendicular to the facing
            r = raw[i]  # a view: [T, D]
            r[:, layout.joint_position_dims(["LeftLeg"])] = hip
            r[:, layout.joint_position_dims(["RightLeg"])] = -hip
            r[:, layout.joint_position_dims(["LeftFoot"])] = np.outer(lead[i] / 2, [fx, 0, fz])
            r[:, layout.joint_position_dims(["RightFoot"])] = np.outer(-lead[i] / 2, [fx, 0, fz])
        got = evaluate.steps_per_s(raw)
        want = 4 * fps / (t - 1)
        self.assertAlmostEqual(got[0], want)
        self.assertEqual(got[1], 0)
        self.assertAlmostEqual(got[2], want)
        # lead_kept: the stride a prediction keeps, whichever way the body faces
        short = raw.copy()
        for name in ("LeftFoot", "RightFoot"):
            short[..., layout.joint_position_dims([name])] *= 0.5
        self.assertAlmostEqual(evaluate.lead_kept(raw, raw), 1.0)
        self.assertAlmostEqual(evaluate.lead_kept(short, raw), 0.5)
        self.assertAlmostEqual(evaluate.lead_kept(raw[[0, 2]], raw[[2, 0]]), 1.0)

    def test_ddim_from_ends_on_the_model_prediction_after_n_calls(self):
        """An oracle that knows x0 is reproduced exactly; the chain calls it n times at
        falling steps from t0."""
        g = torch.Generator().manual_seed(0)
        x0 = torch.randn(2, 8, 3, generator=g)
        seen = []

        def oracle(x, t):
            seen.append(int(t[0]))
            return x0
        xt = torch.randn(2, 8, 3, generator=g)
        out = evaluate.ddim_from(oracle, xt, 300, 3)
        self.assertEqual(seen, [300, 200, 100])
        self.assertTrue(torch.allclose(out, x0, atol=1e-6))


if __name__ == "__main__":
    unittest.main()
