"""Evaluate a checkpoint on the held-out split: denoising loss and constraint error.

The constraint bar of issue 3 ("constrained frames honoured within 10 cm by
the raw model") is measured here the way the host samples: 50 DDIM steps
(Kimodo respacing), separated guidance (text 2, constraint 2), no
post-processing. Errors are in metres: for fullbody and end_effector, the world
positions the host's decode gives (FK of the predicted 6D rotations and root,
fk.py) against the constrained joint positions; for root2d, the smooth root
path in the ground plane.

The class probe samples each action prompt unconstrained and measures what
the issue's bars name — root speed, root lift, foot-contact alternation — next
to the same numbers for real held-out windows of that class. It is a probe for
choosing checkpoints in PyTorch; the figures that count come from the Go
sampler through ONNX Runtime.

  /usr/bin/python3 training/evaluate.py --checkpoint training/runs/cmu-small-v1/checkpoint.pt --data training/data
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checkpoint  # noqa: E402
import fk  # noqa: E402
import layout  # noqa: E402
from data import LEAD_MARGIN, Dataset, Sampler, canonicalize, family_mask, lead_signal, turn_angle  # noqa: E402
from diffusion import alphas_cumprod, ddim_sample, q_sample  # noqa: E402
from model import Config, Net  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def guided(net: Net, emb: torch.Tensor, tmask: torch.Tensor, obs: torch.Tensor, mask: torch.Tensor,
           w_text: float, w_con: float, mode: str = "separated", replace_known: bool = True):
    """model(x, t) under guidance, all branches in one batched call (kimodo-model-facts 3.4):
    separated = u + wt(text - u) + wc(constraint - u); regular = u + wt(cond - u) with u
    the no-text, no-constraint branch; nocfg = one conditional call. With replace_known the
    known entries of the guided x0 are reset to the observed values."""
    if mode == "nocfg":
        return lambda x, t: net.denoiser(x, t, emb, tmask, obs, mask)
    b = obs.shape[0]
    z_emb, z_tm, z_mask = torch.zeros_like(emb), torch.zeros_like(tmask), torch.zeros_like(mask)
    if mode == "regular":
        e, m, o, k = torch.cat([emb, z_emb]), torch.cat([tmask, z_tm]), torch.cat([obs, obs]), torch.cat([mask, z_mask])
    else:
        e, m = torch.cat([emb, z_emb, z_emb]), torch.cat([tmask, z_tm, z_tm])
        o, k = torch.cat([obs, obs, obs]), torch.cat([z_mask, mask, z_mask])
    n = e.shape[0] // b

    def f(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = net.denoiser(torch.cat([x] * n), torch.cat([t] * n), e, m, o, k)
        if mode == "regular":
            c, u = out[:b], out[b:]
            g = u + w_text * (c - u)
        else:
            c_text, c_con, u = out[:b], out[b:2 * b], out[2 * b:]
            g = u + w_text * (c_text - u) + w_con * (c_con - u)
        # Branches without the mask move known entries off their values; the host puts them back.
        return g * (1 - mask) + obs * mask if replace_known else g
    return f


@torch.no_grad()
def evaluate(net: Net, ds: Dataset, tok: Tokenizer, samples: int = 32, frames: int = 120,
             steps: int = 50, seed: int = 0, guidance: str = "separated",
             replace_known: bool = True, device: torch.device = None) -> Dict[str, float]:
    net.eval()
    device = device or torch.device("cpu")
    rng = np.random.default_rng(seed)
    sampler = Sampler(ds, tok, "test" if ds.split("test") else "train", frames, frames, word_dropout=0.0,
                      min_frames=frames, facing=net.cfg.facing)
    batch = sampler.batch(rng, samples)
    x0 = torch.from_numpy(batch["x0"]).to(device)
    t_len = x0.shape[1]
    acp = torch.tensor(alphas_cumprod(), dtype=torch.float32, device=device)
    emb, tmask = net.text(torch.from_numpy(batch["tokens"]).to(device))
    out: Dict[str, float] = {}
    g = torch.Generator().manual_seed(seed)
    for t in (50, 250, 500, 750, 950):
        tt = torch.full((samples,), t, dtype=torch.int64, device=device)
        noise = torch.randn(x0.shape, generator=g).to(device)
        pred = net.denoiser(q_sample(x0, tt, noise, acp), tt, emb, tmask, torch.zeros_like(x0), torch.zeros_like(x0))
        out[f"x0_mse_t{t}"] = float(((pred - x0) ** 2).mean())
    raw_x0 = denorm(x0, ds)
    target = fk.target_positions(raw_x0)
    skel = fk.load_skeleton()
    joint_x = np.array(layout.joint_position_dims(layout.PREDICTED_JOINTS)[::3])  # x dim of each joint
    for kind in ("fullbody", "end_effector", "root2d"):
        mask = torch.from_numpy(np.stack([family_mask(rng, kind, t_len) for _ in range(samples)])).to(device)
        f = guided(net, emb, tmask, x0 * mask, mask, 2.0, 2.0, guidance, replace_known)
        raw = denorm(ddim_sample(f, tuple(x0.shape), n=steps, generator=g, device=device), ds)
        m = mask.cpu().numpy().astype(bool)
        if kind == "root2d":  # the smooth root path itself, metres in the ground plane
            sel = m[..., 0]
            err = np.linalg.norm(raw[..., [0, 2]] - raw_x0[..., [0, 2]], axis=-1)[sel]
        else:  # FK of the decoded rotations + root against the stated joint positions
            sel = m[..., joint_x]
            err = np.linalg.norm(fk.world_positions(raw, skel) - target, axis=-1)[sel]
        out[f"{kind}_fk_err_m_mean"] = float(err.mean())
        out[f"{kind}_fk_err_m_p95"] = float(np.quantile(err, 0.95))
        out[f"{kind}_within_10cm"] = float((err <= 0.10).mean())
    return out


PROBE_PROMPTS = {
    "walk": "a person walks forward", "run": "a person runs forward", "jump": "a person jumps",
    "kick": "a person kicks", "punch": "a person punches", "dance": "a person dances",
    "climb": "a person climbs", "turn": "a person turns around",
}


def motion_stats(raw: np.ndarray) -> Dict[str, float]:
    """Per-window numbers a viewer would judge a class by, averaged over windows [N,T,D]:
    net and path root speed (m/s) from the integrated Hips velocity, root lift (m: the
    highest Hips height minus the first), root jitter (cm: mean |second difference| of
    the absolute smooth root channel), and contact switches per second (how often the
    planted foot changes, ~2/s for a walk)."""
    fps = layout.FPS
    lo = layout.OFFSETS["velocities"][0]
    vel = raw[..., lo:lo + 3]  # Hips velocity, m/s
    xz = np.cumsum(vel[..., [0, 2]] / fps, axis=1)
    dur = (raw.shape[1] - 1) / fps
    net = np.linalg.norm(xz[:, -1] - xz[:, 0], axis=-1) / dur
    path = np.linalg.norm(np.diff(xz, axis=1), axis=-1).sum(1) / dur
    lp = layout.OFFSETS["local_joints_positions"][0]
    lift = raw[..., lp + 1].max(1) - raw[..., lp + 1][:, 0]
    jitter = np.linalg.norm(np.diff(raw[..., [0, 2]], n=2, axis=1), axis=-1).mean(1) * 100
    c0 = layout.OFFSETS["foot_contacts"][0]
    left = raw[..., c0] > 0.5
    right = raw[..., c0 + 2] > 0.5
    side = np.where(left & ~right, 1, np.where(right & ~left, -1, 0))
    switches = []
    for row in side:
        s = row[row != 0]
        switches.append(np.count_nonzero(np.diff(s)) / dur)
    return {"net_speed": float(net.mean()), "path_speed": float(path.mean()), "lift": float(lift.mean()),
            "root_jitter_cm": float(jitter.mean()), "contact_switch_hz": float(np.mean(switches)),
            "steps_per_s": float(np.mean(steps_per_s(raw)))}




def lead_kept(pred: np.ndarray, real: np.ndarray) -> float:
    """How much of the real windows' stride one prediction keeps: the least-squares
    slope of its leading-foot signal on theirs, each window's mean removed
    (1 = kept, 0.5 = the feet swing half as far)."""
    p, r = lead_signal(pred), lead_signal(real)
    p, r = p - p.mean(axis=1, keepdims=True), r - r.mean(axis=1, keepdims=True)
    return float((p * r).sum() / max(1e-12, float((r * r).sum())))


def ddim_from(model, xt: torch.Tensor, t0: int, n: int) -> torch.Tensor:
    """Deterministic DDIM from x_t at step t0 down to 0 in n steps (t0, t0(n-1)/n, ...)."""
    acp = alphas_cumprod()
    ts = [int(round(t0 * (1 - i / n))) for i in range(n)]
    x = xt
    for k, t in enumerate(ts):
        a, a_prev = float(acp[t]), float(acp[ts[k + 1]]) if k + 1 < n else 1.0
        x0 = model(x, torch.full((x.shape[0],), t, dtype=torch.int64, device=x.device))
        eps = (x / np.sqrt(a) - x0) / np.sqrt(1.0 / a - 1.0)
        x = np.sqrt(a_prev) * x0 + np.sqrt(1.0 - a_prev) * eps
    return x


def steps_per_s(raw: np.ndarray) -> np.ndarray:
    """Per window [N,T,D]: how often per second the leading foot changes — the left ankle
    ahead of the right along the body's facing (perpendicular to the hip vector) by
    LEAD_MARGIN, or the other way round — from the position features, as the Go evaluator
    counts steps (real walk clips 1.6 per second, runs 2.5, jumps 0.1)."""
    lead = lead_signal(raw)
    side = np.where(lead > LEAD_MARGIN, 1, np.where(lead < -LEAD_MARGIN, -1, 0))
    out = []
    for row in side:
        s = row[row != 0]
        out.append(np.count_nonzero(np.diff(s)) * layout.FPS / (raw.shape[1] - 1))
    return np.array(out)


def real_windows(ds: Dataset, pool: list, n: int, frames: int, rng: np.random.Generator,
                 facing: str = "free") -> np.ndarray:
    """n random windows of the given length from the pool's clips, canonicalised as in
    training (a "free" model's unturned): raw features [n, frames, D]."""
    wins = []
    for _ in range(n):
        c = pool[int(rng.integers(len(pool)))]
        s = c.start + int(rng.integers(0, c.frames - frames + 1))
        angle = 0.0 if facing == "free" else turn_angle(rng, ds.raw[s], facing)
        wins.append(canonicalize(ds.raw[s:s + frames], angle))
    return np.stack(wins)


@torch.no_grad()
def gait_probe(net: Net, ds: Dataset, tok: Tokenizer, cls: str = "walk", prompt: str = "a person walks forward",
               windows: int = 8, frames: int = 120, steps: int = 50, seed: int = 0,
               ts=(10, 200, 600, 800, 900, 950), chain_from: int = 300, chains=(3, 30),
               device: torch.device = None) -> Dict[str, float]:
    """Where the gait is lost: steps per second of real windows of a class; of one x0
    prediction from those windows noised to each t in ts, with the share of the stride it
    keeps (lead_kept); of DDIM chains of n steps from the windows noised to chain_from
    (nocfg); and of samples from noise (nocfg and separated 2/2). A denoiser that keeps
    0.8 of the stride per call loses the gait over a chain however good one call looks."""
    net.eval()
    device = device or torch.device("cpu")
    rng = np.random.default_rng(seed)
    longest = max((c.frames for c in ds.clips if cls in c.classes), default=0)
    frames = min(frames, longest // 4 * 4)  # CMU's runs last 1-1.5 s; whole 4-frame tokens
    if frames < 4:
        return {}
    real = real_windows(ds, [c for c in ds.clips if cls in c.classes and c.frames >= frames], windows, frames, rng,
                        net.cfg.facing)
    out = {"frames": frames, "real": float(steps_per_s(real).mean())}
    x0 = torch.tensor((real - ds.mean) / ds.scale, dtype=torch.float32, device=device)
    acp = torch.tensor(alphas_cumprod(), dtype=torch.float32, device=device)
    emb, tmask = net.text(torch.tensor([tok.encode(prompt)] * windows, device=device))
    zero = torch.zeros_like(x0)
    g = torch.Generator().manual_seed(seed)
    for t in ts:
        tt = torch.full((windows,), t, dtype=torch.int64, device=device)
        xt = q_sample(x0, tt, torch.randn(x0.shape, generator=g).to(device), acp)
        pred = denorm(net.denoiser(xt, tt, emb, tmask, zero, zero), ds)
        out[f"x0_from_t{t}"] = float(steps_per_s(pred).mean())
        out[f"lead_kept_t{t}"] = lead_kept(pred, real)
    cond = guided(net, emb, tmask, zero, zero, 1.0, 0.0, "nocfg")
    tt = torch.full((windows,), chain_from, dtype=torch.int64, device=device)
    xt = q_sample(x0, tt, torch.randn(x0.shape, generator=g).to(device), acp)
    for n in chains:
        out[f"ddim{n}_from_t{chain_from}"] = float(steps_per_s(denorm(ddim_from(cond, xt, chain_from, n), ds)).mean())
    for mode, w in (("nocfg", 1.0), ("separated", 2.0)):
        f = guided(net, emb, tmask, zero, zero, w, 2.0, mode)
        x = ddim_sample(f, tuple(x0.shape), n=steps, generator=g, device=device)
        out[f"sampled_{mode}"] = float(steps_per_s(denorm(x, ds)).mean())
    return out


@torch.no_grad()
def ideal_probe(net: Net, ds: Dataset, tok: Tokenizer, cls: str = "walk", prompt: str = "a person walks forward",
                frames: int = 72, windows: int = 16, ts=(600, 800, 900, 950), seed: int = 0,
                device: torch.device = None) -> Dict[str, float]:
    """How much of a held-out stride is recoverable from x_t, against how much the net
    keeps (lead_kept): the ideal is E[x0 | x_t] over a bank of the class's windows
    (every 4 frames of the clips not held out; every third clip id is held out, with
    its mirror), the posterior of a model that had learnt that bank exactly. Where the
    ideal keeps the stride and the net does not, the phase is in the noise and the net
    has not learnt to read it."""
    net.eval()
    device = device or torch.device("cpu")
    clips = [c for c in ds.clips if cls in c.classes and c.frames >= frames]
    ids = sorted({c.id for c in clips})
    held = set(ids[::3])

    def windows_of(keep, stride):
        out = [canonicalize(ds.raw[s:s + frames], turn_angle(None, ds.raw[s], net.cfg.facing))
               for c in clips if (c.id in held) == keep
               for s in range(c.start, c.start + c.frames - frames + 1, stride)]
        return np.stack(out) if out else np.zeros((0, frames, layout.D))

    if net.cfg.facing == "free":
        return {}  # a free-facing net's windows are turned at random: no bank to compare with
    bank, test = windows_of(False, 4), windows_of(True, 12)
    if not len(bank) or not len(test):
        return {}
    test = test[np.random.default_rng(seed).permutation(len(test))[:windows]]
    nb = torch.tensor((bank - ds.mean) / ds.scale, dtype=torch.float32, device=device).reshape(len(bank), -1)
    x0 = torch.tensor((test - ds.mean) / ds.scale, dtype=torch.float32, device=device)
    acp = torch.tensor(alphas_cumprod(), dtype=torch.float32, device=device)
    emb, tmask = net.text(torch.tensor([tok.encode(prompt)] * len(x0), device=device))
    zero, g = torch.zeros_like(x0), torch.Generator().manual_seed(seed)
    out: Dict[str, float] = {"frames": frames, "bank": len(bank), "held_out": len(x0)}
    for t in ts:
        tt = torch.full((len(x0),), t, dtype=torch.int64, device=device)
        xt = q_sample(x0, tt, torch.randn(x0.shape, generator=g).to(device), acp)
        a, flat = float(acp[t]), xt.reshape(len(xt), -1)
        d2 = (flat * flat).sum(1, keepdim=True) - 2 * np.sqrt(a) * flat @ nb.T + a * (nb * nb).sum(1)
        ideal = (torch.softmax(-d2 / (2 * (1 - a)), dim=1) @ nb).reshape(x0.shape)
        out[f"ideal_kept_t{t}"] = lead_kept(denorm(ideal, ds), test)
        out[f"net_kept_t{t}"] = lead_kept(denorm(net.denoiser(xt, tt, emb, tmask, zero, zero), ds), test)
    return out


@torch.no_grad()
def probe(net: Net, ds: Dataset, tok: Tokenizer, samples: int = 16, frames: int = 120, steps: int = 50,
          seed: int = 0, guidance: str = "regular", weight: float = 2.0,
          device: torch.device = None) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Generated vs real motion statistics per action class (see motion_stats)."""
    net.eval()
    device = device or torch.device("cpu")
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    out: Dict[str, Dict[str, Dict[str, float]]] = {}
    for cls, prompt in PROBE_PROMPTS.items():
        row: Dict[str, Dict[str, float]] = {}
        real = [c for c in ds.clips if cls in c.classes and c.frames >= frames]
        if real:  # real windows of the class (held-out first), canonicalised like training
            pool = [c for c in real if c.split == "test"] or real
            row["real"] = motion_stats(real_windows(ds, pool, samples, frames, rng, net.cfg.facing))
        ids = torch.tensor([tok.encode(prompt)] * samples, device=device)
        emb, tmask = net.text(ids)
        zero = torch.zeros((samples, frames, layout.D), device=device)
        f = guided(net, emb, tmask, zero, zero, weight, 0.0, guidance)
        x = ddim_sample(f, (samples, frames, layout.D), n=steps, generator=g, device=device)
        row["generated"] = motion_stats(denorm(x, ds))
        out[cls] = row
    return out


def denorm(x: torch.Tensor, ds: Dataset) -> np.ndarray:
    """Normalised features -> raw float64 features."""
    return x.cpu().numpy().astype(np.float64) * ds.scale + ds.mean


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description="evaluate a checkpoint on the test split")
    p.add_argument("--checkpoint", default="training/runs/cmu-small-v1/checkpoint.pt",
                   help="checkpoint.pt or a weights folder (train.py --weights-out)")
    p.add_argument("--data", default="training/data")
    p.add_argument("--weights", choices=["ema", "net"], default="ema")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--guidance", choices=["separated", "regular", "nocfg"], default="separated")
    p.add_argument("--no-replace-known", action="store_true",
                   help="keep the guided x0 as mixed instead of resetting known entries")
    p.add_argument("--probe", action="store_true", help="also run the per-class probe")
    p.add_argument("--gait", action="store_true", help="also run the gait probe (walk and run: where the steps are lost)")
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    device = torch.device(a.device)
    state = checkpoint.load(a.checkpoint, a.weights)
    net = Net(Config(**state["config"]))
    net.load_state_dict(state["weights"])
    net.to(device)
    ds = Dataset(a.data, stats=(state["mean"], state["std"]))
    tok = Tokenizer(state["vocab"])
    res = evaluate(net, ds, tok, a.samples, steps=a.steps, guidance=a.guidance,
                   replace_known=not a.no_replace_known, device=device)
    res.update(checkpoint_step=state["step"], guidance=a.guidance, ddim_steps=a.steps,
               replace_known=not a.no_replace_known)
    if a.probe:
        res["probe"] = probe(net, ds, tok, steps=a.steps, device=device)
    if a.gait:
        res["gait"] = {c: gait_probe(net, ds, tok, c, p, steps=a.steps, device=device)
                       for c, p in (("walk", PROBE_PROMPTS["walk"]), ("run", PROBE_PROMPTS["run"]))}
        res["gait"]["walk"]["ideal"] = ideal_probe(net, ds, tok, "walk", PROBE_PROMPTS["walk"], device=device)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
