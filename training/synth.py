"""Write a small synthetic dataset in the Go builder's format (tests and dry runs).

Each class moves every feature as a sinusoid with its own frequency, so a
model can learn text -> motion from it and a test can see the loss fall.
Usage: /usr/bin/python3 training/synth.py OUT_DIR [--clips 24] [--frames 160]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import layout  # noqa: E402

CLASSES = [("walk", "a person walks forward", 0.15), ("run", "someone runs quickly", 0.4),
           ("jump", "a man jumps up and down", 0.8)]


def write(out: str, clips: int = 24, frames: int = 160, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    amp = rng.uniform(0.2, 1.0, layout.D)
    base = rng.normal(0, 1, layout.D)
    rows: List[np.ndarray] = []
    table = []
    start = 0
    for i in range(clips):
        name, caption, freq = CLASSES[i % len(CLASSES)]
        n = frames - 8 * (i % 3)
        t = np.arange(n)[:, None]
        phase = rng.uniform(0, 2 * np.pi, layout.D)
        x = base + amp * np.sin(freq * t + phase) + rng.normal(0, 0.02, (n, layout.D))
        x[:, -4:] = (np.sin(freq * t + phase[-4:]) > 0).astype(np.float64)  # contacts are 0/1
        rows.append(x.astype(np.float32))
        table.append({"id": f"{i:02d}_01", "source": f"synthetic/{i:02d}_01.bvh", "mirrored": i % 2 == 1,
                      "split": "test" if i % 6 == 5 else "train", "start": start, "frames": n,
                      "captions": [caption, f"{name}"], "classes": [name]})
        start += n
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "features.npy"), np.concatenate(rows))
    lay = dict(layout.features_object(), predicted_joints=layout.PREDICTED_JOINTS)
    with open(os.path.join(out, "clips.json"), "w", encoding="utf-8") as f:
        json.dump({"fps": layout.FPS, "dim": layout.D, "layout": lay, "clips": table}, f)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--clips", type=int, default=24)
    p.add_argument("--frames", type=int, default=160)
    a = p.parse_args()
    write(a.out, a.clips, a.frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
