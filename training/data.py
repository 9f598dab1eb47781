"""Dataset loading, normalisation, window sampling and random constraint masks.

Reads what the Go builder writes under training/data/: features.npy [N,D]
float32 and clips.json (clip table, captions, classes, optional mean/std).
All randomness goes through one numpy Generator so a run (and a resumed run)
is reproducible from its seed.
"""
from __future__ import annotations

import collections
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

import layout
from tokenizer import PAD_ID, UNK_ID, Tokenizer, words

EPS = 1e-5

# Constraint families and their sampling weights (the rest of the mass is "none").
MASK_KINDS: List[Tuple[str, float]] = [
    ("none", 0.40), ("root2d", 0.20), ("end_effector", 0.15), ("fullbody", 0.15), ("prefix", 0.10),
]
COMBINE_P = 0.25  # chance that a constrained sample also gets a second, different family

# How a window is turned (model.json features.first_heading): "free" by a random
# angle, so the model learns every facing; "zero" so frame 0 faces +Z, and the host
# turns constraints into that frame (engine/generate).
FACINGS = ("free", "zero")

# How far (m) one foot must get ahead of the other along the facing to count as
# leading (training/cmd/evaluate's LeadMargin): a step moves it ±0.3 m and more.
LEAD_MARGIN = 0.15
# A phase-aligned window keeps at least this many real frames (CMU's runs are 1 s).
ALIGNED_MIN_FRAMES = 24
# A jump is a flight (no foot contact) of at least JUMP_MIN_AIR frames whose root rises
# JUMP_MIN_LIFT m above its height over the second before; a jump-aligned window starts
# JUMP_LEAD frames (drawn from the range) before the take-off and keeps the landing.
JUMP_MIN_AIR = 3
JUMP_MIN_LIFT = 0.15
JUMP_LEAD = (8, 20)
JUMP_ALIGNED_MIN_FRAMES = 48
# A kick is a run of frames with a foot above KICK_MIN_HEIGHT m (CMU's kicks reach
# 1.2-1.6 m, a walking foot 0.3); a kick-aligned window starts JUMP_LEAD frames before
# its highest frame and keeps as many as a jump's, so the kick comes at one time.
KICK_MIN_HEIGHT = 0.9


class DataError(ValueError):
    """The dataset files are missing or inconsistent."""


@dataclass
class Clip:
    id: str
    split: str
    start: int
    frames: int
    captions: List[str]
    classes: List[str]
    mirrored: bool


# The share of a drawn caption's words with alternatives that an augmented run
# (train.py --augment) replaces.
AUGMENT_P = 0.3


def read_augment(path: str) -> Dict[str, List[str]]:
    """A caption augmentation table (training/cmd/wordmap -augment: "# " comment
    lines, then "word<TAB>alt1,alt2,..." lines): caption word -> the words a
    caption may say instead, each one word as the tokenizer splits it."""
    table: Dict[str, List[str]] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            word, tab, alts = line.partition("\t")
            listed = alts.split(",")
            if (not tab or any(words(w) != [w] for w in [word] + listed) or word in listed or word in table
                    or len(set(listed)) != len(listed)):
                raise DataError(f"{path}:{n}: {line!r} is not word<TAB>alt1,alt2,... (one lowercase word each, "
                                f"each word once)")
            table[word] = listed
    return table


def augment_words(table: Dict[str, Sequence[str]]) -> List[str]:
    """Every alternative of an augmentation table, sorted: the words an augmented
    run's vocabulary must hold besides its captions'."""
    return sorted({a for alts in table.values() for a in alts})


