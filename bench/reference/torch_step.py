"""PyTorch side of `npm run bench`: one EquiAV pretraining step (or a 2048x2048 matmul) timed on CPU.

The step is the project's PyTorch trainer's (python/equiav_trainer: its model matches the official
MainModel's golden fixture within 1e-4): forward, the equiav or inter-only loss with weights 1/3 and
tau 0.07, backward, gradient-norm clip 0.01 and AdamW (0.9, 0.95), wd 1e-5, as its train.py does, on random
inputs (only speed is measured).

The model configuration comes from the caller (bench/run.ts passes our `tiny` preset as JSON), so both
sides time the same architecture. Threads are set with --threads; OMP_WAIT_POLICY must be set in the
environment before this process starts. CPU time is the process's (all threads), wall time the clock's.
Prints one JSON line.

Usage: python3 torch_step.py step --config JSON --objective equiav|inter-only --threads N --steps K --batch B
       python3 torch_step.py matmul --threads N [--size 2048] [--reps 3]
Runs on torch 1.13 and 2.x.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
try:
    import torch
    from equiav_trainer.losses import equiav_loss
    from equiav_trainer.model import EquiAV, ModelConfig
except ImportError as err:  # the caller reports this line and skips the PyTorch side
    print(json.dumps({"skipped": f"PyTorch is not importable here ({err})"}))
    sys.exit(0)


def time_step(config, objective, batch, steps):
    torch.manual_seed(0)
    c = ModelConfig.from_json(config)
    model = EquiAV(c)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-5)
    S, T, Fm, img = c.cenNum, c.audioLength, c.numMelBins, c.imgSize
    inputs = dict(
        a=torch.randn(batch, 3, T, Fm), v=torch.randn(batch, 3, img, img),
        a_aug=torch.randn(batch, 3, T, Fm), v_aug=torch.randn(batch, 3, img, img),
        t_a=torch.rand(batch, c.augSizeA), t_v=torch.rand(batch, c.augSizeV),
        t_a_list=torch.rand(batch, S, c.augSizeA), t_v_list=torch.rand(batch, S, c.augSizeV),
    )
    weights = {"inter": 1 / 3, "intraA": 1 / 3, "intraV": 1 / 3}

    def step():
        opt.zero_grad(set_to_none=True)
        loss = equiav_loss(model(**inputs, objective=objective), weights, 0.07)["total"]
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
