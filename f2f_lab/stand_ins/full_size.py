"""Full-size stand-ins: the published architectures with random weights, for timing without a download.

Every model is built by one function, `meta_modules(key)`, from one table (`MODELS`: key -> module
name -> (library, class, published configuration)) on the `meta` device (no memory), cast there as
`from_pretrained(torch_dtype=...)` casts it (`cast_as_loaded`), then given storage on the target
device and drawn N(0, 0.02) there (`materialise`), so a 16B transformer never passes through a CPU
initialisation or a float32 copy. Time and memory do not depend on weight values (caches that decide
from the data, such as First Block Cache, excepted); outputs are noise. Tokenizers, schedulers and
guiders are the tiny offline stand-ins' (their ids are valid ids of the real vocabularies).

Keys: "cogvideox" (CogVideoX-5B I2V, the paper's), the six other video backends (`video_configs`),
"sd15", "flux-dev", "qwen2.5-vl-7b", and the peers "chronoedit" (Wan 2.1 I2V 14B's configuration;
ChronoEdit is a fine-tune of it) and "qwen-image-edit" (diffusers 0.42.1's class defaults, unconfirmed
against the hub's configs, with Qwen2.5-VL-7B as text encoder).
"""

from __future__ import annotations

import importlib
import json
import tempfile
from pathlib import Path
from typing import Any

from ..loading import model_source
from ..presets import Levers
from ..video import CogVideoXGenerator, apply_levers
from .configs import (
    CLIP_L14_TEXT,
    COGVIDEOX_5B_I2V_TRANSFORMER,
    COGVIDEOX_5B_I2V_VAE,
    COGVIDEOX_SCHEDULER,
    FLUX_DEV_TRANSFORMER,
    FLUX_SCHEDULER,
    FLUX_VAE,
    QWEN2_5_VL_7B,
    QWEN2_5_VL_PIXELS,
    SD15_UNET,
    SD_SCHEDULER,
    SD_VAE,
    T5_V1_1_XXL_ENCODER,
)
from .text import tiny_t5, write_tiny_clip_tokenizer
from .tiny_video import TINY_BACKENDS
from .tiny_vlm import qwen2_vl_token_ids, tiny_qwen2_vl_processor
from .video_configs import (
    BACKENDS,
    CLIP_VIT_H14_VISION,
    FLOAT32_MODULES,
    PIPELINES,
    PROCESSORS,
    PUBLISHED_PARAMETERS,
    UMT5_XXL_ENCODER,
    WAN21_I2V_14B_TRANSFORMER,
    WAN21_VAE,
)

