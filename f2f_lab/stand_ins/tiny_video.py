"""Tiny random-weight stand-ins of the image-to-video backends (the "video:<key>" stand-ins).

Each is built from the real diffusers/transformers classes of a released model with a tiny
configuration (one transformer layer, a few channels), written once into the cache
(`cache.build_once`) and returned as a folder that `<Pipeline>.from_pretrained(folder)`
loads exactly as it loads real weights. Nothing is downloaded. Outputs are noise.

What each stand-in keeps of its model (the call rules the pipelines enforce):

- "cogvideox": CogVideoX-5B I2V (the paper's), rotary plus learned positional embeddings, so
  built for one (width, height) canvas (multiples of 16 px) and 17 frames.
- "cogvideox1.5": CogVideoX1.5-5B-I2V (`CogVideoXImageToVideoPipeline`): 2x2x2 patches,
  rotary embeddings only, "ofs" embedding. Any size that is a multiple of 16 px up to
  `COGVIDEOX15_MAX_SIDE`; 16N+1 frames as the model was trained (the pipeline returns
  exactly 8k+1; 4k+1 with k odd comes back 3 frames longer).
- "wan2.1-480p": Wan2.1-I2V-14B-480P (`WanImageToVideoPipeline`): CLIP image tokens through
  their own key/value projections, Wan 2.1 VAE (8x spatial, 4x temporal). Multiples of
  16 px; 4k+1 frames; keep `max_sequence_length` at its default 512 (see below).
- "wan2.2-5b": Wan2.2-TI2V-5B: `expand_timesteps` (per-token timesteps, the image is frame
  0 of the latent), the Wan 2.2 VAE (48 channels, 16x spatial). Multiples of 32 px; 4k+1.
- "wan2.2-a14b": Wan2.2-I2V-A14B: a high-noise `transformer` and a low-noise
  `transformer_2`, switched at `boundary_ratio` = 0.9. Multiples of 16 px; 4k+1 frames.
- "hunyuan1.5": HunyuanVideo-1.5 480p I2V (`HunyuanVideo15ImageToVideoPipeline`): Qwen2.5-VL
  text model + ByT5 glyph encoder + SigLIP image tokens, guidance set by its `guider`. The
  size is not a call argument: a bucket of about `target_size`**2 px is picked from the
  image's aspect ratio (the image is resized and cropped to it); 4k+1 frames.
- "ltx": LTX-Video 0.9.1 (`LTXImageToVideoPipeline`): VAE with 32x spatial, 8x temporal
  compression and a timestep-conditioned decoder. Multiples of 32 px; 8k+1 frames.

Frame counts off the rule are rounded down silently by Hunyuan and LTX, with a warning by
Wan. Sides off the multiple raise a ValueError (LTX: not a multiple of 32 px; Wan: of 16),
are rounded down with a warning (Wan 2.2 5B: a multiple of 16 but not 32), or fail with a
RuntimeError inside the transformer (CogVideoX 1.5: a multiple of 8 but not 16).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .cache import build_once, seed
from .text import qwen2_tokenizer, ship_spiece, spiece_tokenizer, t5_encoder, write_t5_sentencepiece

TEXT_MAX_LENGTH = 128  # the tiny CogVideoX-5B's text length (the real model's: 226 tokens)

# CogVideoX 1.5's rotary grid is sliced out of a grid of sample size / patch ("slice" grid
# type), which caps the latent grid; 32 latent px (256 px) per side covers any small canvas.
COGVIDEOX15_SAMPLE_SIZE = 32
COGVIDEOX15_MAX_SIDE = COGVIDEOX15_SAMPLE_SIZE * 8
WAN_TEXT_LENGTH = 512  # Wan's attention hard-codes 512 text tokens when image tokens have their own projections


# ---------------------------------------------------------------------------------------------
# CogVideoX-5B I2V (the paper's)


def _build_cogvideox_i2v(folder: Path, canvas: tuple[int, int]) -> None:
    from diffusers import AutoencoderKLCogVideoX, CogVideoXImageToVideoPipeline, CogVideoXTransformer3DModel
    from transformers import T5Tokenizer


    width, height = canvas
    spiece = write_t5_sentencepiece(folder / "_spiece")
    tokenizer = T5Tokenizer.from_pretrained(spiece, extra_ids=0)  # the real folder's conversion
    text_encoder = t5_encoder(len(tokenizer))
    seed()
    # Same structure as CogVideoX-5b-I2V (image latents concatenated to the noise, so
    # in_channels = 2 x latent channels; rotary plus learned positional embeddings), scaled down.
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=16, in_channels=16, out_channels=8,
        time_embed_dim=32, text_embed_dim=32, num_layers=1,
        sample_width=width // 8, sample_height=height // 8, sample_frames=17,  # the tiny preset's frame count: its learned embedding fits it
        patch_size=2, temporal_compression_ratio=4, max_text_seq_length=TEXT_MAX_LENGTH,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
    )
    seed()
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=8, layers_per_block=1, norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    pipe = CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=_cogvideox_scheduler()
    )
    pipe.save_pretrained(folder)
    ship_spiece(folder, keep_tokenizer_json=False)  # as on the hub: spiece.model alone, converted on load


def _cogvideox_scheduler():
    """The real model's scheduler configuration: DDIM with v-prediction, zero-SNR, trailing."""
    from diffusers import CogVideoXDDIMScheduler

    return CogVideoXDDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, prediction_type="v_prediction",
        rescale_betas_zero_snr=True, snr_shift_scale=1.0, timestep_spacing="trailing",
        set_alpha_to_one=True, clip_sample=False,
    )


