"""Caption augmentation (train.py --augment): the table, the sampler's replacements and
the vocabulary of an augmented run."""
import collections
import contextlib
import io
import os
import shutil
import tempfile
import unittest

import common  # noqa: I100 (first: it puts training/ on sys.path)

import numpy as np
import torch

import checkpoint
import train
from data import AUGMENT_P, DataError, Dataset, Sampler, augment_words, read_augment
from tokenizer import UNK_ID, Tokenizer, build_vocab, words

# The synthetic captions are "a person walks forward", "someone runs quickly", "a man
# jumps up and down" and the class names.
TABLE = """# made by hand for the tests
down\tdownwards
jumps\tleaps,springs
quickly\trapidly
walks\tstrolls
"""
ALTERNATIVES = ["downwards", "leaps", "rapidly", "springs", "strolls"]


class AugmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = common.synthetic_dataset()
        cls.ds = Dataset(cls.dir)
        cls.table_path = os.path.join(cls.dir, "augment.tsv")
        with open(cls.table_path, "w", encoding="utf-8") as f:
            f.write(TABLE)
        cls.table = read_augment(cls.table_path)
        cls.tok = Tokenizer(build_vocab(cls.ds.captions() + ALTERNATIVES))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def sampler(self, **kw) -> Sampler:
        return Sampler(self.ds, kw.pop("tok", self.tok), "train", 40, 80, **kw)

    def test_read_augment(self):
        self.assertEqual(self.table, {"down": ["downwards"], "jumps": ["leaps", "springs"], "quickly": ["rapidly"],
                                      "walks": ["strolls"]})
        self.assertEqual(augment_words(self.table), ALTERNATIVES)
        for bad in ["jumps leaps", "jumps\tleaps springs", "Jumps\tleaps", "jumps\tleaps,jumps", "jumps\t",
                    "jumps\tleaps,leaps", "jumps\tleaps\njumps\tsprings", "take off\tleave"]:
            with self.subTest(bad):
                path = os.path.join(self.dir, "bad.tsv")
                with open(path, "w", encoding="utf-8") as f:
                    f.write("# header\n" + bad + "\n")
                with self.assertRaises(DataError):
                    read_augment(path)

    def test_replacement_rate_and_seed(self):
        s = self.sampler(augment=self.table)
        self.assertEqual(s.augment_p, AUGMENT_P)
        caption = "a man jumps up and down, then walks quickly"
        rng = np.random.default_rng(0)
        n = 4000
        drawn = [s.augment_caption(rng, caption) for _ in range(n)]
        swaps = collections.Counter()
        for d in drawn:
            ws = words(d)
            self.assertEqual(len(ws), 9)
            # words without alternatives are never touched
            self.assertEqual([ws[i] for i in (0, 1, 3, 4, 6)], ["a", "man", "up", "and", "then"])
            for i, w in ((2, "jumps"), (5, "down"), (7, "walks"), (8, "quickly")):
                if ws[i] != w:
                    self.assertIn(ws[i], self.table[w])
                    swaps[w] += 1
                    swaps[ws[i]] += 1
        for w in ("jumps", "down", "walks", "quickly"):  # 0.3 +- 4.5 standard deviations
            self.assertAlmostEqual(swaps[w] / n, AUGMENT_P, delta=0.033, msg=w)
        self.assertAlmostEqual(swaps["leaps"] / swaps["jumps"], 0.5, delta=0.08)  # alternatives drawn alike
        # seeded: the same Generator draws the same captions, another one others
        rng = np.random.default_rng(0)
        self.assertEqual([s.augment_caption(rng, caption) for _ in range(n)], drawn)
        rng = np.random.default_rng(1)
        self.assertNotEqual([s.augment_caption(rng, caption) for _ in range(50)], drawn[:50])
        # p 1: every word with alternatives is replaced
        s1 = self.sampler(augment=self.table, augment_p=1.0)
        self.assertEqual(words(s1.augment_caption(np.random.default_rng(2), caption))[5:8], ["downwards", "then",
                                                                                             "strolls"])
        with self.assertRaises(ValueError):
            self.sampler(augment=self.table, augment_p=1.5)

    def test_no_table_or_p_zero_draws_the_old_batches(self):
        plain = self.sampler()
        for other in (self.sampler(augment={}), self.sampler(augment=self.table, augment_p=0.0),
                      self.sampler(augment=self.table, tok=Tokenizer(build_vocab(self.ds.captions())))):
            for step in range(3):
                a = plain.training_batch(np.random.default_rng([5, step]), 6, 1000, 0.1)
                b = other.training_batch(np.random.default_rng([5, step]), 6, 1000, 0.1)
                for k in a:
                    np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        # with a table, the batches' captions change and stay fixed by the Generator
        aug = self.sampler(augment=self.table, word_dropout=0.0)
        a = aug.training_batch(np.random.default_rng([5, 0]), 64, 1000, 0.1)
        b = aug.training_batch(np.random.default_rng([5, 0]), 64, 1000, 0.1)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        ids = {self.tok.ids[w] for w in ALTERNATIVES}
        self.assertTrue(np.isin(a["tokens"], list(ids)).any())
        self.assertFalse((a["tokens"] == UNK_ID).any())

    def test_alternatives_outside_the_vocabulary_are_left_out(self):
        tok = Tokenizer(build_vocab(self.ds.captions() + ["leaps"]))  # knows leaps, not springs or the rest
        s = self.sampler(augment=self.table, augment_p=1.0, tok=tok, word_dropout=0.0)
        self.assertEqual(s.augment, {"jumps": ("leaps",)})
        for step in range(5):
            b = s.training_batch(np.random.default_rng([1, step]), 16, 1000, 0.0)
            self.assertFalse((b["tokens"] == UNK_ID).any())
            self.assertFalse((b["tokens"] == tok.ids["jumps"]).any())


