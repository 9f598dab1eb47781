"""Shared test setup: puts training/ on sys.path and builds synthetic datasets."""
from __future__ import annotations

import os
import sys
import tempfile

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TRAINING not in sys.path:
    sys.path.insert(0, TRAINING)

import torch  # noqa: E402

torch.set_num_threads(1)  # deterministic and polite to the other jobs on a 2-core machine


def synthetic_dataset(clips: int = 12, frames: int = 100) -> str:
    """A temp dir holding features.npy + clips.json in the Go builder's format."""
    import synth
    d = tempfile.mkdtemp(prefix="msynth-")
    synth.write(d, clips=clips, frames=frames)
    return d
