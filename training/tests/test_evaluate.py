import shutil
import unittest

import numpy as np
import torch

import common
import evaluate
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
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
