"""Action classifier over the dataset's classes: how recognisable motion is, per class.

The issue asks for "per action class an action classifier's accuracy on generated
motion", with its accuracy on held-out real motion next to it. This trains a small
multi-label classifier on real train takes, reports it on the held-out (test) takes,
and scores a set of generated samples.

Classes. The dataset's own list: clips.json "vocabulary_classes" (CMU: 19, walk ...
gesture), else the train split's classes by frequency (data.Dataset.classes). The
list is saved with the classifier and part of its cache key; loading a classifier
whose list differs from the dataset's, or scoring samples labelled with a class it
does not know, is an error (ValueError), never a silent re-mapping.

Input. Per frame, 137 features that do not depend on where the body stands or which
way it faces, computed from the raw 273 (so no canonicalisation or yaw augmentation
is needed, and a generated sample's start point and facing cannot matter): the 22
joint positions relative to the Hips in the body's heading frame (the hip vector
RightLeg - LeftLeg turned onto +x; heights absolute), the 22 joint velocities of the
`velocities` block in the same frame, the 4 foot contacts, and the yaw rate of the hip
vector (rad/s). The absolute smooth-root channels are not used (the model's are
jittery); rotations are not used (positions carry the pose). Normalised with the
mean/std of these features over the train frames of the takes used.

Network. Three valid 1D convolutions (kernel 5, dilations 1, 2, 4, width 128, ReLU:
a receptive field of 29 frames, about 1 s), dropout 0.3, a per-frame linear layer to
one logit per class, pooled over the window's frames by log-mean-exp: a class scores
high when it shows somewhere in the window (a kick in 1 s of 4), and a window's
length is no cue (a constant logit pools to itself). Probabilities are per-class
sigmoids (multi-label: a walk that turns may be both); the window's predicted class is
the most probable one.

Labels (a take's classes are the vocabulary classes of its captions; takes with none
are left out: "runningwideright", "360", "story" name no class but are not negatives):
  - a take of one class: windows of 30-120 frames (the whole take when shorter), that
    class 1 and every other 0;
  - a take of several classes no longer than bag_frames (8 s): the whole take, each of
    its classes 1 (a short "sit down and get up" shows both), the others 0;
  - a longer take of several classes ("walk and turn (repeated)", 40 s): windows as
    for one class, the other classes 0, and of its own classes only "at least one of
    them shows" (loss -log(1 - prod(1 - p_k))): a window of it may show just one;
  - in a take of several classes, the background class (--background, walk) is left
    out of both: unlabelled, and not one of those that may show. Walk is in 270 of
    the 440 labelled train minutes and in most multi-class takes (turn 104 of 244,
    climb 44 of 54, walk_backward 18 of 74), and "at least one shows" was met by the
    walk: stairs read as walks, turns as walks. Since 2026-12-08 (VERSION 3), in the
    cross-validation below, on the takes' passing best windows: 47.5 -> 56.6 % over the
    classes; climb 14 -> 68, turn 16 -> 49, crouch 8 -> 42, walk_backward 70 -> 97,
    pick_up 70 -> 88, get_up 64 -> 75, fall 20 -> 30; walk 91 -> 74 (a walk with a turn in it
    may now read as the turn), stand_up 42 -> 33; wave 0 either way (4 train takes);
    on windows of single-class held-out takes 57.7 -> 55.7 % (walk 88 -> 82, fall
    55 -> 0 on its two single-class takes).
Training draws the class uniformly among those with train takes, then a take that
has it in proportion to its frames, then a window: the classes are balanced although
walk has 270 of the 440 labelled train minutes. 3000 AdamW steps of 64 windows with
Gaussian noise (0.2 of a standard deviation) on the normalised input.
Width 128 and 3000 steps since 2026-12-07 (before: 64 and 1500): in 4-fold
cross-validation on the train takes (of the dataset that counts six throwing takes as
sports, bundle 2.3.0's) the mean class accuracy went from 50.2 to 57.7 %
(stand_up 28 -> 67, fall 0 -> 55, gesture 4 -> 26, dance 77 -> 86; climb 65 -> 53,
pick_up 62 -> 52, get_up 93 -> 87; crouch and wave 0 either way).

Settings beyond the defaults (part of the cache key): --dilations (e.g. 1,2,4,8: a
receptive field of 61 frames, 2 s; windows shorter than it are held on their last
frame) and --stretch S (each training window shows its take played at a speed drawn
log-uniformly in [e^-S, e^S], velocities scaled to match).

Cross-validation (--cv K): the test split has one or two takes of several classes, too
few to judge a change of the classifier by; --cv trains K classifiers on the train
split, each with a K-th of its takes (a take and its mirror together) held out, and
pools the held-out measures below over the folds, plus (with the dataset's windows.json,
which `make dataset` writes: each train clip's best 4 s window for each of its
classes' physical checks) how many held-out takes' passing best windows read as their
class — the real reference of make model-eval's "both", on about 14 times as many
takes as the test split has. It never reads the test split or generated samples.
On 2.3.0's dataset (2026-12-07, VERSION 2's defaults): 47.5 % over the classes; 80 %
or more only for walk (91) and run (85), then jump 77, dance 74, pick_up and
walk_backward 70; wave 0, crouch 8, climb 14, turn 16, gesture 18, fall 20. With walk
as the background class (VERSION 3, 2026-12-08): 56.6 %; 80 % or more for
walk_backward (97), run and pick_up (88); jump 79, dance 78, get_up 75, walk 74, climb
68, sit 64, sports 60, push 50, turn 49, crouch 42, punch 41, kick 39, stand_up 33,
fall 30, gesture 20, wave 0. Where real motion does not
read as its class, generated motion cannot be expected to either. Drawing the
training windows inside those best windows (a long kick take is mostly standing) was
tried: 48.0 % on best windows, 50.1 % (from 57.7) on all windows; not kept.

Held-out report (test split; windows of 120 frames, or the whole take when shorter,
every 30 frames; mirrored copies count as takes):
  - per class: accuracy (the most probable class is c) and detection (p_c >= 0.5) on
    the windows of takes whose only class is c: the same measure as on generated
    samples, which are prompted with one class; a confusion matrix of them;
  - per class, over every test take that has c (also with others): in how many
    some window's most probable class is c (takes_found), since kick, climb, fall and
    get_up have no single-class test take;
  - over the windows of multi-class takes: the share whose most probable class is one
    of the take's (multi_in_take).
The test split has few takes of some classes (run 18, wave 2, sit 4 with mirrors):
say so when quoting these figures.

  /usr/bin/python3 training/classify.py --data training/data                       # held-out report
  /usr/bin/python3 training/classify.py --data training/data --generated DIR --json OUT.json

DIR holds features.npy float32 [M, T, 273] (raw, denormalised, T >= 29, normally 120)
and labels.json (a list of M class names: the class each sample was prompted with,
each one of the classifier's classes), and may hold lengths.json: a list of M frame
counts (2..T), each row's motion its first n frames, the rest not read (evaluate's
real/: held-out takes shorter than 120 frames, scored whole as the held-out report
scores them). The trained classifier is cached under
training/runs/classifier/<key>/ where key hashes the dataset file sizes, its class
list and the training settings; --retrain trains again; --classifier FILE uses a
given one (its class list must be the dataset's).
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import math
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

VERSION = 3  # bump when the features, network or training change: part of the cache key
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "classifier")
DETECT = 0.5  # a class is detected in a window when its probability reaches this

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
    """Valid dilated 1D convolutions, a per-frame linear layer to one logit per class,
    log-mean-exp over the valid output frames."""

    def __init__(self, n_classes: int, n_in: int = N_FEATURES, width: int = 64, kernel: int = 5,
                 dilations: Sequence[int] = (1, 2, 4), dropout: float = 0.3) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        c = n_in
        for d in dilations:
            layers += [nn.Conv1d(c, width, kernel, dilation=d), nn.ReLU()]
            c = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Conv1d(width, n_classes, 1))
        self.receptive_field = 1 + (kernel - 1) * sum(dilations)

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x [B, T, F] (zero-padded after each sample's length) -> logits [B, classes]."""
        z = self.head(self.body(x.transpose(1, 2)))  # [B, classes, T - rf + 1]
        n = z.shape[-1]
        if lengths is None:
            return torch.logsumexp(z, -1) - math.log(n)
        valid = (lengths[:, None] - self.receptive_field + 1).clamp(min=1)
        keep = torch.arange(n)[None] < valid  # [B, T']
        z = z.masked_fill(~keep[:, None], float("-inf"))
        return torch.logsumexp(z, -1) - torch.log(valid.float())


