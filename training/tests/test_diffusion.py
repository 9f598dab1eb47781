import unittest

import numpy as np
import torch

import common  # noqa: F401
from diffusion import alphas_cumprod, ddim_sample, q_sample, respaced


class ScheduleTest(unittest.TestCase):
    def test_cosine_values(self):
        acp = alphas_cumprod()
        betas = 1 - acp / np.concatenate([[1.0], acp[:-1]])
        self.assertAlmostEqual(betas[0], 4.128e-5, delta=1e-8)
        self.assertAlmostEqual(betas[999], 0.999, places=9)
        self.assertAlmostEqual(acp[0], 1 - 4.128e-5, delta=1e-8)
        self.assertAlmostEqual(acp[999] / 2.43e-9, 1.0, delta=0.01)
        self.assertTrue(np.all(np.diff(acp) < 0))

    def test_respacing(self):
        cases = [
            (50, [0, 20, 41, 61, 82, 102], [938, 958, 979, 999]),
            (100, [0, 10, 20, 30, 40, 50], [969, 979, 989, 999]),
            (20, [0, 53, 105, 158], [894, 946, 999]),
        ]
        for n, head, tail in cases:
            with self.subTest(n=n):
                ts = respaced(n)
                self.assertEqual(len(ts), n)
                self.assertEqual(ts[: len(head)], head)
                self.assertEqual(ts[-len(tail):], tail)

    def test_q_sample_ends(self):
        acp = torch.tensor(alphas_cumprod(), dtype=torch.float32)
        x0, noise = torch.ones(2, 4, 3), torch.zeros(2, 4, 3)
        xt = q_sample(x0, torch.tensor([0, 999]), noise, acp)
        self.assertAlmostEqual(float(xt[0, 0, 0]), float(acp[0].sqrt()), places=6)
        self.assertLess(float(xt[1].abs().max()), 1e-4)

    def test_ddim_with_oracle_returns_target(self):
        target = torch.full((1, 8, 3), 0.7)
        out = ddim_sample(lambda x, t: target, (1, 8, 3), n=10, generator=torch.Generator().manual_seed(0))
        self.assertTrue(torch.allclose(out, target, atol=1e-5))


if __name__ == "__main__":
    unittest.main()
