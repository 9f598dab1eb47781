"""Action classifier that scores motion per class (walk, run, jump, kick, punch, dance, climb).

The issue asks for "per action class an action classifier's accuracy on generated
motion". This trains a small one on real train windows, reports its accuracy on the
held-out takes (its own credibility), and scores a set of generated samples.

Input. Per frame, 137 features that do not depend on where the body stands or which
way it faces, computed from the raw 273 (so no canonicalisation or yaw augmentation
is needed, and a generated sample's start point and facing cannot matter): the 22
joint positions relative to the Hips in the body's heading frame (the hip vector
RightLeg - LeftLeg turned onto +x; heights absolute), the 22 joint velocities of the
`velocities` block in the same frame, the 4 foot contacts, and the yaw rate of the hip
vector (rad/s). The absolute smooth-root channels are not used (the model's are
jittery); rotations are not used (positions carry the pose). Normalised with the
mean/std of these features over the train frames of the labelled clips.

Network. Three valid 1D convolutions (kernel 5, dilations 1, 2, 4, width 64, ReLU:
a receptive field of 29 frames, about 1 s), mean over time, dropout 0.3, linear to
the 7 classes; 1000 AdamW steps of 64 windows with Gaussian noise (0.2 of a standard
deviation) on the normalised input, about 20 s on 2 cores. The mean of local
features makes the prediction nearly independent of the window length, which matters
here: every run clip is 31-43 frames long and most
walk clips are under 120, so training windows are up to 120 frames (shorter clips
give their whole length), with a length drawn uniformly in [30, 120] per batch for
every class so that length is no cue. Windows need at least 29 frames.

Labels. A clip counts for the class when it has exactly one of the seven classes
(other tags such as turn or sit are ignored); clips with several of them (jump+dance
ballet, jump+climb playground, walk+dance) are left out, so each class is clean.
Training draws the class uniformly, then a clip in proportion to its frames, then a
window: the classes are balanced although dance has 33 of the 43 labelled train
minutes.

Held-out report: every test clip with one label, windows of 120 frames (or the whole
clip when shorter) every 30 frames; accuracy per class, confusion matrix. The test
split has one take per class (mirrored copies included) and none for climb, so these
figures are coarse: say so when quoting them.

  /usr/bin/python3 training/classify.py --data training/data                       # held-out report
  /usr/bin/python3 training/classify.py --data training/data --generated DIR --json OUT.json

DIR holds features.npy float32 [M, T, 273] (raw, denormalised, T >= 29, normally 120)
and labels.json (a list of M class names: the class each sample was prompted with).
The trained classifier is cached under training/runs/classifier/<key>/ where key
hashes the dataset file sizes and the training settings; --retrain trains again.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import layout  # noqa: E402
from data import Clip, DataError, Dataset  # noqa: E402

CLASSES = ["walk", "run", "jump", "kick", "punch", "dance", "climb"]
VERSION = 1  # bump when the features, network or training change: part of the cache key
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "classifier")

_LP = layout.OFFSETS["local_joints_positions"][0]
_VEL = layout.OFFSETS["velocities"][0]
_CON = layout.OFFSETS["foot_contacts"][0]
_HIPS = layout.PREDICTED_JOINTS.index("Hips")
_LLEG = layout.PREDICTED_JOINTS.index("LeftLeg")
_RLEG = layout.PREDICTED_JOINTS.index("RightLeg")
N_FEATURES = 2 * 3 * layout.J + 4 + 1


def frame_features(raw: np.ndarray) -> np.ndarray:
    """Raw features [..., T, 273] -> yaw- and translation-invariant features [..., T, 137]
    (float32): joint positions relative to the Hips and joint velocities, both in the
    heading frame of the hip vector, the foot contacts, and the yaw rate (rad/s)."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.shape[-1] != layout.D or raw.shape[-2] < 2:
        raise ValueError(f"want [..., T>=2, {layout.D}] features, got {raw.shape}")
    lead = raw.shape[:-1]
    pos = raw[..., _LP:_LP + 3 * layout.J].reshape(lead + (layout.J, 3))
    vel = raw[..., _VEL:_VEL + 3 * layout.J].reshape(lead + (layout.J, 3))
    hip = pos[..., _RLEG, :] - pos[..., _LLEG, :]
    norm = np.maximum(np.hypot(hip[..., 0], hip[..., 2]), 1e-6)
    c, s = (hip[..., 0] / norm)[..., None], (hip[..., 2] / norm)[..., None]

    def turn(v: np.ndarray) -> np.ndarray:  # (x, z) -> the heading frame, hip vector on +x
        return np.stack([c * v[..., 0] + s * v[..., 2], v[..., 1], -s * v[..., 0] + c * v[..., 2]], -1)

    rel = pos - pos[..., _HIPS:_HIPS + 1, :] * np.array([1.0, 0.0, 1.0])  # heights stay absolute
    yaw = np.unwrap(np.arctan2(s[..., 0], c[..., 0]), axis=-1)
    yaw_rate = np.gradient(yaw, axis=-1) * layout.FPS
    out = np.concatenate([turn(rel).reshape(lead + (-1,)), turn(vel).reshape(lead + (-1,)),
                          raw[..., _CON:_CON + 4], yaw_rate[..., None]], -1)
    return out.astype(np.float32)


