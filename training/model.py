"""Text encoder and denoiser, written for clean ONNX export (opset 17).

Attention is hand-written (Linear + matmul + softmax) rather than
nn.TransformerEncoder: PyTorch 1.13's fused inference fast path and nested
tensors do not export, and a hand-written layer lets the key-padding mask be
plain float math (an additive bias), with no data-dependent control flow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Set, Tuple

import torch
from torch import Tensor, nn

NEG = -1e9  # additive bias for masked keys; finite so an all-masked row cannot give NaN


def sinusoid(pos: Tensor, dim: int) -> Tensor:
    """Sinusoidal code of float positions [...] -> [..., dim] (sin half, cos half)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32, device=pos.device) * (-math.log(10000.0) / half))
    ang = pos.to(torch.float32).unsqueeze(-1) * freqs
    return torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)


def positions(x: Tensor) -> Tensor:
    """Sinusoidal codes for the sequence axis of x [B,S,d]; S stays dynamic in ONNX."""
    idx = torch.cumsum(torch.ones_like(x[0, :, 0]), dim=0) - 1.0
    return sinusoid(idx, x.shape[-1])


class LowRank(nn.Module):
    """The factors of x @ down @ up, rank r, starting at zero (up is zero-initialised), so a
    fine-tune that adds it starts from the same function."""

    def __init__(self, dim_in: int, dim_out: int, rank: int) -> None:
        super().__init__()
        self.down = nn.Linear(dim_in, rank, bias=False)
        self.up = nn.Linear(rank, dim_out, bias=False)
        nn.init.zeros_(self.up.weight)


def gated(base: nn.Linear, extra: Optional[LowRank], x: Tensor, gate: Optional[Tensor]) -> Tensor:
    """base(x), plus gate * extra(x) where the layer has a high-noise expert (the gate
    applied between its two factors, where the tensor is r wide)."""
    y = base(x)
    if extra is not None and gate is not None:
        y = y + extra.up(gate * extra.down(x))
    return y


class Attention(nn.Module):
    """Multi-head self-attention with an additive key bias [B,1,1,S]."""

    def __init__(self, dim: int, heads: int, expert_rank: int = 0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} not divisible by heads {heads}")
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.qkv_hi = LowRank(dim, 3 * dim, expert_rank) if expert_rank else None
        self.out_hi = LowRank(dim, dim, expert_rank) if expert_rank else None

    def forward(self, x: Tensor, bias: Tensor, q_from: int = 0, gate: Optional[Tensor] = None) -> Tensor:
        """Every token attends to all; with q_from only tokens q_from.. ask (and are returned);
        gate [B,1,1] weighs the high-noise expert's low-rank terms."""
        b, _, d = x.shape
        # one Split: cheaper in ONNX than indexing a permuted qkv
        q, k, v = gated(self.qkv, self.qkv_hi, x, gate).chunk(3, dim=-1)
        if q_from:
            q = q[:, q_from:]

        def heads(t: Tensor) -> Tensor:
            return t.reshape(b, -1, self.heads, self.head_dim).transpose(1, 2)

        att = torch.matmul(heads(q), heads(k).transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + bias
        y = torch.matmul(torch.softmax(att, dim=-1), heads(v))
        return gated(self.out, self.out_hi, y.transpose(1, 2).reshape(b, -1, d), gate)


class Layer(nn.Module):
    """Pre-LayerNorm encoder layer: pre-LN trains stably without long warmups,
    which matters for short CPU runs."""

    def __init__(self, dim: int, heads: int, ff: int, expert_rank: int = 0) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.att = Attention(dim, heads, expert_rank)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.GELU(), nn.Linear(ff, dim))
        self.ff_hi = nn.ModuleList([LowRank(dim, ff, expert_rank), LowRank(ff, dim, expert_rank)]) \
            if expert_rank else None

    def forward(self, x: Tensor, bias: Tensor, q_from: int = 0, gate: Optional[Tensor] = None) -> Tensor:
        """q_from > 0: only tokens q_from.. come out (the rest still serve as keys)."""
        a = self.att(self.ln1(x), bias, q_from, gate)
        x = (x[:, q_from:] if q_from else x) + a
        if self.ff_hi is None or gate is None:
            return x + self.ff(self.ln2(x))
        h = self.ln2(x)
        h = self.ff[1](gated(self.ff[0], self.ff_hi[0], h, gate))
        return x + gated(self.ff[2], self.ff_hi[1], h, gate)


