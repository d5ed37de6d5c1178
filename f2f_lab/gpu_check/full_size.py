"""Full-size random-weight builds of the baselines' models (Stable Diffusion 1.5, FLUX.1-dev) and the local VLM.

`f2f_lab.random_weights` builds CogVideoX-5B I2V this way; this module adds the two
text-to-image families the baselines and the manifold study run, with their published
configurations, so the GPU check times them without a download. Modules are made on the
`meta` device (no memory), then given storage on the target device and drawn N(0, 0.02)
there, so a 12B-parameter model never passes through a CPU initialisation. Tokenizers are
the tiny offline ones (`f2f_lab.tiny`): any ids they make are valid ids of the real vocabularies.

Configurations, from diffusers' and transformers' class defaults (read in diffusers 0.42.1,
transformers 5.x) with the published checkpoints' changes:
- SD 1.5 (and 1.4, the same architecture): `UNet2DConditionModel` defaults with
  cross_attention_dim=768, sample_size=64 (859.5M parameters); the SD VAE, 4 latent
  channels, blocks 128/256/512/512 (83.7M); CLIP ViT-L/14's text tower (123.1M); PNDM with
  SD's betas. Pipelines run it in float16, as the editors do.
- FLUX.1-dev: `FluxTransformer2DModel` defaults (19 double + 38 single blocks, 24 heads of
  128) with guidance_embeds=True (about 11.9B); the FLUX VAE (16 latent channels, shift
  0.1159, scale 0.3611); CLIP ViT-L/14's text tower and T5 v1.1 XXL's encoder
  (`random_weights.T5_V1_1_XXL_ENCODER`); flow-matching Euler with dynamic shifting. bf16.
- Qwen2.5-VL-7B-Instruct (the `open` preset's VLM): the hub's config.json values (transformers'
  `Qwen2_5_VLConfig` defaults are the 72B text model's and a 3584-wide ViT, so every size is
  given): a 28-layer GQA decoder (3584 wide, 28 heads, 4 KV heads, MLP 18944, vocabulary
  152064, untied head, mrope sections 16/24/24) and a 32-block windowed ViT (1280 wide, 16
  heads, 14-px patches merged 2x2, full attention in blocks 7/15/23/31); 8,292,166,656
  parameters ("8.29B" on the hub), bf16. The image processor keeps the model's 3136 to
  12845056 pixels; the tokenizer is the tiny offline one, its special-token ids put into the config.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

SD15_UNET = dict(sample_size=64, cross_attention_dim=768)  # the rest are UNet2DConditionModel's defaults
SD_VAE = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4, norm_num_groups=32, sample_size=512,
    scaling_factor=0.18215,
)
CLIP_L14_TEXT = dict(  # openai/clip-vit-large-patch14's text tower (SD 1.x and FLUX's first text encoder)
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
    max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768, layer_norm_eps=1e-5,
)
SD_SCHEDULER = dict(  # PNDM, SD 1.x's scheduler_config.json
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1,
)
FLUX_DEV_TRANSFORMER = dict(
    patch_size=1, in_channels=64, num_layers=19, num_single_layers=38, attention_head_dim=128, num_attention_heads=24,
    joint_attention_dim=4096, pooled_projection_dim=768, guidance_embeds=True, axes_dims_rope=(16, 56, 56),
)
FLUX_VAE = dict(
    SD_VAE, latent_channels=16, sample_size=1024, scaling_factor=0.3611, shift_factor=0.1159,
    use_quant_conv=False, use_post_quant_conv=False,
)
FLUX_SCHEDULER = dict(
    num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
    base_image_seq_len=256, max_image_seq_len=4096,
)

QWEN2_5_VL_7B = dict(
    text_config=dict(
        vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
        num_key_value_heads=4, max_position_embeddings=128000, rms_norm_eps=1e-6, use_sliding_window=False,
        sliding_window=32768, max_window_layers=28, tie_word_embeddings=False, bos_token_id=151643, eos_token_id=151645,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
    ),
    vision_config=dict(
        depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=3584, patch_size=14,
        spatial_merge_size=2, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[7, 15, 23, 31],
        tokens_per_second=2, hidden_act="silu",
    ),
    image_token_id=151655, video_token_id=151656, vision_start_token_id=151652, vision_end_token_id=151653,
    tie_word_embeddings=False,
)
QWEN2_5_VL_PIXELS = {"min_pixels": 3136, "max_pixels": 12845056}  # the hub's preprocessor_config.json


def meta_qwen2_5_vl_7b(token_ids: dict[str, int] | None = None):
    """Qwen2.5-VL-7B-Instruct on the meta device (buffers real); `token_ids` replace its special-token ids."""
    from accelerate import init_empty_weights
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    config = Qwen2_5_VLConfig(**{**QWEN2_5_VL_7B, **(token_ids or {})})
    with init_empty_weights(include_buffers=False):
        return Qwen2_5_VLForConditionalGeneration(config)


def random_qwen2_5_vl_7b(device: str = "cuda", dtype=None, seed: int = 0):
    """(model, processor): Qwen2.5-VL-7B-Instruct's size with random bf16 weights drawn on `device`, and an offline processor."""
    import torch
    from transformers import GenerationConfig

    from ..tiny import qwen2_vl_token_ids, tiny_qwen2_vl_processor

    processor = tiny_qwen2_vl_processor(Path(tempfile.mkdtemp(prefix="f2f-qwen-processor-")), **QWEN2_5_VL_PIXELS)
    tokenizer = processor.tokenizer
    model = meta_qwen2_5_vl_7b(qwen2_vl_token_ids(tokenizer))
    end, pad = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    model.config.text_config.eos_token_id, model.config.text_config.pad_token_id = end, pad
    model.generation_config = GenerationConfig(bos_token_id=pad, eos_token_id=[end, pad], pad_token_id=pad)
    generator = torch.Generator(device=device).manual_seed(seed)
    return materialise(model, device=device, dtype=dtype or torch.bfloat16, generator=generator), processor


