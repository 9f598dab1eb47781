"""Checks Motion Studio NPZ exports with NumPy, independently of the Go code.

Usage: check_npz.py MANIFEST.json

The manifest lists files with what the Go test knows about each motion
(frames, joints, fps, joint names, parents, rest offsets, contact joints and
thresholds). For every file this script loads the archive without
allow_pickle, checks keys, dtypes and shapes, redoes forward kinematics from
`poses` (Rodrigues), `trans`, `parents` and `offsets` (or
`local_translations`), compares it with `posed_joints`, `local_rot_mats` and
`global_rot_mats`, and recomputes the foot contacts from `posed_joints`.
It prints one JSON summary; any problem is listed in a file's "errors".
"""

import json
import sys

import numpy as np

FLOAT_KEYS = ("poses", "trans", "betas", "root_positions", "posed_joints",
              "local_rot_mats", "global_rot_mats", "offsets")


def rodrigues(r):
    """Rotation vectors (..., 3) to matrices (..., 3, 3), in float64."""
    r = r.astype(np.float64)
    theta = np.linalg.norm(r, axis=-1, keepdims=True)
    k = np.divide(r, theta, out=np.zeros_like(r), where=theta > 1e-12)
    K = np.zeros(r.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2] = -k[..., 2], k[..., 1]
    K[..., 1, 0], K[..., 1, 2] = k[..., 2], -k[..., 0]
    K[..., 2, 0], K[..., 2, 1] = -k[..., 1], k[..., 0]
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


