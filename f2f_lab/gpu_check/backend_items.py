"""Item 8 of the GPU check: every other image-to-video backend, through its adapter, a few steps each.

Full size: each backend's published architecture with random weights drawn on the GPU
(`stand_ins.full_size.random_backend_pipeline`), wrapped in its `video` adapter and run at its
native size (the pixel budget of its preset, at the 3:2 shape of the paper's canvas) with
`CHECK_FRAMES` frames and `CHECK_STEPS` steps: the generation time, the peak memory and the
frames prove the path; a full edit costs about `num_inference_steps / CHECK_STEPS` times
the denoising. Tiny size: the same adapters over the tiny stand-ins on the CPU. Backends go
cheapest first, so a short budget still proves the most.
"""

from __future__ import annotations

import time
from typing import Any

from ..bench.meters import PeakMemory, sync
from ..imaging import place_on_canvas
from ..presets import PRESETS, with_video_backend
from ..stand_ins.full_size import random_backend_pipeline, random_cogvideox_generator
from ..video import ADAPTERS, BACKENDS, get_backend
from .core import Check, Item

# Every backend but the paper's (items 1-3 run that one), cheapest first by its row's guess.
ORDER = tuple(sorted((key for key in BACKENDS if key != "cogvideox"), key=lambda key: BACKENDS[key].check_seconds))
CHECK_STEPS = 2
CHECK_FRAMES = {"full": 33, "tiny": None}  # 33 = 4k+1, 8k+1 and 16k+1 at once; tiny: the stand-in's own count
# Seconds guessed per backend (build + two steps at full size on an H200-class GPU; tiny on a CPU).
GUESS = {"full": {key: BACKENDS[key].check_seconds for key in ORDER}, "tiny": dict.fromkeys(ORDER, 4.0)}
SOURCE_SIZE = (720, 480)  # the paper's canvas shape: a 3:2 source


def minimum(check: Check) -> float:
    return GUESS[check.size]["ltx"]


def backends(check: Check, item: Item) -> None:
    """One short generation per backend; headline: seconds per step and peak memory of each.

    The first (cheapest) backend is the item's minimum; the others are optional, so they keep the minimums
    of the items after this one (one command of a lent GPU holds far less than every backend).
    """
    for index, key in enumerate(ORDER):
        item.attempt(key, lambda key=key: _backend_run(check, key), estimate=GUESS[check.size][key], optional=index > 0)
    item.results["headline"] = {
        run["name"]: {"step_s": run.get("step_s"), "peak_memory_bytes": max(run["peak_memory"].values(), default=None)}
        for run in item.runs if run["status"] == "ok"
    }
    if check.full:
        item.notes.append("Published architectures with random bf16 weights (Wan's VAE and CLIP encoder in float32); "
                          f"{CHECK_STEPS} steps of {CHECK_FRAMES['full']} frames at each preset's pixel budget: the video "
                          "is noise, the time and memory are the model's.")


def _backend_run(check: Check, key: str) -> dict[str, Any]:
    from PIL import Image

    backend = get_backend(key)
    preset = PRESETS[key] if check.full else with_video_backend(PRESETS["tiny"], key)
    memory, stages = PeakMemory(check.device), {}
    memory.start("build")
    start = time.perf_counter()
    adapter = ADAPTERS[backend.family]
    if check.full:
        pipe = random_backend_pipeline(key, device=check.device)
        pipe.set_progress_bar_config(disable=True)
        generator = adapter(pipe, model_id=f"random-weights:{backend.hub_id}", device=check.device, backend=backend)
    else:
        generator = adapter.from_pretrained("tiny", backend=backend, device=check.device, progress=False)
    sync(check.device)
    stages["build"] = time.perf_counter() - start
    memory.switch("generate")
    canvas = generator.canvas_for(SOURCE_SIZE, geometry=preset.geometry, canvas=preset.canvas)
    image, _ = place_on_canvas(Image.new("RGB", SOURCE_SIZE, (120, 90, 60)), canvas, preset.geometry)
    frames = CHECK_FRAMES[check.size] or preset.num_frames
    start = time.perf_counter()
    video = generator(image, "A cat very slowly opening its mouth in a wide yawn.", num_frames=frames,
                      num_inference_steps=CHECK_STEPS, seed=0)
    sync(check.device)
    stages["generate"] = time.perf_counter() - start
    memory.switch("done")
    return {
        "backend": key, "hub_id": backend.hub_id, "canvas": list(canvas), "num_frames": frames,
        "frames_returned": len(video.frames), "steps_timed": CHECK_STEPS, "step_s": stages["generate"] / CHECK_STEPS,
        "stages": stages, "peak_memory": memory.per_stage(), "memory_kind": memory.kind,
        "video_record": {k: v for k, v in video.record.items() if k in ("pipeline", "dtype", "component_dtypes", "scheduler",
                                                                         "experts", "arguments")},
    }


