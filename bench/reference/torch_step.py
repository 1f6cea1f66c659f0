"""PyTorch side of `npm run bench`: one EquiAV pretraining step (or a 2048x2048 matmul) timed on CPU.

Our own PyTorch model with the architecture and FLOPs of the official MainModel
(../shared/EQUIAV.md section 1; weights are random, only speed is measured): two pre-norm ViTs with fused qkv and
exact GELU, final norms for the original and the augmented view, the QuickGELU augmentation encoder, the
cross-attention predictor with its mean-pooled residual, and the four Linear-LN-ReLU projection heads;
losses as section 3 (symmetric InfoNCE, NT-Xent with 2N-1 candidates); AdamW (0.9, 0.95), wd 1e-5,
gradient-norm clip 0.01. Both views of a modality go through the encoder as one batch, as ours do.

The model configuration comes from the caller (bench/run.ts passes our `tiny` preset as JSON), so both
sides time the same architecture. Threads are set with --threads; OMP_WAIT_POLICY must be set in the
environment before this process starts. Prints one JSON line.

Usage: python3 torch_step.py step --config JSON --objective equiav|inter-only --threads N --steps K --batch B
       python3 torch_step.py matmul --threads N [--size 2048] [--reps 3]
Runs on torch 1.13 and 2.x.
"""
import argparse
import json
import math
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as err:  # the caller reports this line and skips the PyTorch side
    print(json.dumps({"skipped": f"PyTorch is not importable here ({err})"}))
    sys.exit(0)


