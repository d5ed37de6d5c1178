"""Full-size stand-ins of the real models: the published architectures with random weights.

`tiny.py` builds small models for tests; this module builds the real CogVideoX-5B I2V
architecture (and its T5 v1.1 XXL text encoder) at full size, with random weights drawn on
the device, so the speed harness (`f2f bench speed --random-weights full`) times the real
model without a download. Time and memory do not depend on weight values (caches that
decide from the data, such as First Block Cache, excepted); the video is noise.
"""

from __future__ import annotations

from typing import Any

# -- The published CogVideoX-5B I2V configuration ---------------------------------------------
# Checked against the hub's THUDM/CogVideoX-5b-I2V model card (720x480 only, 49 frames at 8 fps,
# 226 text tokens, "3d_rope_pos_embed + learnable_pos_embed"), the diffusers conversion script
# (scripts/convert_cogvideox_to_diffusers.py: 42 layers, 48 heads, sample 60x90x49, patch 2, VAE
# scaling factor 0.7 for 5B, text encoder google/t5-v1_1-xxl) and diffusers' class defaults
# (time embedding 512, text embedding 4096, gelu-approximate, VAE blocks 128/256/256/512).

COGVIDEOX_5B_I2V_TRANSFORMER = dict(
    num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16,
    flip_sin_to_cos=True, freq_shift=0, time_embed_dim=512, text_embed_dim=4096, num_layers=42,
    dropout=0.0, attention_bias=True, sample_width=90, sample_height=60, sample_frames=49,
    patch_size=2, temporal_compression_ratio=4, max_text_seq_length=226,
    activation_fn="gelu-approximate", timestep_activation_fn="silu", norm_elementwise_affine=True,
    norm_eps=1e-5, spatial_interpolation_scale=1.875, temporal_interpolation_scale=1.0,
    use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
)
COGVIDEOX_5B_I2V_VAE = dict(
    in_channels=3, out_channels=3,
    down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
    block_out_channels=(128, 256, 256, 512), latent_channels=16, layers_per_block=3, act_fn="silu",
    norm_eps=1e-6, norm_num_groups=32, temporal_compression_ratio=4, sample_height=480, sample_width=720,
    scaling_factor=0.7, force_upcast=True, use_quant_conv=False, use_post_quant_conv=False,
)
T5_V1_1_XXL_ENCODER = dict(  # google/t5-v1_1-xxl's config.json, encoder only
    vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1,
    layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
)
COGVIDEOX_SCHEDULER = dict(  # DDIM with v-prediction, zero terminal SNR, trailing spacing
    beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
    prediction_type="v_prediction", rescale_betas_zero_snr=True, snr_shift_scale=1.0,
    timestep_spacing="trailing", set_alpha_to_one=True, clip_sample=False,
)


def cogvideox_i2v_modules(
    dtype=None,
    *,
    transformer_config: dict = COGVIDEOX_5B_I2V_TRANSFORMER,
    vae_config: dict = COGVIDEOX_5B_I2V_VAE,
    text_encoder_config: dict = T5_V1_1_XXL_ENCODER,
) -> dict[str, Any]:
    """The transformer, VAE and T5 encoder of a CogVideoX I2V pipeline on the `meta` device.

    The configurations default to the published CogVideoX-5B I2V ones. No memory is
    allocated: parameters have shapes and no storage; `random_cogvideox_i2v` materialises them.
    """
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    with init_empty_weights(include_buffers=True):
        modules = {
            "transformer": CogVideoXTransformer3DModel(**transformer_config),
            "vae": AutoencoderKLCogVideoX(**vae_config),
            "text_encoder": T5EncoderModel(T5Config(**text_encoder_config)),
        }
    modules["text_encoder"].tie_weights()  # the encoder's embedding is `shared`, as when loaded
    if dtype is not None:
        for module in modules.values():
            module.to(dtype)
    return modules


def random_cogvideox_i2v(device: str = "cuda", dtype=None, seed: int = 0, **configs):
    """A `CogVideoXImageToVideoPipeline` with random weights, by default the full-size 5B one.

    Weights are N(0, 0.02) in `dtype` (bf16 by default), drawn on the device; the tokenizer is
    the tiny offline one (any ids it makes are valid T5 ids). The 5B pipeline takes about
    21 GB. `configs`: `transformer_config`, `vae_config`, `text_encoder_config` to change.
    """
    import torch
    from diffusers import CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline

    from .tiny import tiny_t5

    dtype = dtype or torch.bfloat16
    modules = cogvideox_i2v_modules(dtype, **configs)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for module in modules.values():
            module.to_empty(device=device)
            for tensor in list(module.parameters()) + list(module.buffers()):
                if tensor.is_floating_point():
                    tensor.normal_(0.0, 0.02, generator=generator)
            module.eval()
    modules["text_encoder"].tie_weights()  # to_empty gives tied parameters separate storage
    tokenizer, _ = tiny_t5()
    return CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, scheduler=CogVideoXDDIMScheduler(**COGVIDEOX_SCHEDULER), **modules
    )


def random_cogvideox_generator(levers=None, *, device: str = "cuda", dtype=None, seed: int = 0, **configs):
    """`random_cogvideox_i2v(device, dtype, seed, **configs)` with `levers` applied, as a `video.CogVideoXGenerator`."""
    from .presets import Levers
    from .video import CogVideoXGenerator, apply_levers

    levers = levers or Levers()
    pipe = random_cogvideox_i2v(device=device, dtype=dtype, seed=seed, **configs)
    apply_levers(pipe, levers, device=device)
    pipe.set_progress_bar_config(disable=True)
    return CogVideoXGenerator(pipe, model_id="random-weights:CogVideoX-5b-I2V", device=device, levers=levers)
