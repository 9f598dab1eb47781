"""Train the text encoder and denoiser together (x0 prediction, cosine schedule).

Usage: /usr/bin/python3 training/train.py --data training/data --out training/runs/cmu-small-v1 --steps 6000

A run resumes from <out>/checkpoint.pt when it exists (same arguments, more
steps), restoring weights, optimiser and EMA. Every step's batch, noise and
text dropout come from a Generator seeded by (seed, step) alone, so an
interrupted run and an uninterrupted one draw the same batches, and batches can
be drawn in parallel (--workers) without changing them. On a GPU:
  python3 training/train.py ... --device cuda --workers 12 --batch 128
"""
from __future__ import annotations

import argparse
import collections
import copy
import dataclasses
import json
import math
import multiprocessing
import os
import sys
import time
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checkpoint  # noqa: E402
import fk  # noqa: E402
import layout  # noqa: E402
from data import AUGMENT_P, JUMP_LEAD, Dataset, Sampler, augment_words, read_augment  # noqa: E402
from diffusion import TRAIN_STEPS, alphas_cumprod, q_sample  # noqa: E402
from model import Config, Net, count_params, expert_params  # noqa: E402
from tokenizer import Tokenizer, build_vocab  # noqa: E402

CHECKPOINT = "checkpoint.pt"


