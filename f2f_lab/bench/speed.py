"""How long each stage of an edit takes, how much memory it needs, and how close the video
model gets to the hardware's rate (issue 8; the figures are in docs/PERFORMANCE.md).

    f2f bench speed --preset fast --compare paper --repeat 3 --json speed.json

An edit is timed as users run it (`Frame2Frame.edit`, the preset's levers applied), after
warm-up edits that pay for lazy loading and compilation; the video stage is split into the
pipeline's own pieces (`meters.StageClock`), memory is measured per stage (`meters.PeakMemory`)
and the denoiser's FLOP rate is set against the hardware's floor (`flops`). `--random-weights
full` times the full-size architecture with random weights, no download (`f2f_lab.stand_ins.full_size`).
`measure_speed` reads top to bottom: check the configuration, load, warm up, measure, summarise.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

from ..errors import F2FError
from ..imaging import load_image
from ..loading import default_device, release_memory
from ..metrics import Scorer
from ..pipeline import Frame2Frame
from ..presets import PRESETS, TINY_NOTICE, Preset, get_preset
from ..samples import sample_path
from ..stand_ins.full_size import random_cogvideox_generator
from .flops import denoising_flops
from .meters import InStage, PeakMemory, StageClock, device_info, resident_bytes, sync, versions
from .speed_report import STAGES, TOTALS, SpeedComparison, SpeedReport

SAMPLE_NAME = "cat.jpg"  # the bundled photo edited by default (`samples.sample_path`)
SAMPLE_TARGET = "A photo of a cat yawning."

# Settings that make two runs' videos comparable frame by frame (the cache lever too).
SAME_VIDEO = ("num_frames", "num_inference_steps", "guidance_scale", "canvas", "seed")


# -- Measuring --------------------------------------------------------------------------------

def on_tiny_models(preset: Preset) -> Preset:
    """`preset` with its levers and numbers, on the tiny random-weight models and stages."""
    tiny = PRESETS["tiny"]
    return replace(  # not `with_options`, which would skip tiny's clip_pretrained=None
        preset, name=f"{preset.name}@tiny", video_model=tiny.video_model, canvas=tiny.canvas, captioner=tiny.captioner,
        selector=tiny.selector, clip_model=tiny.clip_model, clip_pretrained=tiny.clip_pretrained,
    )


@dataclass
class _Run:
    """One configuration loaded and ready to time: what every edit of a measurement shares."""

    preset: Preset
    device: str
    editor: Any  # Frame2Frame, its captioner and selector in `InStage` proxies
    scorer: Any  # metrics.Scorer, or None when the metrics stage is not timed
    memory: PeakMemory
    source: Any  # PIL image
    target: str
    seed: int
    load_seconds: float


@dataclass
class _Timings:
    """The measured edits of one run: each one's stages, each one's step times, the last result."""

    repeats: list[dict[str, Any]]
    step_runs: list[list[float]]
    resident_bytes: int | None
    result: Any


def measure_speed(
    preset: str | Preset = "tiny",
    *,
    num_frames: int | None = None,
    num_inference_steps: int | None = None,
    repeat: int = 3,
    warmup: int = 1,
    seed: int = 0,
    device: str | None = None,
    tiny_models: bool = False,
    random_weights: str | None = None,
    image=None,
    target: str = SAMPLE_TARGET,
    metrics: bool = True,
    progress: bool = True,
    **overrides,
) -> SpeedReport:
    """Time every stage of an edit with a preset, after `warmup` edits; medians of `repeat`.

    Args:
        preset: a preset name or `Preset` ("paper", "fast", "turbo", "lowvram", "tiny", ...),
            or a spec with changed fields, "paper:attention_backend=cudnn" (`presets.get_preset`).
        num_frames, num_inference_steps: override the preset's (8k+1 frames).
        repeat: measured edits; every stage reports its median.
        warmup: edits run first and not measured (lazy loading, torch.compile, cuDNN tuning).
        seed: the video seed of every edit (the same video each time).
        device: torch device (default: cuda when available, else cpu).
        tiny_models: run the preset's levers and numbers on the tiny random-weight models.
        random_weights: "full" builds the full-size 5B architecture with random bf16 weights
            on the GPU instead of loading the hub's weights.
        image, target: what to edit (default: the bundled cat photo, "A photo of a cat yawning.").
        metrics: also time the metrics stage (`f2f_lab.metrics.Scorer`).
        overrides: other preset fields or levers, e.g. `cache="pab"` or `captioner="template"`.
    """
    import torch

    if repeat < 1 or warmup < 0:
        raise F2FError("--repeat must be at least 1 and --warmup at least 0.")
    device = device or default_device()
    spec, notes = _configuration(preset, device=device, tiny_models=tiny_models, random_weights=random_weights,
                                 num_frames=num_frames, num_inference_steps=num_inference_steps, **overrides)
    cudnn_benchmark = torch.backends.cudnn.benchmark  # a lever sets it process-wide; put it back after
    try:
        run = _load(spec, device=device, random_weights=random_weights, metrics=metrics, image=image, target=target,
                    seed=seed, notes=notes)
        warmup_seconds = _warm_up(run, warmup, progress)
        timings = _measure(run, repeat, progress)
    finally:
        torch.backends.cudnn.benchmark = cudnn_benchmark
    settings = {"repeat": repeat, "warmup": warmup, "seed": seed, "random_weights": random_weights, "target": target}
    report = _summarise(run, timings, warmup_seconds, settings, notes)
    del run
    release_memory(device)
    return report


def _configuration(preset, *, device: str, tiny_models: bool, random_weights: str | None, **changes) -> tuple[Preset, list[str]]:
    """The preset a measurement runs, checked before anything loads, and the notes its report carries."""
    if random_weights not in (None, "full"):
        raise F2FError(f"Unknown --random-weights '{random_weights}'; the one choice is 'full'.")
    spec = get_preset(preset)
    if tiny_models:
        spec = on_tiny_models(spec)
    spec = spec.with_options(**changes).check()  # before a 21 GB random-weight build
    if spec.video_backend != "cogvideox":
        raise F2FError(f"f2f bench speed measures CogVideoX-5B I2V (its FLOP count is that model's); {spec.video_backend} "
                       "is timed by the GPU check's item 8 (f2f gpu-check).")
    if random_weights and spec.is_tiny:
        raise F2FError("--random-weights full builds the full-size model; it does not combine with tiny models.")
    if random_weights and not device.startswith("cuda"):
        raise F2FError("--random-weights full builds the 10-billion-parameter models (about 21 GB in bf16) on a GPU; "
                       "this machine has none. Use --preset tiny or --tiny-models on a CPU.")
    notes = []
    if spec.is_tiny:
        notes.append(TINY_NOTICE + " Timings are those of the tiny models on this device, not of CogVideoX-5B.")
    spec, substituted = _without_missing_vlm(spec)
    notes += substituted
    if random_weights:
        notes.append("Random bf16 weights of the real architecture: times and memory are the real model's; the video is noise.")
    if not device.startswith("cuda"):
        notes.append("CPU run: FLOP rates are not comparable with the GPU floor; memory is the process's peak RSS.")
    return spec, notes


def _without_missing_vlm(spec: Preset) -> tuple[Preset, list[str]]:
    """Swap the VLM stages for offline ones when no VLM is configured, and say so."""
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        return spec, []
    notes, changes = [], {}
    if spec.captioner == "vlm":
        changes["captioner"] = "template"
        notes.append("No VLM configured (OPENAI_API_KEY / OPENAI_BASE_URL): the caption stage ran the template captioner.")
    if spec.selector == "vlm":
        changes["selector"] = "last"
        notes.append("No VLM configured: the selection stage ran the last-frame selector (a VLM call adds its network time).")
    return replace(spec, **changes), notes


def _load(spec: Preset, *, device: str, random_weights: str | None, metrics: bool, image, target: str, seed: int,
          notes: list[str]) -> _Run:
    """Build the editor (and the scorer) the way users do, timed; its stages get memory buckets."""
    source = load_image(image if image is not None else sample_path(SAMPLE_NAME))
    memory = PeakMemory(device)
    start = time.perf_counter()
    generator = random_cogvideox_generator(spec.levers, device=device, seed=seed) if random_weights else None
    editor = Frame2Frame.from_preset(spec, device=device, progress=False, generator=generator)
    # The caption and selection stages run inside `Frame2Frame.edit`; the proxies give them
    # their own memory buckets (their times come from the edit's own timings).
    editor.captioner = InStage(editor.captioner, "caption", memory)
    editor.selector = InStage(editor.selector, "selection", memory)
    scorer = _make_scorer(spec, device, random_weights, notes) if metrics else None
    sync(device)
    return _Run(preset=spec, device=device, editor=editor, scorer=scorer, memory=memory, source=source, target=target,
                seed=seed, load_seconds=time.perf_counter() - start)


def _make_scorer(spec: Preset, device: str, random_weights: str | None, notes: list[str]):
    if random_weights:  # the paper's architectures, random weights: no download
        notes.append("Metrics ran ViT-B-32 and AlexNet LPIPS with random weights (same architectures, no download).")
        return Scorer(clip_model="ViT-B-32", clip_pretrained=None, lpips_backbone="random", device=device)
    return Scorer.from_preset(spec, device=device)


def _timed_edit(run: _Run) -> tuple[Any, float, float | None]:
    """One edit (and its metrics): the result, the edit's seconds, the metrics' seconds (None if not scored)."""
    sync(run.device)
    start = time.perf_counter()
    result = run.editor.edit(run.source, run.target, seed=run.seed)
    sync(run.device)
    edited = time.perf_counter()
    if run.scorer is None:
        return result, edited - start, None
    run.memory.switch("metrics")
    run.scorer.score(result.source_output, result.image, run.target)
    run.memory.switch("other")
    sync(run.device)
    return result, edited - start, time.perf_counter() - edited


def _warm_up(run: _Run, count: int, progress: bool) -> list[float]:
    """`count` unmeasured edits (lazy loading, compilation, cuDNN tuning); their seconds."""
    seconds = []
    for _ in _progress(range(count), progress, "speed warm-up"):
        start = time.perf_counter()
        _timed_edit(run)
        seconds.append(time.perf_counter() - start)
    return seconds


def _measure(run: _Run, count: int, progress: bool) -> _Timings:
    """`count` measured edits with the pipeline's pieces timed and memory split by stage."""
    clock = StageClock(run.editor.generator.pipe, run.device, run.memory)
    timings = _Timings(repeats=[], step_runs=[], resident_bytes=resident_bytes(run.device), result=None)
    run.memory.clear()  # the warm-up's peaks (compilation, lazy loading) are not the edit's
    with clock:
        for _ in _progress(range(count), progress, f"speed {run.preset.name}"):
            clock.reset()
            run.memory.start("other")
            timings.result, edit_seconds, metric_seconds = _timed_edit(run)
            clock.close_denoising()
            run.memory.switch("other")
            timings.repeats.append(_stages_of(timings.result, clock, edit_seconds, metric_seconds))
            timings.step_runs.append(clock.step_seconds())
    return timings


