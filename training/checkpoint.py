"""Checkpoints: the resumable training state, and the portable weights folder.

checkpoint.pt holds everything a run needs to go on (weights, optimiser, EMA).
A weights folder holds only what export and evaluation need — the EMA weights
as float32 .npz shards (each under 15 MB, so a run on a remote GPU can hand
them back through a file-size limit), plus meta.json with the config, vocab,
normalisation and classes — and it loads with any torch version.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List

import numpy as np
import torch

META = "meta.json"
SHARD_BYTES = 15 << 20


class CheckpointError(ValueError):
    """A checkpoint or weights folder is missing or incomplete."""


def save_weights(folder: str, state: dict, which: str = "ema") -> List[str]:
    """Write state[which] as weights-K.npz shards + meta.json (atomically, file by file)."""
    os.makedirs(folder, exist_ok=True)
    shards: List[Dict[str, np.ndarray]] = [{}]
    size = 0
    for k, v in state[which].items():
        a = v.detach().cpu().numpy()
        if size and size + a.nbytes > SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][k] = a
        size += a.nbytes
    names = []
    for i, shard in enumerate(shards):
        name = f"weights-{i}.npz"
        tmp = os.path.join(folder, name + ".tmp.npz")
        np.savez(tmp, **shard)
        os.replace(tmp, os.path.join(folder, name))
        names.append(name)
    meta = {"step": int(state["step"]), "config": state["config"], "vocab": list(state["vocab"]),
            "mean": np.asarray(state["mean"], np.float64).tolist(),
            "std": np.asarray(state["std"], np.float64).tolist(),
            "classes": list(state["classes"]), "shards": names, "weights": which,
            "args": state.get("args", {})}
    tmp = os.path.join(folder, META + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f)
    os.replace(tmp, os.path.join(folder, META))
    return names + [META]


def load(path: str, which: str = "ema") -> dict:
    """checkpoint.pt or a weights folder -> {step, config, weights, vocab, mean, std, classes, args}."""
    if os.path.isdir(path):
        meta_path = os.path.join(path, META)
        if not os.path.exists(meta_path):
            raise CheckpointError(f"{path}: no {META}")
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if which != meta.get("weights", "ema"):
            raise CheckpointError(f"{path} holds the {meta.get('weights')} weights, not {which}")
        weights = {}
        for name in meta["shards"]:
            with np.load(os.path.join(path, name)) as z:
                weights.update({k: torch.from_numpy(z[k].copy()) for k in z.files})
        return {"step": meta["step"], "config": meta["config"], "weights": weights, "vocab": meta["vocab"],
                "mean": np.asarray(meta["mean"], np.float32), "std": np.asarray(meta["std"], np.float32),
                "classes": meta["classes"], "args": meta.get("args", {})}
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint")
    state = torch.load(path, map_location="cpu")
    return {"step": state["step"], "config": state["config"], "weights": state[which], "vocab": state["vocab"],
            "mean": np.asarray(state["mean"], np.float32), "std": np.asarray(state["std"], np.float32),
            "classes": state["classes"], "args": state.get("args", {})}