def parse_args(argv: List[str] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="training/data")
    p.add_argument("--out", default="training/runs/cmu-small-v1")
    p.add_argument("--steps", type=int, default=6000, help="total steps (sets the LR schedule)")
    p.add_argument("--stop-at", type=int, default=0, help="checkpoint and exit after this step (run in chunks)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--frames-min", type=int, default=40, help="shortest window (multiple of 4)")
    p.add_argument("--frames-max", type=int, default=200, help="longest window (multiple of 4)")
    p.add_argument("--text-dropout", type=float, default=0.1)
    p.add_argument("--high-t", type=float, default=0.0,
                   help="share of each batch whose diffusion step is drawn from [--high-from, 1000): the "
                        "high-noise steps where a sample's gait is decided (evaluate.py --gait)")
    p.add_argument("--high-from", type=int, default=800,
                   help="first diffusion step of --high-t rows and --gait-batches")
    p.add_argument("--word-dropout", type=float, default=0.05, help="words replaced by <unk>")
    p.add_argument("--augment", default="",
                   help="a caption augmentation table (training/cmd/wordmap -augment; make dataset writes "
                        "training/data/augment.tsv): a drawn caption's words are replaced by their WordNet "
                        "synonyms at random, and a new (or --grow-vocab) run's vocabulary gets the synonyms")
    p.add_argument("--augment-p", type=float, default=AUGMENT_P,
                   help="with --augment: the chance that each word with synonyms is replaced")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--ckpt-every", type=int, default=250)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--workers", type=int, default=0, help="processes drawing batches (0: inline)")
    p.add_argument("--class-power", type=float, default=0.7,
                   help="class balance: windows weighted by class minutes**-power (0 off, 1 equal)")
    p.add_argument("--pad-short", action="store_true",
                   help="draw clips shorter than the window too, padded and masked (CMU's runs are 1 s takes); "
                        "off in the shipped 1.2.0 recipe")
    p.add_argument("--engine-masks", action="store_true",
                   help="also train the constraint masks the engine states: keyframes with rotations, "
                        "effectors with their whole chain")
    p.add_argument("--text-pool", action="store_true",
                   help="add the pooled prompt to every motion token (a zero-initialised path; see model.py)")
    p.add_argument("--skip", action="store_true",
                   help="a timestep-dependent gain of the noisy input added to the output (a "
                        "zero-initialised path; see model.py)")
    p.add_argument("--seam", action="store_true",
                   help="each motion token's frames also read the neighbouring tokens (zero-initialised "
                        "output projections; see model.py)")
    p.add_argument("--expert-rank", type=int, default=0,
                   help="add a high-noise expert of this rank: low-rank terms on every matrix of the "
                        "denoiser's stack, weighed by a gate of the timestep (zero-initialised; see model.py)")
    p.add_argument("--expert-steps", default="600,750",
                   help="the timesteps over which the expert's gate rises from 0 to 1")
    p.add_argument("--expert-only", action="store_true",
                   help="train the expert's terms alone, every other weight frozen: outputs below the "
                        "gate's first timestep stay exactly --init's")
    p.add_argument("--skip-lr-mult", type=float, default=1.0, help="learning-rate multiplier of the skip path")
    p.add_argument("--geo-gate", action="store_true",
                   help="weigh the fk, vel and foot terms of a sample by 1 - abar_t: near t = 0 they "
                        "punish the noise an exact copy of the input keeps, so the net learnt to shrink "
                        "its output (the gait with it); the known term stays at full weight")
    p.add_argument("--geo-fade-from", type=int, default=0,
                   help="also fade the fk, vel and foot terms out above this diffusion step (weight "
                        "min(1, abar_t / abar_T)): there the x0 prediction is a mean over many motions, "
                        "and the terms pull that mean towards standing still (0: off)")
    p.add_argument("--w-fk", type=float, default=0.02, help="weight of the FK position loss")
    p.add_argument("--w-known", type=float, default=0.5, help="weight of the FK loss on stated joints")
    p.add_argument("--w-vel", type=float, default=0.005, help="weight of the joint velocity loss")
    p.add_argument("--w-foot", type=float, default=0.0, help="weight of the planted-foot slide loss")
    p.add_argument("--w-root", type=float, default=0.0,
                   help="weight of the root's own loss: its position and heading features, and its "
                        "frame-to-frame travel in metres (the pace)")
    p.add_argument("--facing", choices=["free", "zero"], default=None,
                   help="how windows are turned: free (a random angle; the default of a new run) or zero "
                        "(frame 0 faces +Z, the host turns constraints to match); default: --init's or the "
                        "checkpoint's")
    p.add_argument("--phase-classes", default="",
                   help="comma-separated classes (e.g. walk,run) whose windows start at a gait event when "
                        "nothing but the root is stated: unconstrained gaits then begin at one phase of the "
                        "stride instead of a random one, which the prediction at high noise can only average; "
                        f"jump clips start {JUMP_LEAD[0]}-{JUMP_LEAD[1]} frames before a take-off, kick clips as long "
                        "before a kick's highest frame")
    p.add_argument("--gait-batches", type=float, default=0.0,
                   help="share of the steps whose batch comes only from --gait-classes clips, every row's "
                        "diffusion step in [--high-from, 1000): where a walk's phase must be read from the noise")
    p.add_argument("--gait-classes", default="walk,run", help="comma-separated classes of --gait-batches")
    p.add_argument("--gait-keep-text", action="store_true",
                   help="no text dropout in --gait-batches: the unconditional branch then learns the "
                        "high-noise prediction from the uniform batches' mix of every class alone, not "
                        "from the gait classes, which guidance would subtract from every prompt")
    p.add_argument("--init", default="", help="start from these weights (a weights folder or checkpoint.pt) "
                                              "instead of random ones; the optimiser starts fresh")
    p.add_argument("--grow-vocab", action="store_true",
                   help="with --init: append the words of this data's captions that --init's vocabulary "
                        "lacks (new embedding rows; the known words keep their ids and weights)")
    p.add_argument("--weights-out", default="", help="also write the EMA weights folder here at the end")
    p.add_argument("--small", action="store_true", help="tiny net (tests only)")
    return p.parse_args(argv)


def augmented_vocab(vocab: List[str], alternatives: List[str]) -> List[str]:
    """vocab, then the augmentation alternatives it lacks (alphabetically, as grown_vocab
    orders words seen once): the ids of an unaugmented run's vocabulary stay as they were."""
    return grown_vocab(vocab, alternatives)


def grown_vocab(vocab: List[str], captions: List[str]) -> List[str]:
    """vocab, then the captions' words it lacks in build_vocab's order: every old id keeps
    its word, so a net trained on vocab reads old prompts as before."""
    have = set(vocab)
    return list(vocab) + [w for w in build_vocab(captions) if w not in have]


EMBED = "text.embed.weight"


