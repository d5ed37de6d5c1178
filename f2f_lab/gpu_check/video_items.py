"""Items 1-3 of the GPU check: the video model, the speed levers, one end-to-end edit.

Every timing goes through the speed harness (`bench.speed.measure_speed`, its stage clock
and per-stage peak memory, `bench.flops`); full size builds CogVideoX-5B I2V with random
bf16 weights on the GPU (`stand_ins.full_size`), tiny size the tiny models on the CPU.
"""

from __future__ import annotations

import statistics
from typing import Any

from ..bench.meters import InStage, PeakMemory, StageClock, sync
from ..bench.speed import frames_difference, measure_speed
from ..pipeline import Frame2Frame
from ..presets import PRESETS, get_preset
from ..samples import sample_path
from ..stand_ins.full_size import random_cogvideox_generator
from ..testing.openai_server import openai_server
from .core import Check, Item

STEPS = 4  # denoising steps of a timed edit: the first pays for lazy work, the other three are timed
TARGET = "A photo of a cat yawning."
CAPTION = "A cat very slowly opening its mouth in a wide yawn."  # the test server's temporal caption
CUDA_ONLY = "needs a CUDA GPU (model CPU offload moves models between CPU and GPU)"
NO_CPU_COMPILE = ("torch.compile's inductor build takes minutes on a CPU; it runs at full size "
                  "(tests/test_speed.py traces the compiled blocks with the eager backend)")


def speed_options(check: Check, *, steps: int, warmup: int) -> dict[str, Any]:
    # Tiny size: the tiny preset's frames, those its transformer learned (full size: the model's 49).
    return dict(num_inference_steps=steps, num_frames=None if check.full else PRESETS["tiny"].num_frames, warmup=warmup, repeat=1, metrics=False, progress=False, device=check.device,
                random_weights="full" if check.full else None, tiny_models=not check.full)


def speed_record(report, *, full_steps: int) -> dict[str, Any]:
    """The JSON of one `SpeedReport`: stages, steps, memory, FLOP rate, extrapolated to `full_steps`."""
    steps = list(report.step_seconds)
    timed = steps[1:] if len(steps) > 1 else steps  # the first step of an edit pays for lazy work
    step = statistics.median(timed) if timed else None
    flops = report.flops
    per_step = flops["per_forward"] * flops["forwards_per_step"]
    edit = report.totals["edit"]
    overhead = edit - sum(steps) if edit is not None else None
    extrapolated = edit if len(steps) == full_steps else (overhead + full_steps * step if step and overhead is not None else None)
    return {
        "preset": report.preset, "active_levers": report.settings["active_levers"], "steps_run": len(steps),
        "steps_timed": len(timed), "step_seconds": steps, "step_median_s": step,
        "full_steps": full_steps, "denoising_extrapolated_s": step * full_steps if step else None,
        "edit_extrapolated_s": extrapolated,
        "denoiser_tflops": per_step / step / 1e12 if step else None, "flops_per_step": per_step,
        "stages": {**{k: v for k, v in report.stages.items() if v is not None},
                   **{k: v for k, v in report.totals.items() if v is not None}},
        "peak_memory": report.memory["per_stage"], "memory": report.memory,
        "load_seconds": report.load_seconds, "warmup_seconds": report.warmup_seconds, "notes": report.notes,
    }


def matmul_rate(device: str) -> dict[str, Any]:
    """The matrix rate of this device (METHOD.md: measure the ceiling): bf16 8192^3 on CUDA, fp32 512^3 on a CPU."""
    import time

    import torch

    cuda = device.startswith("cuda")
    n, dtype, repeats = (8192, torch.bfloat16, 10) if cuda else (512, torch.float32, 5)
    a = torch.randn(n, n, device=device, dtype=dtype)  # random data: zeros run faster than real work
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if cuda:
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if cuda:
        torch.cuda.synchronize(device)
    seconds = (time.perf_counter() - start) / repeats
    return {"n": n, "dtype": str(dtype).replace("torch.", ""), "repeats": repeats, "seconds_per_product": seconds,
            "tflops": 2 * n**3 / seconds / 1e12}


# -- Item 1 -----------------------------------------------------------------------------------

def _paper_reference(check: Check) -> dict[str, Any]:
    """The paper preset's timed run (item 1, or item 2 when item 1 is not in this command): later estimates come from it."""
    report = measure_speed("paper", **speed_options(check, steps=STEPS, warmup=1))
    record = speed_record(report, full_steps=50)
    check.shared["paper"], check.shared["paper_record"] = report, record
    if record["step_median_s"]:
        check.estimates.update(build=report.load_seconds, step=record["step_median_s"],
                               edit_overhead=max(report.totals["edit"] - sum(record["step_seconds"]), 0.0))
    return record