def check(spec):
    errors = []
    out = {"path": spec["path"], "errors": errors}

    def expect(cond, msg):
        if not cond:
            errors.append(msg)
        return cond

    data = np.load(spec["path"])  # allow_pickle stays False
    T, J = spec["frames"], spec["joints"]
    K = len(spec["contact_joints"])
    keys = set(FLOAT_KEYS) | {"foot_contacts", "fps", "joint_names", "parents"}
    if spec["has_translations"]:
        keys.add("local_translations")
    expect(set(data.files) == keys, f"keys {sorted(data.files)}, want {sorted(keys)}")
    a = {k: data[k] for k in data.files}
    if errors:
        return out

    shapes = {
        "poses": (T, J, 3), "trans": (T, 3), "betas": (16,), "root_positions": (T, 3),
        "posed_joints": (T, J, 3), "local_rot_mats": (T, J, 3, 3),
        "global_rot_mats": (T, J, 3, 3), "offsets": (J, 3), "foot_contacts": (T, K),
        "fps": (), "joint_names": (J,), "parents": (J,), "local_translations": (T, J, 3),
    }
    for k in keys:
        expect(a[k].shape == shapes[k], f"{k}: shape {a[k].shape}, want {shapes[k]}")
    for k in FLOAT_KEYS + (("local_translations",) if spec["has_translations"] else ()):
        expect(a[k].dtype == np.float32, f"{k}: dtype {a[k].dtype}, want float32")
    expect(a["foot_contacts"].dtype == np.bool_, f"foot_contacts: dtype {a['foot_contacts'].dtype}")
    expect(a["fps"].dtype == np.float64, f"fps: dtype {a['fps'].dtype}, want float64")
    expect(a["joint_names"].dtype.kind == "U", f"joint_names: dtype {a['joint_names'].dtype}")
    expect(a["parents"].dtype == np.int32, f"parents: dtype {a['parents'].dtype}")
    if errors:
        return out

    expect(float(a["fps"]) == spec["fps"], f"fps {float(a['fps'])}, want {spec['fps']}")
    expect(a["joint_names"].tolist() == spec["names"], f"joint_names {a['joint_names'].tolist()}")
    parents = a["parents"].astype(int)
    expect(parents.tolist() == spec["parents"], f"parents {parents.tolist()}")
    expect(all(p < j for j, p in enumerate(parents)), "a parent follows its child")
    expect(np.abs(a["offsets"] - np.array(spec["offsets"])).max() < 1e-6, "offsets differ from the skeleton")
    expect(not a["betas"].any(), "betas are not zero")
    expect(np.array_equal(a["root_positions"], a["trans"]), "root_positions != trans")
    for k in FLOAT_KEYS:
        expect(np.isfinite(a[k]).all(), f"{k}: non-finite values")
    if errors:
        return out

    # Rotations: local matrices are Rodrigues of poses; all are rotations.
    R = rodrigues(a["poses"])
    out["max_local_err"] = float(np.abs(R - a["local_rot_mats"]).max())
    expect(out["max_local_err"] < 1e-5, f"local_rot_mats differ from Rodrigues(poses) by {out['max_local_err']:.3g}")
    for k in ("local_rot_mats", "global_rot_mats"):
        M = a[k].astype(np.float64)
        ortho = np.abs(M @ np.swapaxes(M, -1, -2) - np.eye(3)).max()
        det = np.abs(np.linalg.det(M) - 1).max()
        expect(ortho < 1e-5 and det < 1e-5, f"{k}: not rotations (|RRᵀ-I| {ortho:.3g}, |det-1| {det:.3g})")

    # Forward kinematics from poses, trans, parents and offsets.
    lt = a.get("local_translations")
    G = np.empty((T, J, 3, 3))
    P = np.empty((T, J, 3))
    for j in range(J):
        p = parents[j]
        if p < 0:
            G[:, j], P[:, j] = R[:, j], a["trans"]
            continue
        off = lt[:, j].astype(np.float64) if lt is not None else np.broadcast_to(a["offsets"][j].astype(np.float64), (T, 3))
        G[:, j] = G[:, p] @ R[:, j]
        P[:, j] = P[:, p] + np.einsum("tij,tj->ti", G[:, p], off)
    out["max_global_err"] = float(np.abs(G - a["global_rot_mats"]).max())
    out["max_posed_err"] = float(np.abs(P - a["posed_joints"]).max())
    expect(out["max_global_err"] < 1e-5, f"global_rot_mats differ from FK by {out['max_global_err']:.3g}")
    expect(out["max_posed_err"] < 1e-4, f"posed_joints differ from FK of poses/trans by {out['max_posed_err']:.3g}")

    # Foot contacts: forward-difference speed (the last frame repeats the
    # previous one) below the speed threshold and height below the height one.
    fc = a["foot_contacts"]
    cols = [c for c, j in enumerate(spec["contact_joints"]) if j >= 0]
    idx = [spec["contact_joints"][c] for c in cols]
    pos = a["posed_joints"][:, idx].astype(np.float64)
    speed = np.zeros((T, len(idx)))
    if T > 1:
        speed[:-1] = np.linalg.norm(pos[1:] - pos[:-1], axis=-1) * spec["fps"]
        speed[-1] = speed[-2]
    height = pos[..., 1]
    want = (speed < spec["speed_max"]) & (height < spec["height_max"])
    # float32 positions may flip labels that sit on a threshold.
    near = (np.abs(speed - spec["speed_max"]) < 1e-3) | (np.abs(height - spec["height_max"]) < 1e-5)
    bad = (fc[:, cols] != want) & ~near
    expect(not bad.any(), f"foot_contacts differ from the recomputed labels at {np.argwhere(bad)[:5].tolist()}")
    missing = [c for c, j in enumerate(spec["contact_joints"]) if j < 0]
    expect(not fc[:, missing].any(), "a missing contact joint has contacts")
    out["contacts_true"] = int(fc.sum())
    out["contacts_total"] = int(fc.size)
    return out


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    results = []
    for spec in manifest["files"]:
        try:
            results.append(check(spec))
        except Exception as e:  # report, do not crash: the Go test shows it
            results.append({"path": spec["path"], "errors": [f"{type(e).__name__}: {e}"]})
    print(json.dumps({"numpy": np.__version__, "files": results}))


if __name__ == "__main__":
    main()
