"""`f2f toy train`: train the toy video model and the toy image model (for SDEdit) on a CPU.

    f2f toy train --out runs/toy-models [--steps 3000] [--seed 0]

Both models are trained the same way, one after the other, with the same number of steps:
AdamW (lr 2e-3, 30 warm-up steps, cosine decay to 0), batch 16, training examples drawn
fresh every step from a numpy generator seeded by `--seed` (the weights' initialisation by
the same seed through torch), diffusion timesteps uniform. Each model's folder holds the
weights (`save_pretrained`, safetensors, stored in float16: about 0.55 MB each), its
scheduler config, `toy.json` (seed, steps, seconds, configs) and `train_log.jsonl` (one line
per logged step: step, loss, seconds). The shipped weights in `data/toy/` are this
command's output with its defaults (measured: 410 s for the video model, 253 s for the image model on
the 2-core development machine when idle; several times more when another job shares it; see `toy.json`).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from ..constraints import Whole, check_value
from ..records import write_json_atomic
from . import sdedit, video_model

DEFAULT_STEPS = 3000
BATCH = 16
LR = 2e-3
WARMUP = 30
LOG_EVERY = 10


def _lr(step: int, steps: int) -> float:
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    return LR * 0.5 * (1 + math.cos(math.pi * (step - WARMUP) / max(1, steps - WARMUP)))


def check_training(*, steps: int, seed: int, batch: int) -> None:
    """F2FError for a run that would write untrained models (no steps) or cannot draw a batch."""
    check_value("steps", steps, Whole(1))
    check_value("batch", batch, Whole(1))
    check_value("seed", seed, Whole(0))


def train_model(kind: str, out: str | Path, *, steps: int = DEFAULT_STEPS, seed: int = 0, batch: int = BATCH,
                progress: bool = True) -> dict:
    """Train the "video" or "image" toy model into `out` (its own folder); returns its `toy.json` record."""
    import torch
    import torch.nn.functional as F


    if kind == "video":
        config, scheduler_config, make_batch = video_model.VIDEO_CONFIG, video_model.SCHEDULER_CONFIG, video_model.video_batch
    elif kind == "image":
        config, scheduler_config, make_batch = sdedit.IMAGE_CONFIG, sdedit.SCHEDULER_CONFIG, sdedit.image_batch
    else:
        raise ValueError(f"kind={kind!r}: 'video' or 'image'")
    check_training(steps=steps, seed=seed, batch=batch)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    unet = video_model.build_unet(config, seed)
    scheduler = video_model.build_scheduler(scheduler_config)
    rng = np.random.default_rng((seed, 0 if kind == "video" else 1))
    torch_rng = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.AdamW(unet.parameters(), lr=LR, weight_decay=0.0)
    log_path = out / "train_log.jsonl"
    log_path.unlink(missing_ok=True)
    start, losses = time.perf_counter(), []
    unet.train()
    with log_path.open("w") as log:
        for step in range(steps):
            for group in optimiser.param_groups:
                group["lr"] = _lr(step, steps)
            x0, cond = make_batch(rng, batch)
            noise = torch.randn(x0.shape, generator=torch_rng)
            t = torch.randint(0, scheduler.config.num_train_timesteps, (batch,), generator=torch_rng)
            xt = scheduler.add_noise(x0, noise, t)
            pred = unet(torch.cat([xt, cond], 1), t).sample
            target = {"sample": x0, "epsilon": noise}[scheduler.config.prediction_type]
            loss = F.mse_loss(pred, target)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
            optimiser.step()
            losses.append(loss.item())
            if step % LOG_EVERY == LOG_EVERY - 1 or step == steps - 1:
                row = {"step": step + 1, "loss": float(np.mean(losses[-LOG_EVERY:])), "seconds": round(time.perf_counter() - start, 2)}
                log.write(json.dumps(row) + "\n")
                log.flush()
                if progress:
                    print(f"{kind} step {row['step']}/{steps} loss {row['loss']:.4f} {row['seconds']:.0f}s", flush=True)
    seconds = time.perf_counter() - start
    unet.eval()
    unet.to(torch.float16).save_pretrained(out)  # float16 on disk: half the size; loaded back as float32
    scheduler.save_pretrained(out)
    record = {"kind": kind, "seed": seed, "steps": steps, "batch": batch, "lr": LR, "warmup": WARMUP,
              "seconds": round(seconds, 1), "parameters": sum(p.numel() for p in unet.parameters()),
              "first_loss": float(np.mean(losses[:LOG_EVERY])), "last_loss": float(np.mean(losses[-LOG_EVERY:])),
              "torch": torch.__version__, "threads": torch.get_num_threads(), "command": f"f2f toy train --steps {steps} --seed {seed} --batch {batch}"}
    write_json_atomic(out / "toy.json", record)
    return record


def train(out: str | Path, *, steps: int = DEFAULT_STEPS, seed: int = 0, which: str = "both", batch: int = BATCH,
          progress: bool = True) -> dict:
    """Train the video model into `out/video` and the image model into `out/image`."""
    check_training(steps=steps, seed=seed, batch=batch)  # before any folder is made or model written
    out = Path(out)
    kinds = ("video", "image") if which == "both" else (which,)
    return {kind: train_model(kind, out / kind, steps=steps, seed=seed, batch=batch, progress=progress) for kind in kinds}