class Net(nn.Module):
    """Valid dilated 1D convolutions, mean over the valid output frames, linear head."""

    def __init__(self, n_in: int = N_FEATURES, width: int = 64, n_classes: int = len(CLASSES),
                 kernel: int = 5, dilations: Sequence[int] = (1, 2, 4), dropout: float = 0.3) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        c = n_in
        for d in dilations:
            layers += [nn.Conv1d(c, width, kernel, dilation=d), nn.ReLU()]
            c = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, n_classes))
        self.receptive_field = 1 + (kernel - 1) * sum(dilations)

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x [B, T, F] (zero-padded after each sample's length) -> logits [B, classes]."""
        h = self.body(x.transpose(1, 2))  # [B, width, T - rf + 1]
        if lengths is None:
            pooled = h.mean(-1)
        else:
            valid = (torch.arange(h.shape[-1])[None] < (lengths[:, None] - self.receptive_field + 1)).float()
            pooled = (h * valid[:, None]).sum(-1) / valid.sum(-1, keepdim=True).clamp(min=1.0)
        return self.head(pooled)


DEFAULTS = dict(steps=1000, batch=64, lr=2e-3, weight_decay=0.01, width=64, frames=120, min_frames=30,
                noise=0.2, seed=0, threads=2)


def clip_label(clip: Clip) -> Optional[str]:
    """The clip's class when it has exactly one of CLASSES, else None (left out)."""
    ks = [k for k in CLASSES if k in clip.classes]
    return ks[0] if len(ks) == 1 else None


def labelled(ds: Dataset, split: str, min_frames: int) -> Dict[str, List[Clip]]:
    out: Dict[str, List[Clip]] = {k: [] for k in CLASSES}
    for c in ds.split(split):
        k = clip_label(c)
        if k is not None and c.frames >= min_frames:
            out[k].append(c)
    return out


def heldout_windows(ds: Dataset, frames: int, min_frames: int, stride: int = 30, split: str = "test"
                    ) -> Tuple[List[np.ndarray], List[int], List[str]]:
    """Every `stride` frames a window of `frames` (the whole clip when shorter)."""
    wins, labels, ids = [], [], []
    for k, clips in labelled(ds, split, min_frames).items():
        for c in clips:
            t = min(frames, c.frames)
            for s in range(0, c.frames - t + 1, stride):
                wins.append(frame_features(ds.raw[c.start + s:c.start + s + t]))
                labels.append(CLASSES.index(k))
                ids.append(c.id)
    return wins, labels, ids


class Classifier:
    """The trained network plus its feature normalisation."""

    def __init__(self, net: Net, mean: np.ndarray, std: np.ndarray, config: dict) -> None:
        self.net, self.mean, self.std, self.config = net.eval(), mean.astype(np.float32), std.astype(np.float32), config

    @torch.no_grad()
    def predict_features(self, feats: Sequence[np.ndarray], batch: int = 256) -> np.ndarray:
        """Per-frame features (list of [T_i, F]) -> class probabilities [N, classes]."""
        self.net.eval()
        out = []
        for i in range(0, len(feats), batch):
            x, lengths = pad([(f - self.mean) / self.std for f in feats[i:i + batch]])
            if int(lengths.min()) < self.net.receptive_field:
                raise ValueError(f"windows need at least {self.net.receptive_field} frames")
            out.append(torch.softmax(self.net(x, lengths), -1).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(CLASSES)), np.float32)

    def predict_raw(self, raw: np.ndarray) -> np.ndarray:
        """Raw features [M, T, 273] -> class probabilities [M, classes]."""
        return self.predict_features(list(frame_features(raw)))