def _stages_of(result, clock: StageClock, edit_seconds: float, metric_seconds: float | None) -> dict[str, Any]:
    return {
        "caption": result.timings.get("caption"),
        **clock.split(result.timings["video"]),
        "selection": result.timings.get("selection"),
        "metrics": metric_seconds,
        "edit": edit_seconds,
        "edit_with_metrics": edit_seconds + (metric_seconds or 0.0),
    }


def _summarise(run: _Run, timings: _Timings, warmup_seconds: list[float], settings: dict, notes: list[str]) -> SpeedReport:
    """Medians over the measured edits, the FLOP rate, memory, and what ran where."""
    spec, pipe = run.preset, run.editor.generator.pipe
    repeats = timings.repeats
    stages = {name: _median([r[name] for r in repeats]) for name in STAGES}
    step_runs = timings.step_runs
    device = device_info(run.device)
    on_h100 = run.device.startswith("cuda") and "H100" in device["name"]
    return SpeedReport(
        preset=spec.name,
        settings={**spec.to_dict(), **settings, "tiny_models": spec.is_tiny, "active_levers": spec.levers.active(),
                  "dtype": str(pipe.transformer.dtype).replace("torch.", "")},
        device=device,
        versions=versions(),
        load_seconds=run.load_seconds,
        warmup_seconds=warmup_seconds,
        stages=stages,
        totals={name: _median([r[name] for r in repeats]) for name in TOTALS},
        step_seconds=[statistics.median(column) for column in zip(*step_runs)] if step_runs and step_runs[0] else [],
        repeats=repeats,
        flops=denoising_flops(pipe, spec, stages["denoising"], on_floor_device=on_h100,
                              latent_dropout=(timings.result.record.get("video", {}).get("latent_dropout")
                                              if timings.result is not None else None)),
        memory={"kind": run.memory.kind, "peak_bytes": run.memory.overall, "reserved_bytes": run.memory.reserved or None,
                "resident_bytes": timings.resident_bytes, "per_stage": run.memory.per_stage()},
        notes=notes,
        result=timings.result,
    )


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


