"""Cosine noise schedule and forward noising (issue 3 contract, Kimodo's values).

Only the training side lives here; sampling (DDIM, respacing, guidance) is the
Go host's job. ddim_sample exists solely so tests and the quick evaluation can
check that a trained model denoises; it follows the same rules as the host.
"""
from __future__ import annotations

import math
from typing import Callable, List

import numpy as np
import torch
from torch import Tensor

TRAIN_STEPS = 1000


def alphas_cumprod(steps: int = TRAIN_STEPS) -> np.ndarray:
    """cumprod(1 - beta) of the cosine schedule, float64, beta capped at 0.999."""
    def abar(u: float) -> float:
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = np.array([min(1 - abar((i + 1) / steps) / abar(i / steps), 0.999) for i in range(steps)])
    return np.cumprod(1.0 - betas)


def q_sample(x0: Tensor, t: Tensor, noise: Tensor, acp: Tensor) -> Tensor:
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, per batch element."""
    a = acp[t].to(x0.dtype).view(-1, 1, 1)
    return a.sqrt() * x0 + (1.0 - a).sqrt() * noise


def respaced(n: int, steps: int = TRAIN_STEPS) -> List[int]:
    """Kimodo's respacing: round(i * (steps-1)/(n-1)), half to even, capped."""
    if n == 1:
        return [steps - 1]
    stride = (steps - 1) / (n - 1)
    return [min(int(np.round(i * stride)), steps - 1) for i in range(n)]


@torch.no_grad()
def ddim_sample(model: Callable[[Tensor, Tensor], Tensor], shape: tuple, n: int = 50,
                generator: torch.Generator = None, device: torch.device = None) -> Tensor:
    """Deterministic DDIM (eta 0) over the respaced timesteps; model(x, t) -> x0.
    The start noise is drawn on the CPU generator, so a seed means the same on any device."""
    acp_base = alphas_cumprod()
    ts = respaced(n)
    acp = np.maximum(acp_base[ts], 1e-9)
    x = torch.randn(shape, generator=generator).to(device or "cpu")
    for i in reversed(range(n)):
        t = torch.full((shape[0],), ts[i], dtype=torch.int64, device=x.device)
        x0 = model(x, t)
        a, a_prev = float(acp[i]), float(acp[i - 1]) if i > 0 else 1.0
        eps = (x / math.sqrt(a) - x0) / math.sqrt(1.0 / a - 1.0)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1.0 - a_prev) * eps
    return x