def grown_embeddings(weights: Dict[str, torch.Tensor], rows: int, seed: int) -> Dict[str, torch.Tensor]:
    """weights with the text embedding grown to rows: the new rows drawn like
    nn.Embedding's own init (N(0, 1)) from seed, scaled to the old rows' spread."""
    old = weights[EMBED]
    if rows < old.shape[0]:
        raise SystemExit(f"--grow-vocab: {rows} words is fewer than --init's {old.shape[0]}")
    g = torch.Generator().manual_seed(seed)
    new = torch.randn(rows - old.shape[0], old.shape[1], generator=g) * old.std()
    out = dict(weights)
    out[EMBED] = torch.cat([old, new.to(old.dtype)])
    return out


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warmup, then cosine decay to 10% of the peak at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    u = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, u))))


class Loss:
    """Feature MSE plus geometric terms on the decoded skeleton.

    The host drives the body from the predicted rotations, so the features'
    own positions being right is not enough: fk is the mean squared distance
    (in units of FK_SCALE) between the FK of the predicted rotations + root
    and the true joints, known counts it again where the mask stated the joint
    (a keyframe or effector must be reached by the rotations, not just the
    position channels), vel compares frame-to-frame joint motion (units of
    VEL_SCALE per frame), which punishes jitter that a per-frame loss lets by,
    and foot is the horizontal slide of the four contact joints between two
    frames the data labels planted (same units): the raw model skated 2-10
    cm/frame on planted feet, real motion 0.1-0.3.
    """

    FK_SCALE = 0.10   # m
    VEL_SCALE = 0.01  # m per frame

    def __init__(self, mean: np.ndarray, scale: np.ndarray, w_fk: float, w_known: float, w_vel: float,
                 device: torch.device, w_foot: float = 0.0, w_root: float = 0.0) -> None:
        self.mean = torch.as_tensor(mean, dtype=torch.float32, device=device)
        self.scale = torch.as_tensor(scale, dtype=torch.float32, device=device)
        self.w_fk, self.w_known, self.w_vel, self.w_foot = w_fk, w_known, w_vel, w_foot
        self.w_root = w_root
        self.root_dims = slice(layout.OFFSETS["smooth_root_pos"][0], layout.OFFSETS["global_root_heading"][1])
        self.feet = torch.as_tensor([layout.PREDICTED_JOINTS.index(n) for n in layout.CONTACT_JOINTS], device=device)
        self.contact0 = layout.OFFSETS["foot_contacts"][0]
        self.skel = fk.load_skeleton()
        self.joint_x = torch.as_tensor(layout.joint_position_dims(layout.PREDICTED_JOINTS)[::3], device=device)

    def __call__(self, pred: torch.Tensor, x0: torch.Tensor, mask: torch.Tensor, valid: torch.Tensor = None,
                 noise: torch.Tensor = None) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """valid [B,T]: 0 on padding after a short clip, which no term counts. noise [B]:
        a per-sample weight of the fk, vel and foot terms (train.py --geo-gate passes
        1 - abar_t; None weighs every sample 1)."""
        if valid is None:
            valid = torch.ones_like(x0[..., 0])
        gate = torch.ones_like(x0[:, 0, 0]) if noise is None else noise
        nv = valid.sum().clamp_min(1.0)
        feat = (((pred - x0) ** 2) * valid.unsqueeze(-1)).sum() / (nv * x0.shape[-1])
        parts = {"feat": feat.detach()}  # tensors: reading them each step would stall the GPU
        total = feat
        if self.w_root:
            # The root's 5 of ~270 features carry the whole body's travel:
            # in the plain MSE a too-fast walk or a jump that stays low
            # costs almost nothing. This term weighs the root features and
            # the root's per-frame travel (m, xz and height) on their own.
            r = self.root_dims
            rf = (((pred[..., r] - x0[..., r]) ** 2) * valid.unsqueeze(-1)).sum() / (nv * (r.stop - r.start))
            pr = pred[..., 0:3] * self.scale[0:3] + self.mean[0:3]
            tr = x0[..., 0:3] * self.scale[0:3] + self.mean[0:3]
            pair = valid[:, 1:] * valid[:, :-1]
            dstep = (pr[:, 1:] - pr[:, :-1]) - (tr[:, 1:] - tr[:, :-1])
            rv = ((dstep ** 2).sum(-1) * pair).sum() / pair.sum().clamp_min(1.0) / self.VEL_SCALE ** 2
            # 0.02 brings the travel (cm² per frame²) to the features' scale.
            total = total + self.w_root * (rf + 0.02 * rv)
            parts.update(root=rf.detach(), root_vel=rv.detach())
        if self.w_fk or self.w_known or self.w_vel or self.w_foot:
            raw_x0 = x0 * self.scale + self.mean
            p = fk.world_positions(pred * self.scale + self.mean, self.skel)
            target = fk.target_positions(raw_x0)
            d2 = ((p - target) ** 2).sum(-1) / self.FK_SCALE ** 2  # [B,T,J]
            known = mask.index_select(-1, self.joint_x)
            g = gate[:, None, None]
            fk_all = (d2 * valid.unsqueeze(-1) * g).sum() / (nv * d2.shape[-1])
            fk_known = (d2 * known).sum() / known.sum().clamp_min(1.0)
            dv = (p[:, 1:] - p[:, :-1]) - (target[:, 1:] - target[:, :-1])
            pair = valid[:, 1:] * valid[:, :-1]  # [B,T-1]
            vel = ((dv ** 2).sum(-1) * pair.unsqueeze(-1) * g).sum() / (pair.sum().clamp_min(1.0) * dv.shape[2])
            vel = vel / self.VEL_SCALE ** 2
            planted = (raw_x0[..., self.contact0:self.contact0 + len(self.feet)] > 0.5).float()  # [B,T,4]
            both = planted[:, 1:] * planted[:, :-1] * pair.unsqueeze(-1)
            step = (p[:, 1:] - p[:, :-1]).index_select(2, self.feet)[..., [0, 2]]
            foot = ((step ** 2).sum(-1) * both * g).sum() / both.sum().clamp_min(1.0) / self.VEL_SCALE ** 2
            total = total + self.w_fk * fk_all + self.w_known * fk_known + self.w_vel * vel + self.w_foot * foot
            parts.update(fk=fk_all.detach(), known=fk_known.detach(), vel=vel.detach(), foot=foot.detach())
        return total, parts