_QWEN2_5_VL = ("transformers", "Qwen2_5_VLForConditionalGeneration", QWEN2_5_VL_7B)
# key -> {module name: (library, class name, configuration)}; transformers classes get their config class.
MODELS: dict[str, dict[str, tuple[str, str, dict]]] = {
    "cogvideox": {
        "transformer": ("diffusers", "CogVideoXTransformer3DModel", COGVIDEOX_5B_I2V_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKLCogVideoX", COGVIDEOX_5B_I2V_VAE),
        "text_encoder": ("transformers", "T5EncoderModel", T5_V1_1_XXL_ENCODER),
    },
    **BACKENDS,
    "sd15": {
        "unet": ("diffusers", "UNet2DConditionModel", SD15_UNET),
        "vae": ("diffusers", "AutoencoderKL", SD_VAE),
        "text_encoder": ("transformers", "CLIPTextModel", CLIP_L14_TEXT),
    },
    "flux-dev": {
        "transformer": ("diffusers", "FluxTransformer2DModel", FLUX_DEV_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKL", FLUX_VAE),
        "text_encoder": ("transformers", "CLIPTextModel", CLIP_L14_TEXT),
        "text_encoder_2": ("transformers", "T5EncoderModel", T5_V1_1_XXL_ENCODER),
    },
    "qwen2.5-vl-7b": {"model": _QWEN2_5_VL},
    "chronoedit": {
        "transformer": ("diffusers", "ChronoEditTransformer3DModel", WAN21_I2V_14B_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKLWan", WAN21_VAE),
        "text_encoder": ("transformers", "UMT5EncoderModel", UMT5_XXL_ENCODER),
        "image_encoder": ("transformers", "CLIPVisionModel", CLIP_VIT_H14_VISION),
    },
    "qwen-image-edit": {
        "transformer": ("diffusers", "QwenImageTransformer2DModel", {}),
        "vae": ("diffusers", "AutoencoderKLQwenImage", {}),
        "text_encoder": _QWEN2_5_VL,
    },
}
# Modules kept in float32 whatever the dtype (ChronoEdit as Wan 2.1 I2V: its VAE and CLIP encoder, as the docs run it).
FLOAT32 = {**FLOAT32_MODULES, "chronoedit": ("vae", "image_encoder")}


def model_class(library: str, name: str):
    return getattr(importlib.import_module(library), name)


def meta_modules(key: str, dtype=None, *, configs: dict[str, dict] | None = None,
                 only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The weighted modules of `MODELS[key]` on the meta device (parameters without storage; buffers real).

    `dtype` casts them there as loading would (free), except `FLOAT32[key]`, which stay float32; None keeps
    the classes' float32. `configs`: {module name: {option: value}} to change the published configurations;
    `only`: build just these modules.
    """
    from accelerate import init_empty_weights

    if key not in MODELS:
        raise ValueError(f"unknown model {key!r}; choose one of {sorted(MODELS)}")
    modules = {}
    # Buffers stay real (CLIP's position ids are an integer buffer; Wan's and Qwen's rotary tables are computed).
    with init_empty_weights(include_buffers=False):
        for name, (library, class_name, config) in MODELS[key].items():
            if only is not None and name not in only:
                continue
            cls = model_class(library, class_name)
            config = {**config, **(configs or {}).get(name, {})}
            modules[name] = cls(cls.config_class(**config)) if library == "transformers" else cls(**config)
    for name, module in modules.items():
        if hasattr(module, "tie_weights"):
            module.tie_weights()  # (UM)T5's encoder embedding is `shared`, as when loaded
        if dtype is not None and name not in FLOAT32.get(key, ()):
            cast_as_loaded(module, dtype)
    return modules


def cast_as_loaded(module, dtype) -> None:
    """Cast `module` to `dtype` as from_pretrained(torch_dtype=dtype) leaves it (diffusers 0.42.1, transformers 5.24).

    diffusers: a model with `_keep_in_fp32_modules` (WanTransformer3DModel: rope, time_embedder,
    scale_shift_table, norm1-3) keeps those parameters and all its buffers in float32; other models are
    cast whole, buffers too. transformers: parameters are cast except `_keep_in_fp32_modules` (float16
    only) and `_keep_in_fp32_modules_strict`; buffers (rotary tables, position ids) are left as built.
    """
    import torch
    from diffusers import ModelMixin

    if isinstance(module, ModelMixin):
        keep = set(module._keep_in_fp32_modules or ())
        if not keep:
            torch.nn.Module.to(module, dtype)  # (ModelMixin.to warns about fp32 modules even when there are none)
            return
    else:
        keep = set(getattr(module, "_keep_in_fp32_modules_strict", None) or ())
        if dtype == torch.float16:
            keep |= set(getattr(module, "_keep_in_fp32_modules", None) or ())
    for name, parameter in module.named_parameters():
        if parameter.is_floating_point() and not keep.intersection(name.split(".")):
            parameter.data = parameter.data.to(dtype)


# The tiny stand-in ("tiny" `model_source`) of each key: the same classes, a few channels wide.
TINY_SOURCES = {"cogvideox": "video:cogvideox", **{key: f"video:{key}" for key in BACKENDS}, "sd15": "stable-diffusion",
                "flux-dev": "flux", "qwen2.5-vl-7b": "vlm:qwen2.5-vl", "chronoedit": "chronoedit",
                "qwen-image-edit": "qwen-image-edit"}


def tiny_configs(key: str) -> dict[str, dict]:
    """{module name: configuration} of `MODELS[key]`'s tiny stand-in, as `configs` for a shrunken build.

    The tiny folders hold the same classes (a test checks), so `meta_modules(key, configs=tiny_configs(key))`
    is the full-size code path at a size a CPU builds in a moment: what tests measure the build's memory on.
    """
    folder = Path(model_source("tiny", TINY_SOURCES[key]))
    configs = {}
    for name in MODELS[key]:
        path = folder / name / "config.json"
        config = json.loads((path if path.exists() else folder / "config.json").read_text())
        configs[name] = {k: v for k, v in config.items() if not k.startswith("_")}
    return configs


def parameter_counts(key: str, modules: dict[str, Any] | None = None) -> dict[str, int]:
    """Parameters of each module of `MODELS[key]` (default: built on the meta device, no memory)."""
    modules = modules if modules is not None else meta_modules(key)
    return {name: sum(p.numel() for p in module.parameters()) for name, module in modules.items()}


def check_parameter_counts(key: str, modules: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Each checked module's count against `PUBLISHED_PARAMETERS[key]`: measured, published, relative error, ok.

    `modules` (default: all, built on the meta device) may hold only some of the pipeline's modules.
    """
    counts = parameter_counts(key, modules)
    report = {}
    for name, published in PUBLISHED_PARAMETERS[key].items():
        if name not in counts:
            continue
        error = counts[name] / published["count"] - 1.0
        report[name] = {"measured": counts[name], "published": published["count"], "relative_error": error,
                        "rtol": published["rtol"], "ok": abs(error) <= published["rtol"]}
    return report


def materialise(module, *, device: str, generator, std: float = 0.02):
    """Give a meta module storage on `device`, parameters drawn N(0, std) there in the dtypes set on meta; buffers kept.

    There is deliberately no dtype here: cast on the meta device first (`meta_modules(key, dtype)`, free), so
    the device never holds a float32 copy of weights that end up bf16 (issue 25, finding 6), and buffers
    keep the dtypes real loading leaves them in (Qwen2.5-VL's float32 rotary tables).
    """
    import torch

    buffers = {name: buffer.detach().clone() for name, buffer in module.named_buffers()}
    module.to_empty(device=device)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0.0, std, generator=generator)
        for name, buffer in module.named_buffers():
            buffer.copy_(buffers[name])
    if hasattr(module, "tie_weights"):
        module.tie_weights()  # to_empty gives tied parameters separate storage
    return module.eval()


def random_modules(key: str, device: str = "cuda", dtype=None, seed: int = 0, **options) -> dict[str, Any]:
    """`meta_modules(key, dtype, **options)` given storage on `device`, parameters drawn N(0, 0.02) there."""
    import torch

    generator = torch.Generator(device=device).manual_seed(seed)
    return {name: materialise(module, device=device, generator=generator)
            for name, module in meta_modules(key, dtype, **options).items()}


def tiny_part(folder: Path, name: str):
    """A non-weighted component (tokenizer, scheduler, guider) of a tiny stand-in folder, by its model_index.json class."""
    library, class_name = json.loads((folder / "model_index.json").read_text())[name]
    return model_class(library, class_name).from_pretrained(folder, subfolder=name)


# -- The pipelines -------------------------------------------------------------------------------

def random_cogvideox_i2v(device: str = "cuda", dtype=None, seed: int = 0, *, configs: dict[str, dict] | None = None):
    """A `CogVideoXImageToVideoPipeline` with random weights, by default the full-size 5B one.

    Weights are N(0, 0.02) in `dtype` (bf16 by default), drawn on the device; the tokenizer is
    the tiny offline one (any ids it makes are valid T5 ids). The 5B pipeline takes about
    21 GB. `configs` as in `meta_modules`.
    """
    import torch
    from diffusers import CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline


    modules = random_modules("cogvideox", device, dtype or torch.bfloat16, seed, configs=configs)
    tokenizer, _ = tiny_t5()
    return CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, scheduler=CogVideoXDDIMScheduler(**COGVIDEOX_SCHEDULER), **modules
    )


def random_cogvideox_generator(levers=None, *, device: str = "cuda", dtype=None, seed: int = 0,
                               configs: dict[str, dict] | None = None):
    """`random_cogvideox_i2v(device, dtype, seed, configs=...)` with `levers` applied, as a `video.CogVideoXGenerator`."""
    levers = levers or Levers()
    pipe = random_cogvideox_i2v(device=device, dtype=dtype, seed=seed, configs=configs)
    apply_levers(pipe, levers, device=device)
    pipe.set_progress_bar_config(disable=True)
    return CogVideoXGenerator(pipe, model_id="random-weights:CogVideoX-5b-I2V", device=device, levers=levers)


def random_backend_pipeline(key: str, device: str = "cuda", dtype=None, seed: int = 0, *,
                            configs: dict[str, dict] | None = None):
    """Video backend `key`'s pipeline at its published size with random weights drawn on `device`.

    Weights are N(0, 0.02) in `dtype` (bf16 by default; Wan's VAE and CLIP encoder in float32);
    tokenizers, scheduler and guider are the tiny stand-in's (`tiny_video`), the image processors
    the real encoders' sizes. Sizes: Wan2.1 480P about 23B parameters with its encoders, Wan2.2
    A14B about 34B, HunyuanVideo-1.5 about 17B. `configs` as in `meta_modules`.
    """
    import torch
    import transformers


    modules = random_modules(key, device, dtype or torch.bfloat16, seed, configs=configs)
    processors = {name: getattr(transformers, class_name)(**config)
                  for name, (class_name, config) in PROCESSORS.get(key, {}).items()}
    folder = TINY_BACKENDS[key]()
    components = {}
    for name, spec in json.loads((folder / "model_index.json").read_text()).items():
        if name.startswith("_") or name in modules or name in processors or not isinstance(spec, list):
            continue  # weighted modules are built here; plain values (boundary_ratio, ...) come from PIPELINES
        components[name] = None if spec[1] is None else tiny_part(folder, name)
    pipeline_name, arguments = PIPELINES[key]
    return model_class("diffusers", pipeline_name)(**modules, **processors, **components, **arguments)


def _clip_tokenizer():
    from transformers import CLIPTokenizer


    folder = write_tiny_clip_tokenizer(Path(tempfile.mkdtemp(prefix="f2f-clip-tokenizer-")))
    return CLIPTokenizer.from_pretrained(folder, model_max_length=77)


def _with_token_ids(text_encoder, tokenizer) -> None:
    # CLIP pools at the end-of-text token; the tiny tokenizer's ids stand in for the real ones.
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        setattr(text_encoder.config, name, getattr(tokenizer, name))
    for module in text_encoder.modules():  # the pooling module keeps its own copy (text_model in older transformers)
        if hasattr(module, "eos_token_id"):
            module.eos_token_id = tokenizer.eos_token_id


def random_sd15_pipeline(device: str = "cuda", dtype=None, seed: int = 0):
    """A `StableDiffusionPipeline` at SD 1.5's size with random float16 weights drawn on `device`."""
    import torch
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    modules = random_modules("sd15", device, dtype or torch.float16, seed)
    tokenizer = _clip_tokenizer()
    _with_token_ids(modules["text_encoder"], tokenizer)
    return StableDiffusionPipeline(tokenizer=tokenizer, scheduler=PNDMScheduler(**SD_SCHEDULER), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False, **modules)


def random_flux_dev_pipeline(device: str = "cuda", dtype=None, seed: int = 0):
    """A `FluxPipeline` at FLUX.1-dev's size (about 17B parameters with T5-XXL) with random bf16 weights on `device`."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline


    modules = random_modules("flux-dev", device, dtype or torch.bfloat16, seed)
    tokenizer = _clip_tokenizer()
    _with_token_ids(modules["text_encoder"], tokenizer)
    tokenizer_2, _ = tiny_t5()
    return FluxPipeline(tokenizer=tokenizer, tokenizer_2=tokenizer_2,
                        scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_SCHEDULER), **modules)


def random_qwen2_5_vl_7b(device: str = "cuda", dtype=None, seed: int = 0):
    """(model, processor): Qwen2.5-VL-7B-Instruct's size with random bf16 weights drawn on `device`, and an offline processor."""
    import torch
    from transformers import GenerationConfig


    processor = tiny_qwen2_vl_processor(Path(tempfile.mkdtemp(prefix="f2f-qwen-processor-")), **QWEN2_5_VL_PIXELS)
    tokenizer = processor.tokenizer
    configs = {"model": qwen2_vl_token_ids(tokenizer)}
    model = random_modules("qwen2.5-vl-7b", device, dtype or torch.bfloat16, seed, configs=configs)["model"]
    end, pad = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    model.config.text_config.eos_token_id, model.config.text_config.pad_token_id = end, pad
    model.generation_config = GenerationConfig(bos_token_id=pad, eos_token_id=[end, pad], pad_token_id=pad)
    return model, processor