DEFAULTS = dict(steps=3000, batch=64, lr=2e-3, weight_decay=0.01, width=128, frames=120, min_frames=30,
                bag_frames=240, noise=0.2, seed=0, threads=2, dilations="1,2,4", stretch=0.0, background="walk")

# Where a train clip shows each of its classes: its best 4 s window for the class's
# physical check (go run ./training/cmd/evaluate -train-windows; make dataset writes it).
WINDOWS = "windows.json"


def load_windows(data_dir: str) -> Dict[Tuple[int, str], Tuple[int, int]]:
    """(clip's first row, class) -> (start in the clip, frames) of the clip's best window
    for the class's check, where that window passes it; {} without the file."""
    path = os.path.join(data_dir, WINDOWS)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    return {(int(r["row"]), r["class"]): (int(r["start"]), int(r["frames"])) for r in rows if r["physical_pass"]}


def dilations_of(cfg: dict) -> Tuple[int, ...]:
    """The network's dilations from a config ("1,2,4"; older configs have none)."""
    return tuple(int(d) for d in str(cfg.get("dilations", "1,2,4")).split(","))


def stretch_window(f: np.ndarray, n: int, m: int) -> np.ndarray:
    """Frame features f [m, F] played in n frames (linear interpolation): the motion
    (m-1)/(n-1) times as fast, so the velocity block and the yaw rate scale by that
    and contacts stay 0/1."""
    if m == n or n < 2:
        return f
    x = np.linspace(0.0, m - 1.0, n)
    i0 = np.floor(x).astype(np.int64)
    i1 = np.minimum(i0 + 1, m - 1)
    w = (x - i0)[:, None].astype(np.float32)
    out = f[i0] * (1 - w) + f[i1] * w
    j = 3 * layout.J
    speed = (m - 1) / (n - 1)
    out[:, j:2 * j] *= speed
    out[:, -1] *= speed
    out[:, 2 * j:2 * j + 4] = np.round(out[:, 2 * j:2 * j + 4])
    return out


