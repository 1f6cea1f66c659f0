"""DDP semantics on two CPU processes (gloo): the loss of a batch split over two ranks equals the loss of the whole
batch on one process; with gradients through the intra-modal gather and DDP's averaging, the intra-modal
gradient is the whole batch's too; the inter-modal keys carry no gradient across ranks (the official choice)."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from equiav_trainer.losses import inter_modal_loss, intra_modal_loss

N, D, TAU = 6, 8, 0.07


def tensors():
    g = torch.Generator().manual_seed(3)
    return [torch.randn(N, D, generator=g) for _ in range(4)]  # audio, visual, predicted, actual


def single_process():
    a, v, p, q = (t.clone().requires_grad_() for t in tensors())
    inter = inter_modal_loss(a, v, TAU)
    intra = intra_modal_loss(p, q, TAU)
    inter.backward()
    intra.backward()
    return inter.item(), intra.item(), a.grad, p.grad, q.grad


def worker(rank: int, port: int, results) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    half = slice(rank * N // 2, (rank + 1) * N // 2)
    a, v, p, q = (t[half].clone().requires_grad_() for t in tensors())
    inter = inter_modal_loss(a, v, TAU)
    intra = intra_modal_loss(p, q, TAU)
    inter.backward()
    intra.backward()
    losses = torch.stack([inter.detach(), intra.detach()])
    dist.all_reduce(losses)
    grads = [a.grad / 2, p.grad / 2, q.grad / 2]  # DDP averages gradients over the ranks
    results[rank] = (losses / 2, grads)
    dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_match_one_process():
    results = mp.Manager().dict()
    mp.spawn(worker, args=(free_port(), results), nprocs=2, join=True)
    inter, intra, ga, gp, gq = single_process()
    losses = results[0][0]
    assert abs(losses[0].item() - inter) < 1e-5
    assert abs(losses[1].item() - intra) < 1e-5
    gp2 = torch.cat([results[0][1][1], results[1][1][1]])
    gq2 = torch.cat([results[0][1][2], results[1][1][2]])
    assert torch.allclose(gp2, gp, atol=1e-6)
    assert torch.allclose(gq2, gq, atol=1e-6)
    # inter: keys from the other rank are constants, so each rank's audio gradient is only its own queries' share
    ga2 = torch.cat([results[0][1][0], results[1][1][0]])
    assert not torch.allclose(ga2, ga, atol=1e-6)
