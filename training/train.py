"""Train the text encoder and denoiser together (x0 prediction, cosine schedule).

Usage: /usr/bin/python3 training/train.py --data training/data --out training/runs/cmu-small-v1 --steps 6000

A run resumes from <out>/checkpoint.pt when it exists (same arguments, more
steps), restoring weights, optimiser, EMA and every RNG, so an interrupted run
and an uninterrupted one draw the same batches.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import random
import sys
import time
from typing import Dict, List

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fk  # noqa: E402
import layout  # noqa: E402
from data import Dataset, Sampler  # noqa: E402
from diffusion import TRAIN_STEPS, alphas_cumprod, q_sample  # noqa: E402
from model import Config, Net, count_params  # noqa: E402
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
    p.add_argument("--word-dropout", type=float, default=0.05, help="words replaced by <unk>")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--ckpt-every", type=int, default=250)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--small", action="store_true", help="tiny net (tests only)")
    return p.parse_args(argv)


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warmup, then cosine decay to 10% of the peak at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    u = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, u))))


def seed_all(seed: int) -> np.random.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def loss_on(net: Net, batch: Dict[str, np.ndarray], t: torch.Tensor, noise: torch.Tensor,
            acp: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """MSE of the x0 prediction over all entries (known ones are exact, so they add 0)."""
    x0 = torch.from_numpy(batch["x0"])
    mask = torch.from_numpy(batch["mask"])
    emb, tmask = net.text(torch.from_numpy(batch["tokens"]))
    emb, tmask = emb * keep[:, None, None], tmask * keep[:, None]
    xt = q_sample(x0, t, noise, acp)
    pred = net.denoiser(xt, t, emb, tmask, x0 * mask, mask)
    return ((pred - x0) ** 2).mean()


class Validator:
    """Fixed held-out batches (test split) so validation numbers are comparable across steps."""

    def __init__(self, ds: Dataset, tok: Tokenizer, args: argparse.Namespace) -> None:
        self.batches = []
        self.ds = ds
        if not ds.split("test"):
            return
        rng = np.random.default_rng(args.seed + 1000)
        gen = torch.Generator().manual_seed(args.seed + 1000)
        sampler = Sampler(ds, tok, "test", 120, 120, word_dropout=0.0)
        for _ in range(4):
            b = sampler.batch(rng, args.batch)
            t = torch.randint(0, TRAIN_STEPS, (args.batch,), generator=gen)
            noise = torch.randn(b["x0"].shape, generator=gen)
            self.batches.append((b, t, noise))
        self.skel = fk.load_skeleton()
        self.joint_x = np.array(layout.joint_position_dims(layout.PREDICTED_JOINTS)[::3])

    @torch.no_grad()
    def __call__(self, net: Net, acp: torch.Tensor) -> Dict[str, float]:
        """val loss, and the mean distance (m) between the FK of the raw x0 prediction
        and the known joint positions (fullbody / end-effector entries): the rotations
        must agree with the positions they are given."""
        if not self.batches:
            return {}
        net.eval()
        losses, errs = [], []
        for b, t, noise in self.batches:
            x0, mask = torch.from_numpy(b["x0"]), torch.from_numpy(b["mask"])
            emb, tmask = net.text(torch.from_numpy(b["tokens"]))
            pred = net.denoiser(q_sample(x0, t, noise, acp), t, emb, tmask, x0 * mask, mask)
            losses.append(float(((pred - x0) ** 2).mean()))
            raw = pred.numpy().astype(np.float64) * self.ds.scale + self.ds.mean
            target = fk.target_positions(b["x0"].astype(np.float64) * self.ds.scale + self.ds.mean)
            sel = b["mask"][..., self.joint_x].astype(bool)
            errs.append(np.linalg.norm(fk.world_positions(raw, self.skel) - target, axis=-1)[sel])
        net.train()
        out = {"val_loss": float(np.mean(losses))}
        err = np.concatenate(errs)
        if err.size:
            out["val_fk_known_err_m"] = float(err.mean())
        return out


def save_checkpoint(path: str, state: dict) -> None:
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def main(argv: List[str] = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = seed_all(args.seed)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, CHECKPOINT)
    state = torch.load(ckpt_path) if os.path.exists(ckpt_path) else None
    ds = Dataset(args.data, stats=(state["mean"], state["std"]) if state else None)
    vocab = state["vocab"] if state else build_vocab(ds.captions("train"))
    tok = Tokenizer(vocab)
    cfg = Config(**state["config"]) if state else (
        Config(len(vocab), layout.D, 32, 1, 2, 64, 32, 1, 2, 64) if args.small else Config(len(vocab)))
    net = Net(cfg)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=args.weight_decay)
    start = 0
    if state:
        net.load_state_dict(state["net"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        rng.bit_generator.state = state["rng_numpy"]
        torch.set_rng_state(state["rng_torch"])
        random.setstate(state["rng_python"])
        start = state["step"]
        print(f"resumed from {ckpt_path} at step {start}", flush=True)
    print(f"params: text encoder {count_params(net.text):,}, denoiser {count_params(net.denoiser):,}; "
          f"vocab {len(vocab)}; train clips {len(ds.split('train'))}, test clips {len(ds.split('test'))}",
          flush=True)
    sampler = Sampler(ds, tok, "train", args.frames_min, args.frames_max, args.word_dropout)
    validate = Validator(ds, tok, args)
    acp = torch.tensor(alphas_cumprod(), dtype=torch.float32)
    log = open(os.path.join(args.out, "log.jsonl"), "a", encoding="utf-8")
    run_loss, run_n, t0 = 0.0, 0, time.time()
    net.train()
    stop = min(args.steps, args.stop_at) if args.stop_at > 0 else args.steps
    for step in range(start, stop):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        batch = sampler.batch(rng, args.batch)
        t = torch.from_numpy(rng.integers(0, TRAIN_STEPS, args.batch))
        noise = torch.randn(batch["x0"].shape)
        keep = (torch.rand(args.batch) >= args.text_dropout).float()
        loss = loss_on(net, batch, t, noise, acp, keep)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))  # warm EMA: usable even for short runs
        with torch.no_grad():
            for pe, pn in zip(ema.parameters(), net.parameters()):
                pe.mul_(decay).add_(pn, alpha=1 - decay)
        run_loss, run_n = run_loss + float(loss), run_n + 1
        done = step + 1
        if done % args.log_every == 0 or done == args.steps:
            rec = {"step": done, "loss": run_loss / run_n, "lr": lr_at(step, args),
                   "s_per_step": (time.time() - t0) / run_n, "frames": batch["x0"].shape[1]}
            if done % args.val_every == 0 or done == args.steps:
                rec.update(validate(ema, acp))
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            run_loss, run_n, t0 = 0.0, 0, time.time()
        if done % args.ckpt_every == 0 or done == stop:
            save_checkpoint(ckpt_path, {
                "step": done, "config": dataclasses.asdict(cfg), "net": net.state_dict(),
                "ema": ema.state_dict(), "opt": opt.state_dict(), "vocab": vocab,
                "mean": ds.mean, "std": ds.std, "classes": ds.classes(),
                "rng_numpy": rng.bit_generator.state, "rng_torch": torch.get_rng_state(),
                "rng_python": random.getstate(), "args": vars(args)})
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