ARGS = ["--small", "--batch", "4", "--frames-min", "40", "--frames-max", "40", "--warmup", "1", "--log-every", "2",
        "--val-every", "1000", "--ckpt-every", "1000", "--threads", "1", "--seed", "3"]


def run(data: str, out: str, *extra: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert train.main(["--data", data, "--out", out] + ARGS + list(extra)) == 0


class TrainAugmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = common.synthetic_dataset(clips=12, frames=60)
        cls.tmp = tempfile.mkdtemp(prefix="maug-")
        cls.table = os.path.join(cls.tmp, "augment.tsv")
        with open(cls.table, "w", encoding="utf-8") as f:
            f.write(TABLE)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data)
        shutil.rmtree(cls.tmp)

    def test_vocab_holds_the_alternatives_and_workers_draw_alike(self):
        plain_vocab = build_vocab(Dataset(self.data).captions("train"))
        inline = os.path.join(self.tmp, "inline")
        pooled = os.path.join(self.tmp, "pooled")
        run(self.data, inline, "--steps", "4", "--augment", self.table, "--augment-p", "0.5")
        run(self.data, pooled, "--steps", "4", "--augment", self.table, "--augment-p", "0.5", "--workers", "2")
        a = torch.load(os.path.join(inline, train.CHECKPOINT))
        b = torch.load(os.path.join(pooled, train.CHECKPOINT))
        # the plain vocabulary's ids, then the alternatives it lacks
        self.assertEqual(a["vocab"], plain_vocab + [w for w in ALTERNATIVES if w not in plain_vocab])
        self.assertEqual(a["config"]["vocab_size"], len(a["vocab"]))
        self.assertEqual((a["args"]["augment"], a["args"]["augment_p"]), (self.table, 0.5))
        for k in a["ema"]:
            self.assertTrue(torch.equal(a["ema"][k], b["ema"][k]), k)

    def test_grow_vocab_adds_the_alternatives(self):
        first = os.path.join(self.tmp, "first")
        run(self.data, first, "--steps", "1", "--weights-out", os.path.join(first, "w"))
        base = checkpoint.load(os.path.join(first, "w"))
        self.assertFalse(set(ALTERNATIVES) & set(base["vocab"]))
        grown = os.path.join(self.tmp, "grown")
        run(self.data, grown, "--steps", "1", "--init", os.path.join(first, "w"), "--grow-vocab",
            "--augment", self.table)
        g = torch.load(os.path.join(grown, train.CHECKPOINT))
        self.assertEqual(g["vocab"], base["vocab"] + ALTERNATIVES)
        self.assertEqual(tuple(g["net"][train.EMBED].shape)[0], len(g["vocab"]))
        # without --grow-vocab the vocabulary stays --init's and the alternatives are left out
        kept = os.path.join(self.tmp, "kept")
        run(self.data, kept, "--steps", "1", "--init", os.path.join(first, "w"), "--augment", self.table)
        self.assertEqual(torch.load(os.path.join(kept, train.CHECKPOINT))["vocab"], base["vocab"])
        with self.assertRaises(SystemExit):
            run(self.data, os.path.join(self.tmp, "bad"), "--steps", "1", "--augment", self.table,
                "--augment-p", "-0.1")


if __name__ == "__main__":
    unittest.main()