def dataset_classes(ds: Dataset) -> List[str]:
    """The classifier's classes for a dataset: its vocabulary_classes (else the train
    split's classes by frequency)."""
    classes = ds.classes()
    if len(classes) < 2:
        raise DataError(f"the dataset names {len(classes)} classes (clips.json vocabulary_classes); need two")
    return classes


def take_classes(clip: Clip, classes: Sequence[str]) -> List[str]:
    """The take's classes that are among `classes`, in that order."""
    return [k for k in classes if k in clip.classes]


# How a take is used in training (see the module docstring).
SINGLE, BAG, LONG = "single", "bag", "long"


def take_kind(n_classes: int, frames: int, bag_frames: int) -> str:
    if n_classes == 1:
        return SINGLE
    return BAG if frames <= bag_frames else LONG


def targets(ks: Sequence[int], kind: str, n: int, background: Optional[int] = None
            ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a window of a take with class indices ks: (target [n], known [n], any [n]).
    known marks the entries the BCE loss sees (target 1 or 0); any marks the classes
    of which at least one shows (a long multi-class take's window), not seen by BCE.
    The background class (walk), in a take of several classes, is neither: a walk
    that climbs stairs or turns is taught as the climb or the turn, and "at least one
    shows" is not met by the walk alone."""
    y, known, anyk = np.zeros(n, np.float32), np.ones(n, np.float32), np.zeros(n, np.float32)
    y[list(ks)] = 1.0
    if kind == LONG:
        known[list(ks)] = 0.0
        anyk[list(ks)] = 1.0
        y[list(ks)] = 0.0
    if background is not None and len(ks) > 1 and background in ks:
        y[background], known[background], anyk[background] = 0.0, 0.0, 0.0
    return y, known, anyk


def loss_fn(logits: torch.Tensor, y: torch.Tensor, known: torch.Tensor, anyk: torch.Tensor) -> torch.Tensor:
    """Per-class BCE on the known entries plus -log P(at least one of `any` shows),
    summed per window, divided by the number of classes, mean over windows."""
    bce = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    per = (bce * known).sum(-1)
    has_any = anyk.sum(-1) > 0
    if bool(has_any.any()):
        # log prod_k (1 - p_k) = sum_k logsigmoid(-z_k); -log(1 - exp(s)), s <= 0
        s = (nn.functional.logsigmoid(-logits) * anyk).sum(-1).clamp(max=-1e-6)
        per = per + torch.where(has_any, -torch.log(-torch.expm1(s)), torch.zeros_like(s))
    return (per / logits.shape[-1]).mean()


class Classifier:
    """The trained network plus its feature normalisation and class list."""

    def __init__(self, net: Net, mean: np.ndarray, std: np.ndarray, classes: Sequence[str], config: dict) -> None:
        self.net, self.config = net.eval(), config
        self.mean, self.std = mean.astype(np.float32), std.astype(np.float32)
        self.classes = list(classes)

    @torch.no_grad()
    def predict_features(self, feats: Sequence[np.ndarray], batch: int = 256) -> np.ndarray:
        """Per-frame features (list of [T_i, F]) -> class probabilities [N, classes]
        (independent sigmoids)."""
        self.net.eval()
        out = []
        for i in range(0, len(feats), batch):
            if min(len(f) for f in feats[i:i + batch]) < 2:
                raise ValueError("windows need at least 2 frames")
            x, lengths = pad([fit((f - self.mean) / self.std, self.net.receptive_field) for f in feats[i:i + batch]])
            out.append(torch.sigmoid(self.net(x, lengths)).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), np.float32)

    def predict_raw(self, raw: np.ndarray, lengths: Optional[Sequence[int]] = None, batch: int = 256) -> np.ndarray:
        """Raw features [M, T, 273] -> class probabilities [M, classes]; lengths, when
        given, the frames of each row that are motion (the rest is not read)."""
        if lengths is not None:
            t = raw.shape[1]
            return self.predict_windows(raw.reshape(-1, raw.shape[-1]), [(i * t, int(n)) for i, n in enumerate(lengths)],
                                        batch)
        return np.concatenate([self.predict_features(list(frame_features(raw[i:i + batch])))
                               for i in range(0, len(raw), batch)] or [np.zeros((0, len(self.classes)))])

    def predict_windows(self, raw: np.ndarray, spans: Sequence[Tuple[int, int]], batch: int = 256) -> np.ndarray:
        """Windows raw[s:s+n] of a dataset's rows, (s, n) in spans -> probabilities,
        a batch of features at a time."""
        out = [self.predict_features([frame_features(raw[s:s + n]) for s, n in spans[i:i + batch]], batch)
               for i in range(0, len(spans), batch)]
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), np.float32)