# -- Item 10: IF-Edit's temporal latent dropout, side by side -----------------------------------

DROPOUT_BACKENDS = ("cogvideox", "wan2.2-a14b")  # the paper's model (the item's minimum), then IF-Edit's two-expert one
DROPOUT_STEPS = {"full": 4, "tiny": 4}
DROPOUT_GUESS = {"full": {"wan2.2-a14b": 150.0, "cogvideox": 60.0}, "tiny": dict.fromkeys(DROPOUT_BACKENDS, 6.0)}  # two runs each


def dropout_minimum(check: Check) -> float:
    return DROPOUT_GUESS[check.size]["cogvideox"]


def latent_dropout(check: Check, item: Item) -> None:
    """The same generation with and without latent dropout (K=3 from t < 900), one model build each: the time ratio."""
    for index, key in enumerate(DROPOUT_BACKENDS):  # the second keeps the minimums of the items after this one
        item.attempt(key, lambda key=key: _dropout_run(check, key), estimate=DROPOUT_GUESS[check.size][key],
                     optional=index > 0)
    item.results["headline"] = {run["name"]: {"generate_ratio": run.get("generate_ratio"),
                                              "frames_per_call": run.get("frames_per_call")}
                                for run in item.runs if run["status"] == "ok"}
    item.notes.append("generate_ratio = seconds with dropout / seconds without, measured one after the other in the same "
                      "process on the same model, seed and steps (the first, unmeasured generation warms it up).")


def _dropout_run(check: Check, key: str) -> dict[str, Any]:
    from PIL import Image

    backend = get_backend(key)
    base = PRESETS["paper" if check.full else "tiny"]
    preset = base if key == "cogvideox" else (PRESETS[key] if check.full else with_video_backend(base, key))
    adapter = ADAPTERS[backend.family]
    if check.full:
        if key == "cogvideox":
            generator = random_cogvideox_generator(device=check.device)
        else:
            pipe = random_backend_pipeline(key, device=check.device)
            pipe.set_progress_bar_config(disable=True)
            generator = adapter(pipe, model_id=f"random-weights:{backend.hub_id}", device=check.device, backend=backend)
    else:
        generator = adapter.from_pretrained("tiny", backend=backend, device=check.device, progress=False,
                                            canvas=preset.canvas)
    canvas = generator.canvas_for(SOURCE_SIZE, geometry=preset.geometry, canvas=preset.canvas)
    image, _ = place_on_canvas(Image.new("RGB", SOURCE_SIZE, (120, 90, 60)), canvas, preset.geometry)
    # Full size: IF-Edit's 33 frames on Wan, the 49 CogVideoX-5B learned; tiny: the stand-in's own count.
    frames = (49 if key == "cogvideox" else 33) if check.full else preset.num_frames
    options = dict(num_frames=frames, num_inference_steps=DROPOUT_STEPS[check.size], seed=0)
    generator(image, "A cat very slowly opening its mouth in a wide yawn.", **options)  # warm-up, not measured
    seconds = {}
    records = {}
    for name, extra in (("plain", {}), ("dropout", {"latent_dropout": 3, "latent_dropout_at": 0.9})):
        sync(check.device)
        start = time.perf_counter()
        video = generator(image, "A cat very slowly opening its mouth in a wide yawn.", **options, **extra)
        sync(check.device)
        seconds[name] = time.perf_counter() - start
        records[name] = video.record
    dropout = records["dropout"]["latent_dropout"]
    return {
        "backend": key, "canvas": list(canvas), "num_frames": frames, "steps_timed": 2 * options["num_inference_steps"],
        "stages": {"plain": seconds["plain"], "dropout": seconds["dropout"]},
        "generate_ratio": seconds["dropout"] / seconds["plain"], "frames_per_call": dropout["frames_per_call"],
        "kept_latents": dropout["kept_latents"], "dropped_at_call": dropout["dropped_at_call"],
    }
