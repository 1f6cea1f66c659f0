"""EquiAV losses (engine/losses.ts; official loss/ntxent.py and loss/simclr.py), with the official DDP semantics:
the inter-modal keys are gathered from every rank without gradient, the intra-modal keys with gradient.
On one process both reduce to the engine's losses exactly."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

DEFAULT_TAU = 0.07


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_without_grad(x: torch.Tensor) -> torch.Tensor:
    """Every rank's rows, concatenated in rank order; no gradient flows back (official utils.all_gather_batch)."""
    _, world = _world()
    if world == 1:
        return x
    parts = [torch.zeros_like(x) for _ in range(world)]
    dist.all_gather(parts, x.detach().contiguous())
    return torch.cat(parts, dim=0)


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Every rank's rows with gradients through the gather (official utils.all_gather_batch_with_grad)."""
    _, world = _world()
    if world == 1:
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x.contiguous()), dim=0)


def inter_modal_loss(z_a: torch.Tensor, z_v: torch.Tensor, tau: float) -> torch.Tensor:
    """Symmetric InfoNCE between audio and visual embeddings; the positive of local row i is global row rank·B + i."""
    rank, _ = _world()
    a, v = F.normalize(z_a, dim=-1), F.normalize(z_v, dim=-1)
    labels = a.shape[0] * rank + torch.arange(a.shape[0], device=a.device)
    a_all, v_all = gather_without_grad(a), gather_without_grad(v)
    return (F.cross_entropy(a @ v_all.t() / tau, labels) + F.cross_entropy(v @ a_all.t() / tau, labels)) / 2


def intra_modal_loss(pred: torch.Tensor, actual: torch.Tensor, tau: float) -> torch.Tensor:
    """NT-Xent between predicted (p) and actual augmented (q) embeddings: 2N−1 candidates, positive in the
    denominator, the self-similarity removed by subtracting 1e9; averaged over both directions."""
    rank, world = _world()
    p, q = F.normalize(pred, dim=-1), F.normalize(actual, dim=-1)
    n = p.shape[0]
    labels = n * rank + torch.arange(n, device=p.device)
    mask = F.one_hot(labels, n * world).to(p.dtype) * 1e9
    k_p, k_q = gather_with_grad(p), gather_with_grad(q)
    loss_p = F.cross_entropy(torch.cat([p @ k_q.t() / tau, p @ k_p.t() / tau - mask], dim=1), labels)
    loss_q = F.cross_entropy(torch.cat([q @ k_p.t() / tau, q @ k_q.t() / tau - mask], dim=1), labels)
    return (loss_p + loss_q) / 2


def equiav_loss(out: dict, weights: dict, tau: float) -> dict:
    """{'total', 'inter', 'intra_a', 'intra_v'}; intra terms are 0 when the objective has none. `weights` uses the engine's keys."""
    inter = inter_modal_loss(out["z_a_inv"].float(), out["z_v_inv"].float(), tau)
    zero = inter.new_zeros(())
    intra_a = intra_modal_loss(out["z_a_equi_t"].float(), out["z_a_aug"].float(), tau) if "z_a_equi_t" in out else zero
    intra_v = intra_modal_loss(out["z_v_equi_t"].float(), out["z_v_aug"].float(), tau) if "z_v_equi_t" in out else zero
    total = weights["inter"] * inter + weights["intraA"] * intra_a + weights["intraV"] * intra_v
    return {"total": total, "inter": inter, "intra_a": intra_a, "intra_v": intra_v}


def embedding_spread(z: torch.Tensor) -> float:
    """Mean cosine between different clips' embeddings (1 = collapsed); NaN for a batch of one (engine/train/spread.ts)."""
    n = z.shape[0]
    if n < 2:
        return float("nan")
    u = F.normalize(z.detach().float(), dim=-1)
    return float(((u @ u.t()).sum() - n) / (n * n - n))