class Dataset:
    """The clip table plus raw features held in memory (CMU: ~1e5 frames).

    Windows are canonicalised before use (canonicalize()), so the
    normalisation stats are taken over canonicalised train windows, not the
    builder's raw-clip stats: those describe a different distribution.
    """

    def __init__(self, data_dir: str, stats: Optional[Tuple[np.ndarray, np.ndarray]] = None,
                 facing: str = "free") -> None:
        meta_path = os.path.join(data_dir, "clips.json")
        feat_path = os.path.join(data_dir, "features.npy")
        for p in (meta_path, feat_path):
            if not os.path.exists(p):
                raise DataError(f"missing {p} (run the Go dataset builder first)")
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        feats = np.load(feat_path, mmap_mode="r")
        if feats.ndim != 2 or feats.dtype != np.float32:
            raise DataError(f"features.npy must be float32 [N,D], got {feats.dtype} {feats.shape}")
        layout.check_layout(meta.get("layout") or {}, int(meta.get("dim", feats.shape[1])))
        if feats.shape[1] != layout.D:
            raise DataError(f"features.npy has {feats.shape[1]} dims, want {layout.D}")
        if int(meta.get("fps", layout.FPS)) != layout.FPS:
            raise DataError(f"dataset fps {meta.get('fps')}, want {layout.FPS}")
        self.clips = [Clip(c["id"], c.get("split", "train"), int(c["start"]), int(c["frames"]),
                           list(c.get("captions") or []), list(c.get("classes") or []),
                           bool(c.get("mirrored", False))) for c in meta["clips"]]
        for c in self.clips:
            if c.start < 0 or c.frames <= 0 or c.start + c.frames > feats.shape[0]:
                raise DataError(f"clip {c.id}: rows [{c.start},{c.start + c.frames}) outside {feats.shape[0]}")
            if not c.captions:
                raise DataError(f"clip {c.id} has no caption")
        self.raw = np.asarray(feats, dtype=np.float32)
        if not np.all(np.isfinite(self.raw)):
            raise DataError("features.npy holds NaN or Inf")
        self.vocabulary_classes = list(meta.get("vocabulary_classes") or [])
        self.mean, self.std = stats if stats is not None else self.window_stats(facing=facing)
        self._events: Dict[int, np.ndarray] = {}
        self._takeoffs: Dict[int, np.ndarray] = {}
        self._kicks: Dict[int, np.ndarray] = {}
        if self.mean.shape != (layout.D,) or self.std.shape != (layout.D,):
            raise DataError(f"mean/std must have {layout.D} values")
        self.scale = np.sqrt(self.std.astype(np.float64) ** 2 + EPS).astype(np.float32)

    def window_stats(self, windows: int = 4000, frames: int = 120, seed: int = 12345, facing: str = "free"
                     ) -> Tuple[np.ndarray, np.ndarray]:
        """Per-dim mean/std over random canonicalised train windows (fixed seed:
        the same data always gives the same stats, whatever the training seed)."""
        rng = np.random.default_rng(seed)
        clips = self.split("train")
        if not clips:
            raise DataError("no train clips")
        total, sq, n = np.zeros(layout.D), np.zeros(layout.D), 0
        for _ in range(windows):
            c = clips[int(rng.integers(len(clips)))]
            t = min(frames, c.frames)
            s = c.start + int(rng.integers(0, c.frames - t + 1))
            w = canonicalize(self.raw[s:s + t], turn_angle(rng, self.raw[s], facing))
            total += w.sum(0)
            sq += (w * w).sum(0)
            n += t
        mean = total / n
        std = np.sqrt(np.maximum(sq / n - mean ** 2, 0.0))
        return mean.astype(np.float32), std.astype(np.float32)

    def _moments(self, cache: Dict[int, np.ndarray], c: Clip, find) -> np.ndarray:
        """Absolute rows of find(clip c's raw rows), computed once per clip into cache."""
        if c.start not in cache:
            cache[c.start] = c.start + find(self.raw[c.start:c.start + c.frames])
        return cache[c.start]

    def events(self, c: Clip) -> np.ndarray:
        """Absolute rows where clip c's left foot passes the right going forward."""
        return self._moments(self._events, c, lambda r: gait_events(lead_signal(r)))

    def kicks(self, c: Clip) -> np.ndarray:
        """Absolute rows where clip c kicks highest (kick_peaks)."""
        feet = [layout.joint_position_dims([n])[1] for n in ("LeftFoot", "RightFoot")]
        return self._moments(self._kicks, c, lambda r: kick_peaks(r[:, feet]))

    def takeoffs(self, c: Clip) -> np.ndarray:
        """Absolute rows where clip c leaves the ground for a jump (jump_takeoffs)."""
        lo, hi = layout.OFFSETS["foot_contacts"]
        return self._moments(self._takeoffs, c, lambda r: jump_takeoffs(r[:, layout.ROOT_Y[0]], r[:, lo:hi]))

    def normalize(self, raw: np.ndarray) -> np.ndarray:
        return ((raw - self.mean) / self.scale).astype(np.float32)

    def split(self, name: str) -> List[Clip]:
        return [c for c in self.clips if c.split == name]

    def captions(self, split: str = "train") -> List[str]:
        return [cap for c in self.split(split) for cap in c.captions]

    def classes(self) -> List[str]:
        """The builder's vocabulary_classes, else the train split's classes by
        frequency (ties alphabetically)."""
        if self.vocabulary_classes:
            return list(self.vocabulary_classes)
        counts = collections.Counter(k for c in self.split("train") for k in c.classes)
        return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def yaw_matrix(angle: float) -> np.ndarray:
    """Rotation by angle about +Y (x' = c x + s z, z' = -s x + c z)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def turn_angle(rng: np.random.Generator, first: np.ndarray, facing: str) -> float:
    """The yaw canonicalize() turns a window by, given its first raw row: random for
    "free" (one draw, as before), minus frame 0's heading for "zero" (no draw)."""
    if facing == "free":
        return float(rng.uniform(0, 2 * np.pi))
    if facing == "zero":
        return -float(np.arctan2(first[layout.HEADING[1]], first[layout.HEADING[0]]))
    raise ValueError(f"facing {facing!r}, want one of {FACINGS}")