def fit(f: np.ndarray, frames: int) -> np.ndarray:
    """A window shorter than frames (the network's receptive field) held on its last
    frame to that length; longer ones as they are."""
    return f if len(f) >= frames else np.pad(f, ((0, frames - len(f)), (0, 0)), mode="edge")


def pad(feats: Sequence[np.ndarray]) -> Tuple[torch.Tensor, torch.Tensor]:
    lengths = [f.shape[0] for f in feats]
    x = np.zeros((len(feats), max(lengths), feats[0].shape[1]), np.float32)
    for i, f in enumerate(feats):
        x[i, :f.shape[0]] = f
    return torch.from_numpy(x), torch.tensor(lengths)


def train_takes(ds: Dataset, classes: Sequence[str], min_frames: int) -> List[Tuple[Clip, List[int]]]:
    """The train takes with at least one of the classes and min_frames frames, with
    their class indices."""
    out = []
    for c in ds.split("train"):
        ks = [classes.index(k) for k in take_classes(c, classes)]
        if ks and c.frames >= min_frames:
            out.append((c, ks))
    return out


def train(ds: Dataset, classes: Sequence[str], cfg: dict, log=print) -> Classifier:
    """Class-balanced windows of the train split (module docstring), AdamW with cosine
    decay; deterministic for a seed and thread count."""
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    classes = list(classes)
    takes = train_takes(ds, classes, cfg["min_frames"])
    by_class: Dict[int, List[int]] = {i: [] for i in range(len(classes))}
    for j, (_, ks) in enumerate(takes):
        for i in ks:
            by_class[i].append(j)
    present = [i for i in range(len(classes)) if by_class[i]]
    if len(present) < 2:
        raise DataError(f"need train takes of at least two of {classes}, have {[classes[i] for i in present]}")
    # Per-take features, kept in numpy (CMU: 0.8 M frames, 0.4 GB); batches are sliced from them.
    feats: List[np.ndarray] = []
    total, sq, n = np.zeros(N_FEATURES), np.zeros(N_FEATURES), 0
    for c, _ in takes:
        f = frame_features(ds.raw[c.start:c.start + c.frames])
        feats.append(f)
        total += f.sum(0, dtype=np.float64)
        sq += np.square(f, dtype=np.float64).sum(0)
        n += len(f)
    mean = total / n
    std = np.maximum(np.sqrt(np.maximum(sq / n - mean ** 2, 0.0)), 1e-2)
    mean, std = mean.astype(np.float32), std.astype(np.float32)
    kinds = [take_kind(len(ks), c.frames, cfg["bag_frames"]) for c, ks in takes]
    for i, k in enumerate(classes):
        js = by_class[i]
        minutes = sum(takes[j][0].frames for j in js) / (60.0 * layout.FPS)
        counts = {kd: sum(kinds[j] == kd for j in js) for kd in (SINGLE, BAG, LONG)}
        log(f"train {k:13s} {len(js):4d} takes ({counts[SINGLE]} single, {counts[BAG]} short multi, "
            f"{counts[LONG]} long multi) {minutes:6.2f} min")
    background = classes.index(cfg["background"]) if cfg.get("background") in classes else None
    weights = {i: np.array([takes[j][0].frames for j in by_class[i]], np.float64) for i in present}
    weights = {i: w / w.sum() for i, w in weights.items()}
    net = Net(len(classes), width=cfg["width"], dilations=dilations_of(cfg))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(s, cfg["steps"]) / cfg["steps"])))
    lo = max(cfg["min_frames"], net.receptive_field)
    t0, run_loss, run_acc = time.time(), 0.0, 0.0
    net.train()
    for step in range(1, cfg["steps"] + 1):
        t = int(rng.integers(lo, max(lo, cfg["frames"]) + 1))  # a receptive field longer than frames sets the length
        groups: Dict[bool, list] = {False: [], True: []}  # windows of <= t frames; whole short takes
        for _ in range(cfg["batch"]):
            i = present[int(rng.integers(len(present)))]
            j = by_class[i][int(rng.choice(len(by_class[i]), p=weights[i]))]
            c, ks = takes[j]
            bag = kinds[j] == BAG
            n = c.frames if bag else min(t, c.frames)
            # Time-stretch: the window shows m frames of the take at m/n speed.
            r = math.exp(rng.uniform(-cfg["stretch"], cfg["stretch"])) if cfg["stretch"] > 0 else 1.0
            m = max(2, min(c.frames, int(round(n * r)))) if not bag else n
            s = int(rng.integers(0, c.frames - m + 1))
            f = (stretch_window(feats[j][s:s + m], n, m) - mean) / std
            f = f + cfg["noise"] * rng.standard_normal(f.shape).astype(np.float32)
            groups[bag].append((fit(f, net.receptive_field), targets(ks, kinds[j], len(classes), background)))
        loss, hits, rows = 0.0, 0.0, 0
        opt.zero_grad()
        for g in groups.values():
            if not g:
                continue
            x, lengths = pad([f for f, _ in g])
            y, known, anyk = (torch.from_numpy(np.stack(v)) for v in zip(*[tg for _, tg in g]))
            logits = net(x, lengths)
            part = loss_fn(logits, y, known, anyk) * (len(g) / cfg["batch"])
            part.backward()
            loss += float(part)
            top = logits.argmax(-1)
            hits += float(((y + anyk).gather(1, top[:, None]) > 0).sum())
            rows += len(g)
        opt.step()
        sched.step()
        run_loss += loss
        run_acc += hits / rows
        if step % 250 == 0 or step == cfg["steps"]:
            n = 250 if step % 250 == 0 else step % 250
            log(f"step {step:5d} loss {run_loss / n:.4f} train-window top-1 in take {run_acc / n:.3f} "
                f"({time.time() - t0:.0f} s)")
            run_loss, run_acc = 0.0, 0.0
    return Classifier(net.eval(), mean, std, classes, dict(cfg))