def tiny_cogvideox_i2v(canvas: tuple[int, int] = (96, 64)) -> Path:
    """Folder of a tiny CogVideoX image-to-video pipeline for a (width, height) canvas."""
    width, height = canvas
    if width % 16 or height % 16:
        raise ValueError(f"tiny canvas sides must be multiples of 16, got {canvas}")
    return build_once(f"cogvideox-i2v-{width}x{height}", lambda folder: _build_cogvideox_i2v(folder, canvas))


# ---------------------------------------------------------------------------------------------
# CogVideoX 1.5


def _build_cogvideox15_i2v(folder: Path) -> None:
    from diffusers import AutoencoderKLCogVideoX, CogVideoXImageToVideoPipeline, CogVideoXTransformer3DModel

    tokenizer = spiece_tokenizer(folder, model_max_length=226)
    text_encoder = t5_encoder(len(tokenizer))
    seed()
    # CogVideoX1.5-5B-I2V's structure, scaled down: image latents concatenated to the noise
    # (in_channels = 2 x latent channels), 2x2 spatial and 2-frame temporal patches without
    # bias, rotary embeddings only (so any resolution within the sample size), and the "ofs"
    # embedding added to the time embedding (hence ofs_embed_dim = time_embed_dim).
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=16, out_channels=8,
        time_embed_dim=32, ofs_embed_dim=32, text_embed_dim=32, num_layers=1,
        sample_width=COGVIDEOX15_SAMPLE_SIZE, sample_height=COGVIDEOX15_SAMPLE_SIZE, sample_frames=81,
        patch_size=2, patch_size_t=2, patch_bias=False, temporal_compression_ratio=4, max_text_seq_length=226,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=False,
    )
    seed()
    # 1.5's VAE has the 1.0 structure; its latents are divided, not multiplied, by 0.7 at encoding.
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=8, layers_per_block=1, norm_num_groups=2,
        temporal_compression_ratio=4, scaling_factor=0.7, invert_scale_latents=True,
    )
    pipe = CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=_cogvideox_scheduler()
    )
    pipe.save_pretrained(folder)
    ship_spiece(folder, keep_tokenizer_json=False)


def tiny_cogvideox15_i2v() -> Path:
    """Folder of a tiny CogVideoX1.5-5B-I2V (`CogVideoXImageToVideoPipeline`).

    Sides: multiples of 16 px up to `COGVIDEOX15_MAX_SIDE`; frames 16N+1 (17, 33, ...).
    """
    return build_once("cogvideox1.5-i2v", _build_cogvideox15_i2v)


# ---------------------------------------------------------------------------------------------
# Wan 2.1 / 2.2

WAN_HEADS, WAN_HEAD_DIM = 2, 12  # rotary: 12 = 4 (frames) + 4 (height) + 4 (width)


