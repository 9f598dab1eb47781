"""Word-level tokenizer shared (by specification) with the Go host.

The rule is deliberately trivial so Go can reproduce it exactly: lowercase,
then every maximal run of letters (Unicode category L, as Go's
unicode.IsLetter) and apostrophes is one word; everything else separates.
"""
from __future__ import annotations

import collections
import os
from typing import Iterable, List, Sequence

PAD, UNK, CLS = "<pad>", "<unk>", "<cls>"
PAD_ID, UNK_ID, CLS_ID = 0, 1, 2
MAX_TOKENS = 24  # including the leading <cls>
SPECIALS = [PAD, UNK, CLS]


def words(text: str) -> List[str]:
    """Split text into lowercase words of letters and apostrophes."""
    out: List[str] = []
    cur: List[str] = []
    for ch in text.lower():
        if ch.isalpha() or ch == "'":
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def build_vocab(captions: Iterable[str]) -> List[str]:
    """Specials, then every word by descending count, ties alphabetically.

    Sorting on (count, word) makes the file identical for identical captions,
    whatever order the dataset lists them in.
    """
    counts = collections.Counter(w for c in captions for w in words(c))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return SPECIALS + [w for w, _ in ranked if w not in SPECIALS]


class Tokenizer:
    """Maps text to a fixed-length id row: <cls>, words, then <pad>."""

    def __init__(self, vocab: Sequence[str], max_tokens: int = MAX_TOKENS) -> None:
        if list(vocab[:3]) != SPECIALS:
            raise ValueError(f"vocab must start with {SPECIALS}, got {list(vocab[:3])}")
        self.vocab = list(vocab)
        self.ids = {w: i for i, w in enumerate(self.vocab)}
        self.max_tokens = max_tokens

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> List[int]:
        """Ids of length max_tokens; unknown words map to <unk>, extra words are cut."""
        ids = [CLS_ID] + [self.ids.get(w, UNK_ID) for w in words(text)]
        ids = ids[: self.max_tokens]
        return ids + [PAD_ID] * (self.max_tokens - len(ids))

    def save(self, path: str) -> None:
        """Write vocab.txt (one token per line; the line number is the id)."""
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(self.vocab) + "\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str, max_tokens: int = MAX_TOKENS) -> "Tokenizer":
        with open(path, encoding="utf-8") as f:
            vocab = [line.rstrip("\n") for line in f if line.rstrip("\n")]
        return cls(vocab, max_tokens)
