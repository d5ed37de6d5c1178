"""Items 4-7 of the GPU check: every other heavy path, a few steps each.

- Baselines over their real pipeline classes and settings: SDEdit, LEDITS++ and Pix2Pix-Zero
  (SD 1.5's architecture; at full size saved once with `save_pretrained` and loaded through
  each editor's own `load_pipe`, the path real weights take), FlowEdit (FLUX.1-dev's).
- FLUX set generation for the manifold study (`manifold.sets.generate_sets`) at 1024 px.
- The metrics (`metrics.Scorer`: LPIPS, CLIP-I, CLIP score) on a batch of 16 edits.
- The local VLM of the `open` preset (`vlm.LocalVLM`, Qwen2.5-VL-7B-Instruct): one B.1
  caption request with the nine in-context images and one C.1 selection request over a
  12-tile collage, through the real captioner and selector, with its default GPU placement
  ("swap": on the CPU between requests).
Full size: the published architectures with random weights drawn on the GPU (`stand_ins.full_size`);
tiny size: the tiny models on the CPU. The other video backends are item 8 (`backend_items`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..bench.meters import PeakMemory, sync
from ..captions import VLMCaptioner
from ..editors import EDITORS
from ..manifold import sets
from ..manifold.sets import noise_images
from ..metrics import Scorer
from ..samples import sample_path
from ..selection import VLMSelector
from ..stand_ins.full_size import random_flux_dev_pipeline, random_qwen2_5_vl_7b, random_sd15_pipeline
from ..vlm import DEFAULT_LOCAL_MODEL, LocalVLM, VLMError, make_vlm_client
from .core import Check, Item
from .video_items import TARGET

# Seconds guessed for each item (full size on an H200-class GPU; tiny on a small CPU).
MINIMUM = {"baselines": {"full": 60.0, "tiny": 6.0}, "flux_sets": {"full": 45.0, "tiny": 3.0},
           "metrics": {"full": 15.0, "tiny": 4.0}, "vlm_local": {"full": 90.0, "tiny": 8.0}}
# A few steps of each editor: (method, edit() keyword arguments).
BASELINE_STEPS = (
    ("sdedit", {"num_inference_steps": 4}),  # strength 0.8: 3 of them run
    ("ledits", {"num_inference_steps": 4}),
    ("pix2pix-zero", {"num_inference_steps": 3}),
    ("flowedit", {"num_inference_steps": 4, "n_max": 3}),
)
FLUX_STEPS = 2
METRICS_BATCH = 16
METRICS_SIZE = {"full": 512, "tiny": 64}  # the paper's evaluation size; tiny: small images on a CPU


def minimum(name: str):
    return lambda check: MINIMUM[name][check.size]


def _measured(device: str):
    """A `PeakMemory` started on "build" (its `switch` closes a stage)."""
    memory = PeakMemory(device)
    memory.start("build")
    return memory


@contextmanager
def _stage(memory, stages: dict, name: str):
    memory.switch(name)
    start = time.perf_counter()
    try:
        yield
    finally:
        sync(memory.device)
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - start
        memory.switch("other")


# -- Baselines --------------------------------------------------------------------------------

def baselines(check: Check, item: Item) -> None:
    """Each baseline editor, a few steps, through its real pipeline at the paper's working size."""
    folder = None
    try:
        for method, options in BASELINE_STEPS:
            editor_class = EDITORS[method]
            if method != "flowedit" and folder is None and check.full:
                folder = _saved_sd15(check, item)
                if folder is None:
                    continue
            item.attempt(method, lambda c=editor_class, o=options: _baseline_run(check, c, o, folder),
                         estimate=MINIMUM["baselines"][check.size] / len(BASELINE_STEPS))
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    item.results["headline"] = {run["name"]: run["stages"].get("edit_total") for run in item.runs if run["status"] == "ok"}
    if check.full:
        item.notes.append("SD 1.5 (the architecture of SD 1.4 too) was built with random float16 weights on the GPU, "
                          "saved once and loaded by each editor's load_pipe; FLUX.1-dev with random bf16 weights on the GPU.")


