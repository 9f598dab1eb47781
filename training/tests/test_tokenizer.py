import os
import tempfile
import unittest

import common  # noqa: F401
from tokenizer import CLS_ID, MAX_TOKENS, PAD_ID, UNK_ID, Tokenizer, build_vocab, words


class WordsTest(unittest.TestCase):
    def test_split_rules(self):
        cases = [
            ("A person walks forward.", ["a", "person", "walks", "forward"]),
            ("the person's LEFT-hand waves", ["the", "person's", "left", "hand", "waves"]),
            ("jump 3 times, then run!", ["jump", "times", "then", "run"]),
            ("Café  naïve", ["café", "naïve"]),
            ("", []),
            ("  ...  ", []),
        ]
        for text, want in cases:
            with self.subTest(text=text):
                self.assertEqual(words(text), want)


class VocabTest(unittest.TestCase):
    def test_order_is_count_then_alphabetical(self):
        vocab = build_vocab(["b a c", "a b", "a", "d"])
        self.assertEqual(vocab, ["<pad>", "<unk>", "<cls>", "a", "b", "c", "d"])

    def test_input_order_does_not_matter(self):
        caps = ["walk forward", "run fast", "walk back", "jump"]
        self.assertEqual(build_vocab(caps), build_vocab(list(reversed(caps))))

    def test_encode(self):
        tok = Tokenizer(build_vocab(["a person walks"]))
        ids = tok.encode("A person RUNS")
        self.assertEqual(len(ids), MAX_TOKENS)
        self.assertEqual(ids[:4], [CLS_ID, tok.ids["a"], tok.ids["person"], UNK_ID])
        self.assertEqual(set(ids[4:]), {PAD_ID})
        self.assertEqual(tok.encode(""), [CLS_ID] + [PAD_ID] * (MAX_TOKENS - 1))
        long = tok.encode(" ".join(["a"] * 40))
        self.assertEqual(len(long), MAX_TOKENS)
        self.assertNotIn(PAD_ID, long)

    def test_save_load(self):
        tok = Tokenizer(build_vocab(["walk run walk"]))
        path = os.path.join(tempfile.mkdtemp(), "vocab.txt")
        tok.save(path)
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "<pad>\n<unk>\n<cls>\nwalk\nrun\n")
        self.assertEqual(Tokenizer.load(path).vocab, tok.vocab)

    def test_rejects_bad_vocab(self):
        with self.assertRaises(ValueError):
            Tokenizer(["walk", "<pad>", "<unk>"])


if __name__ == "__main__":
    unittest.main()
