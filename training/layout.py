"""Feature layout of the bundled model (issue 3 contract), in one place.

The Go dataset builder writes features in this order and the Go host reads
model.json built from these constants, so the trainer checks the dataset's own
"layout" object against them instead of trusting either side silently.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

FPS = 30
FRAME_MULTIPLE = 4
MAX_FRAMES = 300

PREDICTED_JOINTS: List[str] = [
    "Hips", "Spine1", "Spine2", "Chest", "Neck1", "Head",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    "LeftLeg", "LeftShin", "LeftFoot", "LeftToeBase",
    "RightLeg", "RightShin", "RightFoot", "RightToeBase",
]
J = len(PREDICTED_JOINTS)
CONTACT_JOINTS = ["LeftFoot", "LeftToeBase", "RightFoot", "RightToeBase"]
EFFECTOR_JOINTS = ["LeftHand", "RightHand", "LeftFoot", "RightFoot"]

BLOCKS: List[tuple] = [
    ("smooth_root_pos", 3),
    ("global_root_heading", 2),
    ("local_joints_positions", 3 * J),
    ("global_rot_data", 6 * J),
    ("velocities", 3 * J),
    ("foot_contacts", 4),
]
D = sum(size for _, size in BLOCKS)
assert D == 12 * J + 9 == 273


def block_offsets() -> Dict[str, tuple]:
    """Start and end dimension of every block, in feature order."""
    out, at = {}, 0
    for name, size in BLOCKS:
        out[name] = (at, at + size)
        at += size
    return out


OFFSETS = block_offsets()
ROOT_XZ = [0, 2]
ROOT_Y = [1]
HEADING = [3, 4]


def _joint_dims(block: str, width: int, names: Sequence[str]) -> List[int]:
    start = OFFSETS[block][0]
    dims: List[int] = []
    for name in names:
        j = PREDICTED_JOINTS.index(name)
        dims.extend(range(start + width * j, start + width * (j + 1)))
    return dims


def joint_position_dims(names: Sequence[str]) -> List[int]:
    """Dims of local_joints_positions for the named predicted joints."""
    return _joint_dims("local_joints_positions", 3, names)


ALL_POSITION_DIMS = list(range(*OFFSETS["local_joints_positions"]))
ALL_ROTATION_DIMS = list(range(*OFFSETS["global_rot_data"]))


def joint_rotation_dims(names: Sequence[str]) -> List[int]:
    """Dims of global_rot_data (6D) for the named predicted joints."""
    return _joint_dims("global_rot_data", 6, names)


# Each effector with its predicted ancestors (checked against the skeleton in
# the tests): the host states these rotations and positions at a target frame.
EFFECTOR_CHAINS: Dict[str, List[str]] = {
    side + "Hand": ["Hips", "Spine1", "Spine2", "Chest", side + "Shoulder", side + "Arm", side + "ForeArm", side + "Hand"]
    for side in ("Left", "Right")
}
EFFECTOR_CHAINS.update({side + "Foot": ["Hips", side + "Leg", side + "Shin", side + "Foot"] for side in ("Left", "Right")})


def features_object() -> dict:
    """The model.json "features" object (also the dataset's layout minus joints)."""
    return {
        "dim": D,
        "blocks": [{"name": n, "size": s} for n, s in BLOCKS],
        "root_smoothing_sigma_frames": 2,
        "heading_joints": ["RightLeg", "LeftLeg"],
        "contact_joints": list(CONTACT_JOINTS),
        "contact_speed_max": 0.15,
        "contact_height_max": 0.10,
    }


class LayoutError(ValueError):
    """The dataset's layout disagrees with the contract this trainer implements."""


def check_layout(layout: dict, dim: int) -> None:
    """Fail loudly when the dataset was built for a different feature layout."""
    if dim != D:
        raise LayoutError(f"dataset dim {dim}, contract dim {D}")
    if not layout:
        return
    blocks = [(b.get("name"), b.get("size")) for b in layout.get("blocks", [])]
    if blocks and blocks != [(n, s) for n, s in BLOCKS]:
        raise LayoutError(f"dataset blocks {blocks} differ from {BLOCKS}")
    joints = layout.get("predicted_joints")
    if joints is not None and list(joints) != PREDICTED_JOINTS:
        raise LayoutError(f"dataset predicted_joints {joints} differ from {PREDICTED_JOINTS}")
