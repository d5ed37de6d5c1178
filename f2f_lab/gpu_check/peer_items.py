"""Item 9 of the GPU check: the peer editors (FLUX.1 Kontext [dev], Qwen-Image-Edit-2509, ChronoEdit-14B).

Each peer builds and runs one edit of `CHECK_STEPS` steps on a 720x480 noise source (the
paper's 3:2 canvas shape) through its editor's own `edit` (instruction, working size, call,
record), at the editor's published settings otherwise (guidance, CFG passes, frames, area).
Full size: the published architectures with random bf16 weights drawn on the GPU, assembled
into the real pipeline class and handed to the editor class directly (the editors take a
pipeline object, as FlowEdit does in item 4; nothing is saved or loaded). Tiny size:
`make_editor(method, "tiny")` over the tiny stand-ins (`stand_ins.tiny_editors`) on the CPU.

Full-size configurations and what they rely on:
- Kontext: FLUX.1-dev's transformer, VAE, CLIP-L and T5-XXL (`stand_ins.full_size.random_flux_dev_pipeline`,
  the same 11.9B transformer; that Kontext [dev]'s transformer/config.json equals FLUX.1-dev's is
  relied on, not read from the hub) in `FluxKontextPipeline`, FLUX's scheduler configuration.
- Qwen-Image-Edit-2509: `QwenImageTransformer2DModel()` with diffusers 0.42.1's class defaults
  (60 layers, 24 heads of 128, joint_attention_dim 3584, 64 channels in / 16 out, no guidance
  embedding, zero_cond_t / use_additional_t_cond / use_layer3d_rope off: 20,430,401,088
  parameters, the README's "20B MMDiT"); `AutoencoderKLQwenImage()` defaults; Qwen2.5-VL-7B
  (`stand_ins.configs.QWEN2_5_VL_7B`, the hub's config.json values). That the 2509 checkpoint's
  transformer and VAE configs equal these defaults is unconfirmed against the hub. Its processor
  is the tiny folder's tokenizer with the real 3136 to 12845056 pixel range.
- ChronoEdit-14B: `ChronoEditTransformer3DModel` with Wan 2.1 I2V 14B's converted config
  (`stand_ins.video_configs.WAN21_I2V_14B_TRANSFORMER`; ChronoEdit is a fine-tune of it; its own
  rope_temporal_skip_len is left at the class default 8, unconfirmed against the hub), the Wan 2.1
  VAE and CLIP ViT-H vision tower in float32, UMT5-XXL (`stand_ins.video_configs`, as item 8's wan2.1-480p).
All are built by `stand_ins.full_size.meta_modules` (keys "flux-dev", "qwen-image-edit", "chronoedit").
Tokenizers and schedulers are the tiny stand-ins' (`stand_ins.tiny_editors`), as item 8 does.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..bench.meters import PeakMemory, sync
from ..editors import EDITORS, make_editor
from ..loading import model_source
from ..stand_ins.configs import QWEN2_5_VL_PIXELS
from ..stand_ins.full_size import random_flux_dev_pipeline, random_modules, tiny_part
from ..stand_ins.tiny_vlm import qwen2_vl_token_ids
from ..stand_ins.video_configs import CLIP_VIT_H14_PROCESSOR
from .core import Check, Item

ORDER = ("kontext", "qwen-edit", "chronoedit")  # `editors.PEER_METHODS`, the quickest first
CHECK_STEPS = 2
SOURCE_SIZE = (720, 480)
TARGET = "A photo of a cat yawning."
HUB_IDS = {method: EDITORS[method].paper.model for method in ORDER}
# Seconds guessed per peer (build + two steps at full size on an H200-class GPU; tiny on a small CPU).
GUESS = {"full": {"kontext": 45.0, "qwen-edit": 70.0, "chronoedit": 70.0},
         "tiny": {"kontext": 4.0, "qwen-edit": 8.0, "chronoedit": 4.0}}


def minimum(check: Check) -> float:
    return GUESS[check.size]["kontext"]


def peers(check: Check, item: Item) -> None:
    """One short edit per peer; headline: build and edit seconds, peak memory and output size of each."""
    for index, method in enumerate(ORDER):  # the first is the item's minimum; the others keep later items' minimums
        item.attempt(method, lambda method=method: _peer_run(check, method), estimate=GUESS[check.size][method],
                     optional=index > 0)
    item.results["headline"] = {
        run["name"]: {"build_s": run["stages"].get("build"), "edit_s": run["stages"].get("edit"),
                      "peak_memory_bytes": max(run["peak_memory"].values(), default=None),
                      "output_size": run.get("output_size")}
        for run in item.runs if run["status"] == "ok"
    }
    if check.full:
        item.notes.append("Published architectures with random bf16 weights drawn on the GPU (ChronoEdit's VAE and "
                          f"CLIP encoder in float32), handed to each editor as its pipeline; {CHECK_STEPS} steps of one "
                          "edit at the editor's published settings: the image is noise, the time and memory are the "
                          "model's. Qwen-Image-Edit-2509's transformer/VAE configs are diffusers' class defaults "
                          "(unconfirmed against the hub).")


def _noise_source():
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, size=(SOURCE_SIZE[1], SOURCE_SIZE[0], 3), dtype=np.uint8))


def _peer_run(check: Check, method: str) -> dict[str, Any]:
    memory, stages = PeakMemory(check.device), {}
    memory.start("build")
    start = time.perf_counter()
    if check.full:
        editor_class = EDITORS[method]
        pipe = FULL_PIPELINES[method](check.device)
        pipe.set_progress_bar_config(disable=True)
        settings = replace(editor_class.paper, model=f"random-weights:{HUB_IDS[method]}")
        editor = editor_class(pipe, settings, device=check.device, progress=False)
    else:
        editor = make_editor(method, "tiny", device=check.device, progress=False)
    sync(check.device)
    stages["build"] = time.perf_counter() - start
    memory.switch("edit")
    start = time.perf_counter()
    result = editor.edit(_noise_source(), TARGET, seed=0, num_inference_steps=CHECK_STEPS)
    sync(check.device)
    stages["edit"] = time.perf_counter() - start
    memory.switch("done")
    record = result.record
    return {
        "method": method, "hub_id": HUB_IDS[method], "source_size": list(SOURCE_SIZE),
        "working_size": record["geometry"]["working_size"], "output_size": list(result.image.size),
        "steps_timed": CHECK_STEPS, "step_s": result.timings.get("edit", stages["edit"]) / CHECK_STEPS,
        "stages": stages, "peak_memory": memory.per_stage(), "memory_kind": memory.kind,
        "timings": result.timings, "model": record["model"],
        "pipeline": record["model"]["pipeline"], "instruction": record["prompts"]["instruction"],
        "parameters": {k: record["parameters"].get(k) for k in (
            "num_inference_steps", "guidance_scale", "true_cfg_scale", "num_frames", "max_area") if k in record["parameters"]},
        **({"video": record["video"]} if "video" in record else {}),
    }


# -- Full-size pipelines (random weights drawn on the device) ----------------------------------------

def random_kontext_pipeline(device: str = "cuda", seed: int = 0):
    """`FluxKontextPipeline` over FLUX.1-dev's architecture (about 17B parameters) with random bf16 weights."""
    from diffusers import FluxKontextPipeline


    flux = random_flux_dev_pipeline(device=device, seed=seed)
    return FluxKontextPipeline(**flux.components)