def geo_weight(acp: torch.Tensor, t: torch.Tensor, gate: bool, fade_from: int = 0) -> Optional[torch.Tensor]:
    """Per-sample weight [B] of the fk, vel and foot terms, None for 1. gate: 1 - abar_t,
    since near t = 0 they punish the noise an exact copy of x_t keeps. fade_from: times
    min(1, abar_t / abar_fade_from), to 0 at pure noise. High up the prediction is the mean
    over the motions a prompt allows (a jump's take-off at any time, a stride at any
    phase), and FK and the planted-foot slide of such a mean are no guide: with them
    1.10.0's x0 for "a person jumps" from pure noise kept the root flat where the aligned
    windows' mean rises 0.24 m, and 300 steps on jumps alone moved it 0.00 m (without
    them: 0.04 m)."""
    if not gate and not fade_from:
        return None
    a = acp[t]
    w = 1.0 - a if gate else torch.ones_like(a)
    if fade_from:
        w = w * (a / acp[fade_from]).clamp(max=1.0)
    return w


def forward(net: Net, batch: Dict[str, torch.Tensor], acp: torch.Tensor) -> torch.Tensor:
    """x0 prediction for a training batch (text zeroed where keep is 0)."""
    x0, mask, keep = batch["x0"], batch["mask"], batch["keep"]
    emb, tmask = net.text(batch["tokens"])
    emb, tmask = emb * keep[:, None, None], tmask * keep[:, None]
    xt = q_sample(x0, batch["t"], batch["noise"], acp)
    return net.denoiser(xt, batch["t"], emb, tmask, x0 * mask, mask, batch.get("valid"))


def to_device(batch: Dict[str, np.ndarray], device: torch.device) -> Dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(device, non_blocking=True) for k, v in batch.items()}