def confusion(y_true: Sequence[int], y_pred: Sequence[int], n: int) -> np.ndarray:
    m = np.zeros((n, n), np.int64)
    for a, b in zip(y_true, y_pred):
        m[a, b] += 1
    return m


def report(y_true: Sequence[int], probs: np.ndarray, classes: Sequence[str]) -> dict:
    """Per class c over the rows labelled c: accuracy (share whose most probable class
    is c; null where none) and detected (share with p_c >= DETECT); overall accuracy,
    mean over the classes present, and the confusion matrix (rows: true or prompted
    class, columns: most probable, both in `classes` order)."""
    classes = list(classes)
    y_true = np.asarray(y_true, np.int64)
    pred = probs.argmax(-1) if len(probs) else np.zeros(0, np.int64)
    m = confusion(y_true, pred, len(classes))
    per = {}
    for i, k in enumerate(classes):
        rows = y_true == i
        n = int(rows.sum())
        per[k] = {"n": n, "correct": int(m[i, i]), "accuracy": (float(m[i, i]) / n) if n else None,
                  "detected": float((probs[rows, i] >= DETECT).mean()) if n else None}
    accs = [v["accuracy"] for v in per.values() if v["accuracy"] is not None]
    return {"classes": classes, "samples": int(len(pred)),
            "overall_accuracy": float(np.trace(m) / max(1, m.sum())) if len(pred) else None,
            "mean_class_accuracy": float(np.mean(accs)) if accs else None,
            "per_class": per, "confusion": m.tolist(),
            "predictions": [classes[int(p)] for p in pred]}


def heldout_spans(ds: Dataset, classes: Sequence[str], frames: int, min_frames: int, stride: int = 30,
                  split: str = "test") -> List[Tuple[Clip, List[int], List[Tuple[int, int]]]]:
    """Per take of the split with at least one of the classes and min_frames frames:
    (take, class indices, windows (row, frames)): every `stride` frames a window of
    `frames` (the whole take when shorter)."""
    out = []
    for c in ds.split(split):
        ks = [list(classes).index(k) for k in take_classes(c, classes)]
        if not ks or c.frames < min_frames:
            continue
        t = min(frames, c.frames)
        out.append((c, ks, [(c.start + s, t) for s in range(0, c.frames - t + 1, stride)]))
    return out


def heldout_report(clf: Classifier, ds: Dataset, stride: int = 30) -> dict:
    """The classifier on the test split's real takes (module docstring)."""
    classes = clf.classes
    takes = heldout_spans(ds, classes, clf.config["frames"], clf.config["min_frames"], stride)
    spans = [w for _, _, ws in takes for w in ws]
    probs = clf.predict_windows(ds.raw, spans)
    single_y, single_p, multi_hits, multi_n = [], [], 0, 0
    found = {k: [] for k in classes}
    row = 0
    for c, ks, ws in takes:
        p = probs[row:row + len(ws)]
        row += len(ws)
        top = p.argmax(-1)
        if len(ks) == 1:
            single_y += [ks[0]] * len(ws)
            single_p.append(p)
        else:
            multi_hits += int(np.isin(top, ks).sum())
            multi_n += len(ws)
        for i in ks:
            found[classes[i]].append((c.id, bool((top == i).any())))
    rep = report(single_y, np.concatenate(single_p) if single_p else np.zeros((0, len(classes))), classes)
    del rep["predictions"]
    for k in classes:
        v = rep["per_class"][k]
        v["takes"] = sorted({i for i, _ in found[k]})
        v["single_takes"] = sorted({c.id for c, ks, _ in takes if ks == [classes.index(k)]})
        v["take_count"] = len(found[k])
        v["takes_found"] = sum(f for _, f in found[k])
    rep["multi_windows"] = multi_n
    rep["multi_in_take"] = (multi_hits / multi_n) if multi_n else None
    rep["stride"] = stride
    return rep