def lead_signal(raw: np.ndarray) -> np.ndarray:
    """[..., T] metres the left ankle is ahead of the right along the body's facing
    (perpendicular to the hip vector), from raw position features [..., T, D]."""
    def pos(name: str) -> np.ndarray:
        return np.asarray(raw[..., layout.joint_position_dims([name])], dtype=np.float64)
    hip = pos("LeftLeg") - pos("RightLeg")
    fwd = np.stack([-hip[..., 2], hip[..., 0]], -1)
    fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True) + 1e-9
    d = pos("LeftFoot") - pos("RightFoot")
    return d[..., 0] * fwd[..., 0] + d[..., 2] * fwd[..., 1]


def gait_events(lead: np.ndarray, margin: float = LEAD_MARGIN) -> np.ndarray:
    """Frames (relative) where the lead goes from the right foot (below −margin) to the
    left (above +margin): the last upward zero crossing before it passes +margin —
    the left foot swinging past the planted right one, one phase of every stride."""
    events: List[int] = []
    side, crossed = 0, -1
    for t, v in enumerate(lead):
        if t > 0 and lead[t - 1] <= 0 < v:
            crossed = t
        if v > margin and side != 1:
            if side == -1 and crossed >= 0:
                events.append(crossed)
            side = 1
        elif v < -margin:
            side = -1
    return np.array(events, dtype=np.int64)


def jump_takeoffs(root_y: np.ndarray, contacts: np.ndarray, min_air: int = JUMP_MIN_AIR,
                  min_lift: float = JUMP_MIN_LIFT) -> np.ndarray:
    """Frames (relative) where a jump leaves the ground: the first frame of a run of at
    least min_air frames with every foot contact off, during which the root rises
    min_lift m above its median over the 30 frames before. A dancer's small hop or a
    contact flicker is not a jump; CMU's forward jumps lift 0.3-0.9 m, its jetes up to 0.45."""
    air = np.asarray(contacts).max(axis=-1) < 0.5
    y = np.asarray(root_y, dtype=np.float64)
    out: List[int] = []
    t = 1
    while t < len(air):
        if air[t] and not air[t - 1]:
            e = t
            while e < len(air) and air[e]:
                e += 1
            if e - t >= min_air and y[t:e].max() - np.median(y[max(0, t - 30):t]) >= min_lift:
                out.append(t)
            t = e
        t += 1
    return np.array(out, dtype=np.int64)