class Validator:
    """Fixed held-out batches (test split) so validation numbers are comparable across steps."""

    def __init__(self, ds: Dataset, tok: Tokenizer, args: argparse.Namespace, device: torch.device,
                 facing: str = "free") -> None:
        self.batches = []
        self.device = device
        if not ds.split("test"):
            return
        rng = np.random.default_rng(args.seed + 1000)
        sampler = Sampler(ds, tok, "test", 120, 120, word_dropout=0.0, facing=facing)
        for _ in range(4):
            b = sampler.training_batch(rng, args.batch, TRAIN_STEPS, 0.0)
            self.batches.append(to_device(b, device))
        self.loss = Loss(ds.mean, ds.scale, 1.0, 1.0, 1.0, device)

    @torch.no_grad()
    def __call__(self, net: Net, acp: torch.Tensor) -> Dict[str, float]:
        """val loss (feature MSE), and the mean distance (m) between the FK of the raw x0
        prediction and the known joint positions (fullbody / end-effector entries): the
        rotations must agree with the positions they are given."""
        if not self.batches:
            return {}
        net.eval()
        losses, errs = [], []
        for b in self.batches:
            pred = forward(net, b, acp)
            v = b["valid"].unsqueeze(-1)
            losses.append(float((((pred - b["x0"]) ** 2) * v).sum() / (v.sum() * pred.shape[-1])))
            p = fk.world_positions(pred * self.loss.scale + self.loss.mean, self.loss.skel)
            target = fk.target_positions(b["x0"] * self.loss.scale + self.loss.mean)
            sel = b["mask"].index_select(-1, self.loss.joint_x).bool()
            errs.append((p - target).norm(dim=-1)[sel].cpu())
        net.train()
        out = {"val_loss": float(np.mean(losses))}
        err = torch.cat(errs)
        if err.numel():
            out["val_fk_known_err_m"] = float(err.mean())
        return out


def save_checkpoint(path: str, state: dict) -> None:
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


_WORKER: dict = {}


def _draw(step: int) -> Dict[str, np.ndarray]:
    """One training step's batch, from a Generator seeded by (seed, step) alone."""
    w = _WORKER
    rng = np.random.default_rng([w["seed"], step])
    return w["sampler"].training_batch(rng, w["batch"], TRAIN_STEPS, w["text_dropout"], w["high_t"],
                                       w["high_from"], gait_batches=w["gait_batches"],
                                       gait_keep_text=w["gait_keep_text"])


class Batches:
    """Batches for steps [start, stop) in order, drawn inline or by --workers forked
    processes (identical either way: each depends only on (seed, step)). The pool
    is forked here, before CUDA starts, and keeps 2 batches per worker in flight
    so memory stays bounded when the GPU is the slower side."""

    def __init__(self, sampler: Sampler, args: argparse.Namespace, start: int, stop: int) -> None:
        _WORKER.update(seed=args.seed, sampler=sampler, batch=args.batch, text_dropout=args.text_dropout,
                       high_t=args.high_t, high_from=args.high_from, gait_batches=args.gait_batches,
                       gait_keep_text=args.gait_keep_text)
        self.next, self.stop = start, stop
        self.pool = multiprocessing.get_context("fork").Pool(args.workers) if args.workers > 0 else None
        self.pending: collections.deque = collections.deque()
        self.ahead = 2 * max(1, args.workers)

    def __iter__(self) -> Iterator[Dict[str, np.ndarray]]:
        try:
            while self.next < self.stop or self.pending:
                if self.pool is None:
                    self.next += 1
                    yield _draw(self.next - 1)
                    continue
                while self.next < self.stop and len(self.pending) < self.ahead:
                    self.pending.append(self.pool.apply_async(_draw, (self.next,)))
                    self.next += 1
                yield self.pending.popleft().get()
        finally:
            if self.pool is not None:
                self.pool.terminate()


