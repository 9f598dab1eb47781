"""Decode features to world joint positions, as the Go host decodes them.

Used only for evaluation: the host drives the skeleton from the predicted 6D
rotations and root, so a constraint counts as honoured when those FK positions
land on the target, not when the (redundant) position features do.
"""
from __future__ import annotations

import json
import os
from typing import List, Tuple

import numpy as np

import layout

SKELETON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "assets", "skeletons", "soma77.json")


def load_skeleton(path: str = SKELETON) -> Tuple[List[str], List[int], np.ndarray]:
    """SOMA77 names, parent indices (-1 root) and rest offsets; rest rotations must be identity."""
    with open(path, encoding="utf-8") as f:
        joints = json.load(f)["joints"]
    names = [j["name"] for j in joints]
    parents = [names.index(j["parent"]) if j["parent"] else -1 for j in joints]
    for j in joints:
        if not np.allclose(j["rest_rotation"], [0, 0, 0, 1], atol=1e-6):
            raise ValueError(f"{j['name']}: non-identity rest rotation, FK here assumes identity")
    if any(p >= i for i, p in enumerate(parents)):
        raise ValueError("skeleton joints must come after their parents")
    return names, parents, np.array([j["rest_translation"] for j in joints], np.float64)


def rot6d_to_matrix(r6: np.ndarray) -> np.ndarray:
    """[...,6] = [c0, c1] -> [...,3,3] by Gram-Schmidt (columns x, y, z)."""
    c0, c1 = r6[..., :3], r6[..., 3:]
    x = c0 / np.linalg.norm(c0, axis=-1, keepdims=True)
    z = np.cross(c0, c1)
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def world_positions(feats: np.ndarray, skeleton=None) -> np.ndarray:
    """Raw (denormalised) features [...,D] -> world positions of the predicted joints [...,J,3]."""
    names, parents, offsets = skeleton or load_skeleton()
    lo, hi = layout.OFFSETS["global_rot_data"]
    pred = rot6d_to_matrix(feats[..., lo:hi].reshape(feats.shape[:-1] + (layout.J, 6)))
    lp = layout.OFFSETS["local_joints_positions"][0]
    root = np.stack([feats[..., 0] + feats[..., lp], feats[..., lp + 1], feats[..., 2] + feats[..., lp + 2]], -1)
    index = {n: i for i, n in enumerate(layout.PREDICTED_JOINTS)}
    rots: List[np.ndarray] = []
    pos: List[np.ndarray] = []
    for j, name in enumerate(names):
        p = parents[j]
        if p < 0:
            rots.append(pred[..., index[name], :, :])
            pos.append(root)
            continue
        rots.append(pred[..., index[name], :, :] if name in index else rots[p])
        pos.append(pos[p] + np.einsum("...ij,j->...i", rots[p], offsets[j]))
    return np.stack([pos[names.index(n)] for n in layout.PREDICTED_JOINTS], axis=-2)


def target_positions(feats: np.ndarray) -> np.ndarray:
    """World positions the features state directly: local positions + smooth root x,z."""
    lo, hi = layout.OFFSETS["local_joints_positions"]
    p = feats[..., lo:hi].reshape(feats.shape[:-1] + (layout.J, 3)).copy()
    p[..., 0] += feats[..., None, 0]
    p[..., 2] += feats[..., None, 2]
    return p
