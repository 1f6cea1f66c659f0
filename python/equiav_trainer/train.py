"""Pretraining on one or several processes (torchrun sets RANK / WORLD_SIZE / LOCAL_RANK), writing the workbench's
run folder: config.json (read, and on resume its step budget and backend updated), metrics.jsonl (the same
fields as the engine's), checkpoints in the engine's format. A run started on the desktop continues here and
vice versa: step count, data order (a pure function of seed and step) and optimiser state carry over."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist

from . import checkpoint
from .data import CavMaeClips, StepBatches
from .losses import embedding_spread, equiav_loss, gather_without_grad
from .model import EquiAV, ModelConfig, from_engine_layout, to_engine_layout
from .rng import steps_per_epoch
from .schedule import warmup_cosine_lr


def write_json_atomic(path: str, value: dict) -> None:
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "w", encoding="utf8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def truncate_metrics(path: str, last_step: int) -> None:
    """Rows logged after the checkpoint we resume from belong to a timeline that no longer exists."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf8") as f:
        lines = [line for line in f.read().split("\n") if line.strip()]
    kept = []
    for line in lines:
        try:
            if json.loads(line)["step"] <= last_step:
                kept.append(line)
        except (ValueError, KeyError):
            continue  # a torn last line
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "w", encoding="utf8") as f:
        f.write("".join(line + "\n" for line in kept))
    os.replace(temp, path)


def json_number(v):
    """NaN and ±∞ as null, as JavaScript's JSON.stringify writes them (the workbench parses metrics.jsonl with JSON.parse)."""
    return None if isinstance(v, float) and not math.isfinite(v) else v


# -- optimiser state in the engine's format (engine/optim.ts exportState) ----------------------------
def optimizer_steps(opt: torch.optim.AdamW) -> int:
    """Updates applied so far (a GradScaler skips the steps whose gradients overflowed)."""
    steps = [float(s["step"]) for s in opt.state.values() if "step" in s]
    return int(max(steps)) if steps else 0


def export_optimizer(model: EquiAV, opt: torch.optim.AdamW) -> dict:
    out = {"step": torch.tensor([float(optimizer_steps(opt))])}
    names = {id(p): n for n, p in model.named_parameters()}
    moments_m, moments_v = {}, {}
    for p in (p for g in opt.param_groups for p in g["params"]):
        state = opt.state.get(p, {})
        name = names[id(p)]
        moments_m[name] = state["exp_avg"] if "exp_avg" in state else torch.zeros_like(p)
        moments_v[name] = state["exp_avg_sq"] if "exp_avg_sq" in state else torch.zeros_like(p)
    out.update({f"m.{k}": v for k, v in to_engine_layout(moments_m).items()})
    out.update({f"v.{k}": v for k, v in to_engine_layout(moments_v).items()})
    return out


def import_optimizer(model: EquiAV, opt: torch.optim.AdamW, state: dict, source: str) -> int:
    if "step" not in state:
        raise ValueError(f"{source}: optimizer state has no step")
    step_count = int(state["step"].reshape(-1)[0])
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    for prefix, key in (("m", "exp_avg"), ("v", "exp_avg_sq")):
        moments = {n[len(prefix) + 1:]: t for n, t in state.items() if n.startswith(prefix + ".")}
        missing = sorted(set(trainable) - set(moments))
        if missing:
            raise ValueError(f"{source}: optimizer state has no {prefix}.{missing[0]}")
        for name, p in trainable.items():
            t = moments[name]
            value = t.t().reshape(p.shape) if name.endswith(".weight") and p.dim() >= 2 else t.reshape(p.shape)
            opt.state[p][key] = value.to(p.device, torch.float32).clone()
            opt.state[p]["step"] = torch.tensor(float(step_count))
    return step_count


# -- distributed set-up ----------------------------------------------------------------------------
def setup(device_arg: str) -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and device_arg != "cpu"
    if device_arg == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is visible")
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    return rank, world, device