def _pct(x: Optional[float]) -> str:
    return "    -  " if x is None else f"{100 * x:5.1f}% "


def format_report(rep: dict, title: str) -> str:
    classes = rep["classes"]
    lines = [title, "  class          accuracy  (windows)  detected" + ("  takes found" if "take_count" in
                                                                    rep["per_class"][classes[0]] else "")]
    for k in classes:
        v = rep["per_class"][k]
        extra = ""
        if "take_count" in v:
            extra = f"  {v['takes_found']:3d}/{v['take_count']:<3d}" if v["take_count"] else "  no test take"
        lines.append(f"  {k:13s}  {_pct(v['accuracy'])}  {v['correct']:4d}/{v['n']:<4d}  {_pct(v['detected'])}{extra}")
    if rep["overall_accuracy"] is not None:
        lines.append(f"  overall {100 * rep['overall_accuracy']:.1f}%  "
                     f"mean over classes present {100 * rep['mean_class_accuracy']:.1f}%")
    if rep.get("multi_in_take") is not None:
        lines.append(f"  windows of multi-class takes whose most probable class is one of the take's: "
                     f"{100 * rep['multi_in_take']:.1f}% of {rep['multi_windows']}")
    lines.append("  confusion (rows: true/prompted, columns: most probable)")
    lines.append("  " + " " * 14 + "".join(f"{k[:5]:>6s}" for k in classes))
    for k, row in zip(classes, rep["confusion"]):
        if sum(row):
            lines.append(f"  {k:13s} " + "".join(f"{v:6d}" for v in row))
    return "\n".join(lines)


def compare(heldout: dict, generated: dict) -> Dict[str, dict]:
    """Per class prompted in `generated`: its accuracy and detection next to the real
    held-out ones (windows of single-class test takes) and the real takes found."""
    out = {}
    for k, g in generated["per_class"].items():
        if not g["n"]:
            continue
        r = heldout["per_class"][k]
        out[k] = {"generated_n": g["n"], "generated_accuracy": g["accuracy"], "generated_detected": g["detected"],
                  "real_n": r["n"], "real_accuracy": r["accuracy"], "real_detected": r["detected"],
                  "real_take_count": r["take_count"], "real_takes_found": r["takes_found"]}
    return out


def format_compare(cmp: Dict[str, dict]) -> str:
    lines = ["real held-out vs generated, per prompted class (accuracy: most probable class; "
             "detected: p >= 0.5)",
             "  class          real acc  (windows) real det  takes found | gen acc (samples) gen det"]
    for k, v in cmp.items():
        lines.append(f"  {k:13s}  {_pct(v['real_accuracy'])} {v['real_n']:5d}     {_pct(v['real_detected'])} "
                     f"{v['real_takes_found']:4d}/{v['real_take_count']:<4d}  | {_pct(v['generated_accuracy'])} "
                     f"{v['generated_n']:4d}     {_pct(v['generated_detected'])}")
    return "\n".join(lines)