def kick_peaks(foot_y: np.ndarray, min_height: float = KICK_MIN_HEIGHT) -> np.ndarray:
    """Frames (relative) of kicks from the feet's heights [T, feet]: in every run of
    frames where a foot is above min_height m, the frame where one is highest."""
    top = np.asarray(foot_y, dtype=np.float64).max(axis=-1)
    edges = np.diff(np.r_[0, (top > min_height).astype(np.int8), 0])
    runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
    return np.array([s + int(np.argmax(top[s:e])) for s, e in runs], dtype=np.int64)


def canonicalize(raw: np.ndarray, angle: float) -> np.ndarray:
    """A raw window [T,D] moved so frame 0's smooth root is at x = z = 0, then
    turned by angle about +Y (float64): a heading θ becomes θ + angle.

    Clips keep the capture room's coordinates, so without this a window's
    absolute position would be noise the model cannot predict; the random
    turn teaches every direction (there is no heading input), so a root path
    or keyframe may point anywhere. Every block transforms consistently:
    positions, velocities and rotation columns by the yaw, the heading
    through its hip vector d = (-cos, sin) in (x, z), contacts not at all.
    """
    f = raw.astype(np.float64).copy()
    r = yaw_matrix(angle)
    t = f.shape[0]
    f[:, 0] -= f[0, 0]
    f[:, 2] -= f[0, 2]
    root = np.stack([f[:, 0], np.zeros(t), f[:, 2]], -1) @ r.T
    f[:, 0], f[:, 2] = root[:, 0], root[:, 2]
    d = np.stack([-f[:, 3], np.zeros(t), f[:, 4]], -1) @ r.T
    f[:, 3], f[:, 4] = -d[:, 0], d[:, 2]
    for name, width in (("local_joints_positions", 3), ("velocities", 3), ("global_rot_data", 3)):
        lo, hi = layout.OFFSETS[name]
        f[:, lo:hi] = (f[:, lo:hi].reshape(t, -1, width) @ r.T).reshape(t, hi - lo)
    return f