# -- Comparing --------------------------------------------------------------------------------

def compare(a: str | Preset, b: str | Preset, **options) -> SpeedComparison:
    """Measure two configurations one after the other in this process and set them side by side.

    `options` go to both `measure_speed` calls. The two edits use the same seed, so their
    frames are compared too: for exact levers (`fast` against `paper`) the difference is the
    rounding of bf16 kernels; for approximate ones it is the change the levers made.
    """
    a, b = get_preset(a), get_preset(b)  # a mistyped second spec fails before the first run
    first = measure_speed(a, **options)
    second = measure_speed(b, **options)
    ratios = {}
    for name in STAGES + TOTALS:
        sa = first.stages.get(name, first.totals.get(name))
        sb = second.stages.get(name, second.totals.get(name))
        ratios[name] = sa / sb if sa is not None and sb else None
    peak_a, peak_b = first.memory["peak_bytes"], second.memory["peak_bytes"]
    return SpeedComparison(
        a=first, b=second, ratios=ratios,
        memory_ratio=peak_a / peak_b if peak_a and peak_b else None,
        output_difference=frames_difference(first, second),
    )


def frames_difference(a: SpeedReport, b: SpeedReport) -> dict[str, Any] | None:
    """Pixel difference between the two reports' last videos (None when their shapes differ)."""
    import numpy as np

    if a.result is None or b.result is None:
        return None
    frames_a = np.stack([np.asarray(f, dtype=np.int16) for f in a.result.frames])
    frames_b = np.stack([np.asarray(f, dtype=np.int16) for f in b.result.frames])
    if frames_a.shape != frames_b.shape:
        return None
    diff = np.abs(frames_a - frames_b)
    mse = float((diff.astype(np.float64) ** 2).mean())
    same = all(a.settings.get(k) == b.settings.get(k) for k in SAME_VIDEO)
    same_cache = a.settings["levers"]["cache"] == b.settings["levers"]["cache"]
    return {
        "frames": int(frames_a.shape[0]),
        "max_abs": int(diff.max()),
        "mean_abs": float(diff.mean()),
        "psnr_db": float("inf") if mse == 0 else 10 * math.log10(255**2 / mse),
        "comparable": same and same_cache,
    }