def _wan_transformer(in_channels: int, out_channels: int, *, image_dim: int | None = None, seed: int = 0):
    """A one-layer WanTransformer3DModel with Wan's block structure (1x2x2 patches, RMS q/k norm).

    With `image_dim` (Wan 2.1 I2V) the CLIP tokens get their own key/value projections in the
    cross-attention, as in the real model (added_kv_proj_dim = the model width).
    """
    import torch
    from diffusers import WanTransformer3DModel

    inner_dim = WAN_HEADS * WAN_HEAD_DIM
    torch.manual_seed(seed)
    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=WAN_HEADS, attention_head_dim=WAN_HEAD_DIM,
        in_channels=in_channels, out_channels=out_channels, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=1,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6,
        image_dim=image_dim, added_kv_proj_dim=inner_dim if image_dim else None, rope_max_seq_len=1024,
    )


def _wan21_vae():
    """The Wan 2.1 VAE's structure (16 latent channels, 8x spatial, 4x temporal), 8 channels wide.
    Its default latents_mean/std are the real model's."""
    from diffusers import AutoencoderKLWan

    seed()
    return AutoencoderKLWan(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


def _wan22_vae():
    """The Wan 2.2 VAE's structure: 48 latent channels, residual blocks, 2x2 pixel patches on
    top of 8x downsampling (16x spatial), 4x temporal."""
    from diffusers import AutoencoderKLWan

    seed()
    return AutoencoderKLWan(
        base_dim=8, z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
        dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True],
        scale_factor_spatial=16, scale_factor_temporal=4, latents_mean=[0.0] * 48, latents_std=[1.0] * 48,
    )


def _wan_scheduler(flow_shift: float):
    # The hub's Wan *-Diffusers folders ship UniPC in flow-prediction mode (flow_shift 3.0
    # for 2.1 480P, 5.0 for the 2.2 I2V models), so this is what the stand-ins ship too.
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=flow_shift)


def _wan_text(folder: Path):
    """UMT5 encoder + tokenizer (Wan's text encoder is umt5-xxl); the tokenizer loads with AutoTokenizer."""
    tokenizer = spiece_tokenizer(folder, model_max_length=WAN_TEXT_LENGTH)
    return tokenizer, t5_encoder(len(tokenizer), umt5=True)


def _save_wan(folder: Path, **components) -> None:
    from diffusers import WanImageToVideoPipeline

    tokenizer, text_encoder = _wan_text(folder)
    pipe = WanImageToVideoPipeline(tokenizer=tokenizer, text_encoder=text_encoder, **components)
    pipe.save_pretrained(folder)
    ship_spiece(folder, keep_tokenizer_json=True)


def _build_wan21_i2v(folder: Path) -> None:
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    seed()
    # The image encoder is CLIP ViT-H/14's vision tower (the pipeline takes its penultimate
    # hidden states); tiny: 32 px images in 8 px patches, 17 tokens of width 16.
    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, patch_size=8, projection_dim=16,
    ))
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    _save_wan(
        folder, vae=_wan21_vae(), scheduler=_wan_scheduler(3.0), image_processor=image_processor,
        image_encoder=image_encoder,
        # 36 input channels: 16 noise + 16 image-condition latents + 4 first-frame mask.
        transformer=_wan_transformer(36, 16, image_dim=16), transformer_2=None,
    )


def tiny_wan21_i2v() -> Path:
    """Folder of a tiny Wan2.1-I2V-14B-480P (`WanImageToVideoPipeline`, CLIP image encoder).

    Sides: multiples of 16 px; frames 4k+1. `max_sequence_length` must stay at 512 (the
    default): Wan's attention splits image from text tokens by assuming 512 text tokens.
    """
    return build_once("wan2.1-i2v-480p", _build_wan21_i2v)


def _build_wan22_ti2v_5b(folder: Path) -> None:
    # expand_timesteps is a constructor argument (registered in the pipeline config by
    # __init__): the image latent is frame 0 of the 48-channel latent, with timestep 0 there.
    _save_wan(
        folder, vae=_wan22_vae(), scheduler=_wan_scheduler(5.0), image_processor=None, image_encoder=None,
        transformer=_wan_transformer(48, 48), transformer_2=None, expand_timesteps=True,
    )


def tiny_wan22_ti2v_5b() -> Path:
    """Folder of a tiny Wan2.2-TI2V-5B (`WanImageToVideoPipeline`, expand_timesteps=True).

    Sides: multiples of 32 px (16x VAE, 2x2 patches); frames 4k+1.
    """
    return build_once("wan2.2-ti2v-5b", _build_wan22_ti2v_5b)