class Stack(nn.Module):
    """Layers plus the final LayerNorm a pre-LN stack needs."""

    def __init__(self, dim: int, heads: int, ff: int, layers: int, expert_rank: int = 0) -> None:
        super().__init__()
        self.layers = nn.ModuleList([Layer(dim, heads, ff, expert_rank) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor, key_mask: Tensor, keep_from: int = 0, gate: Optional[Tensor] = None) -> Tensor:
        """keep_from > 0: only tokens keep_from.. are returned, so the last layer
        skips the others' queries, output projection and feed-forward."""
        bias = ((1.0 - key_mask) * NEG)[:, None, None, :]
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x, bias, keep_from if i == last else 0, gate)
        if keep_from and not self.layers:
            x = x[:, keep_from:]
        return self.norm(x)


class TextEncoder(nn.Module):
    """tokens int64 [B,L] -> text_embedding [B,L,E] (zero on pads), text_mask [B,L]."""

    def __init__(self, vocab_size: int, dim: int = 128, layers: int = 2, heads: int = 4,
                 ff: int = 512) -> None:
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(vocab_size, dim)
        self.stack = Stack(dim, heads, ff, layers)

    def forward(self, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        mask = (tokens != 0).to(torch.float32)
        h = self.embed(tokens) * math.sqrt(self.dim)
        h = h + positions(h)
        h = self.stack(h, mask)
        return h * mask.unsqueeze(-1), mask


class Denoiser(nn.Module):
    """x0 prediction from noisy normalised features, timestep, text and known values.

    Where observed_mask is 1 the output is the observed value itself; the
    network predicts the rest, which must agree with it.

    Sequence = [L text tokens, 1 timestep token, T/patch motion tokens]. Motion
    tokens get sinusoidal positions counted from 0 and text tokens keep the
    positions the text encoder gave them, so the result does not depend on how
    many pad slots the host appends (pads are masked keys); a learned type
    vector tells text, timestep and motion tokens apart.
    """

    def __init__(self, features: int, text_dim: int = 128, dim: int = 256, layers: int = 4,
                 heads: int = 4, ff: int = 1024, patch: int = 4, text_pool: bool = False,
                 skip: bool = False, seam: bool = False, expert_rank: int = 0,
                 expert_steps: Tuple[int, int] = (600, 750)) -> None:
        super().__init__()
        self.features, self.dim, self.patch = features, dim, patch
        # expert_rank: a high-noise expert inside the one graph. Every matrix of the
        # stack gets a rank-r term weighed by a gate of the timestep, 0 below
        # expert_steps[0], rising to 1 at expert_steps[1]: there a walk's phase must be
        # read out of the noise, which the shared weights learn slowly ("Where the steps
        # are lost", training/README), and the expert can be trained there alone without
        # changing a single output below expert_steps[0].
        self.expert_rank, self.expert_steps = expert_rank, expert_steps
        # text_pool: the mean of the text tokens also added to every motion token,
        # through a projection that starts at zero (a fine-tune starts from the
        # same function): a direct path for the prompt besides attention.
        self.text_pool = nn.Linear(dim, dim) if text_pool else None
        if self.text_pool is not None:
            nn.init.zeros_(self.text_pool.weight)
            nn.init.zeros_(self.text_pool.bias)
        # skip: x0 = network + gain(t) * x_in, a per-feature gain of the noisy input
        # learnt as a function of the timestep, starting at zero (a fine-tune starts
        # from the same function). Without it every frame passes through a 256-wide
        # token and back, and the prediction shrinks what the token cannot carry:
        # at t = 50 a walk's leading-foot swing came back at 0.8 of its size, and
        # 50 DDIM steps compound that into a body that glides (training/README).
        self.skip = nn.Sequential(nn.Linear(dim, 64), nn.SiLU(), nn.Linear(64, features)) if skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip[2].weight)
            nn.init.zeros_(self.skip[2].bias)
        self.inp = nn.Linear(2 * features * patch, dim)
        self.text = nn.Linear(text_dim, dim)
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.kind = nn.Parameter(torch.zeros(3, dim))
        nn.init.normal_(self.kind, std=0.02)
        self.stack = Stack(dim, heads, ff, layers, expert_rank)
        self.outp = nn.Linear(dim, features * patch)
        # seam: each token's frames also read the tokens either side (two more
        # output projections, zero-initialised so a fine-tune starts from the same
        # function). With one token per patch alone, consecutive patches are
        # predicted apart and meet with a jump: 1.7.0's walk samples have a second
        # difference of 10 cm/frame² across patch boundaries, 1 within a patch.
        self.seam = nn.ModuleList([nn.Linear(dim, features * patch) for _ in range(2)]) if seam else None
        if self.seam is not None:
            for lin in self.seam:
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)

    def forward(self, x: Tensor, timestep: Tensor, text_embedding: Tensor, text_mask: Tensor,
                observed: Tensor, observed_mask: Tensor, frame_valid: Optional[Tensor] = None) -> Tensor:
        """frame_valid [B,T] (training only, never exported): 0 on frames padded
        after a short clip; motion tokens whose frames are all padding are masked keys."""
        b, t, d = x.shape
        x_in = x * (1.0 - observed_mask) + observed * observed_mask
        m = torch.cat([x_in, observed_mask], dim=-1).reshape(b, -1, 2 * d * self.patch)
        m = self.inp(m)
        m = m + positions(m) + self.kind[2]
        txt = self.text(text_embedding) + self.kind[0]
        if self.text_pool is not None:
            w = text_mask.unsqueeze(-1)
            pooled = (self.text(text_embedding) * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)
            m = m + self.text_pool(pooled).unsqueeze(1)
        tim = self.time(sinusoid(timestep, self.dim)).unsqueeze(1) + self.kind[1]
        seq = torch.cat([txt, tim, m], dim=1)
        ones = torch.ones_like(seq[:, txt.shape[1]:, 0])  # timestep + motion keys: never masked
        if frame_valid is not None:
            tokens = frame_valid.reshape(b, -1, self.patch).amax(dim=-1)
            ones = torch.cat([ones[:, :1], tokens.to(ones.dtype)], dim=1)
        key_mask = torch.cat([text_mask, ones], dim=1)
        gate = None
        if self.expert_rank:
            lo, hi = self.expert_steps
            gate = ((timestep.to(torch.float32) - lo) / float(hi - lo)).clamp(0.0, 1.0).view(b, 1, 1)
        h = self.stack(seq, key_mask, keep_from=txt.shape[1] + 1, gate=gate)  # the motion tokens
        out = self.outp(h)
        if self.seam is not None:  # the edge tokens stand in for their missing neighbours
            prev = torch.cat([h[:, :1], h[:, :-1]], dim=1)
            nxt = torch.cat([h[:, 1:], h[:, -1:]], dim=1)
            out = out + self.seam[0](prev) + self.seam[1](nxt)
        out = out.reshape(b, t, d)
        if self.skip is not None:
            out = out + self.skip(sinusoid(timestep, self.dim)).unsqueeze(1) * x_in
        # Known entries are returned as given: a 256-wide token cannot pass 4x273
        # values through exactly, and constraints and stitching prefixes must hold.
        return out * (1.0 - observed_mask) + observed * observed_mask