def random_qwen_image_edit_pipeline(device: str = "cuda", seed: int = 0):
    """`QwenImageEditPlusPipeline` at Qwen-Image-Edit-2509's size (about 29B parameters) with random bf16 weights."""
    import torch
    from diffusers import QwenImageEditPlusPipeline
    from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    folder = Path(model_source("tiny", "qwen-image-edit"))
    tiny = tiny_part(folder, "processor")
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(**QWEN2_5_VL_PIXELS), tokenizer=tiny.tokenizer,
                                 video_processor=Qwen2VLVideoProcessor(**QWEN2_5_VL_PIXELS),
                                 chat_template=tiny.chat_template)
    configs = {"text_encoder": qwen2_vl_token_ids(tiny.tokenizer)}
    modules = random_modules("qwen-image-edit", device, torch.bfloat16, seed, configs=configs)
    return QwenImageEditPlusPipeline(scheduler=tiny_part(folder, "scheduler"), tokenizer=processor.tokenizer,
                                     processor=processor, **modules)


def random_chronoedit_pipeline(device: str = "cuda", seed: int = 0):
    """`ChronoEditPipeline` at ChronoEdit-14B's size (about 23B parameters with its encoders), random weights."""
    import torch
    from diffusers import ChronoEditPipeline
    from transformers import CLIPImageProcessor

    folder = Path(model_source("tiny", "chronoedit"))
    modules = random_modules("chronoedit", device, torch.bfloat16, seed)
    return ChronoEditPipeline(tokenizer=tiny_part(folder, "tokenizer"), scheduler=tiny_part(folder, "scheduler"),
                              image_processor=CLIPImageProcessor(**CLIP_VIT_H14_PROCESSOR), **modules)


FULL_PIPELINES = {"kontext": random_kontext_pipeline, "qwen-edit": random_qwen_image_edit_pipeline,
                  "chronoedit": random_chronoedit_pipeline}