def _build_wan22_i2v_a14b(folder: Path) -> None:
    # Two experts of the same structure with different weights (seeds), so a test can tell
    # their outputs apart; the high-noise one runs while t >= boundary_ratio * 1000.
    _save_wan(
        folder, vae=_wan21_vae(), scheduler=_wan_scheduler(5.0), image_processor=None, image_encoder=None,
        transformer=_wan_transformer(36, 16, seed=0), transformer_2=_wan_transformer(36, 16, seed=1),
        boundary_ratio=0.9,
    )


def tiny_wan22_i2v_a14b() -> Path:
    """Folder of a tiny Wan2.2-I2V-A14B (`WanImageToVideoPipeline`, two experts, boundary_ratio 0.9).

    Sides: multiples of 16 px; frames 4k+1.
    """
    return build_once("wan2.2-i2v-a14b", _build_wan22_i2v_a14b)


# ---------------------------------------------------------------------------------------------
# HunyuanVideo 1.5

HUNYUAN15_TARGET_SIZE = 64  # pixels; the real 480p model's: 640
HUNYUAN15_LATENT_CHANNELS = 4  # the real model's: 32


def _hunyuan15_vae():
    """The HunyuanVideo-1.5 VAE's structure (16x spatial, 4x temporal: four spatial
    downsamplings need five blocks), a few channels wide."""
    from diffusers import AutoencoderKLHunyuanVideo15

    seed()
    return AutoencoderKLHunyuanVideo15(
        in_channels=3, out_channels=3, latent_channels=HUNYUAN15_LATENT_CHANNELS, block_out_channels=(8, 8, 8, 16, 16),
        layers_per_block=1, spatial_compression_ratio=16, temporal_compression_ratio=4,
    )


def _build_hunyuan15_i2v(folder: Path) -> None:
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15ImageToVideoPipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from diffusers.guiders import ClassifierFreeGuidance
    from transformers import (
        ByT5Tokenizer,
        Qwen2_5_VLTextConfig,
        Qwen2_5_VLTextModel,
        SiglipImageProcessor,
        SiglipVisionConfig,
        SiglipVisionModel,
    )

    tokenizer = qwen2_tokenizer()
    seed()
    # The pipeline reads the third-last hidden state, so the text model needs two layers.
    text_encoder = Qwen2_5_VLTextModel(Qwen2_5_VLTextConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [1, 1, 2]},
        # Qwen2.5-VL's: <|endoftext|> begins and pads, <|im_end|> ends.
        bos_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    ))
    tokenizer_2 = ByT5Tokenizer()  # bytes need no vocabulary file
    text_encoder_2 = t5_encoder(len(tokenizer_2))
    seed()
    # SigLIP so400m-patch14-384 in the real model; tiny: 32 px images, 16 tokens of width 16.
    image_encoder = SiglipVisionModel(SiglipVisionConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8,
    ))
    feature_extractor = SiglipImageProcessor(size={"height": 32, "width": 32})
    seed()
    # HunyuanVideo-1.5 I2V's structure, scaled down: input = noise + image-condition latents +
    # mask (2C+1 channels), Qwen/ByT5/SigLIP tokens refined and joined, 3-axis rotary
    # embedding summing to the head size. (Its ByT5 projection is 2048 wide whatever the
    # config, which makes this the largest stand-in, about 17 MB.)
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=2 * HUNYUAN15_LATENT_CHANNELS + 1, out_channels=HUNYUAN15_LATENT_CHANNELS,
        num_attention_heads=2, attention_head_dim=8, num_layers=1, num_refiner_layers=1, mlp_ratio=2.0,
        patch_size=1, patch_size_t=1, text_embed_dim=16, text_embed_2_dim=32, image_embed_dim=16,
        rope_axes_dim=(2, 2, 4), target_size=HUNYUAN15_TARGET_SIZE, task_type="i2v",
    )
    pipe = HunyuanVideo15ImageToVideoPipeline(
        text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer, vae=_hunyuan15_vae(),
        # The 480p I2V release's settings: flow matching with shift 5, CFG 6 held by the guider.
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0), text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2, guider=ClassifierFreeGuidance(guidance_scale=6.0),
        image_encoder=image_encoder, feature_extractor=feature_extractor,
    )
    pipe.save_pretrained(folder)