def main(argv: List[str] = None) -> int:
    args = parse_args(argv)
    if not 0 <= args.geo_fade_from < TRAIN_STEPS:
        raise SystemExit(f"--geo-fade-from {args.geo_fade_from}: want a diffusion step in [0, {TRAIN_STEPS})")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, CHECKPOINT)
    state = torch.load(ckpt_path, map_location="cpu") if os.path.exists(ckpt_path) else None
    # A fine-tune starts from --init's weights, vocabulary and normalisation.
    init = checkpoint.load(args.init) if args.init and not state else None
    src = state or init
    cfg = Config(**src["config"]) if src else None
    facing = args.facing or (cfg.facing if cfg else "free")
    ds = Dataset(args.data, stats=(src["mean"], src["std"]) if src else None, facing=facing)
    if not 0.0 <= args.augment_p <= 1.0:
        raise SystemExit(f"--augment-p {args.augment_p}: want a probability")
    augment = read_augment(args.augment) if args.augment else {}
    alternatives = augment_words(augment)
    vocab = src["vocab"] if src else augmented_vocab(build_vocab(ds.captions("train")), alternatives)
    if init and args.grow_vocab:
        vocab = augmented_vocab(grown_vocab(vocab, ds.captions("train")), alternatives)
        cfg.vocab_size = len(vocab)
        init["weights"] = grown_embeddings(init["weights"], len(vocab), args.seed)
    tok = Tokenizer(vocab)
    if cfg is None:
        cfg = Config(len(vocab), layout.D, 32, 1, 2, 64, 32, 1, 2, 64) if args.small else Config(len(vocab))
    if state and facing != cfg.facing:
        raise SystemExit(f"{ckpt_path} was trained with --facing {cfg.facing}, not {facing}")
    # A fine-tune may change the facing: its normalisation stays --init's (a scale,
    # not a fit), and the net adapts to the narrower data.
    cfg.facing = facing
    if args.text_pool:
        cfg.text_pool = True
    if args.skip:
        cfg.skip = True
    if args.seam:
        cfg.seam = True
    if args.expert_rank:
        lo, hi = (int(v) for v in args.expert_steps.split(","))
        if not 0 <= lo < hi <= TRAIN_STEPS:
            raise SystemExit(f"--expert-steps {args.expert_steps}: want lo,hi with 0 <= lo < hi <= {TRAIN_STEPS}")
        if state is None and cfg.expert_rank and (cfg.expert_rank, cfg.expert_from, cfg.expert_full) != (args.expert_rank, lo, hi):
            raise SystemExit(f"--init {args.init} has an expert of rank {cfg.expert_rank} over "
                             f"{cfg.expert_from},{cfg.expert_full}; this run asks for another")
        cfg.expert_rank, cfg.expert_from, cfg.expert_full = args.expert_rank, lo, hi
    if args.expert_only and not cfg.expert_rank:
        raise SystemExit("--expert-only needs --expert-rank (or an --init with an expert)")
    net = Net(cfg)
    expert = expert_params(net)
    if init:
        # A path the initial weights lack (--text-pool, --skip, --seam, --expert-rank) starts
        # from its own zero init.
        missing, unexpected = net.load_state_dict(init["weights"], strict=False)
        if unexpected or any(not k.startswith(("denoiser.text_pool.", "denoiser.skip.", "denoiser.seam."))
                             and k not in expert for k in missing):
            raise SystemExit(f"--init {args.init}: weights do not fit (missing {missing}, unexpected {unexpected})")
        print(f"initialised from {args.init} (step {init['step']})", flush=True)
    ema = copy.deepcopy(net).requires_grad_(False)
    start = 0
    if state:
        net.load_state_dict(state["net"])
        ema.load_state_dict(state["ema"])
        start = state["step"]
        print(f"resumed from {ckpt_path} at step {start}", flush=True)
    stop = min(args.steps, args.stop_at) if args.stop_at > 0 else args.steps
    sampler = Sampler(ds, tok, "train", args.frames_min, args.frames_max, args.word_dropout, args.class_power,
                      pad_short=args.pad_short, engine_masks=args.engine_masks, facing=cfg.facing,
                      phase_classes=[k for k in args.phase_classes.split(",") if k],
                      gait_classes=[k for k in args.gait_classes.split(",") if k] if args.gait_batches > 0 else [],
                      augment=augment, augment_p=args.augment_p)
    if augment:
        kept = augment_words(sampler.augment)
        print(f"augment: {len(sampler.augment)} caption words, {len(kept)} alternatives, p {args.augment_p}"
              + (f"; {len(alternatives) - len(kept)} alternatives outside the vocabulary left out"
                 if len(kept) < len(alternatives) else ""), flush=True)
    stream = Batches(sampler, args, start, stop)  # forks now, before CUDA is touched
    net.to(device)
    ema.to(device)
    # The skip gain is a few parameters that must travel from 0 to about 1 while the
    # network unlearns the shrunken copy it made so far; --skip-lr-mult lets it move faster.
    if args.expert_only:
        for n, p in net.named_parameters():
            p.requires_grad_(n in expert)
    skip = [p for n, p in net.named_parameters() if n.startswith("denoiser.skip.") and p.requires_grad]
    rest = [p for n, p in net.named_parameters() if not n.startswith("denoiser.skip.") and p.requires_grad]
    groups = [{"params": rest, "mult": 1.0}] + ([{"params": skip, "mult": args.skip_lr_mult}] if skip else [])
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99), weight_decay=args.weight_decay)
    if state:
        opt.load_state_dict(state["opt"])
    print(f"params: text encoder {count_params(net.text):,}, denoiser {count_params(net.denoiser):,}; "
          f"vocab {len(vocab)}; train clips {len(ds.split('train'))}, test clips {len(ds.split('test'))}; "
          f"device {device}", flush=True)
    validate = Validator(ds, tok, args, device, cfg.facing)
    loss_fn = Loss(ds.mean, ds.scale, args.w_fk, args.w_known, args.w_vel, device, args.w_foot, args.w_root)
    acp = torch.tensor(alphas_cumprod(), dtype=torch.float32, device=device)
    log = open(os.path.join(args.out, "log.jsonl"), "a", encoding="utf-8")
    run_loss, run_parts, run_n, t0 = 0.0, {}, 0, time.time()
    net.train()

    def snapshot(done: int) -> dict:
        return {"step": done, "config": dataclasses.asdict(cfg),
                "net": {k: v.cpu() for k, v in net.state_dict().items()},
                "ema": {k: v.cpu() for k, v in ema.state_dict().items()}, "opt": opt.state_dict(),
                "vocab": vocab, "mean": ds.mean, "std": ds.std, "classes": ds.classes(), "args": vars(args)}

    # The EMA follows the trained weights only: frozen ones (--expert-only) stay bit for
    # bit, since d*w + (1-d)*w is not always w in floats.
    pairs = [(e, p) for e, p in zip(ema.parameters(), net.parameters()) if p.requires_grad]
    ema_params, net_params = [e for e, _ in pairs], [p for _, p in pairs]
    batches_in = iter(stream)
    wait = 0.0
    for step in range(start, stop):
        tw = time.time()
        raw = next(batches_in)
        wait += time.time() - tw
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args) * g.get("mult", 1.0)  # checkpoints before --skip have no "mult"
        batch = to_device(raw, device)
        gate = geo_weight(acp, batch["t"], args.geo_gate, args.geo_fade_from)
        loss, parts = loss_fn(forward(net, batch, acp), batch["x0"], batch["mask"], batch["valid"], gate)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))  # warm EMA: usable even for short runs
        with torch.no_grad():
            torch._foreach_mul_(ema_params, decay)
            torch._foreach_add_(ema_params, net_params, alpha=1 - decay)
        run_loss, run_n = run_loss + loss.detach(), run_n + 1
        for k, v in parts.items():
            run_parts[k] = run_parts.get(k, 0.0) + v
        done = step + 1
        if done % args.log_every == 0 or done == args.steps:
            rec = {"step": done, "loss": float(run_loss) / run_n, "lr": lr_at(step, args),
                   "s_per_step": (time.time() - t0) / run_n, "data_wait": wait / max(1e-9, time.time() - t0),
                   "frames": batch["x0"].shape[1]}
            rec.update({f"loss_{k}": float(v) / run_n for k, v in run_parts.items()})
            if done % args.val_every == 0 or done == args.steps:
                rec.update(validate(ema, acp))
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            run_loss, run_parts, run_n, t0, wait = 0.0, {}, 0, time.time(), 0.0
        if done % args.ckpt_every == 0 or done == stop:
            save_checkpoint(ckpt_path, snapshot(done))
    log.close()
    if args.weights_out:
        print(json.dumps({"weights": checkpoint.save_weights(args.weights_out, snapshot(stop))}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
