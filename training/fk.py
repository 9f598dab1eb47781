"""Decode features to world joint positions, as the Go host decodes them.

The host drives the skeleton from the predicted 6D rotations and root, so a
constraint counts as honoured when those FK positions land on the target, not
when the (redundant) position features do. One kernel (torch) serves both the
evaluation (numpy in, numpy out, float64) and the training loss (tensors in,
differentiable, on any device).
"""
from __future__ import annotations

import json
import os
from typing import List, Tuple, Union

import numpy as np
import torch

import layout

SKELETON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "assets", "skeletons", "soma77.json")

Array = Union[np.ndarray, torch.Tensor]


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


def rot6d_to_matrix(r6: Array) -> Array:
    """[...,6] = [c0, c1] -> [...,3,3] by Gram-Schmidt (columns x, y, z)."""
    if isinstance(r6, np.ndarray):
        return rot6d_to_matrix(torch.from_numpy(r6)).numpy()
    c0, c1 = r6[..., :3], r6[..., 3:]
    x = c0 / c0.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    z = torch.cross(c0, c1, dim=-1)
    z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    y = torch.cross(z, x, dim=-1)
    return torch.stack([x, y, z], dim=-1)


def _chain(skeleton) -> List[Tuple[int, int, int]]:
    """(joint, parent slot, predicted index or -1) for every ancestor of a predicted
    joint, parents first: the joints between predicted ones (which inherit their
    parent's rotation) matter for positions, the rest of the 77 do not."""
    names, parents, _ = skeleton
    index = {n: i for i, n in enumerate(layout.PREDICTED_JOINTS)}
    need = set()
    for n in layout.PREDICTED_JOINTS:
        j = names.index(n)
        while j >= 0 and j not in need:
            need.add(j)
            j = parents[j]
    order = sorted(need)
    slot = {j: s for s, j in enumerate(order)}
    return [(j, slot[parents[j]] if parents[j] >= 0 else -1, index.get(names[j], -1)) for j in order]


def world_positions(feats: Array, skeleton=None) -> Array:
    """Raw (denormalised) features [...,D] -> world positions of the predicted joints [...,J,3].
    numpy in gives numpy out; a tensor keeps its device, dtype and gradient."""
    skeleton = skeleton or load_skeleton()
    if isinstance(feats, np.ndarray):
        return world_positions(torch.from_numpy(np.asarray(feats, np.float64)), skeleton).numpy()
    names, _, offsets = skeleton
    lo, hi = layout.OFFSETS["global_rot_data"]
    pred = rot6d_to_matrix(feats[..., lo:hi].reshape(feats.shape[:-1] + (layout.J, 6)))
    lp = layout.OFFSETS["local_joints_positions"][0]
    root = torch.stack([feats[..., 0] + feats[..., lp], feats[..., lp + 1], feats[..., 2] + feats[..., lp + 2]], -1)
    off = torch.as_tensor(offsets, dtype=feats.dtype, device=feats.device)
    rots: List[torch.Tensor] = []
    pos: List[torch.Tensor] = []
    out = {}
    for j, ps, k in _chain(skeleton):
        if ps < 0:
            rot, p = pred[..., k, :, :], root
        else:
            rot = pred[..., k, :, :] if k >= 0 else rots[ps]
            p = pos[ps] + torch.matmul(rots[ps], off[j])
        rots.append(rot)
        pos.append(p)
        if k >= 0:
            out[k] = p
    return torch.stack([out[k] for k in range(layout.J)], dim=-2)


def target_positions(feats: Array) -> Array:
    """World positions the features state directly: local positions + smooth root x,z."""
    lo, hi = layout.OFFSETS["local_joints_positions"]
    p = feats[..., lo:hi].reshape(feats.shape[:-1] + (layout.J, 3))
    if isinstance(p, np.ndarray):
        p = p.copy()
        p[..., 0] += feats[..., None, 0]
        p[..., 2] += feats[..., None, 2]
        return p
    shift = torch.stack([feats[..., 0], torch.zeros_like(feats[..., 0]), feats[..., 2]], -1)
    return p + shift.unsqueeze(-2)