def tiny_hunyuan15_i2v() -> Path:
    """Folder of a tiny HunyuanVideo-1.5 480p I2V (`HunyuanVideo15ImageToVideoPipeline`).

    The output size is a bucket of about HUNYUAN15_TARGET_SIZE**2 px (sides multiples of 16)
    nearest the image's aspect ratio; frames 4k+1; guidance is `pipe.guider`'s.
    """
    return build_once("hunyuan1.5-i2v", _build_hunyuan15_i2v)


# ---------------------------------------------------------------------------------------------
# LTX-Video

LTX_LATENT_CHANNELS = 8  # the real model's: 128


def _ltx_vae():
    """LTX-Video 0.9.1's VAE structure, a few channels wide: 4x4 pixel patches and three
    spatio-temporal downsamplings (32x spatial, 8x temporal), and a decoder conditioned on a
    timestep, with noise injection and residual 2x upsamplers."""
    from diffusers import AutoencoderKLLTXVideo

    seed()
    return AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=LTX_LATENT_CHANNELS,
        block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_block_out_channels=(8, 16, 32), decoder_layers_per_block=(1, 1, 1, 1),
        decoder_spatio_temporal_scaling=(True, True, True), decoder_inject_noise=(True, True, True, False),
        upsample_residual=(True, True, True), upsample_factor=(2, 2, 2), timestep_conditioning=True,
        patch_size=4, patch_size_t=1, encoder_causal=True, decoder_causal=False,
    )


def _build_ltx_i2v(folder: Path) -> None:
    from diffusers import FlowMatchEulerDiscreteScheduler, LTXImageToVideoPipeline, LTXVideoTransformer3DModel

    tokenizer = spiece_tokenizer(folder, model_max_length=128)
    text_encoder = t5_encoder(len(tokenizer))
    seed()
    transformer = LTXVideoTransformer3DModel(
        in_channels=LTX_LATENT_CHANNELS, out_channels=LTX_LATENT_CHANNELS, patch_size=1, patch_size_t=1,
        num_attention_heads=2, attention_head_dim=16, cross_attention_dim=32, num_layers=1, caption_channels=32,
        qk_norm="rms_norm_across_heads",
    )
    # LTX-Video's scheduler configuration: flow matching, shift from the token count, a terminal sigma.
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
        max_image_seq_len=4096, shift_terminal=0.1,
    )
    # LTXConditionPipeline has the same five components and loads this folder too, but its
    # linear-quadratic sigmas pass no `mu`: it needs the scheduler swapped to a static shift,
    # FlowMatchEulerDiscreteScheduler.from_config(pipe.scheduler.config, use_dynamic_shifting=False).
    pipe = LTXImageToVideoPipeline(
        scheduler=scheduler, vae=_ltx_vae(), text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer
    )
    pipe.save_pretrained(folder)
    ship_spiece(folder, keep_tokenizer_json=False)


def tiny_ltx_i2v() -> Path:
    """Folder of a tiny LTX-Video 0.9.1 (`LTXImageToVideoPipeline`).

    Sides: multiples of 32 px; frames 8k+1. The decoder takes `decode_timestep` and
    `decode_noise_scale` (the 0.9.1 card's: 0.03 and 0.025). `LTXConditionPipeline` loads
    the folder too, and runs once its scheduler is given a static shift (see `_build_ltx_i2v`).
    """
    return build_once("ltx-i2v", _build_ltx_i2v)


# The backends beyond the paper's CogVideoX-5B (whose stand-in is built per canvas).
TINY_BACKENDS: dict[str, Callable[[], Path]] = {
    "cogvideox1.5": tiny_cogvideox15_i2v,
    "wan2.1-480p": tiny_wan21_i2v,
    "wan2.2-5b": tiny_wan22_ti2v_5b,
    "wan2.2-a14b": tiny_wan22_i2v_a14b,
    "hunyuan1.5": tiny_hunyuan15_i2v,
    "ltx": tiny_ltx_i2v,
}


def tiny_video(key: str, canvas: tuple[int, int] | None = None) -> Path:
    """The "video:<key>" stand-in's folder; `canvas` (width, height) sizes the paper's CogVideoX only."""
    if key == "cogvideox":
        return tiny_cogvideox_i2v(canvas or (96, 64))
    return TINY_BACKENDS[key]()