def backend_info(device: torch.device, world: int) -> dict:
    """config.json `backend` (the engine's BackendInfo fields) for this trainer."""
    what = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    precision = "fp16 autocast + GradScaler" if device.type == "cuda" else "fp32"
    return {"name": f"pytorch-{device.type}", "tfBackend": "pytorch",
            "reason": f"PyTorch {torch.__version__} DDP trainer, {world} process(es) on {what}, {precision}"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m equiav_trainer", description=__doc__)
    p.add_argument("--run-dir", required=True, help="the run folder (config.json; checkpoints and metrics.jsonl are written here)")
    p.add_argument("--data", required=True, help="the CAV-MAE export (train.json, audio/, frames/)")
    p.add_argument("--split", default="train")
    p.add_argument("--steps", type=int, help="total steps (the run's budget may grow on resume, as `equiav pretrain --resume --steps`)")
    p.add_argument("--checkpoint-every", type=int, help="default: the run's checkpointEvery")
    p.add_argument("--keep-checkpoints", type=int, default=3, help="newest checkpoints kept (0: all)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--workers", type=int, default=2, help="data loader processes per rank")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rank, world, device = setup(args.device)
    lead = rank == 0
    log = (lambda msg: print(f"[equiav-trainer] {msg}", file=sys.stderr, flush=True)) if lead else (lambda msg: None)

    config_path = os.path.join(args.run_dir, "config.json")
    if not os.path.isfile(config_path):
        raise SystemExit(f"{config_path}: no run config (write it with `equiav cluster export`)")
    with open(config_path, encoding="utf8") as f:
        run = json.load(f)
    if run.get("kind") == "finetune":
        raise SystemExit(f"{config_path}: a fine-tuning run; this trainer pretrains")
    if run["batchSize"] % world:
        raise SystemExit(f"{config_path}: batch size {run['batchSize']} does not split over {world} processes")
    if args.steps is not None:
        run["totalSteps"] = args.steps
    run["backend"] = backend_info(device, world)
    c = ModelConfig.from_json(run["model"])
    clips = CavMaeClips(args.data, args.split, c, run["model"]["inputNorm"])
    if lead:
        if len(clips) != run["data"]["size"]:
            log(f"warning: {len(clips)} clips in {args.data}, but config.json was made for {run['data']['size']}; the data order differs from the desktop's")
        write_json_atomic(config_path, run)

    torch.manual_seed(run["seed"])
    model = EquiAV(c).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=run["lr"], betas=(0.9, 0.95), eps=1e-8, weight_decay=run["weightDecay"])
    metrics_path = os.path.join(args.run_dir, "metrics.jsonl")
    latest = checkpoint.load_latest(args.run_dir)
    step = 0
    if latest:
        model.load_state_dict(from_engine_layout(model, latest["weights"], latest["dir"]))
        step_count = import_optimizer(model, opt, latest["optimizer"], latest["dir"])
        step = latest["step"]
        log(f"resuming {args.run_dir} from its checkpoint at step {step} (optimiser step {step_count})")
    if lead:
        truncate_metrics(metrics_path, step)

    ddp = model
    if world > 1:
        unused = run["objective"] != "equiav"
        ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                                        find_unused_parameters=unused)
    cuda = device.type == "cuda"
    scaler = torch.cuda.amp.GradScaler(init_scale=65536, enabled=cuda)
    total, every = run["totalSteps"], args.checkpoint_every or run["checkpointEvery"]
    weights = run["lossWeights"]
    log(f"{world} process(es), {device.type}; steps {step} → {total}, global batch {run['batchSize']}, "
        f"{len(clips)} clips ({steps_per_epoch(len(clips), run['batchSize'])} steps per epoch)")

    def save(epoch: int) -> None:
        if lead:
            state = {"step": step, "epoch": epoch, "rng": {"seed": run["seed"], "step": step}, "config": run,
                     "backend": run["backend"]["name"], "time": checkpoint.now_iso()}
            checkpoint.save(args.run_dir, step, to_engine_layout(model.state_dict()), export_optimizer(model, opt),
                            state, args.keep_checkpoints)
        if world > 1:
            dist.barrier()

    loader = torch.utils.data.DataLoader(StepBatches(clips, run, step, total, rank, world), batch_size=None,
                                         num_workers=args.workers, persistent_workers=False)
    epoch = 0
    for batch in loader:
        t0 = time.perf_counter()
        epoch = batch["epoch"]
        lr = warmup_cosine_lr(step, run["lr"], run["warmupSteps"], total)
        for g in opt.param_groups:
            g["lr"] = lr
        x = {k: batch[k].to(device, non_blocking=True) for k in ("a", "v", "a_aug", "v_aug", "t_a", "t_v", "t_a_list", "t_v_list")}
        with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=cuda):
            out = ddp(**x, objective=run["objective"])
        loss = equiav_loss(out, weights, run["tau"])
        terms = torch.stack([loss["total"], loss["inter"], loss["intra_a"], loss["intra_v"]]).detach()
        if world > 1:
            dist.all_reduce(terms)
            terms /= world
        total_loss = float(terms[0])
        if not math.isfinite(total_loss):
            save(epoch)
            raise SystemExit(f"loss became {total_loss} at step {step + 1} (lr {lr:.2e}); nothing of that step was applied, "
                             f"and the last good state is checkpointed at step {step} in {args.run_dir}")
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss["total"]).backward()
        scaler.unscale_(opt)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(trainable, run["clipNorm"]))
        scaler.step(opt)
        scaler.update()
        step += 1
        spread_a = embedding_spread(gather_without_grad(out["z_a_inv"].detach().float()))
        spread_v = embedding_spread(gather_without_grad(out["z_v_inv"].detach().float()))
        seconds = time.perf_counter() - t0
        if lead:
            row = {"step": step, "epoch": epoch, "loss": total_loss, "loss_inter": float(terms[1]), "loss_intra_a": float(terms[2]),
                   "loss_intra_v": float(terms[3]), "lr": lr, "grad_norm": grad_norm, "spread_a": spread_a, "spread_v": spread_v,
                   "clips_per_s": run["batchSize"] / seconds, "time": checkpoint.now_iso()}
            with open(metrics_path, "a", encoding="utf8") as f:
                f.write(json.dumps({k: json_number(v) for k, v in row.items()}) + "\n")
            log(f"step {step}/{total} loss {total_loss:.4f} (inter {row['loss_inter']:.4f}, intra_a {row['loss_intra_a']:.4f}, "
                f"intra_v {row['loss_intra_v']:.4f}) {row['clips_per_s']:.1f} clips/s")
        if step % every == 0 or step == total:
            save(epoch)
    if total == 0 and step == 0 and not latest:
        save(0)
    if world > 1:
        dist.destroy_process_group()
    return 0