def pad(feats: Sequence[np.ndarray]) -> Tuple[torch.Tensor, torch.Tensor]:
    lengths = [f.shape[0] for f in feats]
    x = np.zeros((len(feats), max(lengths), feats[0].shape[1]), np.float32)
    for i, f in enumerate(feats):
        x[i, :f.shape[0]] = f
    return torch.from_numpy(x), torch.tensor(lengths)


def train(ds: Dataset, cfg: dict, log=print) -> Classifier:
    """Class-balanced windows of the train split, AdamW with cosine decay; deterministic
    for a seed and thread count."""
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    by_class = labelled(ds, "train", cfg["min_frames"])
    present = [k for k in CLASSES if by_class[k]]
    if len(present) < 2:
        raise DataError(f"need train clips of at least two of {CLASSES}, have {present}")
    feats = {c.start: frame_features(ds.raw[c.start:c.start + c.frames]) for k in present for c in by_class[k]}
    # Note: features are computed per clip here and per window when scoring; they agree
    # except the yaw rate's central difference on a window's first and last frame.
    allf = np.concatenate([feats[c.start] for k in present for c in by_class[k]])
    mean, std = allf.mean(0), np.maximum(allf.std(0), 1e-2)
    for k in CLASSES:
        minutes = sum(c.frames for c in by_class[k]) / (60.0 * layout.FPS)
        log(f"train {k:6s} {len(by_class[k]):3d} clips {minutes:5.2f} min")
    net = Net(width=cfg["width"])
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(s, cfg["steps"]) / cfg["steps"])))
    lo = max(cfg["min_frames"], net.receptive_field)
    t0, run_loss, run_acc = time.time(), 0.0, 0.0
    net.train()
    for step in range(1, cfg["steps"] + 1):
        t = int(rng.integers(lo, cfg["frames"] + 1))
        wins, ys = [], []
        for _ in range(cfg["batch"]):
            k = present[int(rng.integers(len(present)))]
            clips = by_class[k]
            w = np.array([c.frames for c in clips], np.float64)
            c = clips[int(rng.choice(len(clips), p=w / w.sum()))]
            n = min(t, c.frames)
            s = int(rng.integers(0, c.frames - n + 1))
            f = (feats[c.start][s:s + n] - mean) / std
            wins.append(f + cfg["noise"] * rng.standard_normal(f.shape).astype(np.float32))
            ys.append(CLASSES.index(k))
        x, lengths = pad(wins)
        y = torch.tensor(ys)
        logits = net(x, lengths)
        loss = nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run_loss += float(loss)
        run_acc += float((logits.argmax(-1) == y).float().mean())
        if step % 250 == 0 or step == cfg["steps"]:
            n = 250 if step % 250 == 0 else step % 250
            log(f"step {step:5d} loss {run_loss / n:.3f} train-window acc {run_acc / n:.3f} "
                f"({time.time() - t0:.0f} s)")
            run_loss, run_acc = 0.0, 0.0
    return Classifier(net.eval(), mean, std, dict(cfg))