def video_minimum(check: Check) -> float:
    return check.config_seconds(STEPS, warmup=1)


def video(check: Check, item: Item) -> None:
    """CogVideoX-5B I2V, paper preset: step time after warm-up, VAE encode/decode, peak memory per stage, TFLOP/s."""
    rate = item.attempt("matmul_rate", lambda: {"results": matmul_rate(check.device)})

    record = item.attempt("paper", lambda: _paper_reference(check), estimate=video_minimum(check))
    if record is None:
        return
    measured = rate["results"]["tflops"] if rate else None
    item.results["headline"] = {
        "step_s": record["step_median_s"], "steps_timed": record["steps_timed"],
        "denoising_50_steps_s": record["denoising_extrapolated_s"], "edit_50_steps_s": record["edit_extrapolated_s"],
        "vae_encode_s": record["stages"].get("image_encoding"), "vae_decode_s": record["stages"].get("vae_decode"),
        "peak_memory_bytes": record["memory"]["peak_bytes"], "denoiser_tflops": record["denoiser_tflops"],
        "matmul_tflops_measured": measured,
        "fraction_of_measured_matmul": record["denoiser_tflops"] / measured if measured and record["denoiser_tflops"] else None,
    }
    item.notes.append(f"Denoising is extrapolated from {record['steps_timed']} timed steps (after a warm-up edit and "
                      f"the first step of the measured edit) to 50 steps; VAE encode and decode ran at the preset's size.")


# -- Item 2 -----------------------------------------------------------------------------------

PRESET_RUNS = (  # (name, spec, steps: None = STEPS, full_steps); the targets are the presets'
    ("fast", "fast", None, 50),
    ("turbo", "turbo", 30, 30),  # all 30 steps: the cache skips work only along its whole schedule
    ("lowvram", "lowvram", None, 50),
)
SINGLE_LEVERS = (  # each lever alone on the paper preset (optional: they explain the presets)
    "fuse_qkv=true", "attention_backend=cudnn", "compile_transformer=true", "cudnn_benchmark=true", "cache=faster",
    "cache=pab", "cache=first_block", "offload=true", "vae_tiling=true", "vae_slicing=true",
)


def _lever_plan(check: Check):
    """(name, spec, steps, full_steps, optional, unavailable reason, note) of every item-2 run."""
    plan = []
    for name, spec, steps, full_steps in PRESET_RUNS:
        unavailable, note = None, None
        if not check.full and name == "lowvram":
            unavailable = CUDA_ONLY
        if not check.full and name == "fast":
            spec, note = "fast:compile_transformer=false", "tiny size: fast without compile_transformer (" + NO_CPU_COMPILE + ")"
        plan.append((name, spec, steps or STEPS, full_steps, False, unavailable, note))
    for lever in SINGLE_LEVERS:
        unavailable = None
        if not check.full and lever == "offload=true":
            unavailable = CUDA_ONLY
        if not check.full and lever == "compile_transformer=true":
            unavailable = NO_CPU_COMPILE
        if not check.full and lever == "cache=first_block":
            unavailable = "First Block Cache needs 2 or more transformer blocks; the tiny transformer has 1"
        plan.append((lever, f"paper:{lever}", STEPS, 50, True, unavailable, None))
    return plan


def _estimate(check: Check, spec: str, steps: int) -> float:
    levers = get_preset(spec).levers
    return check.config_seconds(steps, warmup=1 if levers.compile_transformer else 0, compile=levers.compile_transformer,
                                offload=levers.offload)


def levers_minimum(check: Check) -> float:
    return sum(_estimate(check, spec, steps) for _, spec, steps, _, optional, unavailable, _ in _lever_plan(check)
               if not optional and not unavailable)