def expert_params(net: nn.Module) -> Set[str]:
    """Names of the parameters that belong to the high-noise expert: those inside a
    LowRank module, so no list of the expert's layer names has to be kept in step."""
    return {f"{m}.{p}" if m else p for m, mod in net.named_modules() if isinstance(mod, LowRank)
            for p, _ in mod.named_parameters()}


def count_params(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@dataclass
class Config:
    """Architecture hyper-parameters, stored in every checkpoint to rebuild the net."""

    vocab_size: int
    features: int = 273
    text_dim: int = 128
    text_layers: int = 2
    text_heads: int = 4
    text_ff: int = 512
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    ff: int = 1024
    patch: int = 4
    text_pool: bool = False
    skip: bool = False
    seam: bool = False
    # The high-noise expert (Denoiser): its rank (0: none) and the timesteps its gate
    # rises over, from 0 at the first to 1 at the second.
    expert_rank: int = 0
    expert_from: int = 600
    expert_full: int = 750
    # Not a layer: how the training windows were turned (data.FACINGS), which the
    # host must know to feed the net (model.json features.first_heading).
    facing: str = "free"


class Net(nn.Module):
    """Text encoder and denoiser trained together (one optimiser, one EMA)."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.text = TextEncoder(cfg.vocab_size, cfg.text_dim, cfg.text_layers, cfg.text_heads, cfg.text_ff)
        self.denoiser = Denoiser(cfg.features, cfg.text_dim, cfg.d_model, cfg.layers, cfg.heads,
                                 cfg.ff, cfg.patch, cfg.text_pool, cfg.skip, cfg.seam,
                                 cfg.expert_rank, (cfg.expert_from, cfg.expert_full))