def cache_key(data_dir: str, classes: Sequence[str], cfg: dict) -> str:
    sizes = {n: os.path.getsize(os.path.join(data_dir, n)) for n in ("features.npy", "clips.json")}
    blob = json.dumps({"version": VERSION, "sizes": sizes, "classes": list(classes), "config": cfg}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def save(clf: Classifier, path: str, heldout: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save({"version": VERSION, "classes": clf.classes, "config": clf.config, "mean": clf.mean,
                "std": clf.std, "weights": clf.net.state_dict(), "heldout": heldout}, tmp)
    os.replace(tmp, path)


def load(path: str, classes: Optional[Sequence[str]] = None) -> Tuple[Classifier, dict]:
    """A saved classifier and its held-out report; with classes, its class list must
    be exactly these (same names, same order), else ValueError."""
    state = torch.load(path, weights_only=False)
    if state.get("version") != VERSION:
        raise ValueError(f"{path}: classifier version {state.get('version')}, this code is version {VERSION}; "
                         f"train it again (--retrain)")
    if classes is not None and list(state["classes"]) != list(classes):
        raise ValueError(f"{path}: classifier trained on the classes {state['classes']}, but the dataset has "
                         f"{list(classes)}; train one for this dataset (drop --classifier, or --retrain)")
    net = Net(len(state["classes"]), width=state["config"]["width"], dilations=dilations_of(state["config"]))
    net.load_state_dict(state["weights"])
    return Classifier(net, state["mean"], state["std"], state["classes"], state["config"]), state["heldout"]


def open_dataset(data_dir: str) -> Dataset:
    # The Dataset's own normalisation is not used here (identity stats skip computing it).
    return Dataset(data_dir, stats=(np.zeros(layout.D, np.float32), np.ones(layout.D, np.float32)))


def get_classifier(data_dir: str, out_dir: str = DEFAULT_OUT, retrain: bool = False, log=print,
                   classifier: Optional[str] = None, **overrides) -> Tuple[Classifier, dict, str]:
    """The cached classifier for this dataset, its classes and settings, trained first
    when missing (or when retrain): (classifier, held-out report, path of the file).
    classifier: use this file instead (never trained; its classes must be the dataset's)."""
    cfg = dict(DEFAULTS, **overrides)
    ds = open_dataset(data_dir)
    classes = dataset_classes(ds)
    if classifier:
        clf, heldout = load(classifier, classes)
        log(f"classifier: loaded {classifier}")
        return clf, heldout, classifier
    path = os.path.join(out_dir, cache_key(data_dir, classes, cfg), "classifier.pt")
    if os.path.exists(path) and not retrain:
        clf, heldout = load(path, classes)
        log(f"classifier: loaded {path}")
        return clf, heldout, path
    torch.set_num_threads(cfg["threads"])
    t0 = time.time()
    clf = train(ds, classes, cfg, log)
    train_s = time.time() - t0
    heldout = heldout_report(clf, ds)
    heldout["train_seconds"] = round(train_s, 1)
    heldout["heldout_seconds"] = round(time.time() - t0 - train_s, 1)
    save(clf, path, heldout)
    log(f"classifier: trained in {train_s:.0f} s (held-out report {time.time() - t0 - train_s:.0f} s), saved {path}")
    return clf, heldout, path


def load_generated(gen_dir: str, classes: Sequence[str]) -> Tuple[np.ndarray, List[int], Optional[List[int]]]:
    """features.npy, the label indices and lengths.json's frame counts (None without it)."""
    feats = np.load(os.path.join(gen_dir, "features.npy"))
    with open(os.path.join(gen_dir, "labels.json"), encoding="utf-8") as f:
        labels = json.load(f)
    if feats.ndim != 3 or feats.shape[2] != layout.D:
        raise ValueError(f"generated features.npy must be [M, T, {layout.D}], got {feats.shape}")
    if not isinstance(labels, list) or len(labels) != feats.shape[0]:
        raise ValueError(f"labels.json must be a list of {feats.shape[0]} class names")
    bad = sorted({str(k) for k in labels if k not in classes})
    if bad:
        raise ValueError(f"labels.json names classes {bad}; the classifier knows {list(classes)}")
    if not np.all(np.isfinite(feats)):
        raise ValueError("generated features.npy holds NaN or Inf")
    lengths = None
    path = os.path.join(gen_dir, "lengths.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            lengths = json.load(f)
        m, t = feats.shape[:2]
        if not isinstance(lengths, list) or len(lengths) != m or \
                not all(type(n) is int and 2 <= n <= t for n in lengths):
            raise ValueError(f"lengths.json must be a list of {m} frame counts from 2 to {t}")
    return feats, [list(classes).index(k) for k in labels], lengths


SETTINGS = ("steps", "batch", "width", "frames", "min_frames", "bag_frames", "seed", "threads")
FLOAT_SETTINGS = ("stretch",)


def best_windows_read(clf: Classifier, ds: Dataset, split: str,
                      windows: Dict[Tuple[int, str], Tuple[int, int]]) -> Dict[str, Tuple[int, int]]:
    """Per class: (takes of the split whose best window for the class's check passes,
    how many of those windows read as the class) — "both real" of make model-eval."""
    rows = {c.start for c in ds.split(split)}
    keys = [(r, k) for (r, k) in windows if r in rows and k in clf.classes]
    probs = clf.predict_windows(ds.raw, [(r + windows[(r, k)][0], windows[(r, k)][1]) for r, k in keys])
    out = {k: [0, 0] for k in clf.classes}
    for (r, k), p in zip(keys, probs):
        out[k][0] += 1
        out[k][1] += int(clf.classes[int(p.argmax())] == k)
    return {k: (n, hit) for k, (n, hit) in out.items()}


def cv_report(ds: Dataset, classes: Sequence[str], cfg: dict, folds: int, log=print,
              windows: Optional[Dict[Tuple[int, str], Tuple[int, int]]] = None) -> dict:
    """Cross-validation on the train split, by take: each fold's takes (a take and its
    mirror together) held out in turn, a classifier trained on the others, and the
    held-out measures (heldout_report) pooled over the folds; with windows
    (load_windows), also how many held-out takes' passing best windows read as their
    class (best_n, best_correct: the bar's real reference). Far more held-out takes
    per class than the test split has (stand_up 2, punch 1, wave 1), so it is what a
    change of the classifier is judged by; the test split is never used."""
    classes = list(classes)
    windows = windows or {}
    pooled = {k: {"n": 0, "correct": 0, "take_count": 0, "takes_found": 0, "best_n": 0, "best_correct": 0}
              for k in classes}

    def fold(i: str) -> int:
        return int(hashlib.sha256(("classify-cv/" + i).encode()).hexdigest()[:8], 16) % folds

    for f in range(folds):
        view = copy.copy(ds)
        view.clips = [dataclasses.replace(c, split="test" if fold(c.id) == f else "train")
                      for c in ds.clips if c.split == "train"]
        clf = train(view, classes, cfg, log=lambda *a: None)
        rep = heldout_report(clf, view)
        best = best_windows_read(clf, view, "test", windows)
        for k in classes:
            v, o = rep["per_class"][k], pooled[k]
            for key in ("n", "correct", "take_count", "takes_found"):
                o[key] += v[key]
            o["best_n"] += best[k][0]
            o["best_correct"] += best[k][1]
        log(f"fold {f + 1}/{folds}: mean class accuracy {100 * (rep['mean_class_accuracy'] or 0):.1f}%")
    for v in pooled.values():
        v["accuracy"] = v["correct"] / v["n"] if v["n"] else None
        v["best_accuracy"] = v["best_correct"] / v["best_n"] if v["best_n"] else None
    accs = [v["accuracy"] for v in pooled.values() if v["accuracy"] is not None]
    bests = [v["best_accuracy"] for v in pooled.values() if v["best_accuracy"] is not None]
    return {"folds": folds, "config": dict(cfg), "per_class": pooled,
            "mean_class_accuracy": float(np.mean(accs)) if accs else None,
            "mean_best_accuracy": float(np.mean(bests)) if bests else None}


def format_cv(rep: dict) -> str:
    lines = [f"cross-validation on the train split ({rep['folds']} folds by take): accuracy on windows of "
             f"single-class held-out takes, takes where some window reads as the class, and held-out "
             f"takes' passing best windows (the check's) that read as the class",
             "  class          accuracy  (windows)  takes found  best windows"]
    for k, v in rep["per_class"].items():
        lines.append(f"  {k:13s}  {_pct(v['accuracy'])}  {v['correct']:4d}/{v['n']:<5d} "
                     f"{v['takes_found']:4d}/{v['take_count']:<4d}  {_pct(v.get('best_accuracy'))} "
                     f"{v.get('best_correct', 0):4d}/{v.get('best_n', 0):<4d}")
    best = rep.get("mean_best_accuracy")
    lines.append(f"  mean over classes {100 * (rep['mean_class_accuracy'] or 0):.1f}%, best windows "
                 + (f"{100 * best:.1f}%" if best is not None else f"- (no {WINDOWS}: make dataset writes it)"))
    return "\n".join(lines)


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description="action classifier: held-out accuracy and scoring of generated motion")
    p.add_argument("--data", default="training/data")
    p.add_argument("--generated", help="folder with features.npy [M,T,273] (raw) and labels.json")
    p.add_argument("--json", help="write the report(s) as JSON here")
    p.add_argument("--out", default=DEFAULT_OUT, help="cache folder for trained classifiers")
    p.add_argument("--classifier", help="use this trained classifier.pt (its classes must be the dataset's)")
    p.add_argument("--retrain", action="store_true", help="train even when a cached classifier exists")
    for k in SETTINGS:
        p.add_argument("--" + k.replace("_", "-"), type=int, default=DEFAULTS[k])
    for k in FLOAT_SETTINGS:
        p.add_argument("--" + k.replace("_", "-"), type=float, default=DEFAULTS[k])
    p.add_argument("--dilations", default=DEFAULTS["dilations"], help="the convolutions' dilations, e.g. 1,2,4,8")
    p.add_argument("--background", default=DEFAULTS["background"],
                   help="the class left unlabelled in takes of several classes ('' or a class the dataset lacks: none)")
    p.add_argument("--cv", type=int, default=0, metavar="K",
                   help="only cross-validate these settings on the train split (K folds by take) and exit")
    a = p.parse_args(argv)
    over = {k: getattr(a, k) for k in SETTINGS + FLOAT_SETTINGS + ("dilations", "background")}
    if a.cv:
        if a.cv < 2:
            p.error("--cv needs at least 2 folds")
        torch.set_num_threads(a.threads)
        ds = open_dataset(a.data)
        cfg = dict(DEFAULTS, **over)
        rep = cv_report(ds, dataset_classes(ds), cfg, a.cv, windows=load_windows(a.data))
        print(format_cv(rep))
        if a.json:
            with open(a.json, "w", encoding="utf-8") as f:
                json.dump(rep, f, indent=1)
        return 0
    clf, heldout, path = get_classifier(a.data, a.out, a.retrain, classifier=a.classifier, **over)
    torch.set_num_threads(a.threads)
    print(format_report(heldout, f"held-out real windows (test split; {clf.config['frames']} frames "
                                 f"or the whole take, every {heldout.get('stride', 30)} frames; accuracy and "
                                 f"the confusion on single-class takes):"))
    out = {"classifier": {"path": path, "classes": clf.classes, "config": clf.config, "heldout": heldout}}
    if a.generated:
        raw, labels, lengths = load_generated(a.generated, clf.classes)
        rep = report(labels, clf.predict_raw(raw, lengths), clf.classes)
        rep["frames"] = int(raw.shape[1])
        print(format_report(rep, f"generated samples ({a.generated}, {raw.shape[0]} x {raw.shape[1]} frames):"))
        out["generated"] = rep
        out["real_vs_generated"] = compare(heldout, rep)
        print(format_compare(out["real_vs_generated"]))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