def levers(check: Check, item: Item) -> None:
    """fast (against paper, same seed and steps: output difference), turbo, lowvram, then each lever alone."""
    if "paper" not in check.shared:  # item 1 did not run (not in this command): measure the reference here
        item.attempt("paper", lambda: _paper_reference(check), estimate=check.config_seconds(STEPS, warmup=1))
    reference, reference_record = check.shared.get("paper"), check.shared.get("paper_record")
    headline = {}
    for name, spec, steps, full_steps, optional, unavailable, note in _lever_plan(check):
        def run(spec=spec, steps=steps, full_steps=full_steps, note=note):
            warmup = 1 if get_preset(spec).levers.compile_transformer else 0
            report = measure_speed(spec, **speed_options(check, steps=steps, warmup=warmup))
            record = speed_record(report, full_steps=full_steps)
            if note:
                record["notes"] = [note] + record["notes"]
            if reference_record and record["step_median_s"]:
                record["step_speedup_vs_paper"] = reference_record["step_median_s"] / record["step_median_s"]
                record["edit_speedup_vs_paper"] = reference_record["edit_extrapolated_s"] / record["edit_extrapolated_s"]
                peak_paper, peak = reference_record["memory"]["peak_bytes"], record["memory"]["peak_bytes"]
                record["memory_ratio_vs_paper"] = peak / peak_paper if peak and peak_paper else None
            if reference is not None and steps == STEPS:  # same seed, steps and frames: the videos compare
                record["output_difference_vs_paper"] = frames_difference(reference, report)
            return record

        record = item.attempt(name, run, estimate=_estimate(check, spec, steps), optional=optional, unavailable=unavailable)
        if record is not None and not optional:
            headline[name] = {k: record.get(k) for k in ("step_speedup_vs_paper", "edit_speedup_vs_paper",
                                                         "output_difference_vs_paper")}
            headline[name]["peak_memory_bytes"] = record["memory"]["peak_bytes"]
    item.results["headline"] = headline
    item.notes.append("Speedups are against item 1's paper run on the same seed and steps: step = median step time; "
                      "edit = the whole edit extrapolated to the preset's own steps (50; turbo 30). Caches decide from "
                      "the data with random weights too, so First Block Cache's skips are not the real model's.")


# -- Item 3 -----------------------------------------------------------------------------------

def _vlm_answer(request) -> str:
    """The local server's answers: a frame choice for the C.1 instruction, else the temporal caption."""
    text = " ".join(request.texts())
    return "The selected edit is: 2" if "The selected edit is" in text else CAPTION  # tile 2 exists at 9+ frames


def edit_minimum(check: Check) -> float:
    return check.guess("build") + check.edit_seconds(STEPS) + 2.0


def edit(check: Check, item: Item) -> None:
    """One full Frame2Frame edit (VLM caption and selection by the local test server), at the preset's steps if they fit."""
    preset = get_preset("paper" if check.full else "tiny")
    steps = preset.num_inference_steps
    spare = check.budget.remaining() - check.reserve_after(item.spec.number) - check.guess("build") - check.edit_seconds(0) - 2
    if check.edit_seconds(steps) - check.edit_seconds(0) > spare:
        fitting = int(spare / check.guess("step")) if check.guess("step") else STEPS
        reduced = max(min(fitting, steps), STEPS)
        item.notes.append(f"{reduced} denoising steps instead of the preset's {steps}: {steps} did not fit in the budget left")
        steps = reduced
    item.results["steps"] = steps
    record = item.attempt("edit", lambda: _edit_run(check, preset, steps),
                          estimate=check.guess("build") + check.edit_seconds(steps) + 2.0)
    if record is not None:
        item.results["headline"] = {k: record.get(k) for k in ("steps_run", "index", "selector", "vlm_requests")}
        item.results["headline"]["edit_s"] = record["stages"].get("edit")


def _edit_run(check: Check, preset, steps: int) -> dict[str, Any]:
    import time

    device = check.device
    memory = PeakMemory(device)
    memory.start("build")
    with openai_server(default=_vlm_answer) as server:
        start = time.perf_counter()
        generator = random_cogvideox_generator(preset.levers, device=device) if check.full else None
        editor = Frame2Frame.from_preset(preset, captioner="vlm", selector="vlm", device=device, progress=False,
                                         generator=generator, vlm_options={"base_url": server.base_url, "max_retries": 0})
        sync(device)
        build = time.perf_counter() - start
        memory.switch("other")
        editor.captioner = InStage(editor.captioner, "caption", memory)
        editor.selector = InStage(editor.selector, "selection", memory)
        with StageClock(editor.generator.pipe, device, memory) as clock:
            start = time.perf_counter()
            result = editor.edit(sample_path("cat.jpg"), TARGET, seed=0, num_inference_steps=steps)
            sync(device)
            seconds = time.perf_counter() - start
            clock.close_denoising()
            memory.switch("other")
        requests = len(server.chat_requests)
    stages = {"build": build, "caption": result.timings["caption"], **clock.split(result.timings["video"]),
              "selection": result.timings["selection"], "edit": seconds}
    selection = result.record["selection"]
    return {"preset": preset.name, "steps_run": stages.pop("steps"), "steps_timed": len(clock.step_seconds()),
            "step_seconds": clock.step_seconds(), "stages": stages, "peak_memory": memory.per_stage(),
            "memory_kind": memory.kind, "caption": result.caption, "index": result.index,
            "selector": selection["selector"], "fallback": selection.get("fallback"), "vlm_requests": requests,
            "frames": len(result.frames), "image_size": list(result.image.size)}