def confusion(y_true: Sequence[int], y_pred: Sequence[int]) -> np.ndarray:
    m = np.zeros((len(CLASSES), len(CLASSES)), np.int64)
    for a, b in zip(y_true, y_pred):
        m[a, b] += 1
    return m


def report(y_true: Sequence[int], probs: np.ndarray) -> dict:
    """Per-class accuracy (share of class-c rows predicted c; null where none), overall
    accuracy, mean over the classes present, and the confusion matrix (rows: true or
    prompted class, columns: predicted, both in `classes` order)."""
    pred = probs.argmax(-1) if len(probs) else np.zeros(0, np.int64)
    m = confusion(y_true, pred)
    per = {}
    for i, k in enumerate(CLASSES):
        n = int(m[i].sum())
        per[k] = {"n": n, "correct": int(m[i, i]), "accuracy": (float(m[i, i]) / n) if n else None}
    accs = [v["accuracy"] for v in per.values() if v["accuracy"] is not None]
    return {"classes": list(CLASSES), "samples": int(len(pred)),
            "overall_accuracy": float(np.trace(m) / max(1, m.sum())) if len(pred) else None,
            "mean_class_accuracy": float(np.mean(accs)) if accs else None,
            "per_class": per, "confusion": m.tolist(),
            "predictions": [CLASSES[int(p)] for p in pred]}


def heldout_report(clf: Classifier, ds: Dataset) -> dict:
    wins, labels, ids = heldout_windows(ds, clf.config["frames"], clf.config["min_frames"])
    rep = report(labels, clf.predict_features(wins))
    for i, k in enumerate(CLASSES):
        rep["per_class"][k]["takes"] = sorted({ids[j] for j in range(len(ids)) if labels[j] == i})
    del rep["predictions"]
    return rep


def format_report(rep: dict, title: str) -> str:
    lines = [title]
    for k in CLASSES:
        v = rep["per_class"][k]
        acc = "   -  " if v["accuracy"] is None else f"{100 * v['accuracy']:5.1f}%"
        extra = ""
        if "takes" in v:
            extra = f"  takes {','.join(v['takes'])}" if v["takes"] else "  (no held-out clip)"
        lines.append(f"  {k:6s} {acc}  {v['correct']:4d}/{v['n']:<4d}{extra}")
    if rep["overall_accuracy"] is not None:
        lines.append(f"  overall {100 * rep['overall_accuracy']:.1f}%  "
                     f"mean over classes present {100 * rep['mean_class_accuracy']:.1f}%")
    lines.append("  confusion (rows: true/prompted, columns: predicted)")
    lines.append("  " + " " * 7 + "".join(f"{k:>7s}" for k in CLASSES))
    for k, row in zip(CLASSES, rep["confusion"]):
        lines.append(f"  {k:6s} " + "".join(f"{v:7d}" for v in row))
    return "\n".join(lines)