def pick_frames(rng: np.random.Generator, clips: Sequence[Clip], lo: int, hi: int) -> int:
    """A window length (multiple of 4) for one batch, no longer than the longest clip."""
    m = layout.FRAME_MULTIPLE
    longest = max(c.frames for c in clips) // m * m
    if longest < m:
        raise DataError("no clip has at least 4 frames")
    t = int(rng.integers(lo // m, hi // m + 1)) * m
    return max(m, min(t, longest))


def clip_draw_weight(frames: int, t: int, class_weight: float, pad_short: bool = True) -> float:
    """How often a clip is drawn for a window of t frames.

    With pad_short, every frame of every clip is covered equally often times its
    class weight: a draw covers min(t, frames) of the clip's frames, so the weight
    is max(frames, t) / t (a clip shorter than the window is taken whole and
    padded). Without it (the recipe of the shipped 1.2.0), clips shorter than t
    are never drawn and the others by their count of window positions,
    frames - t + 1, which also starves takes barely longer than t."""
    if pad_short:
        return max(frames, t) / t * class_weight
    return max(frames - t + 1, 0) * class_weight


def class_weights(clips: Sequence[Clip], power: float) -> Dict[str, float]:
    """Per-class sampling weight minutes**-power (clips without a class form "").

    power 0 draws every window alike, so the dominant class (CMU: dance, 36 of
    62 minutes) dominates the batches; 1 gives every class the same share,
    which repeats the thinnest takes (run: 24 s) too often; in between flattens.
    """
    frames: Dict[str, float] = collections.defaultdict(float)
    for c in clips:
        for k in c.classes or [""]:
            frames[k] += c.frames / len(c.classes or [""])
    return {k: (v / (60.0 * layout.FPS)) ** -power for k, v in frames.items()}


class Sampler:
    """Draws training batches: windows, tokenised captions and constraint masks."""

    def __init__(self, ds: Dataset, tok: Tokenizer, split: str, frames_lo: int, frames_hi: int,
                 word_dropout: float = 0.05, class_power: float = 0.0, min_frames: int = 16,
                 pad_short: bool = False, engine_masks: bool = False, facing: str = "free",
                 phase_classes: Sequence[str] = (), gait_classes: Sequence[str] = (),
                 augment: Optional[Dict[str, Sequence[str]]] = None, augment_p: float = AUGMENT_P) -> None:
        """pad_short: take clips shorter than the window, padded (else skip them);
        engine_masks: also the mask variants the engine states (see family_mask);
        facing: how windows are turned (FACINGS); phase_classes: clips of these
        classes start at a gait event (gait_events) when nothing but the root is
        stated, so an unconstrained walk begins at one phase of its stride (a "jump"
        clip a little before a take-off, jump_takeoffs); gait_classes:
        the clips training_batch's gait batches draw from; augment: a caption word ->
        the words a drawn caption may say instead (read_augment), each word that has
        one replaced with probability augment_p (augment_caption); alternatives the
        tokenizer lacks are dropped (an --init run's vocabulary may not have them)."""
        if facing not in FACINGS:
            raise ValueError(f"facing {facing!r}, want one of {FACINGS}")
        self.ds, self.tok, self.facing = ds, tok, facing
        self.pad_short, self.engine_masks = pad_short, engine_masks
        self.phase_classes = frozenset(phase_classes)
        self.min_frames = min_frames  # shorter takes are dropped: too little motion to learn from
        self.clips = ds.split(split)
        if not self.clips:
            raise DataError(f"no clips in split {split!r}")
        if not any(c.frames >= min_frames for c in self.clips):
            raise DataError(f"no clip in split {split!r} has {min_frames} frames")
        self.lo, self.hi, self.word_dropout = frames_lo, frames_hi, word_dropout
        self.gait_clips = [c for c in self.clips if set(gait_classes).intersection(c.classes)]
        if gait_classes and not self.gait_clips:
            raise DataError(f"no clip of {sorted(gait_classes)} in split {split!r}")
        if not 0.0 <= augment_p <= 1.0:
            raise ValueError(f"augment_p {augment_p}, want a probability")
        self.augment_p = augment_p
        self.augment: Dict[str, Tuple[str, ...]] = {}
        for w, alts in sorted((augment or {}).items()):
            known = tuple(a for a in alts if a in tok.ids)
            if known:
                self.augment[w] = known
        cw = class_weights(self.clips, class_power)
        # A clip of several classes takes their mean weight.
        self.clip_weight = {c.id: float(np.mean([cw[k] for k in c.classes or [""]])) for c in self.clips}

    def batch(self, rng: np.random.Generator, size: int, clips: Optional[Sequence[Clip]] = None
              ) -> Dict[str, np.ndarray]:
        """Windows of one length t. A clip shorter than t (CMU's runs are 1 s takes, its
        jumps 3 s) is taken whole and padded by repeating its last frame; "valid"
        [B,T] marks its real frames, which the denoiser's attention and the loss keep
        to, and its constraint mask stays on them. clips: draw from these (default all)."""
        clips = self.clips if clips is None else clips
        t = pick_frames(rng, clips, self.lo, self.hi)
        shortest = self.min_frames if self.pad_short else t
        pool = [c for c in clips if c.frames >= shortest]
        weights = np.array([clip_draw_weight(c.frames, t, self.clip_weight[c.id], self.pad_short) for c in pool],
                           dtype=np.float64)
        idx = rng.choice(len(pool), size=size, p=weights / weights.sum())
        x0 = np.empty((size, t, layout.D), np.float32)
        valid = np.zeros((size, t), np.float32)
        tokens = np.empty((size, self.tok.max_tokens), np.int64)
        mask = np.zeros((size, t, layout.D), np.float32)
        for b, i in enumerate(idx):
            c = pool[i]
            n = min(t, c.frames)
            s = c.start + int(rng.integers(0, c.frames - n + 1))
            x0[b, :n] = self.ds.normalize(canonicalize(self.ds.raw[s:s + n], turn_angle(rng, self.ds.raw[s], self.facing)))
            x0[b, n:] = x0[b, n - 1]
            valid[b, :n] = 1
            ids = np.array(self.tok.encode(self.augment_caption(rng, c.captions[int(rng.integers(len(c.captions)))])))
            drop = (ids > 2) & (rng.random(ids.shape) < self.word_dropout)
            tokens[b] = np.where(drop, UNK_ID, ids)
            mask[b, :n] = random_mask(rng, n, self.engine_masks)
            if self.phase_classes.intersection(c.classes) and not mask[b, :, ROOT_ONLY:].any():
                aligned = self.aligned_start(rng, c, t)
                if aligned is not None:
                    s, n = aligned, min(t, c.start + c.frames - aligned)
                    x0[b, :n] = self.ds.normalize(
                        canonicalize(self.ds.raw[s:s + n], turn_angle(rng, self.ds.raw[s], self.facing)))
                    x0[b, n:] = x0[b, n - 1]
                    valid[b], mask[b, n:] = 0, 0
                    valid[b, :n] = 1
        # Pads are masked keys, so trimming to the longest caption changes no output
        # and saves attention and FF work on up to 23 pad tokens per sample.
        width = max(1, int((tokens != PAD_ID).sum(axis=1).max()))
        return {"x0": x0, "tokens": tokens[:, :width], "mask": mask, "valid": valid}

    def augment_caption(self, rng: np.random.Generator, caption: str) -> str:
        """caption with each word that has alternatives replaced, with probability
        augment_p, by one of them drawn uniformly. Draws one number per such word and
        one per replacement, none when the sampler has no table or augment_p is 0, so
        an unaugmented run draws exactly the batches it always did."""
        if not self.augment or self.augment_p == 0.0:
            return caption
        ws = words(caption)
        at = [i for i, w in enumerate(ws) if w in self.augment]
        if not at:
            return caption
        for i, u in zip(at, rng.random(len(at))):
            if u < self.augment_p:
                alts = self.augment[ws[i]]
                ws[i] = alts[int(rng.integers(len(alts)))]
        return " ".join(ws)

    def aligned_start(self, rng: np.random.Generator, c: Clip, t: int) -> Optional[int]:
        """A gait event of clip c that leaves min(t, ALIGNED_MIN_FRAMES) real frames
        after it, drawn uniformly; None when there is none. A window from there runs to
        t frames or the clip's end (padded, as a short clip). For a jump clip (when
        "jump" is a phase class) JUMP_LEAD frames before a take-off instead, keeping
        min(t, JUMP_ALIGNED_MIN_FRAMES): the noise-level prediction then has one jump,
        at one time, to commit to, not the average of jumps at every time. A "kick" clip
        (when "kick" is a phase class) likewise, before its highest kicks (kick_peaks)."""
        end = c.start + c.frames
        moment = next((find for k, find in (("jump", self.ds.takeoffs), ("kick", self.ds.kicks))
                       if k in c.classes and k in self.phase_classes), None)
        if moment is not None:
            ev = moment(c)
            ev = ev - rng.integers(JUMP_LEAD[0], JUMP_LEAD[1] + 1, len(ev))
            ev = ev[(ev >= c.start) & (end - ev >= min(t, JUMP_ALIGNED_MIN_FRAMES))]
        else:
            ev = self.ds.events(c)
            ev = ev[end - ev >= min(t, ALIGNED_MIN_FRAMES)]
        return int(ev[int(rng.integers(len(ev)))]) if len(ev) else None

    def training_batch(self, rng: np.random.Generator, size: int, train_steps: int,
                       text_dropout: float, high_t: float = 0.0, high_from: int = 800,
                       gait_batches: float = 0.0, gait_keep_text: bool = False) -> Dict[str, np.ndarray]:
        """batch() plus everything else random in a training step (diffusion step,
        noise, which rows keep their text), so one Generator seeded by (seed, step)
        fixes the step whatever process draws it. A share high_t of the rows draws its
        diffusion step from [high_from, train_steps) instead — where a sample's gait is
        decided (evaluate.py --gait); those draws come last, so high_t = 0 draws exactly
        the batches it always did. With probability gait_batches the whole batch is drawn
        from the gait classes' clips, every row at high noise: the regime where the net
        must read a stride's phase out of the noise (a walk's phase is still recoverable
        from x_t at t = 900: evaluate.ideal_probe), which uniform batches reach with
        a few rows a step. gait_keep_text: every row of a gait batch keeps its text."""
        gait = gait_batches > 0 and bool(self.gait_clips) and rng.random() < gait_batches
        b = self.batch(rng, size, self.gait_clips if gait else None)
        b["t"] = rng.integers(high_from if gait else 0, train_steps, size)
        b["noise"] = rng.standard_normal(b["x0"].shape, dtype=np.float32)
        b["keep"] = (rng.random(size) >= text_dropout).astype(np.float32)
        if gait and gait_keep_text:  # drawn all the same, so every other draw stays as it was
            b["keep"][:] = 1.0
        if high_t > 0:
            high = rng.random(size) < high_t
            b["t"] = np.where(high, rng.integers(high_from, train_steps, size), b["t"])
        return b


# Mask dims from here on state the body; below it, only the root and heading.
ROOT_ONLY = max(layout.ROOT_XZ + layout.ROOT_Y + layout.HEADING) + 1


def _frames(rng: np.random.Generator, t: int, most: int) -> np.ndarray:
    k = int(rng.integers(1, min(most, t) + 1))
    return rng.choice(t, size=k, replace=False)


def family_mask(rng: np.random.Generator, kind: str, t: int, engine: bool = False) -> np.ndarray:
    """[T,D] 0/1 mask of one constraint family, with the contract's channel sets;
    engine adds, half the time, the variants engine/generate states: keyframes
    with their rotations, effectors with their whole chain."""
    m = np.zeros((t, layout.D), np.float32)
    root5 = layout.ROOT_XZ + layout.ROOT_Y + layout.HEADING
    if kind == "none":
        return m
    if kind == "root2d":
        frames = np.arange(t) if rng.random() < 0.3 else _frames(rng, t, 20)
        dims = layout.ROOT_XZ + (layout.HEADING if rng.random() < 0.5 else [])
        m[np.ix_(frames, dims)] = 1
    elif kind == "fullbody":
        # Half with the rotations too: the host keys a pose by its rotations
        # and positions, and the frames around it must lead into it.
        dims = layout.ALL_POSITION_DIMS + (layout.ALL_ROTATION_DIMS if engine and rng.random() < 0.5 else [])
        m[np.ix_(_frames(rng, t, 5), root5 + dims)] = 1
    elif kind == "end_effector":
        chosen = [j for j in layout.EFFECTOR_JOINTS if rng.random() < 0.5]
        if not chosen:
            chosen = [layout.EFFECTOR_JOINTS[int(rng.integers(len(layout.EFFECTOR_JOINTS)))]]
        for name in chosen:
            frames = _frames(rng, t, 10)
            if not engine or rng.random() < 0.5:  # the joint alone (Kimodo's channels)
                dims = layout.joint_position_dims([name])
            else:  # the joint's chain, posed, as the host's target placement states it
                chain = layout.EFFECTOR_CHAINS[name]
                dims = layout.joint_position_dims(chain) + layout.joint_rotation_dims(chain)
            m[np.ix_(frames, root5 + dims)] = 1
    elif kind == "prefix":
        m[: int(rng.integers(1, min(20, max(1, t // 2)) + 1))] = 1
    else:
        raise ValueError(f"unknown constraint family {kind!r}")
    return m


def random_mask(rng: np.random.Generator, t: int, engine: bool = False) -> np.ndarray:
    """One sample's mask: a family drawn by MASK_KINDS, sometimes OR'ed with a second."""
    names = [k for k, _ in MASK_KINDS]
    probs = np.array([p for _, p in MASK_KINDS])
    kind = names[int(rng.choice(len(names), p=probs))]
    m = family_mask(rng, kind, t, engine)
    if kind != "none" and rng.random() < COMBINE_P:
        others = [k for k in names[1:] if k != kind]
        m = np.maximum(m, family_mask(rng, others[int(rng.integers(len(others)))], t, engine))
    return m

