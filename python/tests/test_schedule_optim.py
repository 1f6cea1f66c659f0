"""Schedule against its closed form; AdamW and clipping against the engine's formulas (engine/optim.ts);
the optimiser state survives the engine's checkpoint format."""
import math

import torch

from equiav_trainer.model import EquiAV
from equiav_trainer.schedule import warmup_cosine_lr
from equiav_trainer.train import export_optimizer, import_optimizer, optimizer_steps
from test_train import TINY


def test_warmup_then_cosine():
    assert warmup_cosine_lr(0, 1e-4, 10, 110) == 2e-7
    assert math.isclose(warmup_cosine_lr(5, 1e-4, 10, 110), 2e-7 + 0.5 * (1e-4 - 2e-7))
    assert warmup_cosine_lr(10, 1e-4, 10, 110) == 1e-4
    assert math.isclose(warmup_cosine_lr(60, 1e-4, 10, 110), 1e-6 + (1e-4 - 1e-6) * 0.5)
    assert math.isclose(warmup_cosine_lr(110, 1e-4, 10, 110), 1e-6)


def test_adamw_matches_the_engine_formula():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    opt = torch.optim.AdamW([p], lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-2)
    want, m, v = p.detach().clone().double(), torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    for k, g in enumerate([torch.tensor([0.5, -1.0, 2.0]), torch.tensor([-0.3, 0.2, 0.1])], start=1):
        p.grad = g.clone()
        opt.step()
        g = g.double()
        m, v = 0.9 * m + 0.1 * g, 0.95 * v + 0.05 * g * g
        denom = v.sqrt() / math.sqrt(1 - 0.95**k) + 1e-8
        want = want * (1 - 0.1 * 1e-2) - (m / denom) * 0.1 / (1 - 0.9**k)
    assert torch.allclose(p.detach().double(), want, atol=1e-6)


def test_clip_matches_the_engine_rule():
    g = torch.nn.Parameter(torch.zeros(2))
    g.grad = torch.tensor([3.0, 4.0])
    norm = torch.nn.utils.clip_grad_norm_([g], 0.01)
    assert math.isclose(float(norm), 5.0)
    assert torch.allclose(g.grad, torch.tensor([3.0, 4.0]) * 0.01 / (5 + 1e-6))


def test_optimizer_state_round_trip_continues_identically():
    torch.manual_seed(0)
    x = (torch.randn(4, 3, TINY.audioLength, TINY.numMelBins), torch.randn(4, 3, TINY.imgSize, TINY.imgSize),
         torch.rand(4, TINY.cenNum, 24), torch.rand(4, TINY.cenNum, 18))

    def step(model, opt):
        opt.zero_grad()
        out = model.forward(x[0], x[1], x[0], x[1], torch.zeros(4, 24), torch.zeros(4, 18), x[2], x[3])
        sum(o.square().mean() for o in out.values()).backward()
        opt.step()

    def fresh(seed):
        torch.manual_seed(seed)
        model = EquiAV(TINY)
        return model, torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, betas=(0.9, 0.95))

    a, opt_a = fresh(1)
    step(a, opt_a)
    step(a, opt_a)
    state = export_optimizer(a, opt_a)
    assert state["step"].item() == 2 and "m.blocks_a.0.attn.qkv.weight" in state
    assert state["m.blocks_a.0.attn.qkv.weight"].shape == (TINY.embedDim, 3 * TINY.embedDim)  # the engine's [in, out]
    b, opt_b = fresh(2)
    b.load_state_dict(a.state_dict())
    assert import_optimizer(b, opt_b, state, "test") == 2
    step(a, opt_a)
    step(b, opt_b)
    assert optimizer_steps(opt_b) == 3
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-7), name