def _saved_sd15(check: Check, item: Item) -> Path | None:
    """Random full-size SD 1.5 saved with `save_pretrained` (so the editors load it as they load the hub's)."""
    folder = Path(tempfile.mkdtemp(prefix="f2f-gpu-check-sd15-"))

    def save():
        pipe = random_sd15_pipeline(device=check.device)
        pipe.save_pretrained(folder)
        return {"results": {"folder_bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())}}

    if item.attempt("sd15_random_weights", save, estimate=10.0) is None:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return folder


def _baseline_run(check: Check, editor_class, options: dict, sd_folder: Path | None) -> dict[str, Any]:
    memory, stages = _measured(check.device), {}
    base = editor_class.paper if check.full else editor_class.tiny
    with _stage(memory, stages, "build"):
        if not check.full:
            editor = editor_class.from_preset("tiny", device=check.device, progress=False)
        elif editor_class.method == "flowedit":
            editor = editor_class(random_flux_dev_pipeline(device=check.device), base, device=check.device, progress=False)
        else:
            settings = replace(base, model=str(sd_folder))
            pipe = editor_class.load_pipe(settings, device=check.device, offload=False, progress=False, torch_dtype=None)
            editor = editor_class(pipe, settings, device=check.device, progress=False)
    with _stage(memory, stages, "edit_total"):
        result = editor.edit(sample_path("cat.jpg"), TARGET, seed=0, **options)
    stages.update(result.timings)
    return {"method": editor_class.method, "settings": {**vars(base), **options, "model": base.model},
            "steps_timed": options["num_inference_steps"], "stages": stages, "peak_memory": memory.per_stage(),
            "memory_kind": memory.kind, "image_size": list(result.image.size),
            "pipeline": type(editor.pipe).__name__, "dtype": str(editor.pipe.dtype).replace("torch.", "")}


# -- FLUX sets --------------------------------------------------------------------------------

def flux_sets(check: Check, item: Item) -> None:
    """`generate_sets`: one image per paper prompt at FLUX.1-dev's 1024 px (tiny: 64 px), a few steps."""
    item.attempt("generate_sets", lambda: _flux_sets_run(check), estimate=MINIMUM["flux_sets"][check.size])
    if item.runs and item.runs[-1]["status"] == "ok":
        item.results["headline"] = {"seconds_per_image": item.runs[-1]["seconds_per_image"],
                                    "size": item.runs[-1]["size"]}
    if check.full:
        item.notes.append("generate_sets loads FLUX through manifold.sets._load_flux; the check puts the random-weight "
                          "FLUX.1-dev pipeline in its place for the call, and everything else runs as users run it.")


def _flux_sets_run(check: Check) -> dict[str, Any]:
    import json
    from unittest import mock


    memory, stages = _measured(check.device), {}
    out = Path(tempfile.mkdtemp(prefix="f2f-gpu-check-sets-"))
    try:
        if check.full:
            with _stage(memory, stages, "build"):
                pipe = random_flux_dev_pipeline(device=check.device)
                pipe.set_progress_bar_config(disable=True)
            loader = mock.patch.object(sets, "_load_flux", lambda settings, device, offload: pipe)
            model = "black-forest-labs/FLUX.1-dev"
        else:
            loader, model = _nothing(), "tiny"
        with loader, _stage(memory, stages, "generate"):
            made = sets.generate_sets(out, n=1, model=model, num_inference_steps=FLUX_STEPS, progress=False)
        records = [json.loads(p.read_text()) for p in sorted(out.glob("*/0000.json"))]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    per_image = [r["seconds"] for r in records]
    return {"model": model, "size": records[0]["size"], "images": len(records), "sets": made.labels,
            "steps_timed": FLUX_STEPS * len(records), "image_seconds": per_image,
            "seconds_per_image": sum(per_image) / len(per_image), "stages": stages, "peak_memory": memory.per_stage(),
            "memory_kind": memory.kind}


@contextmanager
def _nothing():
    yield


# -- Metrics ----------------------------------------------------------------------------------

def metrics(check: Check, item: Item) -> None:
    """`Scorer.score_batch` on 16 edits: LPIPS (AlexNet), CLIP-I and CLIP score (ViT-B-32), first call and warm."""
    item.attempt("score_batch", lambda: _metrics_run(check), estimate=MINIMUM["metrics"][check.size])
    if item.runs and item.runs[-1]["status"] == "ok":
        item.results["headline"] = {"warm_batch_s": item.runs[-1]["stages"].get("warm")}


def _metrics_run(check: Check) -> dict[str, Any]:
    memory, stages = _measured(check.device), {}
    with _stage(memory, stages, "build"):
        if check.full:  # the paper's architectures, random weights (no download)
            scorer = Scorer(clip_model="ViT-B-32", clip_pretrained=None, lpips_backbone="random", device=check.device)
        else:
            scorer = Scorer.from_preset("tiny", device=check.device, size=METRICS_SIZE["tiny"])
    size = METRICS_SIZE[check.size]
    sources = noise_images(METRICS_BATCH, size=size, seed=0)
    edits = noise_images(METRICS_BATCH, size=size, seed=1)
    texts = [TARGET] * METRICS_BATCH
    with _stage(memory, stages, "first"):  # loads LPIPS and CLIP on first use
        scorer.score_batch(sources, edits, texts)
    with _stage(memory, stages, "warm"):
        rows = scorer.score_batch(sources, edits, texts, targets=sources)
    return {"batch": METRICS_BATCH, "image_size": size, "config": scorer.config(), "metrics": sorted(rows[0]), "stages": stages,
            "peak_memory": memory.per_stage(), "memory_kind": memory.kind}


# -- Local VLM --------------------------------------------------------------------------------

def vlm_local(check: Check, item: Item) -> None:
    """The `open` preset's VLM: a B.1 caption request (nine in-context images) and a C.1 selection request, timed."""
    item.attempt("caption_and_selection", lambda: _vlm_local_run(check), estimate=MINIMUM["vlm_local"][check.size])
    if item.runs and item.runs[-1]["status"] == "ok":
        run = item.runs[-1]
        item.results["headline"] = {k: run["stages"].get(k) for k in ("build", "caption", "selection")}
        item.results["headline"].update(peak_memory_bytes=max(run["peak_memory"].values(), default=None),
                                        off_gpu_between_requests=run["off_gpu_between_requests"])
    if check.full:
        item.notes.append("Qwen2.5-VL-7B-Instruct's configuration with random bf16 weights drawn on the GPU and the "
                          "model's image-size range; the answers are gibberish, so the selector's retry and fallback run "
                          "too (fallback: last frame). Placement 'swap': the weights go to the GPU for each request.")


def _vlm_local_run(check: Check) -> dict[str, Any]:
    import torch
    from PIL import Image

    memory, stages = _measured(check.device), {}
    cuda = check.device.startswith("cuda")
    with _stage(memory, stages, "build"):
        if check.full:
            network, processor = random_qwen2_5_vl_7b(device=check.device)
            vlm = LocalVLM(DEFAULT_LOCAL_MODEL, device=check.device, network=network, processor=processor)
            del network
        else:
            vlm = make_vlm_client("local", "tiny", device=check.device)
        captioner = VLMCaptioner(vlm)
        selector = VLMSelector(vlm, fallback="last")
    source = Image.open(sample_path("cat.jpg")).convert("RGB").resize((512, 512))
    frames = [source] * 49  # the paper's 49 frames: 12 tiles of 512 px shown
    resident = {}  # bytes the process holds on the GPU after each request (the VLM's 16.6 GB must be gone)

    def where() -> dict[str, Any]:
        return {"weights_on": str(next(vlm.network.parameters()).device),
                "gpu_allocated_bytes": torch.cuda.memory_allocated(check.device) if cuda else None}

    caption_error = None
    with _stage(memory, stages, "caption"):
        try:
            caption = captioner(source, TARGET)
            caption_record = caption.record
        except VLMError as exc:  # random weights may answer nothing usable: the request still ran and is timed
            caption, caption_record, caption_error = None, None, str(exc)
    resident["after_caption"] = where()
    with _stage(memory, stages, "selection"):
        selection = selector(source, frames, TARGET)
    resident["after_selection"] = where()
    calls = ([caption_record["call"]] if caption_record else []) + selection.record["calls"]
    off_gpu = vlm.placement != "swap" or all(r["weights_on"] == "cpu" for r in resident.values())
    return {
        "vlm": vlm.describe(), "steps_timed": 0, "stages": stages, "peak_memory": memory.per_stage(),
        "memory_kind": memory.kind, "requests": len(calls), "caption_images": calls[0]["images"] if caption_record else None,
        "caption_messages": len(captioner.messages(source, TARGET)), "caption_error": caption_error,
        "caption": None if caption is None else caption.text[:200],
        "selection": {"index": selection.index, "selector": selection.selector, "retried": selection.record["retried"],
                      "fallback": (selection.record.get("fallback") or {}).get("reason")},
        "calls": [{k: c[k] for k in ("latency_s", "move_s", "usage", "images", "image_positions", "finish_reason")}
                  for c in calls],
        "resident": resident, "off_gpu_between_requests": off_gpu,
    }