def meta_modules(family: str) -> dict[str, Any]:
    """The models of "sd15" or "flux-dev" on the meta device (parameters without storage; buffers real)."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, FluxTransformer2DModel, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    from ..random_weights import T5_V1_1_XXL_ENCODER

    # Buffers stay real (CLIP's position ids are an integer buffer that random values would break).
    if family not in ("sd15", "flux-dev"):
        raise ValueError(f"unknown model family {family!r}; choose 'sd15' or 'flux-dev'")
    with init_empty_weights(include_buffers=False):
        if family == "sd15":
            modules = {"unet": UNet2DConditionModel(**SD15_UNET), "vae": AutoencoderKL(**SD_VAE),
                       "text_encoder": CLIPTextModel(CLIPTextConfig(**CLIP_L14_TEXT))}
        else:
            modules = {"transformer": FluxTransformer2DModel(**FLUX_DEV_TRANSFORMER), "vae": AutoencoderKL(**FLUX_VAE),
                       "text_encoder": CLIPTextModel(CLIPTextConfig(**CLIP_L14_TEXT)),
                       "text_encoder_2": T5EncoderModel(T5Config(**T5_V1_1_XXL_ENCODER))}
    if "text_encoder_2" in modules:
        modules["text_encoder_2"].tie_weights()  # T5's embedding is `shared`, as when loaded
    return modules


def parameter_counts(family: str) -> dict[str, int]:
    """Parameters of each model of a family, counted on the meta device (no memory)."""
    return {name: sum(p.numel() for p in module.parameters()) for name, module in meta_modules(family).items()}


def materialise(module, *, device: str, dtype=None, generator, std: float = 0.02):
    """Give a meta module storage on `device` in `dtype`, parameters drawn N(0, std) there; buffers kept.

    dtype None keeps each tensor's own dtype as set on the meta device (mixed-precision modules).
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
    return (module if dtype is None else module.to(dtype)).eval()


def _random_modules(family: str, device: str, dtype, seed: int) -> dict[str, Any]:
    import torch

    generator = torch.Generator(device=device).manual_seed(seed)
    return {name: materialise(module, device=device, dtype=dtype, generator=generator)
            for name, module in meta_modules(family).items()}


def _clip_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    from ..tiny import write_tiny_clip_tokenizer

    return CLIPTokenizer.from_pretrained(write_tiny_clip_tokenizer(folder), model_max_length=77)


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

    modules = _random_modules("sd15", device, dtype or torch.float16, seed)
    tokenizer = _clip_tokenizer(Path(tempfile.mkdtemp(prefix="f2f-clip-tokenizer-")))
    _with_token_ids(modules["text_encoder"], tokenizer)
    return StableDiffusionPipeline(tokenizer=tokenizer, scheduler=PNDMScheduler(**SD_SCHEDULER), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False, **modules)


def random_flux_dev_pipeline(device: str = "cuda", dtype=None, seed: int = 0):
    """A `FluxPipeline` at FLUX.1-dev's size (about 17B parameters with T5-XXL) with random bf16 weights on `device`."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline

    from ..tiny import tiny_t5

    modules = _random_modules("flux-dev", device, dtype or torch.bfloat16, seed)
    tokenizer = _clip_tokenizer(Path(tempfile.mkdtemp(prefix="f2f-clip-tokenizer-")))
    _with_token_ids(modules["text_encoder"], tokenizer)
    tokenizer_2, _ = tiny_t5()
    return FluxPipeline(tokenizer=tokenizer, tokenizer_2=tokenizer_2,
                        scheduler=FlowMatchEulerDiscreteScheduler(**FLUX_SCHEDULER), **modules)
