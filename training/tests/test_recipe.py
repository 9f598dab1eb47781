import contextlib
import io
import os
import shutil
import tempfile
import unittest

import recipe


class RecipeTest(unittest.TestCase):
    def setUp(self):
        self.runs = tempfile.mkdtemp(prefix="mrecipe-")

    def tearDown(self):
        shutil.rmtree(self.runs)

    def dry(self, *extra):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(recipe.main(["--dry-run", "--runs", self.runs, "--mocap", "/m", *extra]), 0)
        return out.getvalue().splitlines()

    def test_order_and_chaining(self):
        lines = self.dry()
        text = "\n".join(lines)
        # base from the pinned bundle, then each stage from the one before, then bank, export, word map
        self.assertIn(f"show {recipe.BASE_COMMIT}:assets/models/{recipe.MODEL_ID}/denoiser.onnx", text)
        prev = os.path.join(recipe.run_dir(self.runs, "base"), "weights")
        for st in recipe.STAGES:
            line = next(l for l in lines if f"--weights-out {recipe.run_dir(self.runs, st.name)}/weights" in l)
            self.assertIn(f"--init {prev}", line)
            self.assertIn(f"--seed {st.seed}", line)
            prev = os.path.join(recipe.run_dir(self.runs, st.name), "weights")
        tail = [l for l in lines if "training/cmd/bank" in l or "export.py" in l or "training/cmd/wordmap" in l]
        self.assertEqual(len(tail), 6)
        self.assertIn(f"--checkpoint {prev}", tail[1])
        self.assertIn("--bank", tail[1])
        # the bank kept through the exported bundle replaces the first one
        bundle = os.path.join(recipe.ROOT, "assets", "models", recipe.MODEL_ID)
        self.assertIn(f"-model {bundle}", tail[4])
        self.assertIn(" ".join(recipe.KEEP), tail[4])
        kept = recipe.run_dir(self.runs, "bank-kept")
        cp = lines.index(f"recipe: cp {kept}/bank.npy {kept}/bank.json {bundle}")
        # the bank's word map, for the first bank (the trial loads the bundle) and again for the kept one
        bank_words = f"wordmap -bank {bundle}/bank.json -vocab {bundle}/vocab.txt -out {bundle}/bank-words.tsv"
        self.assertIn(bank_words, tail[3])
        self.assertIn(bank_words, lines[cp + 1])

    def test_done_steps_are_skipped(self):
        base = os.path.join(recipe.run_dir(self.runs, "base"), "weights")
        os.makedirs(base)
        open(os.path.join(base, "meta.json"), "w").close()
        lines = self.dry()
        self.assertIn(f"recipe: base: done ({base}/meta.json)", lines)
        self.assertFalse(any("from_onnx.py" in l for l in lines))

    def test_from_scratch(self):
        lines = self.dry("--from", "scratch", "--device", "cuda", "--workers", "12")
        first = next(l for l in lines if "train.py" in l)
        self.assertIn(f"--steps {recipe.SCRATCH.steps}", first)
        self.assertNotIn("--init", first)
        self.assertIn("--device cuda --workers 12", first)
        self.assertFalse(any("git" in l and "show" in l for l in lines))

    def test_train_only(self):
        lines = self.dry("--train-only")
        self.assertFalse(any("export.py" in l or "training/cmd/bank" in l for l in lines))
        self.assertTrue(any(f"--weights-out {recipe.run_dir(self.runs, recipe.STAGES[-1].name)}/weights" in l
                            for l in lines))

    def test_mocap_is_required(self):
        with self.assertRaises(SystemExit):
            recipe.main(["--runs", self.runs, "--mocap", ""])


if __name__ == "__main__":
    unittest.main()