def cache_key(data_dir: str, cfg: dict) -> str:
    sizes = {n: os.path.getsize(os.path.join(data_dir, n)) for n in ("features.npy", "clips.json")}
    blob = json.dumps({"version": VERSION, "sizes": sizes, "config": cfg}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def save(clf: Classifier, path: str, heldout: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save({"version": VERSION, "classes": CLASSES, "config": clf.config, "mean": clf.mean,
                "std": clf.std, "weights": clf.net.state_dict(), "heldout": heldout}, tmp)
    os.replace(tmp, path)


def load(path: str) -> Tuple[Classifier, dict]:
    state = torch.load(path)
    if state.get("version") != VERSION or state.get("classes") != CLASSES:
        raise ValueError(f"{path}: classifier of another version or class list")
    net = Net(width=state["config"]["width"])
    net.load_state_dict(state["weights"])
    return Classifier(net, state["mean"], state["std"], state["config"]), state["heldout"]


def get_classifier(data_dir: str, out_dir: str = DEFAULT_OUT, retrain: bool = False, log=print,
                   **overrides) -> Tuple[Classifier, dict, str]:
    """The cached classifier for this dataset and settings, trained first when missing
    (or when retrain): (classifier, held-out report, path of the cached file)."""
    cfg = dict(DEFAULTS, **overrides)
    path = os.path.join(out_dir, cache_key(data_dir, cfg), "classifier.pt")
    # Dataset's own normalisation is not used here (identity stats skip computing it).
    ds = Dataset(data_dir, stats=(np.zeros(layout.D, np.float32), np.ones(layout.D, np.float32)))
    if os.path.exists(path) and not retrain:
        clf, heldout = load(path)
        log(f"classifier: loaded {path}")
        return clf, heldout, path
    torch.set_num_threads(cfg["threads"])
    t0 = time.time()
    clf = train(ds, cfg, log)
    heldout = heldout_report(clf, ds)
    heldout["train_seconds"] = round(time.time() - t0, 1)
    save(clf, path, heldout)
    log(f"classifier: trained in {time.time() - t0:.0f} s, saved {path}")
    return clf, heldout, path


def load_generated(gen_dir: str) -> Tuple[np.ndarray, List[int]]:
    feats = np.load(os.path.join(gen_dir, "features.npy"))
    with open(os.path.join(gen_dir, "labels.json"), encoding="utf-8") as f:
        labels = json.load(f)
    if feats.ndim != 3 or feats.shape[2] != layout.D:
        raise ValueError(f"generated features.npy must be [M, T, {layout.D}], got {feats.shape}")
    if not isinstance(labels, list) or len(labels) != feats.shape[0]:
        raise ValueError(f"labels.json must be a list of {feats.shape[0]} class names")
    bad = sorted({str(k) for k in labels if k not in CLASSES})
    if bad:
        raise ValueError(f"labels.json names classes {bad}; the classifier knows {CLASSES}")
    if not np.all(np.isfinite(feats)):
        raise ValueError("generated features.npy holds NaN or Inf")
    return feats, [CLASSES.index(k) for k in labels]


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description="action classifier: held-out accuracy and scoring of generated motion")
    p.add_argument("--data", default="training/data")
    p.add_argument("--generated", help="folder with features.npy [M,T,273] (raw) and labels.json")
    p.add_argument("--json", help="write the report(s) as JSON here")
    p.add_argument("--out", default=DEFAULT_OUT, help="cache folder for trained classifiers")
    p.add_argument("--retrain", action="store_true", help="train even when a cached classifier exists")
    for k in ("steps", "batch", "width", "frames", "min_frames", "seed", "threads"):
        p.add_argument("--" + k.replace("_", "-"), type=int, default=DEFAULTS[k])
    a = p.parse_args(argv)
    over = {k: getattr(a, k) for k in ("steps", "batch", "width", "frames", "min_frames", "seed", "threads")}
    clf, heldout, path = get_classifier(a.data, a.out, a.retrain, **over)
    torch.set_num_threads(a.threads)
    print(format_report(heldout, f"held-out real windows (test split; {clf.config['frames']} frames "
                                 f"or the whole clip, every 30 frames):"))
    out = {"classifier": {"path": path, "config": clf.config, "heldout": heldout}}
    if a.generated:
        raw, labels = load_generated(a.generated)
        rep = report(labels, clf.predict_raw(raw))
        rep["frames"] = int(raw.shape[1])
        print(format_report(rep, f"generated samples ({a.generated}, {raw.shape[0]} x {raw.shape[1]} frames):"))
        out["generated"] = rep
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
