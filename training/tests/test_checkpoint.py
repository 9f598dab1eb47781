import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

import common  # noqa: F401
import checkpoint


def fake_state(sizes):
    torch.manual_seed(0)
    w = {f"p{i}": torch.randn(n) for i, n in enumerate(sizes)}
    return {"step": 7, "config": {"vocab_size": 5}, "ema": w, "net": w, "vocab": ["<pad>", "a"],
            "mean": np.arange(3, dtype=np.float32), "std": np.ones(3, np.float32), "classes": ["walk"]}


class WeightsFolderTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mckpt-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_round_trip_in_shards_under_the_limit(self):
        # 3 x 2.2 M floats = 26 MB: more than one shard, each under SHARD_BYTES
        state = fake_state([2_200_000, 2_200_000, 2_200_000, 10])
        names = checkpoint.save_weights(self.tmp, state)
        shards = [n for n in names if n.endswith(".npz")]
        self.assertGreater(len(shards), 1)
        for n in shards:
            self.assertLess(os.path.getsize(os.path.join(self.tmp, n)), 16 << 20, n)
        got = checkpoint.load(self.tmp)
        self.assertEqual(got["step"], 7)
        self.assertEqual(got["vocab"], state["vocab"])
        np.testing.assert_array_equal(got["mean"], state["mean"])
        for k, v in state["ema"].items():
            self.assertTrue(torch.equal(got["weights"][k], v), k)

    def test_same_answer_as_checkpoint_pt(self):
        state = fake_state([10, 20])
        pt = os.path.join(self.tmp, "checkpoint.pt")
        torch.save(state, pt)
        checkpoint.save_weights(os.path.join(self.tmp, "w"), state)
        a, b = checkpoint.load(pt), checkpoint.load(os.path.join(self.tmp, "w"))
        self.assertEqual(a["config"], b["config"])
        for k in a["weights"]:
            self.assertTrue(torch.equal(a["weights"][k], b["weights"][k]))

    def test_errors(self):
        with self.assertRaises(checkpoint.CheckpointError):
            checkpoint.load(os.path.join(self.tmp, "missing.pt"))
        with self.assertRaises(checkpoint.CheckpointError):
            checkpoint.load(self.tmp)  # a folder without meta.json
        checkpoint.save_weights(self.tmp, fake_state([4]))
        with self.assertRaises(checkpoint.CheckpointError):
            checkpoint.load(self.tmp, "net")  # it holds the EMA weights only


if __name__ == "__main__":
    unittest.main()