class Block(nn.Module):
    def __init__(self, d, heads, mlp_ratio, eps):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        hidden = int(round(d * mlp_ratio))
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)

    def forward(self, x):
        b, n, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Encoder(nn.Module):
    """Patch conv + fixed position table + modality vector, blocks, norm (original) and norm_aug."""

    def __init__(self, c, tokens):
        super().__init__()
        d = c["embedDim"]
        self.patch = nn.Conv2d(3, d, c["patchSize"], stride=c["patchSize"])
        self.register_buffer("pos_embed", torch.randn(1, tokens, d) * 0.02)
        self.modality = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, c["numHeads"], c["mlpRatio"], c["lnEps"]) for _ in range(c["depth"])])
        self.norm = nn.LayerNorm(d, eps=c["lnEps"])
        self.norm_aug = nn.LayerNorm(d, eps=c["lnEps"])

    def forward(self, x, n_orig):
        x = self.patch(x).flatten(2).transpose(1, 2) + self.pos_embed + self.modality
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x[:n_orig]), (self.norm_aug(x[n_orig:]) if x.shape[0] > n_orig else None)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Predictor(nn.Module):
    """Augmentation encoder + cross-attention of the augmentation queries over the tokens."""

    def __init__(self, c, aug_size):
        super().__init__()
        d, e = c["embedDim"], c["augEmbDim"]
        self.heads, self.hd = c["predictorHeads"], c["predictorHeadDim"]
        inner = self.heads * self.hd
        self.aug_encoder = nn.Sequential(nn.Linear(aug_size, e), QuickGELU(), nn.Linear(e, e), QuickGELU(), nn.Linear(e, e))
        self.norm_aug = nn.LayerNorm(e, eps=c["lnEps"])
        self.to_q = nn.Linear(e, inner)
        self.to_k = nn.Linear(d, inner)
        self.to_v = nn.Linear(d, inner)
        self.to_out = nn.Linear(inner, d, bias=False)
        self.norm = nn.LayerNorm(d, eps=c["lnEps"])
        hidden = int(round(d * c["mlpRatio"]))
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))

    def forward(self, h, t):
        b, s, _ = t.shape
        n = h.shape[1]
        split = lambda x, length: x.reshape(b, length, self.heads, self.hd).transpose(1, 2)
        q = split(self.to_q(self.norm_aug(self.aug_encoder(t))), s)
        k, v = split(self.to_k(h), n), split(self.to_v(h), n)
        attn = ((q * self.hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = h.mean(1, keepdim=True) + self.to_out((attn @ v).transpose(1, 2).reshape(b, s, -1))
        return x + self.mlp(self.norm(x))  # [B, S, D]


def projection_head(c, d_in, d_out):
    hidden, eps = c["projHiddenDim"], c["lnEps"]
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.LayerNorm(hidden, eps=eps), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.LayerNorm(hidden, eps=eps), nn.ReLU(),
        nn.Linear(hidden, d_out), nn.LayerNorm(d_out, eps=eps),
    )


class Modality(nn.Module):
    def __init__(self, c, tokens, aug_size):
        super().__init__()
        self.encoder = Encoder(c, tokens)
        self.predictor = Predictor(c, aug_size)
        self.intra = projection_head(c, c["embedDim"], c["intraProjOutDim"])
        self.inter = projection_head(c, c["embedDim"], c["interProjOutDim"])

    def forward(self, x, x_aug, t, t_list, objective):
        b = x.shape[0]
        if objective == "inter-only":
            h, _ = self.encoder(x, b)
            return self.inter(h.mean(1)), None, None
        h, h_aug = self.encoder(torch.cat([x, x_aug]), b)
        pred = self.predictor(h, torch.cat([t[:, None], t_list], 1))
        z = self.intra(torch.cat([pred[:, 0], h_aug.mean(1)]))
        return self.inter(pred[:, 1:].mean(1)), z[:b], z[b:]


def info_nce(a, v, tau):
    labels = torch.arange(a.shape[0])
    return (F.cross_entropy(a @ v.t() / tau, labels) + F.cross_entropy(v @ a.t() / tau, labels)) / 2


def nt_xent(p, q, tau):
    n = p.shape[0]
    labels, self_mask = torch.arange(n), torch.eye(n) * 1e9
    loss_p = F.cross_entropy(torch.cat([p @ q.t() / tau, p @ p.t() / tau - self_mask], 1), labels)
    loss_q = F.cross_entropy(torch.cat([q @ p.t() / tau, q @ q.t() / tau - self_mask], 1), labels)
    return (loss_p + loss_q) / 2


def time_step(c, objective, batch, steps):
    torch.manual_seed(0)
    p = c["patchSize"]
    tokens_a = (c["audioLength"] // p) * (c["numMelBins"] // p)
    tokens_v = (c["imgSize"] // p) ** 2
    audio, visual = Modality(c, tokens_a, c["augSizeA"]), Modality(c, tokens_v, c["augSizeV"])
    params = list(audio.parameters()) + list(visual.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), weight_decay=1e-5)
    S, T, Fm, img = c["cenNum"], c["audioLength"], c["numMelBins"], c["imgSize"]
    a, a_aug = torch.randn(batch, 3, T, Fm), torch.randn(batch, 3, T, Fm)
    v, v_aug = torch.randn(batch, 3, img, img), torch.randn(batch, 3, img, img)
    t_a, t_v = torch.rand(batch, c["augSizeA"]), torch.rand(batch, c["augSizeV"])
    t_a_list, t_v_list = torch.rand(batch, S, c["augSizeA"]), torch.rand(batch, S, c["augSizeV"])
    tau, w = 0.07, 1 / 3

    def step():
        opt.zero_grad(set_to_none=True)
        # the official model transposes the fbank to [B, 3, mel, time] before its conv
        za, pa, qa = audio(a.transpose(2, 3), a_aug.transpose(2, 3), t_a, t_a_list, objective)
        zv, pv, qv = visual(v, v_aug, t_v, t_v_list, objective)
        n = lambda x: F.normalize(x, dim=-1)
        loss = w * info_nce(n(za), n(zv), tau)
        if objective != "inter-only":
            loss = loss + w * nt_xent(n(pa), n(qa), tau) + w * nt_xent(n(pv), n(qv), tau)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 0.01)
        opt.step()
        return loss.item()

    step()  # warm-up
    wall, cpu = [], []
    for _ in range(steps):
        w0, c0 = time.perf_counter(), time.process_time()
        loss = step()
        wall.append((time.perf_counter() - w0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    if not math.isfinite(loss):
        raise SystemExit(f"the PyTorch step gave a non-finite loss ({loss})")
    return {"objective": objective, "batch": batch, "wall_ms": round(statistics.median(wall), 1), "cpu_ms": round(statistics.median(cpu), 1),
            "wall_runs": [round(x, 1) for x in wall]}


def time_matmul(size, reps):
    x, y = torch.randn(size, size), torch.randn(size, size)
    torch.mm(x, y)  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(x, y)
        times.append(time.perf_counter() - t0)
    return {"size": size, "gflops": round(2 * size ** 3 / statistics.median(times) / 1e9, 1)}


def blas_library():
    """The BLAS this process loaded (Debian's torch uses the system libblas.so.3: reference BLAS is ~20x slower than OpenBLAS)."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line or "mkl" in line}
        return sorted(libs)
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["step", "matmul"])
    ap.add_argument("--config", help="model configuration as JSON (our ModelConfig field names)")
    ap.add_argument("--objective", default="equiav", choices=["equiav", "inter-only"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.no_grad() if args.what == "matmul" else torch.enable_grad():
        if args.what == "matmul":
            out = time_matmul(args.size, args.reps)
        else:
            if not args.config:
                ap.error("step needs --config")
            out = time_step(json.loads(args.config), args.objective, args.batch, args.steps)
    print(json.dumps({**meta, **out, "blas": blas_library()}))


if __name__ == "__main__":
    main()
